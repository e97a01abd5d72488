package store_test

import (
	"io"
	"os"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// fileObject is an Object read from a file on disk.
func fileObject(path string, size int64, hash string) store.Object {
	return store.Object{Name: path, Size: size, Hash: hash, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// rawClient is a plain generated client of srv: a rival uploader's RPCs.
func rawClient(t *testing.T, srv *teststore.Server) pb.DebuginfoServiceClient {
	t.Helper()
	cc, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return pb.NewDebuginfoServiceClient(cc)
}

package store_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

type longReasonStore struct {
	pb.UnimplementedDebuginfoServiceServer
}

func (longReasonStore) ShouldInitiateUpload(context.Context, *pb.ShouldInitiateUploadRequest) (*pb.ShouldInitiateUploadResponse, error) {
	return &pb.ShouldInitiateUploadResponse{Reason: strings.Repeat("why ", 1<<18)}, nil
}

// A store's reason is printed once per file: megabytes of it are cut to
// what a message may repeat, and say so.
func TestLongReasonIsClipped(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	pb.RegisterDebuginfoServiceServer(srv, longReasonStore{})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	g := open(t, lis.Addr().String(), store.Config{Insecure: true, Retry: fastRetry})
	_, reason, err := g.ShouldUpload(context.Background(), key, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(reason) > 2048 || !strings.Contains(reason, "more bytes)") {
		t.Errorf("reason of %d bytes (%.40q...)", len(reason), reason)
	}
}

package upload_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// A file sent as it is and rewritten in place at the same size while it is
// being sent (a build writing its output again) must fail, not be marked
// finished: only its modification time tells the change apart.
func TestSameSizeRewriteDuringUploadFails(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	path := filepath.Join(t.TempDir(), "blob")
	// Larger than gRPC's flow-control windows, so the uploader is still
	// reading the file when the store has seen its first bytes.
	data := make([]byte, 8<<20)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(path, old, old)
	srv.OnBytes(1, func() {
		other := make([]byte, len(data))
		rand.Read(other)
		// In place (same inode, same size): what the open descriptor sees.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		f.WriteAt(other, 0)
		f.Close()
	})
	const id = "00112233445566778899aabbccddeeff"
	got, failed := run(t, st, []string{path}, upload.Options{NoExtract: true, BuildID: id})
	r := got[path+"#debuginfo"]
	if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "changed while uploading") {
		t.Fatalf("failed=%d %+v", failed, r)
	}
	if _, ok := srv.Uploaded(id, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); ok {
		t.Error("a file rewritten mid-upload was marked finished")
	}
}

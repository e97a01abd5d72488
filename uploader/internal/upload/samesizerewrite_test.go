package upload_test

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
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

// An extracted object is written twice, once to hash it and once to send
// it; the input's identity, size and mtime, unchanged at the end of the
// send, vouch that both passes read the same bytes. An input touched, or
// replaced by a copy that keeps its size and mtime, while it is being sent
// must fail, not be marked finished.
func TestExtractionInputChangedDuringUploadFails(t *testing.T) {
	bin := testbin.C(t, "rewritten", "c", "-g")
	// 8 MiB of debug section: more than gRPC's flow-control windows, so the
	// second extraction is still running when the store sees its first bytes.
	junk := testbin.File(t, "junk", make([]byte, 8<<20))
	big := filepath.Join(t.TempDir(), "big")
	testbin.Run(t, "", "objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=readonly", bin, big)
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for name, change := range map[string]func(path string) error{
		"touched": func(path string) error { return os.Chtimes(path, time.Now(), time.Now()) },
		"replaced by a copy with the same size and mtime": func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			tmp := path + ".new"
			if err := os.WriteFile(tmp, b, 0o755); err != nil {
				return err
			}
			if err := os.Chtimes(tmp, old, old); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		},
	} {
		t.Run(name, func(t *testing.T) {
			path := testbin.Copy(t, big, "in")
			os.Chtimes(path, old, old)
			srv := teststore.Start(t, teststore.Options{})
			srv.OnBytes(1, func() {
				if err := change(path); err != nil {
					t.Error(err)
				}
			})
			got, failed := run(t, grpcStoreTries(t, srv, 1), []string{path}, upload.Options{Compress: elfdebug.None})
			r := got[path+"#debuginfo"]
			if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "changed while uploading") {
				t.Fatalf("failed=%d %+v", failed, r)
			}
			id, _ := buildid.Read(path)
			if _, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); ok {
				t.Error("a debug file whose input changed mid-upload was marked finished")
			}
		})
	}
}

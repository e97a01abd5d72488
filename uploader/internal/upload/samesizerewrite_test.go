package upload_test

import (
	"bytes"
	"crypto/rand"
	"debug/elf"
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
// it, and the send is hashed again on the way. An input changed while it is
// being sent fails the upload when the bytes sent would differ from the
// hashed ones, whatever its mtime says, and is never marked finished; a
// touch that leaves the bytes alone, or a file renamed over the one being
// read, uploads the hashed bytes.
func TestExtractionInputChangedDuringSend(t *testing.T) {
	bin := testbin.C(t, "rewritten", "c", "-g")
	// 8 MiB of debug section: more than gRPC's flow-control windows, so the
	// second extraction is still running when the store sees its first bytes.
	junk := testbin.File(t, "junk", make([]byte, 8<<20))
	big := filepath.Join(t.TempDir(), "big")
	testbin.Run(t, "", "objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=readonly", bin, big)
	ef, err := elf.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	lastJunk := int64(ef.Section(".debug_junk").Offset) + 8<<20 - 4096 // sent last of all
	ef.Close()
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	flipJunk := func(path string) error { // other bytes, same size
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.WriteAt(bytes.Repeat([]byte{0xff}, 4096), lastJunk)
		return err
	}
	for _, c := range []struct {
		name   string
		change func(path string) error
		fails  bool
	}{
		{"touched, bytes unchanged", func(path string) error { return os.Chtimes(path, time.Now(), time.Now()) }, false},
		{"rewritten in place, same size, mtime set back", func(path string) error {
			if err := flipJunk(path); err != nil {
				return err
			}
			return os.Chtimes(path, old, old)
		}, true},
		// The send has the old file open: its bytes, the hashed ones, go on.
		{"another copy renamed over it, same size and mtime", func(path string) error {
			tmp := filepath.Join(filepath.Dir(path), "new")
			b, err := os.ReadFile(path)
			if err == nil {
				err = os.WriteFile(tmp, b, 0o755)
			}
			if err == nil {
				err = flipJunk(tmp)
			}
			if err == nil {
				err = os.Chtimes(tmp, old, old)
			}
			if err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := testbin.Copy(t, big, "in")
			os.Chtimes(path, old, old)
			want := extractedWith(t, path, elfdebug.None)
			id, _ := buildid.Read(path)
			srv := teststore.Start(t, teststore.Options{})
			srv.OnBytes(1, func() {
				if err := c.change(path); err != nil {
					t.Error(err)
				}
			})
			got, failed := run(t, grpcStoreTries(t, srv, 1), []string{path}, upload.Options{Compress: elfdebug.None})
			r := got[path+"#debuginfo"]
			stored, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED)
			switch {
			case c.fails && (failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "changed while uploading")):
				t.Fatalf("failed=%d %+v, want failed: changed while uploading", failed, r)
			case c.fails && ok:
				t.Error("a debug file whose input changed mid-upload was marked finished")
			case !c.fails && (failed != 0 || !ok || !bytes.Equal(stored, want)):
				t.Fatalf("failed=%d %+v; stored %d bytes (finished %v), want the %d bytes extract gives", failed, r, len(stored), ok, len(want))
			}
		})
	}
}

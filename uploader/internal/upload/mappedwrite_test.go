package upload_test

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// A file on tmpfs written through a shared mapping changes neither its
// size nor its times, so only its bytes tell. Written after the hash pass
// (here: when the store is asked to start the upload), its DWARF differs
// from what the extraction compressed; the compressed copy is what would be
// sent, so the send alone would match the hash. The upload must fail and
// leave nothing finished, whatever the compression (review s10-r1: zlib and
// zstd stored a mix of two versions, marked finished).
func TestMappedWriteAfterHashFails(t *testing.T) {
	shm := t.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "mappedwrite-"); err == nil {
			shm = d
			t.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	bin := testbin.C(t, "mapped", "c", "-g")
	text := bytes.Repeat([]byte("DW_TAG_subprogram main mapped.c "), 128<<10) // 4 MiB, compressible
	junk := testbin.File(t, "junk", text)
	src := filepath.Join(t.TempDir(), "src")
	testbin.Run(t, "", "objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=readonly", bin, src)
	ef, err := elf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	sec := ef.Section(".debug_junk")
	off, size := int64(sec.Offset), int64(sec.Size)
	ef.Close()

	for _, c := range []elfdebug.Compression{elfdebug.Zlib, elfdebug.Zstd, elfdebug.None} {
		t.Run(c.String(), func(t *testing.T) {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(shm, "in-"+c.String())
			if err := os.WriteFile(path, b, 0o755); err != nil {
				t.Fatal(err)
			}
			id, _ := buildid.Read(path)
			srv := teststore.Start(t, teststore.Options{})
			var before, after os.FileInfo
			srv.OnCall("InitiateUpload", func() {
				before, after = flipMapped(t, path, off+size/2, 4096)
			})
			got, failed := run(t, grpcStoreTries(t, srv, 1), []string{path}, upload.Options{Compress: c})
			if before == nil {
				t.Fatal("InitiateUpload was never called")
			}
			if after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
				t.Logf("this filesystem records mapped writes (%s): the stat check catches them first", shm)
			}
			r := got[path+"#debuginfo"]
			if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "changed while uploading") {
				t.Fatalf("failed=%d %+v, want failed: changed while uploading", failed, r)
			}
			if _, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); ok {
				t.Error("a debug file whose input changed after its hash pass was marked finished")
			}
		})
	}
}

// flipMapped inverts n bytes of path at off through a shared mapping and
// returns the file's stat before and after.
func flipMapped(t *testing.T, path string, off, n int64) (before, after os.FileInfo) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	before, _ = f.Stat()
	page := off &^ 4095
	m, err := syscall.Mmap(int(f.Fd()), page, int(off-page+n), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		t.Error(err)
		return
	}
	for i := off - page; i < off-page+n; i++ {
		m[i] ^= 0xff
	}
	syscall.Munmap(m)
	time.Sleep(10 * time.Millisecond)
	after, _ = f.Stat()
	return before, after
}

package upload_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// bigObject is a gcc -g binary with a 2 MiB .comment (one string, no
// NUL, so the linker merges nothing away): a large extraction whose DWARF
// is small enough to be compressed in memory, not in TMPDIR.
func bigObject(t *testing.T) string {
	t.Helper()
	return withSection(t, ".comment")
}

// bigDWARF is a gcc -g binary with 2 MiB more of incompressible .debug_str:
// compressing its DWARF needs a temp file in TMPDIR.
func bigDWARF(t *testing.T) string {
	t.Helper()
	return withSection(t, ".debug_str")
}

// withSection is a gcc -g binary with 2 MiB of random non-NUL bytes and a
// NUL in the section named.
func withSection(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	payload := make([]byte, 2<<20)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range payload {
		payload[i] = byte(1 + r.IntN(255))
	}
	blob := filepath.Join(dir, "payload.bin")
	if err := os.WriteFile(blob, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	src := testbin.HelloC + `
__asm__(".pushsection ` + name + `,\"MS\",@progbits,1\n.incbin \"` + blob + `\"\n.byte 0\n.popsection");
`
	return testbin.GCC(t, dir, "big", src, "-g")
}

// The temp files of an extraction (its compressed DWARF over 1 MiB) are
// gone once the upload ends, whether it succeeded or failed: TMPDIR is left
// as it was.
func TestStagingLeavesNothingInTMPDIR(t *testing.T) {
	for _, bin := range []string{bigObject(t), bigDWARF(t)} {
		for _, fail := range []bool{false, true} {
			leavesNothing(t, bin, fail)
		}
	}
}

func leavesNothing(t *testing.T, bin string, fail bool) {
	id, _ := buildid.Read(bin)
	{
		srv := teststore.Start(t, teststore.Options{})
		st := grpcStoreTries(t, srv, 1)
		tmp := t.TempDir() // made before TMPDIR points into it
		t.Setenv("TMPDIR", tmp)
		if fail {
			srv.FailNext("MarkUploadFinished", codes.PermissionDenied)
		}
		got, failed := run(t, st, []string{bin}, upload.Options{})
		r := got[bin+"#debuginfo"]
		if want := map[bool]string{false: upload.Uploaded, true: upload.Failed}[fail]; r.Action != want || r.Bytes <= 1<<20 {
			t.Fatalf("fail=%v: %+v (failed %d), want %v of over 1 MiB", fail, r, failed, want)
		}
		if data, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); !fail && (!ok || int64(len(data)) != r.Bytes) {
			t.Errorf("stored %d bytes (%v), want %d", len(data), ok, r.Bytes)
		}
		left, err := os.ReadDir(tmp)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range left {
			t.Errorf("fail=%v: TMPDIR keeps %s after the upload", fail, e.Name())
		}
	}
}

// When the extraction's temp file cannot be made (TMPDIR missing), the user
// is told so, not that the input changed, and nothing is marked finished.
func TestStagingFailureIsReported(t *testing.T) {
	bin := bigDWARF(t)
	missing := filepath.Join(t.TempDir(), "missing")
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	t.Setenv("TMPDIR", missing)
	got, failed := run(t, st, []string{bin}, upload.Options{})
	r := got[bin+"#debuginfo"]
	if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "cannot create a temp file") || strings.Count(r.Reason, "temp file") != 1 || !strings.Contains(r.Reason, missing) {
		t.Fatalf("%+v, want one failure naming the temp directory %s", r, missing)
	}
	if n := srv.Calls("MarkUploadFinished"); n != 0 {
		t.Errorf("MarkUploadFinished called %d times", n)
	}
}

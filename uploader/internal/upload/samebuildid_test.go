package upload_test

import (
	"os"
	"strings"
	"testing"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Two different binaries that claim one build ID but differ in size are a
// collision, not a duplicate: the second must not be skipped as "the same
// file" while the first one's debuginfo symbolizes both.
func TestSameBuildIDDifferentSizesIsACollision(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStore(t, srv)
	const id = "0xaabbccddeeff0011"
	small := testbin.C(t, "small", "s", "-g", "-Wl,--build-id="+id)
	big := testbin.C(t, "big", strings.Repeat("a much longer message ", 200), "-g", "-Wl,--build-id="+id)
	ss, _ := os.Stat(small)
	sb, _ := os.Stat(big)
	if ss.Size() == sb.Size() {
		t.Fatalf("test setup: both binaries are %d bytes", ss.Size())
	}

	got, failed := run(t, st, []string{small, big}, upload.Options{})
	if failed != 2 {
		t.Fatalf("failed=%d, want both refused: %v", failed, got)
	}
	for _, p := range []string{small, big} {
		r := got[p+"#debuginfo"]
		if r.Action != upload.Failed || !strings.Contains(r.Reason, "shared by different files") {
			t.Errorf("%s: %+v", p, r)
		}
	}
	if _, ok := srv.Uploaded(strings.TrimPrefix(id, "0x"), pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); ok {
		t.Error("a colliding build ID was stored")
	}
}

package cli

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// TestGRPCCompressionFlag: the default sends plain streams, gzip sends
// compressed ones, to a store without gzip too (it falls back), and a
// bad value is a usage error.
func TestGRPCCompressionFlag(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	for _, tc := range []struct {
		args           []string
		noGzip         bool
		wantCompressed int
	}{
		{nil, false, 0},
		{[]string{"--grpc-compression=none"}, false, 0},
		{[]string{"--grpc-compression=gzip"}, false, 1},
		{[]string{"--grpc-compression=gzip"}, true, 1}, // refused, then sent plain
	} {
		srv := teststore.Start(t, teststore.Options{NoGzip: tc.noGzip})
		code, stdout, stderr := runCLI(t, append([]string{"upload", "--insecure", "--store-address=" + srv.Addr(), bin}, tc.args...)...)
		if code != ExitOK {
			t.Fatalf("%v (store without gzip: %v): exit %d\n%s%s", tc.args, tc.noGzip, code, stdout, stderr)
		}
		if n := srv.CompressedStreams(); n != tc.wantCompressed {
			t.Errorf("%v (store without gzip: %v): %d compressed streams, want %d", tc.args, tc.noGzip, n, tc.wantCompressed)
		}
		if srv.Calls("MarkUploadFinished") != 1 {
			t.Errorf("%v (store without gzip: %v): not finished on the store", tc.args, tc.noGzip)
		}
	}
	code, _, stderr := runCLI(t, "upload", "--dry-run", bin, "--grpc-compression=zstd")
	if code != ExitUsage || !strings.Contains(stderr, "want none or gzip") {
		t.Errorf("bad value: exit %d, %s", code, stderr)
	}
}

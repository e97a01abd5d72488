package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// nofileEnv, with cliArgsEnv, sets the child's soft and hard limits on open
// files to its value before the CLI runs.
const nofileEnv = "DEBUGINFO_TEST_NOFILE"

func setNofile(n string) {
	v, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		panic(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: v, Max: v}); err != nil {
		panic(err)
	}
}

// TestUploadFitsOpenFileLimit: under `ulimit -n 64`, -j 32 is lowered to
// what fits, with one notice, and every file is uploaded; before, 95% of
// the files failed one by one with "too many open files" (review s14-r2,
// finding 3).
func TestUploadFitsOpenFileLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 120 files")
	}
	srv := teststore.Start(t, teststore.Options{})
	dir := t.TempDir()
	// A binary with 2 MiB of DWARF to compress, so that each upload holds
	// its descriptors for a while, copied under distinct build IDs.
	bin := testbin.C(t, "nofile", "n", "-g")
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("DW_AT_name nofile.c 0123456789\n"), 2<<20/31), 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	testbin.Run(t, dir, "objcopy", "--add-section", ".debug_junk="+junk, bin, big)
	data, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	id, err := buildid.Read(big)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(id.Value)
	at := bytes.Index(data, raw)
	if at < 0 {
		t.Fatal("build ID bytes not found")
	}
	in := filepath.Join(dir, "in")
	os.Mkdir(in, 0o755)
	const files = 120
	for i := range files {
		rand.Read(data[at : at+len(raw)])
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("bin%03d", i)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	cmd := childCLI([]string{nofileEnv + "=64", "XDG_CACHE_HOME=" + t.TempDir()},
		"upload", "--store-address="+srv.Addr(), "--insecure", "-j", "32", in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
	if n := strings.Count(stdout.String(), "uploaded  "); n != files {
		t.Errorf("%d of %d files uploaded", n, files)
	}
	if n := strings.Count(stderr.String(), "-j 32 lowered to"); n != 1 {
		t.Errorf("%d notices that -j was lowered, want 1", n)
	}
	if t.Failed() {
		t.Logf("stderr:\n%.3000s", stderr.String())
	}
}

//go:build knownlimits

package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Known limits an independent review found (issues 13 and 19) that are not
// fixed yet. Each test asserts what a user should see and fails today; they
// run with `go test -tags knownlimits ./uploader/internal/cli/`, and
// docs/symbolization.md lists them. Move a test back to review_test.go when
// its limit is fixed.

// The debug file of a Go binary keeps .gopclntab (SHF_ALLOC) with a file
// offset outside every PT_LOAD, so binutils and gdb complain on every use:
//
//	objcopy: warning: allocated section `.gopclntab' not in segment
//	gdb: warning: Loadable section ".gopclntab" outside of ELF segments
//
// Issue 19: a debug file every ELF tool accepts (objcopy on the original Go
// binary says nothing).
func TestReviewGoDebugFileObjcopyClean(t *testing.T) {
	testbin.Need(t, "objcopy")
	bin := testbin.Go(t, "review", "hi")
	out := filepath.Join(t.TempDir(), "out")
	if code, stdout, stderr := runCLI(t, "extract", bin, "-o", out); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, args := range [][]string{{bin, filepath.Join(t.TempDir(), "c0")}, {out, filepath.Join(t.TempDir(), "c1")}} {
		msg, err := exec.Command("objcopy", args...).CombinedOutput()
		if err != nil || len(msg) > 0 {
			t.Errorf("objcopy %s: %v %s", args[0], err, msg)
		}
	}
	if _, err := exec.LookPath("gdb"); err == nil {
		msg, _ := exec.Command("gdb", "-batch", "-nx", "-ex", "symbol-file "+out).CombinedOutput()
		if strings.Contains(string(msg), "outside of ELF segments") {
			t.Errorf("gdb symbol-file: %s", msg)
		}
	}
}

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A build directory holds the objects a program was linked from: a walk
// passes them over (no profiler loads a .o) and says how many; an object
// named on the command line is still uploaded.
func TestUploadDirectoryPassesOverObjects(t *testing.T) {
	dir := t.TempDir()
	src := "int helper(int x) { return x * 3; }\nint main(void) { return helper(1) - 3; }\n"
	prog := testbin.GCC(t, dir, "prog", src, "-g")
	testbin.Run(t, dir, "gcc", "-g", "-c", "-o", "prog.o", "prog.c")
	obj := filepath.Join(dir, "prog.o")

	code, stdout, stderr := runCLI(t, "upload", "--dry-run", dir)
	if code != ExitOK {
		t.Fatalf("upload --dry-run DIR: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, prog) || strings.Contains(stdout, obj) {
		t.Errorf("stdout should name %s and not %s:\n%s", prog, obj, stdout)
	}
	if !strings.Contains(stderr, "1 dry-run, 1 passed-over, 0 failed") {
		t.Errorf("summary should count the passed-over object:\n%s", stderr)
	}

	code, stdout, stderr = runCLI(t, "upload", "--dry-run", "--json", dir)
	if code != ExitOK {
		t.Fatalf("upload --dry-run --json DIR: exit %d\n%s%s", code, stdout, stderr)
	}
	actions := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var r struct{ Path, Action, Reason string }
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("--json line %q: %v", line, err)
		}
		actions[r.Path] = r.Action
		if r.Path == obj && !strings.Contains(r.Reason, "relocatable object") {
			t.Errorf("reason for %s = %q, want it to say relocatable object", obj, r.Reason)
		}
	}
	if actions[prog] != "dry-run" || actions[obj] != "passed-over" {
		t.Errorf("--json actions = %v, want %s dry-run and %s passed-over", actions, prog, obj)
	}

	code, stdout, stderr = runCLI(t, "upload", "--dry-run", obj)
	if code != ExitOK || !strings.Contains(stdout, obj) || !strings.Contains(stderr, "1 dry-run, 0 failed") {
		t.Errorf("upload --dry-run %s (named): exit %d, want it handled as before\n%s%s", obj, code, stdout, stderr)
	}
}

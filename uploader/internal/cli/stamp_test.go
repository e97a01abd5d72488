package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func TestStampCommand(t *testing.T) {
	dir := t.TempDir()
	in := testbin.GoBuild(t, dir, "prog", testbin.HelloGo("stamped hello"), "-buildid=redacted")
	os.Chmod(in, 0o750)
	out := filepath.Join(dir, "prog.stamped")
	code, stdout, stderr := runCLI(t, "stamp", in, "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	id, err := buildid.Read(out)
	if err != nil || id.Redacted || !strings.Contains(stdout, "new build ID "+id.Value) || !strings.Contains(stdout, "redacted") {
		t.Fatalf("%+v %v\n%s", id, err, stdout)
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o750 {
		t.Errorf("mode %v, want 0750", fi.Mode())
	}
	if got, err := exec.Command(out).Output(); err != nil || string(got) != "stamped hello\n" {
		t.Errorf("stamped program: %q %v", got, err)
	}
	// In place, twice: the second run changes nothing.
	for i := 0; i < 2; i++ {
		if code, _, stderr := runCLI(t, "stamp", in, "-o", in); code != ExitOK {
			t.Fatalf("in place: %d %s", code, stderr)
		}
	}
	a, _ := os.ReadFile(in)
	b, _ := os.ReadFile(out)
	if string(a) != string(b) {
		t.Error("stamping in place twice differs from stamping once")
	}

	c := testbin.GCC(t, dir, "nobid", testbin.HelloC, "-Wl,--build-id=none")
	if code, _, stderr := runCLI(t, "stamp", c, "-o", c+".out"); code != ExitFailed || !strings.Contains(stderr, "no NT_GNU_BUILD_ID") {
		t.Errorf("no build ID: %d %s", code, stderr)
	}
	if _, err := os.Stat(c + ".out"); err == nil {
		t.Error("failed stamp left OUT")
	}
	if code, _, _ := runCLI(t, "stamp", in); code != ExitUsage {
		t.Errorf("no -o: %d", code)
	}
	if code, stdout, _ := runCLI(t, "stamp", "--help"); code != ExitOK || !strings.Contains(stdout, "deterministic") {
		t.Errorf("--help: %d", code)
	}
}

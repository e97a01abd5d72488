package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A secret pasted with its newline into --project-id works, like the same
// value in POLARSIGNALS_PROJECT_ID; a line break inside is a usage error
// at once, not ~10 s of retries ending in "store said: ... non-printable".
func TestProjectIDFlagWithNewline(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "pn", "projnl", "-g")
	env := map[string]string{"POLARSIGNALS_TOKEN": w.writer}
	store := "--store-address=" + w.srv.Addr()
	for _, cmd := range [][]string{{"upload", "--force", bin}, {"auth", "check"}} {
		args := append([]string{cmd[0], store, "--insecure", "--project-id=proj-a\n"}, cmd[1:]...)
		if code, out, errOut := authRun(t, env, "", args...); code != 0 {
			t.Errorf("%q: exit %d:\n%s%s", args, code, out, errOut)
		}
		args = append([]string{cmd[0], store, "--insecure", "--project-id=proj-a\nzq9"}, cmd[1:]...)
		start := time.Now()
		code, out, errOut := authRun(t, env, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, "--project-id has characters gRPC cannot send") || strings.Contains(out+errOut, "zq9") {
			t.Errorf("%q: exit %d, want %d:\n%s%s", args, code, ExitUsage, out, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}

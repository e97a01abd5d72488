package cli

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// projectID twice with different values is a usage error (exit 2) for
// both commands, before the store is asked anything.
func TestProjectIDTwiceIsAUsageError(t *testing.T) {
	bin := testbin.C(t, "pt", "projtwice", "-g")
	env := map[string]string{"POLARSIGNALS_TOKEN": "psc_v1_" + strings.Repeat("0a", 32)}
	for _, h := range [][]string{
		{"--grpc-headers=projectID=proj-a", "--grpc-headers=projectID=proj-b"},
		{"--grpc-headers=projectID=proj-b;projectID=proj-a"},
		{"--grpc-headers=PROJECTID=proj-b", "--grpc-headers=projectID=proj-a"},
	} {
		for _, cmd := range [][]string{{"upload", bin}, {"auth", "check"}} {
			args := append(append([]string{cmd[0], "--store-address=127.0.0.1:1", "--insecure"}, h...), cmd[1:]...)
			code, out, errOut := authRun(t, env, "", args...)
			if code != ExitUsage || !strings.Contains(errOut, "projectID is given more than once") {
				t.Errorf("%q: exit %d, want %d:\n%s%s", args, code, ExitUsage, out, errOut)
			}
		}
	}
}

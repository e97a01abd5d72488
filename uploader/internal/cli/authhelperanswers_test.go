package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A credential helper's wrong answer is explained as such by upload and
// auth check, not as a token the store does not know.
func TestHelperWrongAnswersExplainedByUploadAndAuthCheck(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "ha", "helperanswers", "-g")
	store := "--store-address=" + w.srv.Addr()
	count := filepath.Join(t.TempDir(), "count")
	for _, tc := range []struct {
		name, answer string
		code         int
		want         string
	}{
		{"no authorization", `{"headers": {"projectID": ["proj-a"]}}`, 1, "returned no Authorization header (only projectid): no token is sent"},
		{"no authorization, summary", `{"headers": {"projectID": ["proj-a"]}}`, 1, "no token from credential helper "},
		{"no Bearer prefix", `{"headers": {"Authorization": ["` + w.writer + `"], "projectID": ["proj-a"]}}`, 1, `returned an Authorization value without the "Bearer " prefix`},
		{"two tokens", `{"headers": {"Authorization": ["Bearer ` + w.writer + `", "Bearer ` + w.scoped + `"], "projectID": ["proj-a"]}}`, 1, "returned 2 Authorization values, one is expected"},
		{"expired", `{"headers": {"Authorization": ["Bearer ` + w.writer + `"], "projectID": ["proj-a"]}, "expires": "2001-01-01T00:00:00Z"}`, 0, `"expires" 2001-01-01T00:00:00Z, already past`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(count)
			h := writeHelper(t, "echo x >> "+count+"\necho '"+tc.answer+"'")
			for _, cmd := range [][]string{{"upload", "--force", bin}, {"auth", "check"}} {
				args := append([]string{cmd[0], store, "--insecure", "--credential-helper=" + h}, cmd[1:]...)
				code, out, errOut := authRun(t, nil, "", args...)
				if code != tc.code || !strings.Contains(out+errOut, tc.want) || strings.Contains(out+errOut, "unknown or revoked") {
					t.Errorf("%q: exit %d, want %d and %q in:\n%s%s", args, code, tc.code, tc.want, out, errOut)
				}
				if strings.Contains(out+errOut, w.writer[7:]) || strings.Contains(out+errOut, w.scoped[7:]) {
					t.Errorf("%q printed a token", args)
				}
			}
			if b, _ := os.ReadFile(count); tc.name == "expired" && strings.Count(string(b), "x") != 2 {
				t.Errorf("the helper ran %d times for one upload and one check, want 2", strings.Count(string(b), "x"))
			}
		})
	}
}

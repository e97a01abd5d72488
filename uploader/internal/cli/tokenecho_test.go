package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestTokenGivenAsAnotherValueIsNotPrinted: a token put where a project ID
// or a file belongs (swapped CI secrets, a mis-quoted command line) is
// hidden in the credentials line, the per-file lines, --json and the
// --record error, as it is in errors (review s13-r1, findings 1 and 2).
func TestTokenGivenAsAnotherValueIsNotPrinted(t *testing.T) {
	w := newIAMWorld(t, nil)
	tok := w.writer
	hexPart := strings.TrimPrefix(tok, "psc_v1_")
	bin := testbin.C(t, "echo", "echo", "-g")
	store := "--store-address=" + w.srv.Addr()
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"project id from the environment", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": tok}, []string{"upload", store, "--insecure", bin}},
		{"project id in --grpc-headers", map[string]string{"POLARSIGNALS_TOKEN": tok}, []string{"upload", store, "--insecure", "--grpc-headers=projectID=" + tok, bin}},
		{"token among the files", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", tok, bin}},
		{"its hex digits among the files", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", hexPart, bin}},
		{"--json", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--json", tok, bin}},
		{"--dry-run --json", map[string]string{"POLARSIGNALS_TOKEN": tok}, []string{"upload", "--dry-run", "--json", tok, bin}},
		{"--record", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--record=" + filepath.Join(t.TempDir(), tok)}},
		{"token file, among the files", map[string]string{"DEBUGINFO_TOKEN_FILE": tokenFile(t, tok+"\n"), "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--dry-run", tok}},
	} {
		code, stdout, stderr := authRun(t, c.env, "", c.args...)
		out := stdout + stderr
		if strings.Contains(out, hexPart) || strings.Contains(strings.ToLower(out), strings.ToLower(hexPart[:24])) {
			t.Errorf("%s: the token is printed (exit %d):\n%s", c.name, code, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s: nothing says a value was hidden (exit %d):\n%s", c.name, code, out)
		}
	}
}

// tokenFile writes content to a private token file.
func tokenFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

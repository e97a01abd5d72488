package cli

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Migration step 4 adds POLARSIGNALS_TOKEN to a job that still exports
// parca-debuginfo's variable with the legacy token. That one wins, so
// auth check's OK is about the old token: both commands must say the new
// one is ignored and what to unset before revoking.
func TestAuthCheckAndUploadSayANewTokenIsIgnored(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "ign", "ignored", "-g")
	env := map[string]string{"PARCA_DEBUGINFO_BEARER_TOKEN": w.legacy, "POLARSIGNALS_TOKEN": w.writer, "POLARSIGNALS_PROJECT_ID": "proj-a"}
	store := "--store-address=" + w.srv.Addr()
	for _, args := range [][]string{{"auth", "check", store, "--insecure"}, {"auth", "check", store, "--insecure", "--json"}, {"upload", store, "--insecure", bin}} {
		code, out, errOut := authRun(t, env, "", args...)
		if code != 0 {
			t.Errorf("%q: exit %d:\n%s%s", args, code, out, errOut)
		}
		for _, want := range []string{"env POLARSIGNALS_TOKEN holds a different token, which is ignored: env PARCA_DEBUGINFO_BEARER_TOKEN comes first", "unset PARCA_DEBUGINFO_BEARER_TOKEN"} {
			if !strings.Contains(out+errOut, want) {
				t.Errorf("%q: no %q in:\n%s%s", args, want, out, errOut)
			}
		}
		if strings.Contains(out+errOut, w.writer[7:]) || strings.Contains(out+errOut, w.legacy) {
			t.Errorf("%q printed a token", args)
		}
	}
}

package cli

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// upload prints a credential error before it has a Provider to redact it
// with; the error must already be safe. Both cases printed the token.
func TestUploadCredentialErrorsHideTheToken(t *testing.T) {
	const tok = "psc_v1_97a53cfd00112233445566778899aabbccddeeff00112233445566778899abcd"
	bin := testbin.C(t, "leak", "leak", "-g")
	badExpires := writeHelper(t, `echo '{"headers": {"Authorization": ["Bearer `+tok+`"], "projectID": ["proj-a"]}, "expires": "`+tok+`"}'`)
	for _, args := range [][]string{
		{"--credential-helper=" + badExpires},
		{"--credential-helper=" + tok}, // a token in the wrong flag: exec's error names it
	} {
		for _, cmd := range [][]string{{"upload", bin}, {"auth", "check"}} {
			all := append(append([]string{cmd[0], "--store-address=127.0.0.1:1", "--insecure"}, args...), cmd[1:]...)
			code, out, errOut := authRun(t, nil, "", all...)
			if code == 0 || strings.Contains(out+errOut, tok[7:]) {
				t.Errorf("%q: exit %d, the token shows:\n%s%s", all, code, out, errOut)
			}
		}
	}
}

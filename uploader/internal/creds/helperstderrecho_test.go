package creds

import (
	"strings"
	"testing"
)

// A failing helper that prints an opaque token twice, once after "Bearer"
// and once bare, must not show it bare: the value found by its shape is
// hidden wherever it appears. (It reached Bazel's build log and
// command.log.)
func TestHelperStderrHidesAnEchoedTokenEverywhere(t *testing.T) {
	const tok = "opaque-7f3a9c1e5b2d8f4a"
	h := script(t, "cat >/dev/null\necho 'debug: using token "+tok+" for get; Authorization: Bearer "+tok+"' >&2; exit 3\n")
	_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "failed (exit status 3)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), tok) {
		t.Errorf("the token is shown: %v", err)
	}
	for _, tc := range []struct{ in, want string }{
		{"token eyJhbGciOi.eyJzdWIiOi.c2lnbmF0 again eyJhbGciOi.eyJzdWIiOi.c2lnbmF0", "token [REDACTED] again [REDACTED]"},
		{"bearer abcdefgh12345678 and abcdefgh123456789", "bearer [REDACTED] and [REDACTED]9"},
		{"a bearer token file", "a bearer token file"},
		// A short word after "bearer" is hidden there only (over-redaction
		// found by a review: whole words and path parts disappeared).
		{"missing bearer credentials: send credentials", "missing bearer [REDACTED]: send credentials"},
		{"Bearer realm=parca for /srv/realm=parca/x", "Bearer [REDACTED] for /srv/realm=parca/x"},
	} {
		if got := RedactPatterns(tc.in); got != tc.want {
			t.Errorf("RedactPatterns(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

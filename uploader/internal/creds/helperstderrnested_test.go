package creds

import (
	"strings"
	"testing"
)

// Header values where one holds another: a helper's stderr echoing the
// longer one must hide it whole, not leave its tail after hiding the shorter.
func TestHelperStderrHidesNestedHeaderValuesWhole(t *testing.T) {
	h := script(t, "cat >/dev/null\necho 'login failed for org-1234-tail-secret-99' >&2; exit 2\n")
	for _, hdrs := range []string{"x-org=org-1234;x-session=org-1234-tail-secret-99", "x-session=org-1234-tail-secret-99;x-org=org-1234"} {
		_, err := Resolve(&Options{CredentialHelpers: []string{h}, GRPCHeaders: []string{hdrs}}, "h:443", true, env())
		if err == nil || !strings.Contains(err.Error(), "failed (exit status 2)") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "tail-secret-99") {
			t.Errorf("part of a header value is shown: %v", err)
		}
	}
}

package creds

import (
	"strings"
	"testing"
)

// A helper whose "expires" holds the token (a mixed-up variable) must not
// have its answer quoted: time.Parse's error repeats its input.
func TestHelperBadExpiresNotQuoted(t *testing.T) {
	for _, exp := range []string{saToken, jwtToken} {
		h := script(t, `cat >/dev/null
echo '{"headers": {"Authorization": ["Bearer `+saToken+`"], "projectID": ["p"]}, "expires": "`+exp+`"}'`)
		_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
		if err == nil || !strings.Contains(err.Error(), `"expires" that is not RFC 3339`) {
			t.Fatalf("err = %v, want a bad expires", err)
		}
		if strings.Contains(err.Error(), exp[len(exp)-20:]) {
			t.Errorf("the error quotes the expires value: %v", err)
		}
	}
}

// Resolve's errors are redacted before they are returned: callers that
// failed to get a Provider have nothing else to redact them with. A token
// given as the helper's path shows in exec's error.
func TestResolveErrorsAreRedacted(t *testing.T) {
	_, err := Resolve(&Options{CredentialHelpers: []string{saToken}}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "could not run") {
		t.Fatalf("err = %v, want the helper not to run", err)
	}
	if strings.Contains(err.Error(), saToken[7:20]) {
		t.Errorf("the error shows the token: %v", err)
	}
	// Values known before the failure are hidden too, whatever their shape.
	_, err = Resolve(&Options{CredentialHelpers: []string{"/nonexistent/k3y-s3cr3t-value"}, GRPCHeaders: []string{"x-api-key=k3y-s3cr3t-value"}}, "h:443", true, env())
	if err == nil || strings.Contains(err.Error(), "k3y-s3cr3t-value") || !strings.Contains(err.Error(), Redacted) {
		t.Errorf("err = %v, want the header value hidden", err)
	}
	// A usage error stays one.
	_, err = Resolve(&Options{CredentialHelpers: []string{saToken + "="}}, "h:443", true, env())
	if err == nil || !IsUsage(err) || strings.Contains(err.Error(), saToken[7:20]) {
		t.Errorf("err = %v, want a usage error without the token", err)
	}
}

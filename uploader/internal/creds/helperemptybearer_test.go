package creds

import (
	"strings"
	"testing"
)

// A helper that answers "Bearer" with no token after it is a broken helper:
// say so before any upload, rather than send the empty token and report
// "opaque bearer token" in the summary.
func TestHelperEmptyBearerTokenIsAnError(t *testing.T) {
	for _, v := range []string{"Bearer", "Bearer ", "bearer   "} {
		h := script(t, `echo '{"headers": {"Authorization": ["`+v+`"]}}'`)
		_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "grpc.example.com:443", true, env())
		if err == nil || !strings.Contains(err.Error(), "empty bearer token") {
			t.Errorf("helper answering %q: err = %v, want an empty bearer token error", v, err)
		}
	}
	// Another scheme still passes untouched.
	h := script(t, `echo '{"headers": {"Authorization": ["Basic dXNlcjpwYXNz"]}}'`)
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Info().Kind; k != KindOpaque {
		t.Errorf("Basic from a helper: kind %q, want %q", k, KindOpaque)
	}
}

package creds

import (
	"strings"
	"testing"
)

// Redact hides every secret the provider was given, however many, down to
// four characters (shorter ones would shred ordinary text).
func TestRedactHidesEverySecretFromFourCharacters(t *testing.T) {
	p, err := Resolve(&Options{GRPCHeaders: []string{"x-api-key=k3y9;x-auth-token=second-secret-2;x-password=abc"}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	got := p.Redact("sent k3y9 and second-secret-2; abc stays")
	if want := "sent [REDACTED] and [REDACTED]; abc stays"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

// A failing helper's stderr hides a four-character header value too.
func TestHelperStderrHidesFourCharacterValues(t *testing.T) {
	h := script(t, "cat >/dev/null\necho 'no access for zq7w' >&2; exit 2\n")
	_, err := Resolve(&Options{CredentialHelpers: []string{h}, GRPCHeaders: []string{"x-tenant=zq7w"}}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "no access for [REDACTED]") {
		t.Errorf("err = %v, want the four-character value hidden", err)
	}
}

// A secret given later that holds an earlier one (a header value, then the
// token) is still hidden whole.
func TestRedactHidesALaterLongerSecretWhole(t *testing.T) {
	p, err := Resolve(&Options{GRPCHeaders: []string{"x-api-key=tok-abcd"}, BearerToken: "tok-abcd-and-more-1234"}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Redact("token tok-abcd-and-more-1234 and key tok-abcd"); got != "token [REDACTED] and key [REDACTED]" {
		t.Errorf("Redact = %q", got)
	}
}

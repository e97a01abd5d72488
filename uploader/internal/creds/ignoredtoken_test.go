package creds

import (
	"strings"
	"testing"
)

// The migration's trap: POLARSIGNALS_TOKEN added while parca-debuginfo's
// variable still holds the legacy token, which comes first. The ignored
// source is named, with what to do before revoking the legacy token.
func TestIgnoredTokenSourceWarns(t *testing.T) {
	p, err := Resolve(&Options{}, "h:443", true, env(EnvBearerToken, jwtToken, EnvPolarSignalsTok, saToken+"\n", EnvProjectID, "p"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Info().Source; got != "env "+EnvBearerToken {
		t.Fatalf("source %q: the precedence changed", got)
	}
	warns := strings.Join(p.Warnings(), "\n")
	for _, want := range []string{
		"env POLARSIGNALS_TOKEN holds a different token, which is ignored: env PARCA_DEBUGINFO_BEARER_TOKEN comes first",
		"unset PARCA_DEBUGINFO_BEARER_TOKEN so that the new token is used",
		"before you revoke the legacy one",
	} {
		if !strings.Contains(warns, want) {
			t.Errorf("warnings %q lack %q", warns, want)
		}
	}
	if strings.Contains(warns, saToken[7:20]) || strings.Contains(warns, jwtToken[:20]) {
		t.Errorf("a warning shows a token: %q", warns)
	}
	// The ignored token is a secret too.
	if got := p.Redact("x " + saToken[7:] + " y"); strings.Contains(got, saToken[7:]) {
		t.Errorf("the ignored token is not redacted: %q", got)
	}

	// The same token in two places, or the flag echoing the variable, is no news.
	p, err = Resolve(&Options{BearerToken: saToken, ProjectID: "p"}, "h:443", true, env(EnvPolarSignalsTok, saToken))
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Warnings(); len(w) != 0 {
		t.Errorf("warnings for one token given twice: %q", w)
	}
	// Another token ignored without the legacy twist: named, no revoke advice.
	p, err = Resolve(&Options{BearerToken: saToken, ProjectID: "p"}, "h:443", true, env(EnvBearerToken, jwtToken))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "env PARCA_DEBUGINFO_BEARER_TOKEN holds a different token, which is ignored: --bearer-token comes first") || strings.Contains(w, "revoke") {
		t.Errorf("warnings = %q", w)
	}
}

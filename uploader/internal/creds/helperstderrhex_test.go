package creds

import (
	"os"
	"strings"
	"testing"
)

// A failing helper may print the token's 64 hex digits without psc_v1_:
// they are the whole secret. On its first run no token is known yet.
func TestHelperStderrHidesBareHex(t *testing.T) {
	hex := saToken[7:]
	for _, said := range []string{hex, strings.ToUpper(hex), "key=" + hex[:24] + "...", "token '" + hex + "' revoked"} {
		h := script(t, "cat >/dev/null\necho \""+said+"\" >&2; exit 1\n")
		_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
		if err == nil || strings.Contains(strings.ToLower(err.Error()), hex[:16]) || !strings.Contains(err.Error(), Redacted) {
			t.Errorf("stderr %q: err = %v", said, err)
		}
	}
	// Numbers and words stay.
	h := script(t, "cat >/dev/null\necho 'at 1733011200000000000: login expired, run login-helper' >&2; exit 1\n")
	if _, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env()); err == nil || !strings.Contains(err.Error(), "at 1733011200000000000: login expired, run login-helper") {
		t.Errorf("err = %v", err)
	}
	// A refresh that fails: the token it gave first is known, its
	// fragments are hidden like in a store's message.
	h = script(t, "cat >/dev/null\necho '{\"headers\": {\"Authorization\": [\"Bearer tok-0123456789-opaque-value\"]}, \"expires\": \"2001-01-01T00:00:00Z\"}'\n")
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(h, []byte("#!/bin/sh\necho 'revoked: 0123456789-opaque' >&2; exit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.refresh = p.now()
	p.mu.Unlock()
	if _, err := p.GetRequestMetadata(t.Context()); err == nil || strings.Contains(err.Error(), "0123456789-opaque") {
		t.Errorf("failed refresh: err = %v", err)
	}
}

package creds

import (
	"encoding/base64"
	"testing"
)

// A JWT is three base64url parts ("-" and "_" included); a token with
// standard-base64 characters ("+", "/", "=") in a part is not one, whatever
// its first part decodes to.
func TestJWTAlphabet(t *testing.T) {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`))
	for _, tc := range []struct {
		tok  string
		want Kind
	}{
		{hdr + ".pay-load_x.sig-_", KindLegacyJWT},
		{hdr + ".pay+load.sig", KindOpaque},
		{hdr + ".payload.sig/x", KindOpaque},
		{hdr + ".payload=.sig", KindOpaque},
	} {
		if got, err := Classify(tc.tok); err != nil || got != tc.want {
			t.Errorf("Classify(%q) = %q, %v; want %q", tc.tok, got, err, tc.want)
		}
	}
}

// The summary shows a token's last four characters only from 16 characters
// on (shorter, they would give too much of it away).
func TestLast4FromSixteenCharacters(t *testing.T) {
	for tok, want := range map[string]string{"opaque-token-016": "-016", "opaque-token-15": ""} {
		p, err := Resolve(&Options{BearerToken: tok}, "h:443", true, env())
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Info().Last4; got != want {
			t.Errorf("a %d-character token: Last4 %q, want %q", len(tok), got, want)
		}
	}
}

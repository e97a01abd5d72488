package creds

import (
	"encoding/base64"
	"strings"
	"testing"
)

// A store may echo a token changed: the hex body of a psc_v1_ token without
// its prefix (the whole secret), cut short, upper-cased or URL-encoded.
// Each is hidden; ordinary text and short header values' look-alikes stay.
func TestRedactHidesChangedEchoesOfAToken(t *testing.T) {
	hex := strings.Repeat("a1b2c3d4", 8)
	psc := "psc_v1_" + hex
	opaque := "my0paque+Tok/en=ValueXyz"
	for _, tc := range []struct {
		token, said, secret string
	}{
		{psc, "unknown service account key " + hex, hex},
		{psc, "key " + strings.ToUpper(psc) + " revoked", strings.ToUpper(hex)},
		{psc, "token psc_v1_" + hex[:20] + "... unknown", hex[:20]},
		{opaque, "trunc: " + opaque[:14] + "...", opaque[:14]},
		{opaque, "sent my0paque%2BTok%2Fen%3DValueXyz", "Tok%2Fen%3DValueXyz"},
		{opaque, "sent " + strings.ToUpper(opaque), strings.ToUpper(opaque)},
	} {
		p, err := Resolve(&Options{BearerToken: tc.token, ProjectID: "p1"}, "h:443", true, env())
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Redact(tc.said); strings.Contains(got, tc.secret) || !strings.Contains(got, Redacted) {
			t.Errorf("Redact(%q) = %q: the echoed token shows", tc.said, got)
		}
	}
	p, err := Resolve(&Options{BearerToken: psc, ProjectID: "p1"}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	const plain = "permission denied: the token lacks the Debug Info Writer role for project p1"
	if got := p.Redact(plain); got != plain {
		t.Errorf("Redact(%q) = %q: ordinary text changed", plain, got)
	}
	// Other header values are hidden exactly, not in fragments: a tenant's
	// name shares words with others (a review found team-payments-staging
	// hidden for x-scope-orgid=team-payments-production).
	p, err = Resolve(&Options{GRPCHeaders: []string{"x-scope-orgid=team-payments-production"}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	const tenant = "tenant team-payments-production denied; try team-payments-staging"
	if got := p.Redact(tenant); got != "tenant [REDACTED] denied; try team-payments-staging" {
		t.Errorf("Redact(%q) = %q", tenant, got)
	}
}

// A proxy may echo a request's header base64-encoded: the token sits in it
// at any offset, in standard or URL-safe base64 (review s13-r5's left-over).
func TestRedactHidesBase64Echoes(t *testing.T) {
	psc := "psc_v1_" + strings.Repeat("a1b2c3d4", 8)
	opaque := "my0paque+Tok/en=ValueXyz~more"
	for _, tok := range []string{psc, opaque} {
		p, err := Resolve(&Options{BearerToken: tok, ProjectID: "p1"}, "h:443", true, env())
		if err != nil {
			t.Fatal(err)
		}
		for _, plain := range []string{tok, "Authorization: Bearer " + tok, "x" + tok + "\n", "user:" + tok} {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
				said := "proxy saw header " + enc.EncodeToString([]byte(plain)) + " and refused it"
				got := p.Redact(said)
				if !strings.Contains(got, Redacted) || strings.Contains(got, enc.EncodeToString([]byte(tok))[4:20]) {
					t.Errorf("Redact(%q) = %q: the token shows base64-encoded", said, got)
				}
			}
		}
	}
	const plain = "permission denied: dGhlIHF1aWNrIGJyb3duIGZveA== is not a project"
	p, _ := Resolve(&Options{BearerToken: psc, ProjectID: "p1"}, "h:443", true, env())
	if got := p.Redact(plain); got != plain {
		t.Errorf("Redact(%q) = %q: unrelated base64 changed", plain, got)
	}
}

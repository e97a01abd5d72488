package creds

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// RedactPatterns skips its regexps for text none of them can match; it
// must hide exactly what they hide, in every case folding (?i) accepts.
func TestRedactPatternsPrefilterHidesWhatTheRegexpsHide(t *testing.T) {
	regexpsOnly := func(s string) string {
		saved := mayHoldPatternFunc
		mayHoldPatternFunc = func(string) bool { return true }
		defer func() { mayHoldPatternFunc = saved }()
		return RedactPatterns(s)
	}
	tok := "psc_v1_" + strings.Repeat("ab12", 16)
	cases := []string{
		"uploaded  debuginfo  8b7347975bd0  ./bin/server  7.0 KiB",
		"BEARER abcdefgh12345678", "BeArEr abcdefgh12345678", "bearer\tabcdefgh12345678",
		tok, strings.ToUpper(tok), "PSC_V1_0123456789abcdef",
		"pſc_v1_0123456789abcdef",       // U+017F folds to s under (?i)
		"bearer\u212a abcdefgh12345678", // Kelvin sign: not a letter of "bearer"
		"x eyJhbGciOi.eyJzdWIiOi.c2lnbmF0 y", "eyj not a jwt", "ey J",
	}
	r := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"bearer ", "Bearer", "BEAR", "psc_", "PSC_v1_", "_v1_", "ſ", "eyJ", "eyj", ".", "a1b2c3d4e5f6", " ", "\n", "é", "K"}
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	skipped := 0
	for _, s := range cases {
		if !mayHoldPattern(s) {
			skipped++
		}
		if got, want := RedactPatterns(s), regexpsOnly(s); got != want {
			t.Errorf("RedactPatterns(%q) = %q, the regexps alone %q", s, got, want)
		}
	}
	if skipped == 0 || skipped == len(cases) {
		t.Fatalf("the prefilter skipped %d of %d cases: the test no longer tries both paths", skipped, len(cases))
	}
}

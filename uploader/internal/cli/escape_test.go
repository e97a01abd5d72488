package cli

import (
	"bytes"
	"errors"
	"testing"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path-1.so":       "plain/path-1.so",
		"naïve 日本":              "naïve 日本",
		"a\nb":                  `a\nb`,
		"\x1b[2J\r\t":           `\x1b[2J\r\t`,
		"rtl\u202egnp.exe":      `rtl\u202egnp.exe`,
		"c1\u009b31m":           `c1\u009b31m`,
		"bad\xffutf8":           `bad\xffutf8`,
		"del\x7f":               `del\x7f`,
		"ok \ufffd replacement": "ok \ufffd replacement",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
	var b bytes.Buffer
	say(&b, "%s %v %d\n", "id\x1b", errors.New("e\n"), 7)
	if got := b.String(); got != `id\x1b e\n 7`+"\n" {
		t.Errorf("say = %q", got)
	}
}

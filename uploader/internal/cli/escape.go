package cli

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// escape makes text from files, servers and helpers safe to print: every
// character a terminal could act on (control characters, escape sequences,
// bidirectional overrides, invalid UTF-8) is shown as a Go escape (\n,
// \x1b, \u202e), so a crafted path or build ID can neither drive the
// terminal nor forge a line of our output.
func escape(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// say is fmt.Fprintf with every string, error and Stringer argument
// escaped: the one way commands print what they did not write themselves.
func say(w io.Writer, format string, a ...any) {
	args := make([]any, len(a))
	for i, v := range a {
		switch v := v.(type) {
		case string:
			args[i] = escape(v)
		case error:
			args[i] = escape(v.Error())
		case fmt.Stringer:
			args[i] = escape(v.String())
		default:
			args[i] = v
		}
	}
	fmt.Fprintf(w, format, args...)
}

// jsonOut writes JSON with every non-printable rune (bidi overrides such as
// U+202E, C1 controls, zero-width marks) as a \u escape: encoding/json
// escapes only ASCII controls, so a file name or a store's reason could
// reorder or hide what a terminal shows of --json output. JSON's structure
// is ASCII, so such runes only ever occur inside strings, where \u is
// valid. Each Write must hold whole runes (json.Encoder writes a value at
// once).
type jsonOut struct{ w io.Writer }

func (j jsonOut) Write(p []byte) (int, error) {
	// DEL is the one ASCII control encoding/json leaves raw.
	escaped := func(r rune) bool { return r == 0x7f || r >= utf8.RuneSelf && !strconv.IsPrint(r) }
	clean := true
	for _, r := range string(p) {
		if escaped(r) {
			clean = false
			break
		}
	}
	if clean {
		return j.w.Write(p)
	}
	var b bytes.Buffer
	for _, r := range string(p) {
		if !escaped(r) {
			b.WriteRune(r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			fmt.Fprintf(&b, `\u%04x`, u)
		}
	}
	if _, err := j.w.Write(b.Bytes()); err != nil {
		return 0, err
	}
	return len(p), nil
}

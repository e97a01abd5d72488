package buildid

import (
	"fmt"
	"strings"
	"testing"
)

// Every hex digit, including the ends of each range (0, 9, a, f), makes a
// GNU ID: an ID given by hand must not turn into a Go ID because of one digit.
func TestEveryHexDigitIsGNU(t *testing.T) {
	ids := []string{"0123456789abcdef", "fedcba9876543210"}
	for _, d := range "0123456789abcdef" {
		ids = append(ids, strings.Repeat(string(d), 8), "ab"+string(d)+"c")
	}
	for _, v := range ids {
		if got, err := Classify(v); err != nil || got != GNU {
			t.Errorf("Classify(%q) = %v, %v; want gnu", v, got, err)
		}
		if err := Check(v, 0); err != nil {
			t.Errorf("Check(%q, 0) = %v, want ok (a GNU ID)", v, err)
		}
	}
	// Short or odd hex of those digits is a bad GNU ID, never a Go ID.
	for _, v := range []string{"000", "999", "fff", "0f9", "00000", "9f9f9"} {
		if got, err := Classify(v); err == nil || !strings.Contains(err.Error(), "lower-case hex is a GNU build ID") {
			t.Errorf("Classify(%q) = %v, %v; want it refused as a GNU ID", v, got, err)
		}
		if err := Check(v, 0); err == nil || !strings.Contains(err.Error(), "hex digits") {
			t.Errorf("Check(%q, 0) = %v, want it refused as a GNU ID", v, err)
		}
	}
}

// Quote shows IDs of up to MaxLen+16 bytes whole and cuts longer ones to
// MaxLen bytes plus their length; Check's message carries the same.
func TestQuoteLengths(t *testing.T) {
	for n := 230; n <= 300; n++ {
		v := strings.Repeat("!", n) // not a valid ID of any type
		want := fmt.Sprintf("%q", v)
		if n > MaxLen+16 {
			want = fmt.Sprintf("%q... (%d bytes)", strings.Repeat("!", MaxLen), n)
		}
		if got := Quote(v); got != want {
			t.Errorf("Quote(%d bytes) = %s, want %s", n, got, want)
		}
		err := Check(v, 0)
		if err == nil || !strings.Contains(err.Error(), "invalid build ID "+want+": ") {
			t.Errorf("Check(%d bytes) = %v, want it quoted as %s", n, err, want)
		}
	}
	if got := Quote(strings.Repeat("a", 272)); strings.Contains(got, "...") {
		t.Errorf("Quote of 272 bytes = %s, want it whole", got)
	}
	if got := Quote(strings.Repeat("a", 273)); !strings.HasSuffix(got, `"... (273 bytes)`) {
		t.Errorf("Quote of 273 bytes = %s, want it cut", got)
	}
}

// Error messages name the bad character by its 1-based position.
func TestBadCharacterPosition(t *testing.T) {
	cases := []struct {
		v    string
		t    Type
		want string
	}{
		{"abcgef01", GNU, "character 4 is not a lower-case hex digit"},
		{"0123456789abcdeF", GNU, "character 16 is not"},
		{"G1234567", GNU, "character 1 is not"},
		{"abc def/ghi", Go, `character 4 (' ') is not allowed`},
		{"abcdef/gh*i", Go, `character 10 ('*') is not allowed`},
		{"abcdef/ghi~", Go, `character 11 ('~') is not allowed`},
	}
	for _, c := range cases {
		if err := Check(c.v, c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q, %v) = %v, want %q", c.v, c.t, err, c.want)
		}
	}
}

// A Go ID of exactly MaxLen characters and a part of exactly MaxPartLen are
// accepted; one more character is refused.
func TestGoLengthLimits(t *testing.T) {
	full := strings.Repeat("A", MaxPartLen) + "/" + strings.Repeat("B", MaxLen-MaxPartLen-1)
	part := "abcd/" + strings.Repeat("x", MaxPartLen)
	for _, v := range []string{full, part, "x/" + strings.Repeat("y", MaxPartLen) + "/z"} {
		if err := Check(v, Go); err != nil {
			t.Errorf("Check(%d chars, go) = %v, want ok", len(v), err)
		}
		if got, err := Classify(v); err != nil || got != Go {
			t.Errorf("Classify(%d chars) = %v, %v; want go", len(v), got, err)
		}
	}
	bad := []struct{ v, want string }{
		{full + "C", "257 characters, want 1 to 256"},
		{part + "x", "part 2 has 129 characters, want at most 128"},
		{strings.Repeat("y", MaxPartLen+1) + "/z", "part 1 has 129 characters"},
	}
	for _, c := range bad {
		if err := Check(c.v, Go); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%d chars, go) = %v, want %q", len(c.v), err, c.want)
		}
	}
}

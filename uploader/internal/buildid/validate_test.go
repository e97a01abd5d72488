package buildid

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func TestCheck(t *testing.T) {
	good := []struct {
		v string
		t Type
	}{
		{"498919aff001d8366249403a2544fba2d833084f", GNU},
		{"0123456789abcdef", GNU}, // lld --build-id=fast
		{strings.Repeat("ab", 64), GNU},
		{"0123456789abcdef0123456789abcdef", Hash},
		{"abc/def", Go},
		{"redacted", Go},
		{"Xq3-_Zz/AbCdEfGhIjKlMnOpQrSt/uVwXyZ012345678901/abcdefghijklmnopqrst", Go},
		{"v1.2.3+build=7", Go},
		{"a.b/..c/c..", Go},
		{"abc123", 0},
		{"a/b/c/d", 0},
	}
	for _, c := range good {
		if err := Check(c.v, c.t); err != nil {
			t.Errorf("Check(%q, %v) = %v, want ok", c.v, c.t, err)
		}
	}
	bad := []struct {
		v    string
		t    Type
		want string
	}{
		{"ABCDEF01", GNU, "not a lower-case hex digit"},
		{"abc", GNU, "want 4 to 128 hex digits"},
		{"abcde", GNU, "odd number"},
		{strings.Repeat("ab", 65), GNU, "want 4 to 128"},
		{"../../x", GNU, `"../../x"`},
		{"0123456789abcdef", Hash, "want 32 hex digits"},
		{"../../x", Go, `part 1 is ".."`},
		{"a/../../b", Go, `part 2 is ".."`},
		{"a/./b", Go, `part 2 is "."`},
		{"/abs/x", Go, "part 1 is empty"},
		{"a//b", Go, "part 2 is empty"},
		{"abc/", Go, "part 2 is empty"},
		{"ab", Go, "at least 3"},
		{"", Go, "0 characters"},
		{"abc\x1b[31mred", Go, `"abc\x1b[31mred"`},
		{"abc\nuploaded", Go, `\n`},
		{"ab c", Go, "not allowed"},
		{`a\b\c`, Go, "not allowed"},
		{"abc\x00", Go, `\x00`},
		{"é/abc", Go, "not allowed"},
		{strings.Repeat("a", MaxLen+1), Go, "want 1 to 256"},
		{"../../x", 0, "invalid build ID"},
		// A part named like a store object makes "<victim>/metadata" a
		// directory where the victim's metadata belongs.
		{"498919aff001d8366249403a2544fba2d833084f/metadata", Go, `part 2 is "metadata"`},
		{"498919aff001d8366249403a2544fba2d833084f/debuginfo", 0, `part 2 is "debuginfo"`},
		{"abcd/sources", Go, `part 2 is "sources"`},
		{"abcd/executable/x", Go, `part 2 is "executable"`},
		{"abcd/sources.metadata", Go, `the name of a store object`},
		{"abcd/.debuginfo.tmp-1", Go, `the name of a store object`},
		{"metadata/abcd", Go, `part 1 is "metadata"`},
		{"abcd/" + strings.Repeat("x", MaxPartLen+1), Go, "part 2 has 129 characters, want at most 128"},
		// Lower-case hex of any length is a GNU ID when the type is not known.
		{"abc", 0, "3 characters, want 4 to 128 hex digits"},
		{"abcde", 0, "odd number"},
		{strings.Repeat("a", 129), 0, "want 4 to 128 hex digits"},
		{strings.Repeat("ab", 128), 0, "want 4 to 128 hex digits"},
	}
	for _, c := range bad {
		err := Check(c.v, c.t)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q, %v) = %v, want an error containing %q", c.v, c.t, err, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for v, want := range map[string]Type{"abc123": GNU, "a/b/c/d": Go, "abg": Go, "ABCD": Go, "0123/4567": Go} {
		if got, err := Classify(v); err != nil || got != want {
			t.Errorf("Classify(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	// docs/cli.md: lower-case hex is a GNU ID, so it must have a GNU ID's
	// length; it is never sent as a Go build ID instead.
	for _, v := range []string{"abc", "abcde", "ab", strings.Repeat("a", 129), strings.Repeat("ab", 65), strings.Repeat("ab", 128)} {
		if got, err := Classify(v); err == nil || !strings.Contains(err.Error(), "lower-case hex is a GNU build ID") {
			t.Errorf("Classify(%q) = %v, %v; want it refused as a GNU ID of a bad length", v, got, err)
		}
	}
	for _, v := range []string{"../../x", "a\x07b", "", "a b", "abcdef01/metadata"} {
		if _, err := Classify(v); err == nil || !strings.Contains(err.Error(), Quote(v)) {
			t.Errorf("Classify(%q) = %v, want an error quoting it", v, err)
		}
	}
}

// A Go build-ID note is whatever the linker was given: -buildid=../../x
// makes a note that would become a path outside a store's bucket.
func TestHostileGoNoteIsRefused(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GoBuild(t, dir, "hostile", testbin.HelloGo("hi"), "-B=none -buildid=../../escaped/xx")
	if _, err := Read(bin); err == nil || !strings.Contains(err.Error(), `invalid go build ID "../../escaped/xx": part 1 is ".."`) ||
		!strings.Contains(err.Error(), "Go build ID note") {
		t.Fatalf("Read = %v, want the hostile note refused", err)
	}

	// Control characters, patched into a note of an ordinary build.
	bin = testbin.GoBuild(t, dir, "ctl", testbin.HelloGo("hi"), "-B=none -buildid=placeholderPH1234")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elfparse.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	notes, err := f.Notes(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	patched := false
	for _, n := range notes {
		if n.Name == "Go" && string(n.Desc) == "placeholderPH1234" {
			copy(data[n.DescOff:], "ok\r\x1b[2Kuploaded!!")
			patched = true
		}
	}
	if !patched {
		t.Fatal("no Go build-ID note found to patch")
	}
	_, err = FromReaderAt(bytes.NewReader(data), int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), `"ok\r\x1b[2Kuploaded!!"`) {
		t.Fatalf("FromReaderAt = %v, want the control characters refused and shown escaped", err)
	}
}

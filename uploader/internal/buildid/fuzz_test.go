package buildid

import (
	"bytes"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzFromReaderAt feeds arbitrary bytes (seeded from testdata/fuzz: small
// real ELF files, truncated and corrupted ones); it must never panic and
// must always say what it found.
func FuzzFromReaderAt(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x7fELF"))
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := FromReaderAt(bytes.NewReader(data), int64(len(data)))
		if err == nil && (id.Value == "" || id.Type == 0 || id.Source == "") {
			t.Fatalf("incomplete ID without error: %+v", id)
		}
	})
}

// FuzzCheck: whatever Check accepts is safe as a path under a store
// directory (no empty, "." or ".." part, no leading "/", no byte outside
// the allowed alphabet), and Classify agrees with Check.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"abc/def", "../../x", "a//b", "0123456789abcdef", "redacted", "a\x00b", "/x/y", "ABCD", "a/./b", "abc", "0123abcd/metadata", "x/sources.metadata"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		err := Check(v, 0)
		typ, cerr := Classify(v)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("Check(%q) = %v but Classify = %v, %v", v, err, typ, cerr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), Quote(v)) {
				t.Fatalf("error %q does not quote the ID", err)
			}
			return
		}
		if Check(v, typ) != nil {
			t.Fatalf("Classify(%q) = %v, which Check refuses", v, typ)
		}
		if len(v) > MaxLen || !filepath.IsLocal(v) || path.Clean(v) != v {
			t.Fatalf("accepted %q, which is not a clean local path", v)
		}
		for i := 0; i < len(v); i++ {
			if c := v[i]; c != '/' && !goIDChar(c) {
				t.Fatalf("accepted %q with byte %#x", v, c)
			}
		}
		// No part may be a store object's name (or a file name too long
		// for a directory), and hex is a GNU ID of a GNU ID's length.
		for _, seg := range strings.Split(v, "/") {
			if len(seg) > MaxPartLen || slices.ContainsFunc(objectNames, func(n string) bool {
				s := strings.TrimPrefix(seg, ".")
				return s == n || strings.HasPrefix(s, n+".")
			}) {
				t.Fatalf("accepted %q with part %q", v, seg)
			}
		}
		if isLowerHex(v) && (typ != GNU || len(v)%2 != 0 || len(v) < MinHexLen || len(v) > MaxHexLen) {
			t.Fatalf("accepted hex %q as %v", v, typ)
		}
	})
}

package elfdebug

import (
	"bytes"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// FuzzExtract feeds arbitrary bytes (seeded from testdata/fuzz); Extract
// must not panic, must report what it wrote, and what it writes must parse.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x7fELF\x01\x02\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		st, err := Extract(bytes.NewReader(data), int64(len(data)), &out)
		if err != nil {
			return
		}
		if st.Bytes != int64(out.Len()) {
			t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, out.Len())
		}
		if _, err := elfparse.Parse(bytes.NewReader(out.Bytes()), int64(out.Len())); err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
	})
}

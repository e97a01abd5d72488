package buildid

import (
	"bytes"
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

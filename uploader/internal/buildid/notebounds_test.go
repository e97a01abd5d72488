package buildid

import (
	"bytes"
	"encoding/binary"
	"os"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A build-ID note whose descsz runs past its section must not yield an ID
// made of the bytes that follow the note: the file gets an error or an ID
// of another kind, never a longer GNU ID.
func TestBuildIDNoteRunningPastItsSection(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	b, err := os.ReadFile(testbin.GCC(t, dir, "hello", testbin.HelloC, "-Wl,--build-id=sha1"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var off, size uint64
	for _, s := range f.Sections {
		if s.Name == ".note.gnu.build-id" {
			off, size = s.Off, s.Size
		}
	}
	le := binary.LittleEndian
	if size != 36 || b[4] != 2 || b[5] != 1 || le.Uint32(b[off+4:]) != 20 {
		t.Fatalf("unexpected build-id note (section size %d)", size)
	}
	for _, descsz := range []uint32{24, 40} {
		le.PutUint32(b[off+4:], descsz)
		id, err := FromReaderAt(bytes.NewReader(b), int64(len(b)))
		if err == nil && id.Type == GNU {
			t.Errorf("descsz %d: build ID %s from the %s, want no GNU ID from a note that runs past its section", descsz, id.Value, id.Source)
		}
	}
}

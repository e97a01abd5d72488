package elfparse

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// gccELF returns the bytes of a real gcc binary (64-bit little-endian).
func gccELF(t *testing.T) []byte {
	t.Helper()
	testbin.Need(t, "gcc")
	b, err := os.ReadFile(testbin.C(t, "hello", "hi", "-Wl,--build-id=sha1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 64 || b[4] != 2 || b[5] != 1 {
		t.Fatal("want a 64-bit little-endian ELF file")
	}
	return b
}

func parseBytes(b []byte) (*File, error) { return Parse(bytes.NewReader(b), int64(len(b))) }

// Extended numbering keeps the real counts in section 0. A lying count there
// is a clear error, never a huge allocation or a panic (2^58+1 entries of 64
// bytes wrap the table size to 64 bytes).
func TestLyingExtendedCounts(t *testing.T) {
	orig := gccELF(t)
	le := binary.LittleEndian
	shoff := le.Uint64(orig[40:])
	for _, n := range []uint64{1<<58 + 1, maxSections + 1, math.MaxUint64} {
		b := bytes.Clone(orig)
		le.PutUint16(b[60:], 0)       // e_shnum: see section 0
		le.PutUint64(b[shoff+32:], n) // section 0's sh_size
		f, err := parseBytes(b)
		if err == nil || !strings.Contains(err.Error(), "too many sections") {
			t.Errorf("section count %d: Parse = %v, %v; want a too-many-sections error", n, f, err)
		}
	}
	for _, n := range []uint32{maxProgs + 1, math.MaxUint32} {
		b := bytes.Clone(orig)
		le.PutUint16(b[56:], 0xffff)  // e_phnum: PN_XNUM, see section 0
		le.PutUint32(b[shoff+44:], n) // section 0's sh_info
		f, err := parseBytes(b)
		if err == nil || !strings.Contains(err.Error(), "too many program headers") {
			t.Errorf("program header count %d: Parse = %v, %v; want a too-many-program-headers error", n, f, err)
		}
	}
	// The honest extended form still parses.
	b := bytes.Clone(orig)
	shnum := le.Uint16(b[60:])
	le.PutUint16(b[60:], 0)
	le.PutUint64(b[shoff+32:], uint64(shnum))
	if f, err := parseBytes(b); err != nil || len(f.Sections) != int(shnum) {
		t.Errorf("extended numbering with the true count: err %v", err)
	}
}

// A note whose descriptor runs past the end of its section is malformed:
// none of the bytes after the section may become a note's descriptor.
func TestNoteDescPastSectionEnd(t *testing.T) {
	b := gccELF(t)
	sh := testbin.SectionHeader(t, b, ".note.gnu.build-id")
	le := binary.LittleEndian
	off, size := le.Uint64(sh[24:]), le.Uint64(sh[32:])
	if size != 36 || le.Uint32(b[off+4:]) != 20 {
		t.Fatalf("unexpected build-id note: section size %d, descsz %d", size, le.Uint32(b[off+4:]))
	}
	for _, descsz := range []uint32{21, 24, 28, 4096} {
		le.PutUint32(b[off+4:], descsz)
		f, err := parseBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		notes, err := f.Notes(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notes {
			if n.Where == "section .note.gnu.build-id" || uint64(n.DescOff) >= off && uint64(n.DescOff) < off+size {
				t.Errorf("descsz %d: got note %q type %d with %d desc bytes at %#x from the malformed section", descsz, n.Name, n.Type, len(n.Desc), n.DescOff)
			}
		}
	}
	// The true size still gives the 20-byte ID.
	le.PutUint32(b[off+4:], 20)
	f, _ := parseBytes(b)
	notes, _ := f.Notes(bytes.NewReader(b))
	found := false
	for _, n := range notes {
		found = found || n.Where == "section .note.gnu.build-id" && len(n.Desc) == 20
	}
	if !found {
		t.Error("the unpatched build-id note is not found")
	}
}

// InFile holds ranges that end at the file's end at most, without overflow.
func TestInFileBoundary(t *testing.T) {
	f := &File{Size: 100}
	for _, c := range []struct {
		off, n uint64
		want   bool
	}{
		{0, 100, true}, {1, 99, true}, {99, 1, true}, {100, 0, true}, {0, 0, true},
		{0, 101, false}, {1, 100, false}, {100, 1, false}, {101, 0, false},
		{1, math.MaxUint64, false}, {math.MaxUint64, 2, false}, {50, math.MaxUint64 - 49, false},
	} {
		if got := f.InFile(c.off, c.n); got != c.want {
			t.Errorf("InFile(%d, %d) in a %d-byte file = %v, want %v", c.off, c.n, f.Size, got, c.want)
		}
	}
}

// A header table whose entries claim to be kilobytes long is refused before
// a byte of it is read: each table's allocation stays bounded by the counts'
// caps, not by the size of the file.
func TestHugeEntrySizesRefused(t *testing.T) {
	for _, c := range []struct {
		off  int // e_shentsize or e_phentsize in an ELF64 header
		want string
	}{{0x3a, "bad section header size 60000"}, {0x36, "bad program header size 60000"}} {
		b := gccELF(t)
		binary.LittleEndian.PutUint16(b[c.off:], 60000)
		if _, err := parseBytes(b); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
}

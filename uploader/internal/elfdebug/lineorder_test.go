package elfdebug

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestExtractSortsLineSequences: Parca v0.28.0 finds no line for code in
// a sequence out of address order, so extraction sorts them, with every
// compression, and keeps every row. A .debug_line compressed in the input
// (gcc -gz) is decompressed, sorted and stays compressed (a review found it
// passed through unsorted, and Parca showing "?:0").
func TestExtractSortsLineSequences(t *testing.T) {
	for _, gz := range []bool{false, true} {
		flags := []string{"-g", "-O2"}
		if gz {
			flags = append(flags, "-gz")
		}
		bin := testbin.GCC(t, t.TempDir(), "o2", testbin.O2C, flags...)
		if s := testbin.OpenELF(t, bin).Section(".debug_line"); s == nil || (s.Flags&elf.SHF_COMPRESSED != 0) != gz {
			t.Fatalf("gcc %v: .debug_line compressed = %v", flags, !gz)
		}
		inRows, inStarts := testbin.LineRows(t, bin)
		if allSorted(inStarts) {
			t.Fatalf("gcc %v gave sorted line tables (%x): the test needs them out of order", flags, inStarts)
		}
		for _, c := range []Compression{None, Zlib, Zstd} {
			out, _ := extractWith(t, bin, "."+c.String(), c)
			rows, starts := testbin.LineRows(t, out)
			rows, starts = withoutSymbolsUnit(t, out, rows, starts)
			if !allSorted(starts) {
				t.Errorf("%v, %s: sequences start at %x, not in address order", flags, c, starts)
			}
			if !slices.Equal(rows, inRows) {
				t.Errorf("%v, %s: %d rows, want the input's %d, the same", flags, c, len(rows), len(inRows))
			}
			if s := testbin.OpenELF(t, out).Section(".debug_line"); gz && s.Flags&elf.SHF_COMPRESSED == 0 {
				t.Errorf("%v, %s: .debug_line is no longer compressed", flags, c)
			}
		}
	}
}

func allSorted(starts [][]uint64) bool {
	for _, s := range starts {
		if !slices.IsSorted(s) {
			return false
		}
	}
	return true
}

// TestOverlayReadAt reads an overlaid file in windows of every size and
// place, against the bytes it should give.
func TestOverlayReadAt(t *testing.T) {
	base := bytes.Repeat([]byte("abcdefghij"), 50)
	sec := bytes.Repeat([]byte("XYZ"), 40)
	want := slices.Concat(base[:200], sec, base[320:])
	o := overlay{ReaderAt: bytes.NewReader(base), off: 200, size: int64(len(sec)), sec: bytes.NewReader(sec)}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		at := rng.Int64N(int64(len(want)) + 4)
		buf := make([]byte, rng.IntN(len(want)+8))
		n, err := o.ReadAt(buf, at)
		wantN := int(max(0, min(int64(len(buf)), int64(len(want))-at)))
		if n != wantN || !bytes.Equal(buf[:n], want[min(at, int64(len(want))):][:n]) {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, %v; want %d bytes", len(buf), at, n, err, wantN)
		}
		if n < len(buf) && err == nil {
			t.Fatalf("ReadAt(%d bytes at %d) = %d, nil: a short read needs an error", len(buf), at, n)
		}
	}
}

// A crafted file whose .debug_str shares bytes with .debug_line: sorting
// the line table would change .debug_str too, so it is left as it is, and
// every other section comes out byte for byte (found by a review).
func TestLineSortLeavesSharedBytesAlone(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "o2", testbin.O2C, "-g", "-O2")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	line := testbin.SectionHeader(t, b, ".debug_line")
	str := testbin.SectionHeader(t, b, ".debug_str")
	copy(str[24:40], line[24:40]) // ELF64: .debug_str's offset and size := .debug_line's
	crafted := testbin.File(t, "shared-bytes", b)
	want := sectionBytes(t, crafted, ".debug_str")
	for _, c := range []Compression{None, Zlib} {
		out, _ := extractWith(t, crafted, "."+c.String(), c)
		if got := sectionBytes(t, out, ".debug_str"); !bytes.Equal(got, want) {
			t.Errorf("%s: .debug_str changed (it shares its bytes with .debug_line)", c)
		}
	}
}

func sectionBytes(t *testing.T, path, name string) []byte {
	t.Helper()
	s := testbin.OpenELF(t, path).Section(name)
	if s == nil {
		t.Fatalf("%s: no %s", path, name)
	}
	d, err := s.Data()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A compressed .debug_line that inflates past the size its header claims
// (a bomb, or a lie) is corrupt DWARF: Parca would read it cut short. The
// extraction fails, saying so, and writes nothing. (Decompression stops
// one byte past the claim, so memory stays bounded.)
func TestCompressedLinesPastTheirClaimedSizeAreRefused(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "o2", testbin.O2C, "-g", "-O2", "-gz")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	s := testbin.OpenELF(t, bin).Section(".debug_line")
	binary.LittleEndian.PutUint64(b[s.Offset+8:], 16) // ELF64 Chdr.ch_size
	var out bytes.Buffer
	_, err = ExtractWith(bytes.NewReader(b), int64(len(b)), &out, Options{Compress: Zlib})
	var c *CorruptDWARF
	if !errors.As(err, &c) || !strings.Contains(err.Error(), "its header says 16") {
		t.Errorf("ExtractWith = %v, want corrupt DWARF: more than the header claims", err)
	}
}

// withoutSymbolsUnit drops the rows and sequence starts of the unit of
// symbols (see symbolsUnit) from what testbin.LineRows read of path: the
// input has no such unit. Its sequences come last, as its unit does.
func withoutSymbolsUnit(t *testing.T, path string, rows []testbin.LineRow, starts [][]uint64) ([]testbin.LineRow, [][]uint64) {
	t.Helper()
	d, err := testbin.OpenELF(t, path).DWARF()
	if err != nil {
		t.Fatal(err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			return rows, starts
		}
		if name, _ := e.Val(dwarf.AttrName).(string); e.Tag == dwarf.TagCompileUnit && name == symbolsUnitName {
			rows = slices.DeleteFunc(rows, func(row testbin.LineRow) bool { return row.Unit == e.Offset })
			return rows, starts[:len(starts)-1]
		}
		r.SkipChildren()
	}
}

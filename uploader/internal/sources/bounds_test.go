package sources

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// stmtCompDir is the abbreviation most tests use: stmt_list, then comp_dir
// as an inline string.
var stmtCompDir = abbrevTable([2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.String})

// TestCraftedBaseline: the hand-made file reads as intended, by both
// readers, so the variations below test what they mean to.
func TestCraftedBaseline(t *testing.T) {
	file := dwarfELF(
		".debug_abbrev", stmtCompDir,
		".debug_info", cuV4((&enc{}).u32(0).str("/src").b),
		".debug_line", lineV4([]string{"inc"}, []string{"a.c"}),
	)
	want := []dwarfFile{{"/src/a.c", "/src"}}
	got, err := listCrafted(file)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("stream: %q, %v; want %q", got, err, want)
	}
	ref, err := referenceFiles(t, file)
	if err != nil || !slices.Equal(ref, want) {
		t.Fatalf("debug/dwarf: %q, %v; want %q", ref, err, want)
	}
}

// TestValuesAcrossTheReadWindow: a unit header, or an attribute after a
// long comp_dir, that straddles the end of the reader's 4 KiB window is
// read like any other (the window is refilled, the value not taken as
// truncated), at every alignment.
func TestValuesAcrossTheReadWindow(t *testing.T) {
	line := lineV4(nil, []string{"a.c"})
	for start := 4088; start < 4096; start++ {
		file := dwarfELF(
			".debug_abbrev", stmtCompDir,
			".debug_info", append(nullUnit(start), cuV4((&enc{}).u32(0).str("/src").b)...),
			".debug_line", line,
		)
		want := []dwarfFile{{"/src/a.c", "/src"}}
		if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
			t.Errorf("unit at %d: %q, %v; want %q", start, got, err, want)
		}
	}
	dirStmt := abbrevTable([2]uint64{atCompDir, dwarfform.String}, [2]uint64{atStmtList, dwarfform.SecOffset})
	for n := maxString - 30; n <= maxString; n++ {
		dir := "/" + strings.Repeat("d", n-1)
		file := dwarfELF(
			".debug_abbrev", dirStmt,
			".debug_info", cuV4((&enc{}).str(dir).u32(0).b),
			".debug_line", line,
		)
		want := []dwarfFile{{dir + "/a.c", dir}}
		if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
			t.Errorf("comp_dir of %d bytes: %d files, %v; want %q", n, len(got), err, want[0].name[n-5:])
		}
	}
}

// TestEntryStopsAtItsUnitsEnd: a compile unit whose comp_dir string runs
// past its unit's length is malformed, however the bytes after it read:
// here the next unit's length, "c\0\0\0", would complete "/sr" as "/src";
// so is one whose last attribute, a block, claims more than the unit has.
// The unit's end is enforced both in bytes already buffered (the unit
// starts past the first 4 KiB window) and in bytes read afresh (a 5,000
// byte block before comp_dir moves it out of the window).
func TestEntryStopsAtItsUnitsEnd(t *testing.T) {
	next := nullUnit(4 + 'c') // its initial length: "c\0\0\0"
	for _, tc := range []struct {
		name          string
		abbrev, units []byte
	}{{
		"buffered", stmtCompDir,
		slices.Concat(nullUnit(4104), cuV4((&enc{}).u32(0).u8('/', 's', 'r').b), next),
	}, {
		"read afresh",
		abbrevTable([2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{0x02, dwarfform.Block2}, [2]uint64{atCompDir, dwarfform.String}),
		slices.Concat(cuV4((&enc{}).u32(0).u16(5000).pad(5000).u8('/', 's', 'r').b), next),
	}, {
		// a block that claims 5 bytes more than the unit has left
		"block", abbrevTable([2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.String}, [2]uint64{0x02, dwarfform.Block1}),
		slices.Concat(cuV4((&enc{}).u32(0).str("/src").u8(15).pad(10).b), nullUnit(64)),
	}} {
		file := dwarfELF(".debug_abbrev", tc.abbrev, ".debug_info", tc.units, ".debug_line", lineV4(nil, []string{"a.c"}))
		got, err := listCrafted(file)
		if err == nil || !strings.Contains(err.Error(), ".debug_info") {
			t.Errorf("%s: listed %q, err %v; want a .debug_info error", tc.name, got, err)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r            io.ReaderAt
	reads, bytes int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.reads++
	c.bytes += n
	return n, err
}

// TestCursorReadsEachByteOnce: the cursor's window is what keeps reading a
// section cheap: a sequential scan reads every byte from the file once, in
// window-sized reads, and going back to a position still in the window
// (an abbreviation table or line table read again) reads nothing.
func TestCursorReadsEachByteOnce(t *testing.T) {
	const size = 3 * 4096
	cr := &countingReader{r: bytes.NewReader(make([]byte, size))}
	c := newCursor(&section{name: "s", r: cr, size: size}, binary.LittleEndian, make([]byte, 4096))
	for range size / 4 {
		c.u32()
	}
	if c.err != nil || cr.reads != 3 || cr.bytes != size {
		t.Errorf("scan of %d bytes: %d reads of %d bytes in all, err %v; want 3 reads, each byte once", size, cr.reads, cr.bytes, c.err)
	}
	for _, off := range []int64{2 * 4096, 2*4096 + 100, size - 4} {
		c.seek(off, size)
		c.u32()
	}
	if c.err != nil || cr.reads != 3 {
		t.Errorf("reading again inside the window: %d reads in all, err %v; want no more", cr.reads, c.err)
	}
}

package sources

import (
	"debug/elf"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The sizes compressed DWARF sections declare are checked before anything
// is decompressed: together at most 20 times the file (at least 32 MiB).

// plainDWARF is a unit, its abbreviations and line table, uncompressed.
func plainDWARF() []craftSec {
	return []craftSec{
		{name: ".debug_abbrev", data: stmtCompDir},
		{name: ".debug_info", data: cuV4((&enc{}).u32(0).str("/src").b)},
		{name: ".debug_line", data: lineV4(nil, []string{"a.c"})},
	}
}

// TestCompressionBombRefused: a section declaring more than the budget,
// or more than what earlier sections left of it, is refused as a bomb
// before anything is decompressed, the error naming the budget: 32 MiB for
// a small file, 20 times the file for one of 2 MiB. One declaring exactly
// what is left passes that check (its data, junk here, is the error).
func TestCompressionBombRefused(t *testing.T) {
	const mib = 1 << 20
	file := func(extra ...craftSec) []byte {
		return craftELF(elf.ET_EXEC, append(plainDWARF(), extra...)...)
	}
	junk := []byte("junk")
	padded := file(craftSec{name: ".pad", data: make([]byte, 2*mib)}, compressed(".debug_str", 1<<30, junk))
	for _, tc := range []struct {
		name, want string
		file       []byte
	}{
		{"32 MiB and 1 byte in a small file", "section .debug_str takes 33554433 bytes decompressed: over the limit for DWARF read from a", file(compressed(".debug_str", 32*mib+1, junk))},
		{"1 GiB in a 2 MiB file", fmt.Sprintf("(%d bytes: 20x the file, at least 32 MiB, at most 4 GiB); a compression bomb?", 20*len(padded)), padded},
		{"1 MiB, then 31 MiB and 1 byte", "section .debug_line_str takes 32505857 bytes decompressed: over the limit",
			file(compressed(".debug_str", mib, zlibZeros(mib)), compressed(".debug_line_str", 31*mib+1, junk))},
		{"32 MiB of junk", "section .debug_str: zlib: invalid header", file(compressed(".debug_str", 32*mib, junk))},
		{"1 MiB, then 31 MiB of junk", "section .debug_line_str: zlib: invalid header",
			file(compressed(".debug_str", mib, zlibZeros(mib)), compressed(".debug_line_str", 31*mib, junk))},
	} {
		got, err := listCrafted(tc.file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error with %q", tc.name, got, err, tc.want)
		}
	}
	// And a real one is read.
	want := []dwarfFile{{"/src/a.c", "/src"}}
	if got, err := listCrafted(file(compressed(".debug_str", mib, zlibZeros(mib)))); err != nil || !slices.Equal(got, want) {
		t.Errorf("1 MiB .debug_str: %q, %v; want %q", got, err, want)
	}
}

// TestObjectFileDWARFSum: an object file's DWARF sections and their
// relocations, read whole by debug/elf, may declare 24 MiB together: two
// of 14 MiB, or a relocation section of 25 MiB, are refused unread; two
// of 12 MiB are read.
func TestObjectFileDWARFSum(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name, at string
		secs     []craftSec
	}{
		{"two of 14 MiB", ".debug_str", []craftSec{compressed(".debug_info", 14*mib, []byte("junk")), compressed(".debug_str", 14*mib, []byte("junk"))}},
		{"relocations", ".rela.debug_info", []craftSec{{name: ".debug_info", data: []byte("junk")}, compressed(".rela.debug_info", 25*mib, []byte("junk"))}},
	} {
		file := craftELF(elf.ET_REL, tc.secs...)
		got, err := listCrafted(file)
		want := "object file: its DWARF and relocations take over 24 MiB (at " + tc.at + "), the limit for object files"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q, %v; want an error with %q", tc.name, got, err, want)
		}
	}
	// Exactly 24 MiB passes the check: the junk in it is the error.
	file := craftELF(elf.ET_REL, compressed(".debug_info", 12*mib, []byte("junk")), compressed(".debug_str", 12*mib, []byte("junk")))
	if got, err := listCrafted(file); err == nil || !strings.Contains(err.Error(), "zlib: invalid header") {
		t.Errorf("24 MiB: %q, %v; want the data's error", got, err)
	}
}

package sources

import (
	"debug/elf"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// TestCheckLineHeaderBounds: the check before debug/dwarf reads a DWARF 5
// line-table header (object files) says which bound a table breaks, and
// breaks none itself (no read past the header, no panic).
func TestCheckLineHeaderBounds(t *testing.T) {
	table := lineV5(v5Tables([]string{"/src"}, []string{"a.c"}, []uint64{0}), -1)
	withHlen := func(extra int) []byte {
		b := slices.Clone(table)
		binary.LittleEndian.PutUint32(b[8:], binary.LittleEndian.Uint32(b[8:])+uint32(extra))
		return b
	}
	for _, tc := range []struct {
		name string
		sec  []byte
		off  int64
		want string
	}{
		{"valid", table, 0, ""},
		{"offset at the end", table, int64(len(table)), "line table offset 0x32 is outside .debug_line (50 bytes)"},
		{"2 bytes short", table[:len(table)-2], 0, "line table longer than .debug_line"},
		{"header 3 bytes past the table", withHlen(3), 0, "line table header longer than .debug_line"},
		{"header 30 bytes past the table", withHlen(30), 0, "line table header longer than .debug_line"},
	} {
		err := checkLineHeader(tc.sec, tc.off, binary.LittleEndian)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}

// TestLineHeaderEntryCounts: an empty file table with no formats (or a
// format no entry uses), and a table whose one-byte entries fill the
// header exactly, are valid DWARF 5
// (every entry takes at least a byte, so only more entries than bytes is
// refused), for executables and object files alike.
func TestLineHeaderEntryCounts(t *testing.T) {
	noFiles := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src").u8(0).uleb(0).b
	oneByte := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src").
		u8(1).uleb(lnctDirIndex).uleb(dwarfform.Data1).uleb(3).u8(0, 0, 0).b
	// A format no header may use is no error when no entry uses it.
	oddUnused := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src").
		u8(1).uleb(lnctPath).uleb(dwarfform.Addr).uleb(0).b
	for name, tables := range map[string][]byte{"no files": noFiles, "one-byte entries": oneByte, "unused odd format": oddUnused} {
		line := lineV5(tables, -1)
		if err := checkLineHeader(line, 0, binary.LittleEndian); err != nil {
			t.Errorf("%s: check: %v", name, err)
		}
		for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_REL} {
			file := craftELF(typ, craftSec{name: ".debug_abbrev", data: stmtCompDir},
				craftSec{name: ".debug_info", data: cuV4((&enc{}).u32(0).str("/src").b)}, craftSec{name: ".debug_line", data: line})
			if got, err := listCrafted(file); err != nil || len(got) != 0 {
				t.Errorf("%s, %s: %q, %v; want no files, no error", name, typ, got, err)
			}
		}
	}
	// One entry more than the bytes left is refused.
	tooMany := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src").
		u8(1).uleb(lnctDirIndex).uleb(dwarfform.Data1).uleb(4).u8(0, 0, 0).b
	if err := checkLineHeader(lineV5(tooMany, -1), 0, binary.LittleEndian); err == nil || !strings.Contains(err.Error(), "claims 4 entries in 3 bytes") {
		t.Errorf("4 entries in 3 bytes: %v", err)
	}
	file := dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str("/src").b), ".debug_line", lineV5(tooMany, -1))
	if got, err := listCrafted(file); err == nil || !strings.Contains(err.Error(), "claims 4 entries in 3 bytes") {
		t.Errorf("stream, 4 entries in 3 bytes: %q, %v", got, err)
	}
}

// TestLineHeaderEmptyFields: fields of no bytes (no standard opcodes, an
// empty block) are valid, for both readers and the check.
func TestLineHeaderEmptyFields(t *testing.T) {
	h := (&enc{}).u8(1, 1, 1).sleb(-5).u8(14, 1) // opcode_base 1: no opcode lengths
	h.u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src")
	h.u8(2).uleb(lnctPath).uleb(dwarfform.String).uleb(0x2001).uleb(dwarfform.Block) // a vendor content type
	h.uleb(1).str("a.c").uleb(0)                                                     // its block empty
	line := unit32((&enc{}).u16(5).u8(8, 0).u32(uint32(len(h.b))).u8(h.b...).b)
	if err := checkLineHeader(line, 0, binary.LittleEndian); err != nil {
		t.Errorf("check: %v", err)
	}
	want := []dwarfFile{{"a.c", "/src"}} // no directory index: not joined
	for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_REL} {
		file := craftELF(typ, craftSec{name: ".debug_abbrev", data: stmtCompDir},
			craftSec{name: ".debug_info", data: cuV4((&enc{}).u32(0).str("/src").b)}, craftSec{name: ".debug_line", data: line})
		if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", typ, got, err, want)
		}
	}
}

// TestLineHeaderUnknownForm: a form no line-table header may use (here
// DW_FORM_addr) is refused by name, in both readers.
func TestLineHeaderUnknownForm(t *testing.T) {
	tables := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(1).str("/src").
		u8(2).uleb(lnctPath).uleb(dwarfform.String).uleb(0x2001).uleb(dwarfform.Addr).uleb(1).str("a.c").u64(0).b
	line := lineV5(tables, -1)
	const want = "line table header uses form 0x1"
	if err := checkLineHeader(line, 0, binary.LittleEndian); err == nil || err.Error() != want {
		t.Errorf("check: %v; want %q", err, want)
	}
	for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_REL} {
		file := craftELF(typ, craftSec{name: ".debug_abbrev", data: stmtCompDir},
			craftSec{name: ".debug_info", data: cuV4((&enc{}).u32(0).str("/src").b)}, craftSec{name: ".debug_line", data: line})
		if got, err := listCrafted(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q, %v; want %q", typ, got, err, want)
		}
	}
}

// TestObjectFileWithManyUnits: a partially linked object (ld -r) holds a
// unit and a line table per source: six tables of 10 KB are each read
// once, well within the work allowed for 60 KB of line tables.
func TestObjectFileWithManyUnits(t *testing.T) {
	var info, line []byte
	var want []dwarfFile
	for i := range 6 {
		dir := "/src" + strings.Repeat("x", i)
		info = append(info, cuV4((&enc{}).u32(uint32(len(line))).str(dir).b)...)
		line = append(line, withProgram(lineV4(nil, []string{"a.c"}), 10<<10)...)
		want = append(want, dwarfFile{dir + "/a.c", dir})
	}
	for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_REL} {
		file := craftELF(typ, craftSec{name: ".debug_abbrev", data: stmtCompDir},
			craftSec{name: ".debug_info", data: info}, craftSec{name: ".debug_line", data: line})
		if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
			t.Errorf("%s: %q, %v; want %q", typ, got, err, want)
		}
	}
}

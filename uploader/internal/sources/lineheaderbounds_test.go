package sources

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestDOSPathsMatchDebugDwarf: line tables of a Windows build (comp_dir
// with a drive letter, UNC shares, drive-relative names, either slash)
// are joined exactly as debug/dwarf joins them.
func TestDOSPathsMatchDebugDwarf(t *testing.T) {
	for _, compDir := range []string{`a:\`, `z:`, `A:/x`, `Z:\y`, `C:\build`, `c:/build/`, `\\srv\share\build`, `//srv/share`, `C:`, `/unix/build`} {
		dirs := []string{`inc`, `\\\triple\x`, `///tri/x`, `\\ab`, `D:\other`, `\\srv2\sh\dir`, `C:`, `c:\x\`, `//srv/sh/x`, `\rooted`, `C:rel`, `/abs/dir`, `a:\lo`, `z:/hi`, `A:`, `Z:up`, `@:no`, `[:no`, "`:no", `{:no`}
		var files []string
		var fileDirs []uint64
		for i := range len(dirs) + 1 {
			for _, f := range []string{`a.c`, `D:\abs.c`, `d:rel.c`, `C:same.c`, `sub\b.c`, `\\srv\share\c.c`} {
				files = append(files, f)
				fileDirs = append(fileDirs, uint64(i))
			}
		}
		h := (&enc{}).u8(1, 1, 1).sleb(-5).u8(14, 13).u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)
		for _, d := range dirs {
			h.str(d)
		}
		h.u8(0)
		for i, f := range files {
			h.str(f).uleb(fileDirs[i]).uleb(0).uleb(0)
		}
		h.u8(0)
		line := unit32((&enc{}).u16(4).u32(uint32(len(h.b))).u8(h.b...).b)
		file := dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str(compDir).b), ".debug_line", line)
		got, err := listCrafted(file)
		if err != nil {
			t.Fatalf("comp_dir %s: %v", compDir, err)
		}
		want, err := referenceFiles(t, file)
		if err != nil {
			t.Fatalf("debug/dwarf, comp_dir %s: %v", compDir, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("comp_dir %s:\nstream      %q\ndebug/dwarf %q", compDir, got, want)
		}
	}
}

// TestLineTableBoundsErrors: each bound of a line-table header is an
// error that names it, not a read past it, a panic or another table.
func TestLineTableBoundsErrors(t *testing.T) {
	v4 := lineV4([]string{"inc"}, []string{"a.c"})
	badDir := lineV4([]string{"inc"}, nil) // then a file in directory 2 of 2
	badDir = append(badDir[:len(badDir)-1], (&enc{}).str("a.c").uleb(2).uleb(0).uleb(0).u8(0).b...)
	binary.LittleEndian.PutUint32(badDir, uint32(len(badDir)-4))
	binary.LittleEndian.PutUint32(badDir[6:], binary.LittleEndian.Uint32(badDir[6:])+7)
	badOpcode := slices.Clone(v4)
	badOpcode[4+2+4+6] = 1 // DW_LNS_copy takes no arguments
	v5 := func(fileDir uint64) []byte {
		return lineV5(v5Tables([]string{"/src", "inc"}, []string{"a.c"}, []uint64{fileDir}), -1)
	}
	hlenPast := v5(1)
	binary.LittleEndian.PutUint32(hlenPast[8:], binary.LittleEndian.Uint32(hlenPast[8:])+3)
	for _, tc := range []struct {
		name string
		line []byte
		stmt uint32
		want string
	}{
		{"stmt_list at the end", v4, uint32(len(v4)), "is outside .debug_line"},
		{"2 bytes short", v4[:len(v4)-2], 0, ".debug_line at 0x0: line table longer than .debug_line"},
		{"v4 directory index = count", badDir, 0, "directory index too large"},
		{"opcode length", badOpcode, 0, "opcode 1 expected to have length 0, but has length 1"},
		{"v5 header 3 bytes past the table", hlenPast, 0, "program offset past the table's end"},
		{"v5 directory index = count", v5(2), 0, "directory index out of range"},
	} {
		file := dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(tc.stmt).str("/src").b), ".debug_line", tc.line)
		got, err := listCrafted(file)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q, %v; want an error with %q", tc.name, got, err, tc.want)
		}
	}
}

// TestLineTableVersions: DWARF 2 and 3 line tables (no
// maximum_operations_per_instruction) read like DWARF 4 ones; versions 1
// and 6 are refused by number.
func TestLineTableVersions(t *testing.T) {
	for _, version := range []uint16{1, 2, 3, 4, 6} {
		h := (&enc{}).u8(1)
		if version >= 4 {
			h.u8(1) // maximum_operations_per_instruction
		}
		h.u8(1).sleb(-5).u8(14, 13).u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1).str("inc").u8(0).str("a.c").uleb(1).uleb(0).uleb(0).u8(0)
		line := unit32((&enc{}).u16(version).u32(uint32(len(h.b))).u8(h.b...).b)
		file := dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str("/src").b), ".debug_line", line)
		got, err := listCrafted(file)
		if version < 2 || version > 5 {
			want := fmt.Sprintf("unknown line table version %d", version)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("version %d: %q, %v; want %q", version, got, err, want)
			}
			continue
		}
		want := []dwarfFile{{"/src/inc/a.c", "/src"}}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("version %d: %q, %v; want %q", version, got, err, want)
		}
		if ref, err := referenceFiles(t, file); err != nil || !slices.Equal(ref, want) {
			t.Errorf("debug/dwarf, version %d: %q, %v; want %q", version, ref, err, want)
		}
	}
}

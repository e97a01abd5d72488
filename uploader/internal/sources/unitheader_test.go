package sources

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// Unit headers no compiler writes are refused with an error that names
// what is wrong, not read on as if they made sense.
func TestHostileUnitHeaders(t *testing.T) {
	line := lineV4(nil, []string{"a.c"})
	entry := (&enc{}).u32(0).str("/src").b
	tooLong := cuV4(entry) // two bytes longer than the section holds
	binary.LittleEndian.PutUint32(tooLong, uint32(len(tooLong)-4+2))
	for _, tc := range []struct {
		name   string
		abbrev []byte
		info   []byte
		want   string
	}{
		{"version 1", stmtCompDir, unit32((&enc{}).u16(1).u32(0).u8(8).uleb(1).u8(entry...).b), "unsupported DWARF version 1"},
		{"version 6", stmtCompDir, unit32((&enc{}).u16(6).u8(1, 8).u32(0).uleb(1).u8(entry...).b), "unsupported DWARF version 6"},
		{"length past the end", stmtCompDir, tooLong, fmt.Sprintf("unit length %d past the section's end", len(tooLong)-4+2)},
		{"abbreviations at the section's end", stmtCompDir, unit32((&enc{}).u16(4).u32(uint32(len(stmtCompDir))).u8(8).uleb(1).u8(entry...).b),
			fmt.Sprintf("table offset %#x past the section's end", len(stmtCompDir))},
		{"abbreviations past the section's end", stmtCompDir, unit32((&enc{}).u16(4).u32(uint32(len(stmtCompDir) + 1)).u8(8).uleb(1).u8(entry...).b),
			fmt.Sprintf("table offset %#x past the section's end", len(stmtCompDir)+1)},
		{"address size 3", abbrevTable([2]uint64{0x11, dwarfform.Addr}, [2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.String}),
			unit32((&enc{}).u16(4).u32(0).u8(3).uleb(1).u8(1, 2, 3).u32(0).str("/src").b), "unknown address size 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := listCrafted(dwarfELF(".debug_abbrev", tc.abbrev, ".debug_info", tc.info, ".debug_line", line))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("files %v, err %v; want an error saying %q", got, err, tc.want)
			}
		})
	}
	// The same unit with a valid address size is read.
	ok := unit32((&enc{}).u16(4).u32(0).u8(4).uleb(1).u8(1, 2, 3, 4).u32(0).str("/src").b)
	abbrev := abbrevTable([2]uint64{0x11, dwarfform.Addr}, [2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.String})
	if got, err := listCrafted(dwarfELF(".debug_abbrev", abbrev, ".debug_info", ok, ".debug_line", line)); err != nil || len(got) != 1 || got[0].compDir != "/src" {
		t.Errorf("address size 4: files %v, err %v; want a.c in /src", got, err)
	}
}

// Memory held for the listing is charged per distinct file, not only by
// the length of its name: a flood of short names reaches the limit too.
// Units with different comp_dirs, each with a line table of 4,000 short
// names of its own: 80 of them are 320,000 distinct files, over maxHeld;
// 40 are listed.
func TestManyShortDistinctFilesRefused(t *testing.T) {
	var files []string
	for i := range 4000 {
		files = append(files, fmt.Sprintf("f%d.c", i))
	}
	table := lineV4(nil, files)
	for _, tc := range []struct {
		units int
		fail  bool
	}{{40, false}, {80, true}} {
		var info, line []byte
		for i := range tc.units {
			info = append(info, cuV4((&enc{}).u32(uint32(len(line))).str(fmt.Sprintf("/u%d", i)).b)...)
			line = append(line, table...)
		}
		got, err := listCrafted(dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", info, ".debug_line", line))
		if tc.fail {
			if err == nil || !strings.Contains(err.Error(), "more distinct files than fit in 32 MiB") {
				t.Errorf("%d units: %d files listed, err %v; want the 32 MiB limit", tc.units, len(got), err)
			}
		} else if err != nil || len(got) != 4000*tc.units {
			t.Errorf("%d units: %d files listed, err %v; want %d", tc.units, len(got), err, 4000*tc.units)
		}
	}
}

// A comp_dir given as a string offset at the very end of .debug_str is
// refused as past the end, like one beyond it.
func TestCompDirStringAtSectionEnd(t *testing.T) {
	str := (&enc{}).str("/src").b
	abbrev := abbrevTable([2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.Strp})
	for _, off := range []int{len(str), len(str) + 1} {
		info := cuV4((&enc{}).u32(0).u32(uint32(off)).b)
		got, err := listCrafted(dwarfELF(".debug_abbrev", abbrev, ".debug_info", info, ".debug_line", lineV4(nil, []string{"a.c"}), ".debug_str", str))
		if want := fmt.Sprintf("string offset %#x past the section's end", off); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("offset %d: files %v, err %v; want an error saying %q", off, got, err, want)
		}
	}
	info := cuV4((&enc{}).u32(0).u32(0).b)
	if got, err := listCrafted(dwarfELF(".debug_abbrev", abbrev, ".debug_info", info, ".debug_line", lineV4(nil, []string{"a.c"}), ".debug_str", str)); err != nil || len(got) != 1 || got[0].compDir != "/src" {
		t.Errorf("offset 0: files %v, err %v; want a.c in /src", got, err)
	}
}

// Units sharing one abbreviation table, whose compile-unit abbreviation
// comes after a thousand others (a compiler's table is long), are read:
// the table is scanned once, not once per unit, so the reading budget
// (a multiple of the sections' sizes) holds for 1,000 units.
func TestManyUnitsShareALongAbbreviationTable(t *testing.T) {
	e := &enc{}
	for code := uint64(2); code < 1002; code++ {
		e.uleb(code).uleb(0x34).u8(0).uleb(0x03).uleb(dwarfform.String).u8(0, 0) // a DW_TAG_variable with a name
	}
	e.uleb(1).uleb(tagCompileUnit).u8(0).uleb(atStmtList).uleb(dwarfform.SecOffset).uleb(atCompDir).uleb(dwarfform.String).u8(0, 0, 0)
	var dirs []string
	for i := range 1000 {
		dirs = append(dirs, fmt.Sprintf("/u%d", i))
	}
	got, err := listCrafted(dwarfELF(".debug_abbrev", e.b, ".debug_info", unitsWithCompDirs(dirs), ".debug_line", lineV4(nil, []string{"a.c"})))
	if err != nil || len(got) != 1000 {
		t.Errorf("%d files listed, err %v; want a.c in each of 1,000 comp_dirs", len(got), err)
	}
}

package sources

import (
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// TestSignedValues: signed LEB128 values, in abbreviations
// (DW_FORM_implicit_const) and in entries (DW_FORM_sdata), are read in
// full and sign-extended: a stmt_list of 300 (two bytes) is the table at
// 300, one of -2 (the byte 0x7e, 126 unsigned) is no table at all, even
// with a table at 126.
func TestSignedValues(t *testing.T) {
	abbrev := (&enc{}).
		// code 2, before the unit's: a variable with implicit constants
		uleb(2).uleb(0x34).u8(0).
		uleb(0x3b).uleb(dwarfform.ImplicitConst).sleb(300).
		uleb(0x1c).uleb(dwarfform.ImplicitConst).sleb(-300).
		u8(0, 0).
		uleb(1).uleb(tagCompileUnit).u8(0).
		uleb(atStmtList).uleb(dwarfform.Sdata).uleb(atCompDir).uleb(dwarfform.String).u8(0, 0).
		u8(0).b
	table := lineV4(nil, []string{"a.c"})
	cu := func(stmt int64) []byte { return cuV4((&enc{}).sleb(stmt).str("/src").b) }
	file := dwarfELF(".debug_abbrev", abbrev, ".debug_info", cu(300), ".debug_line", append(make([]byte, 300), table...))
	want := []dwarfFile{{"/src/a.c", "/src"}}
	if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
		t.Errorf("stmt_list 300: %q, %v; want %q", got, err, want)
	}
	if ref, err := referenceFiles(t, file); err != nil || !slices.Equal(ref, want) {
		t.Errorf("debug/dwarf, stmt_list 300: %q, %v; want %q", ref, err, want)
	}
	file = dwarfELF(".debug_abbrev", abbrev, ".debug_info", cu(-2), ".debug_line", append(make([]byte, 126), table...))
	if got, err := listCrafted(file); err == nil || !strings.Contains(err.Error(), "line table offset -0x2 is outside .debug_line") {
		t.Errorf("stmt_list -2: %q, %v; want an error", got, err)
	}
}

// TestInlineStringsSkipped: inline strings the listing does not need
// (DW_AT_name, DW_AT_producer) are stepped over whatever their length:
// empty, or 10,000 bytes across several read windows (no limit applies to
// a string that is not kept).
func TestInlineStringsSkipped(t *testing.T) {
	abbrev := abbrevTable([2]uint64{0x03, dwarfform.String}, [2]uint64{0x25, dwarfform.String}, [2]uint64{atStmtList, dwarfform.SecOffset}, [2]uint64{atCompDir, dwarfform.String})
	want := []dwarfFile{{"/src/a.c", "/src"}}
	for _, tc := range []struct{ name, producer string }{
		{"", ""}, {"a.c", strings.Repeat("p", 10000)}, {strings.Repeat("n", 4091), ""},
	} {
		file := dwarfELF(".debug_abbrev", abbrev, ".debug_info", cuV4((&enc{}).str(tc.name).str(tc.producer).u32(0).str("/src").b),
			".debug_line", lineV4(nil, []string{"a.c"}))
		if got, err := listCrafted(file); err != nil || !slices.Equal(got, want) {
			t.Errorf("name of %d bytes, producer of %d: %q, %v; want %q", len(tc.name), len(tc.producer), got, err, want)
		}
	}
}

// TestOverlongNamesRefused: a comp_dir or file name longer than any path
// Linux can open (4096 bytes) is an error, not held in memory.
func TestOverlongNamesRefused(t *testing.T) {
	long := "/" + strings.Repeat("x", maxString)
	for name, file := range map[string][]byte{
		"comp_dir": dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str(long).b), ".debug_line", lineV4(nil, []string{"a.c"})),
		"file":     dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str("/src").b), ".debug_line", lineV4(nil, []string{long})),
	} {
		if got, err := listCrafted(file); err == nil || !strings.Contains(err.Error(), "string longer than 4096 bytes") {
			t.Errorf("%s of %d bytes: %d files, %v; want an error", name, len(long), len(got), err)
		}
	}
}

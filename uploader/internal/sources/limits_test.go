package sources

import (
	"debug/elf"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Hostile line tables that would make the listing take unbounded memory
// or time are refused with an error that says why.

// TestManyDistinctFilesRefused: units that each give a shared table's 100
// files a different 4 KB comp_dir name ~37 MB of distinct files: over
// maxHeld (32 MiB), an error; 70 of them (~29 MB) are listed.
func TestManyDistinctFilesRefused(t *testing.T) {
	var files []string
	for i := range 100 {
		files = append(files, fmt.Sprintf("f%d.c", i))
	}
	line := lineV4(nil, files)
	for _, tc := range []struct {
		units int
		fail  bool
	}{{70, false}, {90, true}} {
		var dirs []string
		for i := range tc.units {
			dirs = append(dirs, fmt.Sprintf("/%04d", i)+strings.Repeat("d", 4000))
		}
		file := dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", unitsWithCompDirs(dirs), ".debug_line", line)
		got, err := listCrafted(file)
		if tc.fail {
			if err == nil || !strings.Contains(err.Error(), "more distinct files than fit in 32 MiB") {
				t.Errorf("%d units: %d files listed, err %v; want the 32 MiB limit", tc.units, len(got), err)
			}
		} else if err != nil || len(got) != 100*tc.units {
			t.Errorf("%d units: %d files listed, err %v; want %d", tc.units, len(got), err, 100*tc.units)
		}
	}
}

// TestSharedLineTableReadOverAndOver: units with different comp_dirs may
// share a line table, but 30 of them reading one 100 KB table (3 MB of
// reading from a file of 100 KB) is refused; 3 of them are read. Object
// files, read by debug/dwarf, are held to the same.
func TestSharedLineTableReadOverAndOver(t *testing.T) {
	line := withProgram(lineV4(nil, []string{"a.c"}), 100<<10)
	for _, typ := range []elf.Type{elf.ET_EXEC, elf.ET_REL} {
		for _, tc := range []struct {
			units int
			fail  bool
		}{{3, false}, {30, true}} {
			var dirs []string
			for i := range tc.units {
				dirs = append(dirs, fmt.Sprintf("/u%d", i))
			}
			file := craftELF(typ, craftSec{name: ".debug_abbrev", data: stmtCompDir},
				craftSec{name: ".debug_info", data: unitsWithCompDirs(dirs)}, craftSec{name: ".debug_line", data: line})
			got, err := listCrafted(file)
			if tc.fail {
				if err == nil || !strings.Contains(err.Error(), "compile units read the same line tables") {
					t.Errorf("%s, %d units: %d files listed, err %v; want the work limit", typ, tc.units, len(got), err)
				}
			} else if err != nil || len(got) != tc.units {
				t.Errorf("%s, %d units: %q, err %v; want %d files", typ, tc.units, got, err, tc.units)
			}
		}
	}
}

// TestLineTableDirectoryLimits: a line table's directory names may take
// up to 1 MiB (with 16 bytes each of overhead): 1.1 MB of them, or 62000
// names of 2 bytes, is refused, in DWARF 4 and 5 alike. A DWARF 5 table, which declares its count up
// front, may list maxDirs directories (as empty names, the only way to fit
// them in 1 MiB), and is refused beyond.
func TestLineTableDirectoryLimits(t *testing.T) {
	long := func(n int) []string {
		var d []string
		for i := range n {
			d = append(d, fmt.Sprintf("/%d/%s", i, strings.Repeat("d", 1000)))
		}
		return d
	}
	var exact []string // 1024 of 1008 bytes and 16 of overhead
	for i := range 1024 {
		exact = append(exact, fmt.Sprintf("/%04d", i)+strings.Repeat("d", 1003))
	}
	tiny := slices.Repeat([]string{"/a"}, 62000) // 124 KB, but 62000 strings
	list := func(line []byte) ([]dwarfFile, error) {
		return listCrafted(dwarfELF(".debug_abbrev", stmtCompDir, ".debug_info", cuV4((&enc{}).u32(0).str("/src").b), ".debug_line", line))
	}
	for _, tc := range []struct {
		name string
		line []byte
		want []dwarfFile
		err  string
	}{
		{"v4 1000 KB", lineV4(long(1000), []string{"a.c"}), []dwarfFile{{"/src/a.c", "/src"}}, ""},
		{"v4 1100 KB", lineV4(long(1100), []string{"a.c"}), nil, "directories take over 1048576 bytes"},
		{"v5 1000 KB", lineV5(v5Tables(long(1000), []string{"a.c"}, []uint64{1}), -1), []dwarfFile{{long(2)[1] + "/a.c", "/src"}}, ""},
		{"v5 1100 KB", lineV5(v5Tables(long(1100), []string{"a.c"}, []uint64{1}), -1), nil, "directories take over 1048576 bytes"},
		{"v4 exactly 1 MiB", lineV4(exact, []string{"a.c"}), []dwarfFile{{"/src/a.c", "/src"}}, ""},
		{"v4 62000 of 2 bytes", lineV4(tiny, []string{"a.c"}), nil, "directories take over 1048576 bytes"},
		{"v5 62000 of 2 bytes", lineV5(v5Tables(tiny, []string{"a.c"}, []uint64{1}), -1), nil, "directories take over 1048576 bytes"},
		{"v5 maxDirs", lineV5(v5Tables(make([]string, maxDirs), []string{"a.c"}, []uint64{maxDirs - 1}), -1), []dwarfFile{{"a.c", "/src"}}, ""},
		{"v5 maxDirs+1", lineV5(v5Tables(make([]string, maxDirs+1), []string{"a.c"}, []uint64{0}), -1), nil, "directories take over 65536 entries"},
	} {
		got, err := list(tc.line)
		if tc.err == "" && (err != nil || !slices.Equal(got, tc.want)) {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: %q, %v; want an error with %q", tc.name, got, err, tc.err)
		}
	}
}

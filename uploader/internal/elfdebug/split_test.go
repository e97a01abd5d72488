package elfdebug

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// splitC is linked from work.c and main.c, each compiled with its own flags.
func splitC(t *testing.T, name string, workFlags, mainFlags []string, linkFlags ...string) string {
	t.Helper()
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	for f, src := range map[string]string{
		"work.c": "int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }\n",
		"main.c": "#include <stdio.h>\nint work(int);\nint main(int argc, char **argv) { printf(\"%d\\n\", work(argc * 1000)); return 0; }\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	testbin.Run(t, dir, "gcc", append(append([]string{}, workFlags...), "-c", "work.c")...)
	testbin.Run(t, dir, "gcc", append(append([]string{}, mainFlags...), "-c", "main.c")...)
	bin := filepath.Join(dir, name)
	// work.o first: its unit comes first in .debug_info.
	testbin.Run(t, dir, "gcc", append(linkFlags, "-o", bin, "work.o", "main.o")...)
	return bin
}

// splitMany links 20 units and main, all compiled with flags: skeleton
// sections large enough for the linker to compress them.
func splitMany(t *testing.T, flags []string, linkFlags ...string) string {
	t.Helper()
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	args := append(append([]string{}, flags...), linkFlags...)
	for i := range 20 {
		f := fmt.Sprintf("f%d.c", i)
		if err := os.WriteFile(filepath.Join(dir, f), []byte(fmt.Sprintf("int f%d(int x) { return x * %d; }\n", i, i)), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	return testbin.GCC(t, dir, "many", "int main(void) { return 0; }\n", args...)
}

// Split DWARF (-gsplit-dwarf, Bazel --fission) is left out, and said so;
// the symbol table stays. Any skeleton unit makes a file split, even after
// a full unit; DWARF that is not split is kept.
func TestSplitDWARFLeftOut(t *testing.T) {
	testbin.Need(t, "gcc", "nm", "readelf")
	split5 := []string{"-g", "-O1", "-gsplit-dwarf"} // gcc 12: DWARF 5, DW_UT_skeleton
	split4 := []string{"-g", "-O1", "-gdwarf-4", "-gsplit-dwarf"}
	full := []string{"-g", "-O1"}
	for _, tc := range []struct {
		name        string
		work, main_ []string
		link        []string
		split       bool
	}{
		{"dwarf5", split5, split5, nil, true},
		{"dwarf4", split4, split4, nil, true},
		{"dwarf5-gz", append([]string{"-gz"}, split5...), split5, []string{"-Wl,--compress-debug-sections=zlib"}, true},
		{"dwarf4-gz", split4, split4, []string{"-Wl,--compress-debug-sections=zlib"}, true},
		{"full-then-dwarf5", full, split5, nil, true},
		{"full-then-dwarf4", full, split4, nil, true},
		{"full", full, full, nil, false},
		{"full-gz", full, full, []string{"-Wl,--compress-debug-sections=zlib"}, false},
		{"full-dwarf4", []string{"-g", "-gdwarf-4"}, []string{"-g", "-gdwarf-4"}, nil, false},
		// .debug_info and .debug_abbrev themselves compressed.
		{"many-dwarf5-zstd", split5, nil, []string{"-Wl,--compress-debug-sections=zstd"}, true},
		{"many-dwarf4-zlib-gnu", split4, nil, []string{"-Wl,--compress-debug-sections=zlib-gnu"}, true},
		{"many-full-zstd", full, nil, []string{"-Wl,--compress-debug-sections=zstd"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bin string
			if tc.main_ == nil {
				bin = splitMany(t, tc.work, tc.link...)
				ef := testbin.OpenELF(t, bin)
				for _, name := range []string{"info", "abbrev"} {
					if s := ef.Section(".debug_" + name); (s == nil || s.Flags&elf.SHF_COMPRESSED == 0) && ef.Section(".zdebug_"+name) == nil {
						t.Fatalf("%s: .debug_%s not compressed", bin, name)
					}
				}
			} else {
				bin = splitC(t, "p", tc.work, tc.main_, tc.link...)
			}
			out, st := extractFile(t, bin)
			if st.SplitDWARF != tc.split || st.HasDWARF == tc.split || !st.HasSymtab {
				t.Errorf("%+v; want SplitDWARF=%v HasDWARF=%v HasSymtab", st, tc.split, !tc.split)
			}
			if !tc.split {
				if tc.main_ != nil {
					checkDebugFile(t, bin, out, "work", "main")
				}
				return
			}
			ef := testbin.OpenELF(t, out)
			for _, s := range ef.Sections {
				// Parca's test for DWARF: a PROGBITS .debug_{abbrev,info,str,line,ranges}.
				if isDWARF(s.Name) && s.Type != elf.SHT_NOBITS {
					t.Errorf("%s kept (%v)", s.Name, s.Type)
				}
			}
			if nm := testbin.Run(t, "", "nm", out); !strings.Contains(nm, " T main\n") {
				t.Errorf("nm of the extracted file lacks work or main:\n%s", nm)
			}
			// The headers still parse (readelf checks what debug/elf does not).
			testbin.Run(t, "", "readelf", "-S", "-l", "-W", out)
		})
	}
}

// splitDWARFOf runs SplitDWARF on the bytes of an ELF file.
func splitDWARFOf(t *testing.T, b []byte) bool {
	t.Helper()
	f, err := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return SplitDWARF(f, bytes.NewReader(b))
}

// A skeleton unit cut short anywhere, or one whose header lies about its
// length, is no panic, no endless loop and no error: the scan ends where
// the DWARF stops making sense.
func TestSplitDWARFTruncated(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, flags := range [][]string{{"-g", "-gsplit-dwarf"}, {"-g", "-gdwarf-4", "-gsplit-dwarf"}} {
		bin := testbin.C(t, "s", "x", flags...)
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if !splitDWARFOf(t, b) {
			t.Fatalf("%v: not split", flags)
		}
		info := testbin.SectionHeader(t, b, ".debug_info")
		abbrev := testbin.SectionHeader(t, b, ".debug_abbrev")
		off, size := binary.LittleEndian.Uint64(info[24:]), binary.LittleEndian.Uint64(info[32:])
		orig := append([]byte(nil), b...)
		for n := uint64(0); n < size; n++ {
			copy(b, orig)
			binary.LittleEndian.PutUint64(info[32:], n) // the section ends after n bytes
			splitDWARFOf(t, b)
		}
		for i := uint64(0); i < size; i++ {
			for _, v := range []byte{0x00, 0x7f, 0x80, 0xff} {
				copy(b, orig)
				b[off+i] = v
				splitDWARFOf(t, b)
			}
		}
		copy(b, orig)
		aoff, asize := binary.LittleEndian.Uint64(abbrev[24:]), binary.LittleEndian.Uint64(abbrev[32:])
		for i := uint64(0); i < asize; i++ {
			for _, v := range []byte{0x00, 0x80, 0xff} {
				copy(b, orig)
				b[aoff+i] = v
				splitDWARFOf(t, b)
			}
		}
	}
}

func TestSkeletonAbbrevsBounded(t *testing.T) {
	// Endless skeleton abbreviations: code, DW_TAG_skeleton_unit, no
	// children, no attributes.
	var b []byte
	for code := 1; code < 3*maxSkeletonCodes; code++ {
		b = binary.AppendUvarint(b, uint64(code))
		b = append(b, dwTagSkeleton, 0, 0, 0)
	}
	if n := len(skeletonAbbrevs(bufio.NewReader(bytes.NewReader(b)))); n != maxSkeletonCodes {
		t.Errorf("%d skeleton abbreviations kept, want at most %d", n, maxSkeletonCodes)
	}
}

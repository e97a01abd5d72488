package elfdebug

import (
	"bytes"
	"debug/elf"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// gcc -gz=zlib-gnu writes the legacy compressed sections (.zdebug_*): they
// are DWARF, and the debug-only copy must keep their bytes, not just their
// headers, or the store gets a file with no line tables.
func TestLegacyZdebugSectionsAreKept(t *testing.T) {
	testbin.Need(t, "gcc", "nm", "addr2line", "readelf")
	bin := testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g", "-O1", "-gz=zlib-gnu")
	in, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var zdebug []string
	for _, s := range in.Sections {
		if strings.HasPrefix(s.Name, ".zdebug_") {
			zdebug = append(zdebug, s.Name)
		}
	}
	if len(zdebug) == 0 || in.Section(".zdebug_info") == nil {
		t.Fatalf("test setup: gcc -gz=zlib-gnu wrote no .zdebug_info (sections with .zdebug_: %v)", zdebug)
	}

	outPath, st := extractFile(t, bin)
	if !st.HasDWARF {
		t.Errorf("stats say no DWARF: %+v", st)
	}
	out, err := elf.Open(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, name := range zdebug {
		s := out.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			t.Errorf("%s dropped: %+v", name, s)
			continue
		}
		want, _ := in.Section(name).Data()
		got, err := s.Data()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: bytes differ from the input (%v)", name, err)
		}
	}
	checkDebugFile(t, bin, outPath, "square", "sum_squares", "main")
}

package elfdebug

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// gcProgram links a program whose unused_big, larger than a page, is
// dropped by --gc-sections: its DWARF stays, at address 0, over main.
func gcProgram(t *testing.T, flags ...string) string {
	t.Helper()
	dir := t.TempDir()
	var big strings.Builder
	big.WriteString("int unused_big(int *v, int n) {\n  int s = 0;\n")
	for i := range 200 {
		big.WriteString("  for (int i = 0; i < n; i++) s += v[i] * " + strconv.Itoa(i+1) + " ^ (s >> " + strconv.Itoa(i%7) + ");\n")
	}
	big.WriteString("  return s;\n}\nint used_lib(int x) { return x + 7; }\n")
	main := "#include <stdio.h>\nint used_lib(int);\n__attribute__((noinline)) int used_small(int x) { return x * 3 + 1; }\n" +
		"int main(int argc, char **argv) { (void)argv; printf(\"%d\\n\", used_small(argc) + used_lib(argc)); return 0; }\n"
	for name, src := range map[string]string{"lib.c": big.String(), "main.c": main} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "gc")
	args := append([]string{"-O2", "-g", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections", "-o", bin}, flags...)
	testbin.Run(t, dir, "gcc", append(args, "lib.c", "main.c")...)
	return bin
}

// misnamed lists the functions of want that Parca's lookup (the first
// unit, then the first function, whose ranges hold the address) names
// otherwise in the file at path; addrs are the program's symbols.
func misnamed(t *testing.T, path string, addrs map[string]uint64) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	var wrong []string
	for _, fn := range []string{"main", "used_small", "used_lib"} {
		if got := testbin.ParcaFunction(d, addrs[fn]); got != fn {
			wrong = append(wrong, fn+" as "+strconv.Quote(got))
		}
	}
	return wrong
}

// DWARF compressed in the input (gcc -gz; Debian's -dbgsym files, made by
// objcopy --compress-debug-sections) gets the ranges of discarded code
// emptied too, and the unit of symbols: decompressed, patched, the unit
// appended, compressed again.
func TestCompressedDWARFDiscardedRangesEmptied(t *testing.T) {
	testbin.Need(t, "gcc", "objcopy")
	inputs := map[string]func(t *testing.T) (in, prog string){
		"gcc -gz": func(t *testing.T) (string, string) { b := gcProgram(t, "-gz"); return b, b },
		"dbgsym": func(t *testing.T) (string, string) {
			b := gcProgram(t)
			d := b + ".dbg"
			testbin.Run(t, "", "objcopy", "--only-keep-debug", "--compress-debug-sections", b, d)
			return d, b
		},
	}
	for name, input := range inputs {
		t.Run(name, func(t *testing.T) {
			in, prog := input(t)
			f, err := elf.Open(prog)
			if err != nil {
				t.Fatal(err)
			}
			syms, _ := f.Symbols()
			f.Close()
			addrs := map[string]uint64{}
			for _, s := range syms {
				addrs[s.Name] = s.Value
			}
			if ef, err := elf.Open(in); err != nil || ef.Section(".debug_info").Flags&elf.SHF_COMPRESSED == 0 {
				t.Fatalf("the input's .debug_info is not compressed (%v): nothing to test", err)
			}
			if len(misnamed(t, in, addrs)) == 0 {
				t.Fatal("every function is found right in the input: the fixture no longer shows the problem")
			}
			out, st := extractFile(t, in)
			if st.Discarded == 0 {
				t.Error("no discarded sequences found")
			}
			if wrong := misnamed(t, out, addrs); len(wrong) > 0 {
				t.Errorf("after extraction: %v", wrong)
			}
			// crt's _start has no DWARF: the unit of symbols, appended to
			// the patched, decompressed .debug_info, names it (review
			// s15-r1, finding 6).
			of, err := elf.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			defer of.Close()
			d, err := of.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			if got := testbin.ParcaFunction(d, addrs["_start"]); got != "_start" || st.SymbolsNamed == 0 {
				t.Errorf("_start at %#x is named %q (%d functions named from the symbol table)", addrs["_start"], got, st.SymbolsNamed)
			}
			if ef, err := elf.Open(out); err != nil || ef.Section(".debug_info").Flags&elf.SHF_COMPRESSED == 0 {
				t.Errorf("the output's .debug_info is not compressed (%v)", err)
			}
		})
	}
}

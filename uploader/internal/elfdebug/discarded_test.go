package elfdebug

import (
	"bytes"
	"debug/elf"
	"io"
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
	srcs := testbin.GCSources(t, dir, false)
	bin := filepath.Join(dir, "gc")
	args := append([]string{"-O2", "-g", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections", "-o", bin}, flags...)
	testbin.Run(t, dir, "gcc", append(args, srcs...)...)
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

// A section with more patches than fit in memory is patched in a temp
// file instead: the output must be the same bytes, for DWARF plain and
// compressed in the input, whether the output compresses or not.
func TestSpilledPatchesSameBytes(t *testing.T) {
	testbin.Need(t, "gcc")
	inputs := map[string]string{"plain": gcProgram(t), "gcc -gz": gcProgram(t, "-gz"), "dwarf4": gcProgram(t, "-gdwarf-4")}
	for name, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []Compression{None, Zlib} {
			extract := func(after int) ([]byte, int) {
				saved, savedWindow, savedHook := spillAfter, spillWindow, onSpill
				defer func() { spillAfter, spillWindow, onSpill = saved, savedWindow, savedHook }()
				spills := 0
				// Windows of 5 bytes: patches run across their ends.
				spillAfter, spillWindow, onSpill = after, 5, func() { spills++ }
				var out bytes.Buffer
				if _, err := ExtractWith(bytes.NewReader(b), int64(len(b)), &out, Options{Compress: c}); err != nil {
					t.Fatal(err)
				}
				return out.Bytes(), spills
			}
			want, n := extract(1 << 30)
			got, spills := extract(2)
			if n != 0 || spills == 0 {
				t.Fatalf("%s, %v: %d and %d sections spilled: the test no longer compares memory with temp files", name, c, n, spills)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s, %v: with %d sections patched in temp files, the output differs", name, c, spills)
			}
		}
	}
}

// Patches that cannot go to a temp file fail the extraction, saying why:
// the DWARF left unpatched would name main after a discarded function.
func TestSpillWithoutTempDirFails(t *testing.T) {
	testbin.Need(t, "gcc")
	b, err := os.ReadFile(gcProgram(t))
	if err != nil {
		t.Fatal(err)
	}
	saved := spillAfter
	defer func() { spillAfter = saved }()
	spillAfter = 2
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	_, err = ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, Options{Compress: None})
	if err == nil || !strings.Contains(err.Error(), "discarded code") || !strings.Contains(err.Error(), "TMPDIR") {
		t.Fatalf("err = %v, want the temp file's failure", err)
	}
}

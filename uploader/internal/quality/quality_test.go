package quality

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func of(t *testing.T, path string) Quality {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	q, err := Of(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestOf(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libx.so")
	if err := os.WriteFile(filepath.Join(dir, "x.c"), []byte("int exported(int x) { return x + 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testbin.Run(t, dir, "gcc", "-shared", "-fPIC", "-o", lib, "x.c")
	testbin.Run(t, dir, "strip", "--strip-all", lib)
	noG := testbin.C(t, "nog", "x", "-O1")
	stripped := testbin.Copy(t, noG, "stripped")
	testbin.Run(t, dir, "strip", "--strip-all", stripped)

	for _, c := range []struct {
		name        string
		path        string
		want        Quality
		symbolsOnly bool
		useless     bool
	}{
		{"gcc -g", testbin.C(t, "g", "x", "-g"), Quality{DWARF: true, Symtab: true}, false, false},
		{"gcc without -g", noG, Quality{Symtab: true}, true, false},
		// A stripped executable's .dynsym only imports (printf): no names.
		{"stripped executable", stripped, Quality{}, false, true},
		{"stripped shared library", lib, Quality{Dynsym: true}, true, false},
		{"go -ldflags=-s -w", testbin.Go(t, "gosw", "x", "-ldflags=-s -w"), Quality{GoPclntab: true}, true, false},
	} {
		q := of(t, c.path)
		if q != c.want || q.SymbolsOnly() != c.symbolsOnly || q.Useless() != c.useless {
			t.Errorf("%s: %+v symbolsOnly=%v useless=%v, want %+v %v %v", c.name, q, q.SymbolsOnly(), q.Useless(), c.want, c.symbolsOnly, c.useless)
		}
	}
}

// strippedWithDynsym builds a stripped C binary (names only from .dynsym),
// lets patch change .dynsym's section header, and returns the file's bytes.
func strippedWithDynsym(t *testing.T, patch func(h []byte)) (string, []byte) {
	t.Helper()
	bin := testbin.Copy(t, testbin.C(t, "b", "x", "-O1"), "bad")
	testbin.Run(t, filepath.Dir(bin), "strip", "--strip-all", bin)
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	shoff := int(binary.LittleEndian.Uint64(b[0x28:]))
	shentsize, shnum := int(binary.LittleEndian.Uint16(b[0x3a:])), int(binary.LittleEndian.Uint16(b[0x3c:]))
	patched := false
	for i := 0; i < shnum; i++ {
		h := b[shoff+i*shentsize:]
		if binary.LittleEndian.Uint32(h[4:]) == 11 { // SHT_DYNSYM
			patch(h)
			patched = true
		}
	}
	if !patched {
		t.Fatal("no .dynsym")
	}
	if err := os.WriteFile(bin, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, b
}

// A hostile .dynsym (entry size that is not a symbol's) is an error, not a
// read of garbage.
func TestOfBadDynsym(t *testing.T) {
	bin, b := strippedWithDynsym(t, func(h []byte) {
		binary.LittleEndian.PutUint64(h[0x38:], 7) // sh_entsize
	})
	f, _ := os.Open(bin)
	defer f.Close()
	if _, err := Of(f, int64(len(b))); err == nil {
		t.Error("Of accepted a .dynsym with entry size 7")
	}
}

// A .dynsym shorter than one symbol holds no function, and reading it ends.
func TestOfDynsymShorterThanOneSymbol(t *testing.T) {
	bin, b := strippedWithDynsym(t, func(h []byte) {
		binary.LittleEndian.PutUint64(h[0x20:], 10) // sh_size
	})
	f, _ := os.Open(bin)
	defer f.Close()
	q, err := Of(f, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if q.Dynsym || !q.Useless() {
		t.Errorf("%+v: a 10-byte .dynsym defines a function?", q)
	}
}

// Split DWARF (-gsplit-dwarf, Bazel --fission) gives Parca no frame at all,
// so extraction leaves it out: names only, with a warning that names the
// cause and the fix, for the binary and for its extracted file alike.
func TestOfSplitDWARF(t *testing.T) {
	for _, flags := range [][]string{{"-g", "-gsplit-dwarf"}, {"-g", "-gdwarf-4", "-gsplit-dwarf"}} {
		bin := testbin.C(t, "split", "x", flags...)
		debug := filepath.Join(t.TempDir(), "split.debug")
		in, err := os.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := in.Stat()
		out, err := os.Create(debug)
		if err != nil {
			t.Fatal(err)
		}
		_, err = elfdebug.Extract(in, fi.Size(), out)
		in.Close()
		if err := errors.Join(err, out.Close()); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{bin, debug} {
			q := of(t, path)
			// The skeletons themselves are only in the binary.
			if want := (Quality{SplitDWARF: true, Symtab: true, Skeletons: path == bin}); q != want || !q.SymbolsOnly() || q.Rank() != 2 {
				t.Errorf("%v %s: %+v symbolsOnly=%v rank %d, want %+v, symbols only, rank 2", flags, filepath.Base(path), q, q.SymbolsOnly(), q.Rank(), want)
			}
			if w := q.SymbolsOnlyWarning(); !strings.HasPrefix(w, "symbols only: split DWARF (-gsplit-dwarf)") ||
				!strings.Contains(w, ".dwo") || !strings.Contains(w, "--fission=no") {
				t.Errorf("%v %s: warning %q", flags, filepath.Base(path), w)
			}
		}
	}
}

package elfdebug

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"io"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestSymbolsUnitNamesFunctionsWithoutDWARF: in a -static program built
// with -g, libc's functions (and crt's _start) have no DWARF; the added
// unit names them, the program's own units still name its functions, and
// extracting the debug file again adds nothing more.
func TestSymbolsUnitNamesFunctionsWithoutDWARF(t *testing.T) {
	testbin.Need(t, "gcc")
	bin := testbin.GCC(t, t.TempDir(), "static", testbin.HelloC, "-g", "-O1", "-static")
	orig, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	syms, _ := orig.Symbols()
	addr := map[string]uint64{}
	for _, s := range syms {
		addr[s.Name] = s.Value
	}
	od, err := orig.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	if got := testbin.ParcaFunction(od, addr["exit"]); got != "" {
		t.Fatalf("exit is named %q by the program's own DWARF: the test needs libc without it", got)
	}
	for _, c := range []Compression{None, Zlib} {
		out, st := extractWith(t, bin, "."+c.String(), c)
		if st.SymbolsNamed < 100 {
			t.Errorf("%v: %d functions named, want libc's", c, st.SymbolsNamed)
		}
		f := testbin.OpenELF(t, out)
		d, err := f.DWARF()
		if err != nil {
			t.Fatal(err)
		}
		for fn, want := range map[string]string{"main": "main", "square": "square", "exit": "exit", "_start": "_start"} {
			if got := testbin.ParcaFunction(d, addr[fn]); got != want {
				t.Errorf("%v: %s at %#x is named %q, want %q", c, fn, addr[fn], got, want)
			}
		}
		// Parca caches a unit's tables only once its line table gave a
		// statement row; without one it rebuilt them at every lookup.
		rows, named := 0, false
		r := d.Reader()
		for {
			e, err := r.Next()
			if err != nil || e == nil {
				break
			}
			if e.Tag == dwarf.TagCompileUnit {
				if name, _ := e.Val(dwarf.AttrName).(string); name == symbolsUnitName {
					named = true
					lr, err := d.LineReader(e)
					if err != nil || lr == nil {
						t.Fatalf("%v: the unit of symbols has no line table (%v)", c, err)
					}
					for {
						var le dwarf.LineEntry
						if lr.Next(&le) != nil {
							break
						}
						if le.IsStmt {
							rows++
						}
						if !le.EndSequence {
							t.Errorf("%v: a row at %#x gives a function of the unit a line", c, le.Address)
						}
					}
				}
			}
			r.SkipChildren()
		}
		if !named || rows == 0 {
			t.Errorf("%v: unit of symbols found %v, with %d statement rows: want one at least", c, named, rows)
		}
		if s := f.Section(".debug_info"); (s.Flags&elf.SHF_COMPRESSED != 0) != (c != None) {
			t.Errorf("%v: .debug_info flags %v", c, s.Flags)
		}
		if _, st2 := extractWith(t, out, ".again", c); st2.SymbolsNamed != 0 {
			t.Errorf("%v: extracting the debug file again named %d more functions", c, st2.SymbolsNamed)
		}
	}
}

// A compressed DWARF section whose header claims over bombSize, over
// maxRatio times what it stores, is a bomb, refused before it is inflated;
// a stream that inflates as many times but stays small is DWARF a
// generator could make (review s14-r5, finding 1: a 2-million-row line
// table in 2 KB), and passes.
func TestDecompressionBombRefused(t *testing.T) {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(make([]byte, 64<<20))
	w.Close()
	f := &elfparse.File{Class: elf.ELFCLASS64, Order: binary.LittleEndian}
	sec := func(size uint64, body []byte) *io.SectionReader {
		h := make([]byte, 24)
		binary.LittleEndian.PutUint32(h, uint32(elf.COMPRESS_ZLIB))
		binary.LittleEndian.PutUint64(h[8:], size)
		b := append(h, body...)
		return io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))
	}
	if err := checkCompressed(context.Background(), sec(64<<20, z.Bytes()), f); err != nil {
		t.Errorf("64 MiB in %d bytes (%dx): %v, want it read as it is", z.Len(), (64<<20)/z.Len(), err)
	}
	if err := checkCompressed(context.Background(), sec(1<<30, z.Bytes()), f); err == nil || !strings.Contains(err.Error(), "decompression bomb") {
		t.Errorf("1 GiB claimed from %d bytes: %v, want a bomb refused", z.Len(), err)
	}
}

package elfdebug

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// withDebugSection builds a gcc -g program that also carries a DWARF-named
// section .debug_rules of n zero bytes (zeros compress to a few bytes).
func withDebugSection(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s := filepath.Join(dir, "extra.s")
	text := fmt.Sprintf(".section .debug_rules,\"\",@progbits\n.zero %d\n.section .note.GNU-stack,\"\",@progbits\n", n)
	if err := os.WriteFile(s, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "main.c")
	if err := os.WriteFile(c, []byte(testbin.HelloC), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, fmt.Sprintf("extra%d", n))
	testbin.Run(t, dir, "gcc", "-g", "-o", bin, c, s)
	return bin
}

// A DWARF section of minCompress bytes is the smallest that gets a
// compression header; one byte less stays as it is. Both read back intact.
// zstd shows the boundary: zlib stores inputs this small without deflating
// them (77 bytes for 64 zeros), so such a section never shrinks with it.
func TestSmallestCompressedSection(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, tc := range []struct {
		size       int
		compressed bool
	}{{minCompress, true}, {minCompress - 1, false}} {
		for _, c := range []Compression{Zstd} {
			out, _ := extractWith(t, withDebugSection(t, tc.size), "."+c.String(), c)
			ef := elfFile(t, out)
			s := ef.Section(".debug_rules")
			if s == nil {
				t.Fatalf("%v, %d bytes: no .debug_rules in the debug file", c, tc.size)
			}
			if got := s.Flags&elf.SHF_COMPRESSED != 0; got != tc.compressed {
				t.Errorf("%v: a %d-byte DWARF section compressed = %v, want %v", c, tc.size, got, tc.compressed)
			}
			if b, err := s.Data(); err != nil || !bytes.Equal(b, make([]byte, tc.size)) {
				t.Errorf("%v, %d bytes: section does not read back (%d bytes, err %v)", c, tc.size, len(b), err)
			}
		}
	}
}

// A small binary's DWARF is compressed by one compressor, not one per
// core: at -j 8 each extra compressor is another MiB (zlib) or several
// (zstd) per job. Measured as the heap one fresh extraction allocates,
// against what one compressor alone allocates.
func TestSmallDWARFOneCompressor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	b, err := os.ReadFile(testbin.C(t, "onecomp", "one", "-g", "-O1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Zlib, Zstd} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		zw, err := newCompressor(io.Discard, c)
		if err != nil {
			t.Fatal(err)
		}
		zw.Close()
		runtime.ReadMemStats(&after)
		one := after.TotalAlloc - before.TotalAlloc
		st := Stats{}
		whole := allocPerExtraction(t, b, Options{Compress: c}, 5)
		if st, err = ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, Options{Compress: c}); err != nil || st.Compressed < 2 {
			t.Fatalf("%v: %+v, %v: want several compressed sections", c, st, err)
		}
		t.Logf("%v: one compressor %d bytes, one extraction %d bytes", c, one, whole)
		if whole > one*3/2 {
			t.Errorf("%v: an extraction of a %d-byte binary allocates %d bytes, a compressor %d: more than one compressor", c, len(b), whole, one)
		}
	}
}

package elfdebug

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// withAsm builds a gcc -g program linked with the assembly asm (sections
// of its own, assembled without debug info).
func withAsm(t *testing.T, name, asm string) string {
	t.Helper()
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	s := filepath.Join(dir, "extra.s")
	if err := os.WriteFile(s, []byte(asm+".section .note.GNU-stack,\"\",@progbits\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := filepath.Join(dir, "main.c")
	if err := os.WriteFile(c, []byte(testbin.HelloC), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, name)
	testbin.Run(t, dir, "gcc", "-g", "-o", bin, c, s)
	return bin
}

// withDebugSection builds a gcc -g program that also carries a DWARF-named
// section .debug_rules of n zero bytes (zeros compress to a few bytes).
func withDebugSection(t *testing.T, n int) string {
	return withAsm(t, fmt.Sprintf("extra%d", n), fmt.Sprintf(".section .debug_rules,\"\",@progbits\n.zero %d\n", n))
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
			ef := testbin.OpenELF(t, out)
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
		// Half a compressor's worth for the rest (the DWARF check's readers
		// among it); a second compressor would be all of one more.
		if whole > one*3/2+32<<10 {
			t.Errorf("%v: an extraction of a %d-byte binary allocates %d bytes, a compressor %d: more than one compressor", c, len(b), whole, one)
		}
	}
}

// dwarfSized is a gcc -g program whose .debug_str is resized so that the
// DWARF Extract compresses totals exactly total bytes.
func dwarfSized(t *testing.T, total uint64) string {
	t.Helper()
	bin := testbin.GCC(t, t.TempDir(), "sized", testbin.HelloC, "-g")
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := elfparse.Parse(r, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	var others uint64
	for _, s := range f.Sections {
		if s.Name != ".debug_str" && compressible(s) {
			others += s.Size
		}
	}
	// The unit of symbols (crt's _start and the like) is DWARF too.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	keep := make([]bool, len(ef.Sections))
	for i := range keep {
		keep[i] = true
	}
	syms, _, c := symbolsUnit(context.Background(), bytes.NewReader(b), ef, keep, nil, deadAt(ef))
	if c != nil {
		defer c.Close()
	}
	for i, p := range syms {
		others += p.size - ef.Sections[i].Size
	}
	return makeLarge(t, bin, ".debug_str", int64(total-others))
}

// DWARF of up to memSpoolMax bytes is compressed in memory, so extracting
// a small binary needs no temp directory; one byte more goes through a
// temp file, whose failure names TMPDIR.
func TestSmallDWARFNeedsNoTempDir(t *testing.T) {
	testbin.Need(t, "gcc")
	exact, over := dwarfSized(t, memSpoolMax), dwarfSized(t, memSpoolMax+1)
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	for _, c := range []Compression{Zlib, Zstd} {
		b, err := os.ReadFile(exact)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, Options{Compress: c}); err != nil || st.Compressed == 0 {
			t.Errorf("%v: %d bytes of DWARF without a temp dir: %+v, %v", c, memSpoolMax, st, err)
		}
		if b, err = os.ReadFile(over); err != nil {
			t.Fatal(err)
		}
		_, err = ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, Options{Compress: c})
		if err == nil || !strings.Contains(err.Error(), "TMPDIR") {
			t.Errorf("%v: %d bytes of DWARF without a temp dir: err %v, want one naming TMPDIR", c, memSpoolMax+1, err)
		}
	}
}

// failBetween fails every read that touches [lo, hi).
type failBetween struct {
	r      io.ReaderAt
	lo, hi int64
}

func (f failBetween) ReadAt(p []byte, off int64) (int, error) {
	if off < f.hi && off+int64(len(p)) > f.lo {
		return 0, errors.New("injected read error")
	}
	return f.r.ReadAt(p, off)
}

// Extraction closes its temp files whether it succeeds or fails halfway
// through the DWARF: a persistent worker or a run over thousands of files
// would otherwise run out of file descriptors.
func TestSpoolFilesClosed(t *testing.T) {
	big := dwarfSized(t, 24<<20)
	b, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	r := bytes.NewReader(b)
	for _, c := range []Compression{Zlib, Zstd} {
		before := testbin.OpenFiles(t) // more after would be a leak (fewer: a file another test left, collected)
		if _, err := ExtractWith(r, r.Size(), io.Discard, Options{Compress: c}); err != nil {
			t.Fatal(err)
		}
		if n := testbin.OpenFiles(t); n > before {
			t.Errorf("%v: %d open files after an extraction, %d before", c, n, before)
		}
		// Within .debug_str (the file's last 24 MiB, before the section
		// headers), past what the up-front reads of the file's ends cover.
		_, err := ExtractWith(failBetween{r, r.Size() - 8<<20, r.Size() - 4<<20}, r.Size(), io.Discard, Options{Compress: c})
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Fatalf("%v: err %v, want the read error", c, err)
		}
		if n := testbin.OpenFiles(t); n > before {
			t.Errorf("%v: %d open files after a failed extraction, %d before", c, n, before)
		}
	}
}

// payloadWithRatio returns 64 KiB of random bytes followed by zeros, the
// first such payload (in steps of 256 zero bytes) that c compresses, with a
// 64-bit compression header, to a fraction of its size in (lo, hi).
func payloadWithRatio(t *testing.T, c Compression, lo, hi float64) []byte {
	t.Helper()
	for zeros := 256; zeros < 32<<10; zeros += 256 {
		payload := make([]byte, 64<<10)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range len(payload) - zeros {
			payload[i] = byte(r.Uint32())
		}
		var z bytes.Buffer
		zw, err := newCompressor(&z, c)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(payload)
		zw.Close()
		framing := 24 // the compression header
		if c == Zlib {
			framing += len(zlibHeader) + 4 // and zlib's own, and its checksum
		}
		if ratio := float64(z.Len()+framing) / float64(len(payload)); ratio > lo && ratio < hi {
			return payload
		}
	}
	t.Fatalf("%v: no payload compresses to %.2f-%.2f of its size", c, lo, hi)
	return nil
}

// A DWARF section is stored compressed only when that saves at least 3% of
// it, compression header included: a reader would otherwise pay a
// decompression for almost nothing. Either way it reads back intact.
func TestCompressedOnlyWhenItSaves3Percent(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, c := range []Compression{Zlib, Zstd} {
		for _, tc := range []struct {
			lo, hi     float64
			compressed bool
		}{{0.97, 1, false}, {0.90, 0.97, true}} {
			payload := payloadWithRatio(t, c, tc.lo, tc.hi)
			data := filepath.Join(t.TempDir(), "payload")
			if err := os.WriteFile(data, payload, 0o644); err != nil {
				t.Fatal(err)
			}
			bin := withAsm(t, "ratio", ".section .debug_rules,\"\",@progbits\n.incbin \""+data+"\"\n")
			out, _ := extractWith(t, bin, "."+c.String(), c)
			sec := testbin.OpenELF(t, out).Section(".debug_rules")
			if sec == nil {
				t.Fatalf("%v: no .debug_rules in the debug file", c)
			}
			if got := sec.Flags&elf.SHF_COMPRESSED != 0; got != tc.compressed {
				t.Errorf("%v: a section compressing to %.2f-%.2f of its size: compressed = %v, want %v", c, tc.lo, tc.hi, got, tc.compressed)
			}
			if b, err := sec.Data(); err != nil || !bytes.Equal(b, payload) {
				t.Errorf("%v: .debug_rules does not read back (err %v)", c, err)
			}
		}
	}
}

// A compressed section's header keeps the input section's alignment
// (ch_addralign), which objcopy --decompress-debug-sections restores.
func TestCompressionHeaderKeepsAlignment(t *testing.T) {
	bin := withAsm(t, "aligned", ".section .debug_rules,\"\",@progbits\n.p2align 4\n.zero 4096\n")
	if a := testbin.OpenELF(t, bin).Section(".debug_rules").Addralign; a != 16 {
		t.Fatalf("input .debug_rules aligned to %d, want 16", a)
	}
	for _, c := range []Compression{Zlib, Zstd} {
		out, _ := extractWith(t, bin, "."+c.String(), c)
		sec := testbin.OpenELF(t, out).Section(".debug_rules")
		if sec == nil || sec.Flags&elf.SHF_COMPRESSED == 0 {
			t.Fatalf("%v: .debug_rules not compressed: %+v", c, sec)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var chdr elf.Chdr64 // the section's first bytes, as stored
		if err := binary.Read(bytes.NewReader(raw[sec.Offset:]), binary.LittleEndian, &chdr); err != nil {
			t.Fatal(err)
		}
		if chdr.Addralign != 16 || chdr.Size != 4096 {
			t.Errorf("%v: compression header says %d bytes aligned to %d, want 4096 aligned to 16", c, chdr.Size, chdr.Addralign)
		}
	}
}

package elfdebug

import (
	"bytes"
	"debug/elf"
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

func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(fds)
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
		before := openFDs(t)
		if _, err := ExtractWith(r, r.Size(), io.Discard, Options{Compress: c}); err != nil {
			t.Fatal(err)
		}
		if n := openFDs(t); n != before {
			t.Errorf("%v: %d open files after an extraction, %d before", c, n, before)
		}
		// Within .debug_str (the file's last 24 MiB, before the section
		// headers), past what the up-front reads of the file's ends cover.
		_, err := ExtractWith(failBetween{r, r.Size() - 8<<20, r.Size() - 4<<20}, r.Size(), io.Discard, Options{Compress: c})
		if err == nil || !strings.Contains(err.Error(), "injected") {
			t.Fatalf("%v: err %v, want the read error", c, err)
		}
		if n := openFDs(t); n != before {
			t.Errorf("%v: %d open files after a failed extraction, %d before", c, n, before)
		}
	}
}

// A section that compression would shrink by less than 3% (compression
// header included) is stored as it is: a reader would pay a decompression
// for almost nothing.
func TestBarelyCompressibleSectionStoredAsIs(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, tc := range []struct {
		c     Compression
		zeros int // KiB of zeros after random bytes, for 97-100% of the size
	}{{Zlib, 3}, {Zstd, 2}} {
		payload := make([]byte, 64<<10)
		r := rand.New(rand.NewPCG(3, 4))
		for i := range (64 - tc.zeros) << 10 {
			payload[i] = byte(r.Uint32())
		}
		var z bytes.Buffer
		zw, err := newCompressor(&z, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(payload)
		zw.Close()
		if ratio := float64(z.Len()+24) / float64(len(payload)); ratio <= 0.97 || ratio >= 1 {
			t.Fatalf("%v: the payload compresses to %.3f of its size; the test needs 0.97-1", tc.c, ratio)
		}
		dir := t.TempDir()
		data := filepath.Join(dir, "payload")
		if err := os.WriteFile(data, payload, 0o644); err != nil {
			t.Fatal(err)
		}
		bin := withAsm(t, "barely", ".section .debug_rules,\"\",@progbits\n.incbin \""+data+"\"\n")
		out, _ := extractWith(t, bin, "."+tc.c.String(), tc.c)
		sec := elfFile(t, out).Section(".debug_rules")
		if sec == nil || sec.Flags&elf.SHF_COMPRESSED != 0 {
			t.Errorf("%v: .debug_rules (saves under 3%% compressed) was compressed: %+v", tc.c, sec)
			continue
		}
		if b, err := sec.Data(); err != nil || !bytes.Equal(b, payload) {
			t.Errorf("%v: .debug_rules does not read back (err %v)", tc.c, err)
		}
	}
}

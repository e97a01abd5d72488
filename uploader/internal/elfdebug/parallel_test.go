package elfdebug

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// largeRandom is a gcc -g binary whose .debug_str is n bytes of random
// data (incompressible, like an already-compressed payload); it returns
// the path and those bytes.
func largeRandom(t *testing.T, n int64) (string, []byte) {
	t.Helper()
	big := makeLarge(t, testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"), ".debug_str", n)
	ef, err := elf.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	off := ef.Section(".debug_str").Offset
	ef.Close()
	payload := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(r.Uint32())
	}
	f, err := os.OpenFile(big, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(payload, int64(off)); err != nil {
		t.Fatal(err)
	}
	return big, payload
}

// TestIncompressibleSectionKept: a large section that does not shrink is
// given up on early and written as it is, while the other DWARF sections of
// the same file are still compressed, and every section reads back intact.
func TestIncompressibleSectionKept(t *testing.T) {
	big, payload := largeRandom(t, 3*incompressibleAfter)
	for _, c := range []Compression{Zlib, Zstd} {
		out, st := extractWith(t, big, "."+c.String(), c)
		ef, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		str := ef.Section(".debug_str")
		if str.Flags&elf.SHF_COMPRESSED != 0 {
			t.Errorf("%v: random .debug_str was stored compressed", c)
		}
		if got, err := str.Data(); err != nil || !bytes.Equal(got, payload) {
			t.Errorf("%v: .debug_str does not read back (err %v)", c, err)
		}
		if info := ef.Section(".debug_info"); info == nil || info.Flags&elf.SHF_COMPRESSED == 0 || st.Compressed == 0 {
			t.Errorf("%v: .debug_info not compressed beside the random section (%+v)", c, st)
		}
		ef.Close()
	}
}

// TestIncompressibleSectionGivenUpEarly: a section that does not shrink is
// compressed no further than its first chunks (incompressibleAfter bytes
// each, one or two per worker) before it is copied as it is, so the
// extraction reads it about once, not twice.
func TestIncompressibleSectionGivenUpEarly(t *testing.T) {
	big, payload := largeRandom(t, 8*incompressibleAfter)
	b, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	// Open and one read of the extraction (ExtractWith then reads again
	// what Open read, to check it: see TestTornInputIsCaught).
	c := &byteCounter{r: bytes.NewReader(b)}
	x, err := Open(c, int64(len(b)), Options{Compress: Zlib})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if _, err := x.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	// Each worker compresses at most the chunk it is in when the first
	// chunk to finish gives the section up.
	workers := min(runtime.GOMAXPROCS(0), maxWorkers)
	if limit := int64(len(payload) + workers*incompressibleAfter + 1<<20); c.n > limit {
		t.Errorf("read %d bytes of a file with a %d-byte random section; want at most %d", c.n, len(payload), limit)
	}
}

// byteCounter counts the bytes read through it.
type byteCounter struct {
	r io.ReaderAt
	n int64
}

func (c *byteCounter) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	atomic.AddInt64(&c.n, int64(n))
	return n, err
}

// TestParallelCompressionDeterministic: the bytes of an extraction do not
// depend on how many goroutines compressed its sections (the upload hashes
// one extraction and sends another).
func TestParallelCompressionDeterministic(t *testing.T) {
	big, _ := largeRandom(t, 2<<20)
	paths := []string{big}
	for _, in := range inputs(t) {
		paths = append(paths, in.path)
	}
	for _, in := range paths {
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		for _, c := range []Compression{Zlib, Zstd} {
			var sums [][32]byte
			for _, procs := range []int{1, 2, 4} {
				prev := runtime.GOMAXPROCS(procs)
				var b bytes.Buffer
				_, err := ExtractWith(f, fi.Size(), &b, Options{Compress: c})
				runtime.GOMAXPROCS(prev)
				if err != nil {
					t.Fatal(err)
				}
				sums = append(sums, sha256.Sum256(b.Bytes()))
			}
			if sums[0] != sums[1] || sums[0] != sums[2] {
				t.Errorf("%s %v: extraction differs with GOMAXPROCS 1, 2, 4", in, c)
			}
		}
		f.Close()
	}
}

// TestMidSizeDWARFReadsBackWhole: DWARF small enough to be compressed in
// memory (under 1 MiB) whose compressed section is still larger than one
// copy buffer (32 KiB) reads back whole.
func TestMidSizeDWARFReadsBackWhole(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	// Text-like bytes: compressible, but to far more than 32 KiB.
	payload := make([]byte, 600<<10)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range payload {
		payload[i] = 'a' + byte(r.IntN(16))
	}
	junk := dir + "/junk"
	if err := os.WriteFile(junk, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	mid := dir + "/mid"
	testbin.Run(t, dir, "objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=readonly", bin, mid)
	out, st := extractWith(t, mid, ".zlib", Zlib)
	ef, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	s := ef.Section(".debug_junk")
	if s == nil || s.Flags&elf.SHF_COMPRESSED == 0 || s.FileSize <= 32<<10 {
		t.Fatalf(".debug_junk not compressed to more than 32 KiB: %+v (stats %+v)", s, st)
	}
	got, err := s.Data()
	if err != nil || !bytes.Equal(got, payload) {
		t.Errorf(".debug_junk reads back as %d bytes (%v), want the %d written", len(got), err, len(payload))
	}
}

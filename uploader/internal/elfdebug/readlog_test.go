package elfdebug

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// memFile is a file in memory whose bytes a test may change between reads:
// after the first read of bytes in [tearAt, tearEnd), it serves after.
type memFile struct {
	mu              sync.Mutex
	b               []byte
	after           []byte
	tearAt, tearEnd int64
}

func (m *memFile) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := bytes.NewReader(m.b).ReadAt(p, off)
	if m.after != nil && off+int64(len(p)) > m.tearAt && off < m.tearEnd {
		m.b, m.after = m.after, nil
	}
	return n, err
}

// largeDWARF is a gcc -g program whose .debug_str is n zero bytes, with
// the offset of that section: large enough to be compressed by workers
// into temp files, and to be read in many reads.
func largeDWARF(t *testing.T, n int64) (b []byte, off int64) {
	t.Helper()
	path := makeLarge(t, testbin.GCC(t, t.TempDir(), "large", testbin.HelloC, "-g"), ".debug_str", n)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return b, int64(ef.Section(".debug_str").Offset)
}

func flipped(b []byte, off, n int64) []byte {
	c := bytes.Clone(b)
	for i := off; i < off+n; i++ {
		c[i] ^= 0xff
	}
	return c
}

// A section compressed from an input rewritten while Open read it holds
// some of each version (review s10-r1 stored such a file through a shared
// mapping on tmpfs, where size and times stay): InputUnchanged says so, and
// ExtractWith fails rather than write it.
func TestTornInputIsCaught(t *testing.T) {
	const n = 8 << 20
	old, off := largeDWARF(t, n)
	rewritten := flipped(old, off, n)
	for _, c := range []Compression{Zlib, Zstd} {
		torn := &memFile{b: old, after: rewritten, tearAt: off + n/2, tearEnd: off + n/2 + 1<<20}
		x, err := Open(torn, int64(len(old)), Options{Compress: c})
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := x.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		// The test tears what it means to: the section is neither version.
		str := debugStr(t, out.Bytes())
		if bytes.Equal(str, old[off:off+n]) || bytes.Equal(str, rewritten[off:off+n]) || len(str) != n {
			t.Fatalf("%s: the section read is one version (%d bytes, old %v): the test tore nothing", c, len(str), bytes.Equal(str, old[off:off+n]))
		}
		if err := x.InputUnchanged(); !errors.Is(err, ErrInputChanged) {
			t.Errorf("%s: InputUnchanged = %v, want ErrInputChanged", c, err)
		}
		x.Close()

		torn = &memFile{b: old, after: rewritten, tearAt: off + n/2, tearEnd: off + n/2 + 1<<20}
		if _, err := ExtractWith(torn, int64(len(old)), io.Discard, Options{Compress: c}); !errors.Is(err, ErrInputChanged) {
			t.Errorf("%s: ExtractWith of a torn input = %v, want ErrInputChanged", c, err)
		}
	}
}

// InputUnchanged checks what Open read, and only that: a change to bytes
// copied as they are (the section left uncompressed, read when the
// extraction is read) is the caller's to catch, and a file left alone
// passes.
func TestInputUnchangedChecksWhatOpenRead(t *testing.T) {
	const n = 8 << 20
	old, off := largeDWARF(t, n)
	for _, c := range []struct {
		name    string
		comp    Compression
		off, n  int64
		changed bool
	}{
		{"unchanged", Zlib, 0, 0, false},
		{"compressed section", Zlib, off + n/2, 4096, true},
		{"headers", Zlib, 0, 64, true},
		{"copied section", None, off + n/2, 4096, false},
	} {
		in := &memFile{b: old}
		x, err := Open(in, int64(len(old)), Options{Compress: c.comp})
		if err != nil {
			t.Fatal(err)
		}
		in.b = flipped(old, c.off, c.n)
		err = x.InputUnchanged()
		x.Close()
		if c.changed && !errors.Is(err, ErrInputChanged) || !c.changed && err != nil {
			t.Errorf("%s: InputUnchanged = %v, want changed %v", c.name, err, c.changed)
		}
	}
}

// The log keeps a few runs of reads per file, not one per read, and its
// recheck reads no more than Open did: real binaries, and one whose 64 MiB
// of DWARF takes thousands of reads to compress.
func TestReadLogStaysSmall(t *testing.T) {
	big, _ := largeDWARF(t, 64<<20)
	files := map[string]io.ReaderAt{"large": bytes.NewReader(big)}
	sizes := map[string]int64{"large": int64(len(big))}
	for _, in := range inputs(t) {
		b, err := os.ReadFile(in.path)
		if err != nil {
			t.Fatal(err)
		}
		files[in.name], sizes[in.name] = bytes.NewReader(b), int64(len(b))
	}
	for name, r := range files {
		x, err := Open(r, sizes[name], Options{})
		if err != nil {
			t.Fatal(err)
		}
		var read int64
		for _, rn := range x.log.runs {
			read += rn.n
		}
		t.Logf("%s: %d runs, %d bytes read of %d", name, len(x.log.runs), read, sizes[name])
		if len(x.log.runs) > 64 || read > 2*sizes[name] {
			t.Errorf("%s: %d runs of %d bytes: Open's reads no longer extend runs", name, len(x.log.runs), read)
		}
		if err := x.InputUnchanged(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		x.Close()
	}
}

// debugStr is the uncompressed .debug_str of the ELF file b.
func debugStr(t *testing.T, b []byte) []byte {
	t.Helper()
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ef.Section(".debug_str").Data()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ExtractWith reads every byte again, those copied as they are too: a
// section left uncompressed, rewritten while it is copied, fails the
// extraction (review s11-r1 found such outputs left, torn, with exit 0).
func TestExtractWithChecksCopiedBytes(t *testing.T) {
	const n = 8 << 20
	old, off := largeDWARF(t, n)
	// Only bytes in the middle change: no read of Open's covers them.
	mid := off + n/2 + 4096
	for _, c := range []Compression{None, Zlib} {
		in := &memFile{b: old, after: flipped(old, mid, 4096), tearAt: off + n/2, tearEnd: off + n/2 + 1<<20}
		if c != None {
			// Incompressible, so copied as it is after the first chunk.
			r := rand.New(rand.NewPCG(1, 2))
			b := bytes.Clone(old)
			for i := off; i < off+n; i++ {
				b[i] = byte(r.Uint32())
			}
			in = &memFile{b: b, after: flipped(b, mid, 4096), tearAt: off + n/2, tearEnd: off + n/2 + 1<<20}
		}
		var out bytes.Buffer
		_, err := ExtractWith(in, int64(len(old)), &out, Options{Compress: c})
		if !errors.Is(err, ErrInputChanged) {
			t.Errorf("%s: ExtractWith of an input rewritten while copied = %v, want ErrInputChanged", c, err)
		}
	}
}

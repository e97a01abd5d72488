package elfdebug

import (
	"bufio"
	"bytes"
	"cmp"
	"debug/elf"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/scratch"
)

// Compression says how Extract compresses the DWARF sections it writes
// (SHF_COMPRESSED with an ELF compression header, as objcopy
// --compress-debug-sections does).
type Compression int

const (
	Zlib Compression = iota // the default: every ELF reader decompresses it
	None
	Zstd // smaller and faster; needs binutils >= 2.40, gdb >= 13, Go >= 1.21
)

// Compressions lists the names ParseCompression accepts.
const Compressions = "none|zlib|zstd"

func (c Compression) String() string {
	switch c {
	case None:
		return "none"
	case Zstd:
		return "zstd"
	}
	return "zlib"
}

func (c Compression) chType() elf.CompressionType {
	if c == Zstd {
		return elf.COMPRESS_ZSTD
	}
	return elf.COMPRESS_ZLIB
}

// ParseCompression reads a --compress-debug-sections value.
func ParseCompression(s string) (Compression, error) {
	for _, c := range []Compression{None, Zlib, Zstd} {
		if s == c.String() {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown compression %q (want %s)", s, Compressions)
}

// Options tune Extract.
type Options struct {
	Compress Compression
	// Reuse, if set, keeps compressors between extractions: a zlib writer
	// allocates about 1 MiB of tables, which dominated the CPU of uploading
	// many small files (allocation, zeroing, then returning it to the OS).
	Reuse *Compressors
}

// Compressors holds idle compressors for reuse; safe for concurrent use.
// The zero value is ready.
type Compressors struct{ pools [Zstd + 1]sync.Pool } // one per Compression

func (p *Compressors) pool(c Compression) *sync.Pool { return &p.pools[c] }

// memSpoolMax is the largest DWARF total compressed in memory rather than
// through a temp file: creating and unlinking a file per extraction cost
// more than compressing a small binary's DWARF.
const memSpoolMax = 1 << 20

// spoolFile is where compressed sections wait for the layout to be known.
type spoolFile interface {
	io.Writer
	io.ReaderAt
	io.Seeker
	io.Closer
	Truncate(int64) error
}

// memSpool is a spoolFile in memory. Writes append; Seek and Truncate are
// only used to drop what was written last.
type memSpool struct{ b []byte }

func (m *memSpool) Write(p []byte) (int, error) { m.b = append(m.b, p...); return len(p), nil }
func (m *memSpool) Close() error                { return nil }
func (m *memSpool) Truncate(n int64) error      { m.b = m.b[:n]; return nil }
func (m *memSpool) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart || off != int64(len(m.b)) {
		return 0, fmt.Errorf("memSpool: seek to %d of %d", off, len(m.b))
	}
	return off, nil
}
func (m *memSpool) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(m.b).ReadAt(p, off)
}

// fileSpool is a spoolFile in an unlinked temp file, written through a
// buffer: a compressor hands over a few hundred bytes at a time (flate
// flushes every 248), which unbuffered would cost a write call each.
type fileSpool struct {
	f *os.File
	w *bufio.Writer
}

func newFileSpool(f *os.File) *fileSpool { return &fileSpool{f: f, w: bufio.NewWriterSize(f, 64<<10)} }

func (s *fileSpool) Write(p []byte) (int, error) { return s.w.Write(p) }
func (s *fileSpool) Close() error                { return s.f.Close() }

func (s *fileSpool) Truncate(n int64) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Truncate(n)
}

func (s *fileSpool) Seek(off int64, whence int) (int64, error) {
	if err := s.w.Flush(); err != nil {
		return 0, err
	}
	return s.f.Seek(off, whence)
}

func (s *fileSpool) ReadAt(p []byte, off int64) (int, error) {
	if err := s.w.Flush(); err != nil { // a no-op once flushed
		return 0, err
	}
	return s.f.ReadAt(p, off)
}

// minCompress is the smallest section worth a compression header.
const minCompress = 64

// packed is a section compressed into a spool: its bytes (compression
// header included) are src[off:off+size].
type packed struct {
	src       io.ReaderAt
	off, size uint64
}

// compressible says whether Extract compresses section s: uncompressed
// DWARF only. Go's SHF_COMPRESSED sections and gcc's legacy .zdebug_* ones
// are passed through as they are.
func compressible(s elfparse.Section) bool {
	return strings.HasPrefix(s.Name, ".debug_") && s.Flags&uint64(elf.SHF_COMPRESSED) == 0 &&
		s.Flags&uint64(elf.SHF_ALLOC) == 0 && s.Type == uint32(elf.SHT_PROGBITS) && s.Size >= minCompress
}

// chdrAlign is the alignment of an ELF compression header.
func chdrAlign(c elf.Class) uint64 {
	if c == elf.ELFCLASS64 {
		return 8
	}
	return 4
}

// spool compresses the kept DWARF sections of f into spools (memory for
// small DWARF, unlinked temp files otherwise), so that the output's layout,
// which needs their sizes before the first byte, is known while memory
// stays bounded. Large DWARF is compressed by up to maxWorkers goroutines,
// each with its own compressor and spool: compression is what an extraction
// spends its CPU on. The bytes of a section depend only on the section, so
// the output is the same every time whichever worker took it (the upload
// streams it twice: hash, then send). A section that would not shrink stays
// as it is. The returned closer releases the spools.
func spool(r io.ReaderAt, f *elfparse.File, keep []bool, c Compression, reuse *Compressors, plain map[int]plainSection) (map[int]packed, io.Closer, error) {
	onlyPlain := c == None
	if onlyPlain {
		if len(plain) == 0 {
			return nil, nil, nil
		}
		// A section compressed in the input stays compressed: zlib, which
		// every reader takes.
		c = Zlib
	}
	var todo []int
	var total uint64
	for i, s := range f.Sections {
		if p, ok := plain[i]; ok && keep[i] {
			todo = append(todo, i)
			total += p.size
		} else if keep[i] && compressible(s) && !onlyPlain {
			todo = append(todo, i)
			total += s.Size
		}
	}
	if len(todo) == 0 {
		return nil, nil, nil
	}
	if reuse == nil {
		reuse = &Compressors{}
	}
	inMemory := total <= memSpoolMax
	workers := 1
	if !inMemory {
		workers = min(runtime.GOMAXPROCS(0), maxWorkers, len(todo))
		// Largest first, so that no worker is left with the big one at the end.
		slices.SortStableFunc(todo, func(a, b int) int { return cmp.Compare(f.Sections[b].Size, f.Sections[a].Size) })
	}
	spools := make(spools, workers)
	results := make([]map[int]packed, workers)
	errs := make([]error, workers)
	next := make(chan int, len(todo))
	for _, i := range todo {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[k], spools[k], errs[k] = compressSections(r, f, next, c, reuse, inMemory, plain)
		}()
	}
	wg.Wait()
	if err := firstErr(errs...); err != nil { // the workers fail alike: say it once
		spools.Close()
		return nil, nil, err
	}
	out := map[int]packed{}
	for _, m := range results {
		maps.Copy(out, m)
	}
	return out, spools, nil
}

// maxWorkers bounds the goroutines compressing one extraction: each holds a
// compressor (about 1 MiB for zlib, 4 MiB for zstd).
const maxWorkers = 4

// spools closes every spool of one extraction.
type spools []spoolFile

func (s spools) Close() error {
	for _, f := range s {
		if f != nil {
			f.Close()
		}
	}
	return nil
}

// incompressibleAfter is how much of a section is compressed before giving
// up on it when it does not shrink: random or already-compressed payloads
// would otherwise cost a full compression for nothing.
const incompressibleAfter = 4 << 20

// compressSections compresses the sections it takes from next, one after
// another with one compressor, into a spool of its own: in memory when all
// the DWARF is small, else a temp file.
func compressSections(r io.ReaderAt, f *elfparse.File, next <-chan int, c Compression, reuse *Compressors, inMemory bool, plain map[int]plainSection) (map[int]packed, spoolFile, error) {
	var tmp spoolFile
	var cw *countWriter
	var zw compressor // its buffers are most of the memory
	pool := reuse.pool(c)
	defer func() {
		if zw != nil {
			pool.Put(zw)
		}
	}()
	fail := func(err error) (map[int]packed, spoolFile, error) {
		if tmp != nil {
			tmp.Close()
		}
		return nil, nil, err
	}
	out := map[int]packed{}
	buf := make([]byte, 32<<10)
	for i := range next {
		s := f.Sections[i]
		// The bytes to compress: the section's, or its uncompressed form
		// (see sortCompressedLines).
		sr := io.NewSectionReader(r, int64(s.Off), int64(s.Size))
		p, sorted := plain[i]
		if sorted {
			sr, s.Size = io.NewSectionReader(p.r, 0, int64(p.size)), p.size
		}
		if tmp == nil {
			if inMemory {
				tmp = &memSpool{}
			} else {
				t, err := scratch.File("debuginfo-extract-*")
				if err != nil {
					return fail(fmt.Errorf("compressing debug sections: %w", err))
				}
				tmp = newFileSpool(t)
			}
			cw = &countWriter{w: tmp}
		}
		pos := uint64(cw.n)
		cw.Write(f.Chdr(c.chType(), s.Size, sanitizeAlign(s.Addralign)))
		if zw == nil {
			if v, ok := pool.Get().(compressor); ok {
				zw = v
				zw.Reset(cw)
			} else {
				var err error
				if zw, err = newCompressor(cw, c); err != nil {
					return fail(err)
				}
			}
		} else {
			zw.Reset(cw)
		}
		// Worth it while the output (header included) stays under 97% of
		// the input read so far; checked every incompressibleAfter bytes
		// and once more when the compressor has flushed.
		// A sorted section is kept compressed whatever it saves: what it
		// would fall back to is the input's, unsorted.
		worth := func(in uint64) bool { return sorted || uint64(cw.n)-pos <= in*97/100 }
		shrinks := true
		for in := int64(0); in < int64(s.Size) && shrinks; {
			n, err := io.CopyBuffer(zw, io.LimitReader(sr, incompressibleAfter), buf)
			if err == nil && n == 0 {
				err = io.ErrUnexpectedEOF
			}
			if err != nil {
				return fail(fmt.Errorf("compressing %s: %w", s.Name, err))
			}
			in += n
			shrinks = worth(uint64(in))
		}
		if shrinks {
			if err := zw.Close(); err != nil || cw.err != nil {
				return fail(fmt.Errorf("compressing %s: %w", s.Name, firstErr(cw.err, err)))
			}
			shrinks = worth(s.Size)
		}
		if !shrinks {
			// Not worth it: forget these bytes.
			if err := tmp.Truncate(int64(pos)); err != nil {
				return fail(err)
			}
			if _, err := tmp.Seek(int64(pos), io.SeekStart); err != nil {
				return fail(err)
			}
			cw.n = int64(pos)
			continue
		}
		out[i] = packed{src: tmp, off: pos, size: uint64(cw.n) - pos}
	}
	if fs, ok := tmp.(*fileSpool); ok {
		if err := fs.w.Flush(); err != nil {
			return fail(fmt.Errorf("compressing debug sections: %w", err))
		}
	}
	return out, tmp, nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

type compressor interface {
	io.WriteCloser
	Reset(io.Writer)
}

// zlibLevel is the fast end of zlib: measured on g++ -g -O2 DWARF (docs/performance.md),
// level 2 compresses about twice as fast as the default level for 8% more bytes, and
// compression, not the link, is what an upload of compressed DWARF waits on.
const zlibLevel = 2

func newCompressor(w io.Writer, c Compression) (compressor, error) {
	if c == Zstd {
		// One goroutine and a 1 MiB window: deterministic, and memory stays
		// a few MiB whatever the section's size. The fastest level: on gcc
		// DWARF (sqlite3 -O2) it took half the default's time for 4% more
		// bytes, and on g++ DWARF the same bytes in 62% of the time
		// (docs/performance.md, "zstd level").
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return zlib.NewWriterLevel(w, zlibLevel)
}

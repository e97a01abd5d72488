package elfdebug

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klauspost/compress/flate"
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
	// Context, if set, stops a compression in progress when it is done
	// (every incompressibleAfter bytes): Open then fails with its error. A
	// large file's compression takes seconds, too long to wait for Ctrl-C.
	Context context.Context
	// Segments, if set, are the program headers of the program the input
	// is the debug file of: its PT_LOADs' offsets replace the input's,
	// which objcopy --only-keep-debug rewrote (the executable one's to 0),
	// so that profiles with runtime addresses, which Parca maps through
	// them, are symbolized. A PT_LOAD is matched by address, size and flags.
	Segments []elfparse.Prog
}

// Compressors holds idle compressors for reuse; safe for concurrent use.
// The zero value is ready. Not a sync.Pool: that empties itself every
// second GC, and a run of small extractions collects often enough that a
// new zstd encoder was built every few files (a flaky allocation test).
type Compressors struct {
	mu   sync.Mutex
	idle [Zstd + 1][]compressor // one list per Compression
}

// maxIdle bounds the compressors kept per kind: as many as ever run at once
// (jobs times workers), with a cap against an unusual -j.
const maxIdle = 64

func (p *Compressors) get(c Compression) compressor {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.idle[c]
	if len(l) == 0 {
		return nil
	}
	p.idle[c] = l[:len(l)-1]
	return l[len(l)-1]
}

func (p *Compressors) put(c Compression, z compressor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle[c]) < maxIdle {
		p.idle[c] = append(p.idle[c], z)
	}
}

// memSpoolMax is the largest DWARF total compressed in memory rather than
// through a temp file: creating and unlinking a file per extraction cost
// more than compressing a small binary's DWARF.
var memSpoolMax uint64 = 1 << 20 // a var for tests

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
	raw       bool // not compressed: a section's new bytes as they are
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
// spends its CPU on. A section larger than chunkSize is cut into chunks
// that are compressed side by side and joined (see task), so that one
// large section, the usual case for a big program's .debug_info, keeps
// every goroutine busy. The bytes of a section depend only on the section,
// so the output is the same every time whichever worker took it (the
// upload streams it twice: hash, then send). A section that would not
// shrink stays as it is. The returned closer releases the spools.
func spool(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, c Compression, reuse *Compressors, plain map[int]plainSection) (map[int]packed, io.Closer, error) {
	onlyPlain := c == None
	if onlyPlain {
		if len(plain) == 0 {
			return nil, nil, nil
		}
		// A section compressed in the input stays compressed: zlib, which
		// every reader takes.
		c = Zlib
	}
	var secs []*section
	var total uint64
	for i, s := range f.Sections {
		if p, ok := plain[i]; ok && keep[i] {
			secs = append(secs, &section{i: i, name: s.Name, r: p.r, size: p.size, align: s.Addralign, sorted: true})
			total += p.size
		} else if keep[i] && compressible(s) && !onlyPlain {
			secs = append(secs, &section{i: i, name: s.Name, r: io.NewSectionReader(r, int64(s.Off), int64(s.Size)), size: s.Size, align: s.Addralign})
			total += s.Size
		}
	}
	if len(secs) == 0 {
		return nil, nil, nil
	}
	if reuse == nil {
		reuse = &Compressors{}
	}
	inMemory := total <= memSpoolMax
	var tasks []task
	if inMemory {
		for _, s := range secs {
			tasks = append(tasks, task{sec: s, chunk: whole, n: s.size})
		}
	} else {
		// Largest first, so that no worker is left with the big one at the end.
		slices.SortStableFunc(secs, func(a, b *section) int { return cmp.Compare(b.size, a.size) })
		for _, s := range secs {
			tasks = append(tasks, s.tasks(c.chunk())...)
		}
	}
	workers := 1
	if !inMemory {
		workers = min(runtime.GOMAXPROCS(0), maxWorkers, len(tasks))
	}
	next := make(chan task, len(tasks))
	for _, t := range tasks {
		next <- t
	}
	close(next)
	spools := make(spools, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{ctx: ctx, f: f, c: c, reuse: reuse, inMemory: inMemory}
			errs[k] = w.run(next)
			spools[k] = w.spool
			w.release()
		}()
	}
	wg.Wait()
	if err := firstErr(errs...); err != nil { // the workers fail alike: say it once
		spools.Close()
		return nil, nil, err
	}
	out := map[int]packed{}
	for _, s := range secs {
		if p, ok := s.packed(f, c); ok {
			out[s.i] = p
		}
	}
	return out, spools, nil
}

// maxWorkers bounds the goroutines compressing one extraction: each holds a
// compressor and buffers (about 1.5 MiB for zlib, 4 MiB for zstd), and the
// upload of a 268 MB file peaked at 30.6 MiB with two, 34.5 with four
// (zlib; zstd: 34.9 and 36.4), against a target of 32 MB. Several files
// (-j) keep more cores busy.
const maxWorkers = 2

// chunkSize is the most of a section one zlib task compresses, and a
// fourth of a zstd one's. Chunks restart the compressor's history: on Go's
// and gcc's DWARF that cost zlib (a 32 KiB window) under 0.1% at 1 MiB
// chunks, and zstd (a 1 MiB window) as little on Go's, but 11% at 4 MiB on
// a generated g++ .debug_info whose units repeat each other, and zstd's
// fastest level starts cold (hex text lost 39% at 4 MiB, 6% at 16).
var chunkSize uint64 = 4 << 20 // a var for tests

func (c Compression) chunk() uint64 {
	if c == Zstd {
		return 4 * chunkSize
	}
	return chunkSize
}

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
// would otherwise cost a full compression for nothing. A chunked section
// is judged so by its first chunk (see compressChunk).
const incompressibleAfter = 4 << 20

// section is one section to compress and what its tasks made of it.
type section struct {
	i      int
	name   string
	r      io.ReaderAt // its uncompressed bytes (see sortCompressedLines)
	size   uint64
	align  uint64
	sorted bool // a sorted line table: kept compressed whatever it saves

	whole  packed        // a section compressed as one task
	chunks []chunk       // or in chunks, one per task
	given  atomic.Bool   // up on: its first chunk does not shrink
	judged chan struct{} // closed once the first chunk is done
}

// chunk is one chunk of a section compressed on its own: a raw deflate
// stream ending on a byte boundary (zlib), or a zstd frame.
type chunk struct {
	src       io.ReaderAt
	off, size uint64
	adler     uint32 // of the chunk's uncompressed bytes (zlib)
	n         uint64 // uncompressed bytes
}

// whole is task.chunk for a section compressed in one go.
const whole = -1

// task is the work of one compressor: a whole section, or its chunk'th
// chunk (n bytes from off).
type task struct {
	sec    *section
	chunk  int
	off, n uint64
}

func (s *section) tasks(size uint64) []task {
	if s.size <= size {
		return []task{{sec: s, chunk: whole, n: s.size}}
	}
	s.chunks = make([]chunk, (s.size+size-1)/size)
	s.judged = make(chan struct{})
	var ts []task
	for k := range s.chunks {
		off := uint64(k) * size
		ts = append(ts, task{sec: s, chunk: k, off: off, n: min(size, s.size-off)})
	}
	return ts
}

// worth says whether out compressed bytes (headers included) for in
// uncompressed ones are worth a compression header: under 97%.
func (s *section) worth(out, in uint64) bool { return s.sorted || out <= in*97/100 }

// packed is the section's compressed bytes, if they are worth it: a
// compression header, then the stream (whole) or the chunks joined, with
// zlib's own header and checksum around chunks of deflate.
func (s *section) packed(f *elfparse.File, c Compression) (packed, bool) {
	if s.chunks == nil {
		return s.whole, s.whole.src != nil
	}
	if s.given.Load() {
		return packed{}, false
	}
	j := &joined{}
	head := f.Chdr(c.chType(), s.size, sanitizeAlign(s.align))
	if c == Zlib {
		head = append(head, zlibHeader...)
	}
	j.add(bytesPart(head))
	var adler uint32 = 1
	for _, ch := range s.chunks {
		j.add(Part{Src: ch.src, Off: int64(ch.off), N: int64(ch.size)})
		adler = adler32Combine(adler, ch.adler, ch.n)
	}
	if c == Zlib {
		j.add(bytesPart(binary.BigEndian.AppendUint32(nil, adler)))
	}
	if !s.worth(uint64(j.size), s.size) {
		return packed{}, false
	}
	return packed{src: j, off: 0, size: uint64(j.size)}, true
}

// zlibHeader starts a zlib stream of deflate with a 32 KiB window, marked
// as made at a fast level (RFC 1950: FLEVEL 1, then the check bits).
var zlibHeader = []byte{0x78, 0x5e}

// worker compresses tasks one after another into a spool of its own: in
// memory when all the DWARF is small, else a temp file.
type worker struct {
	ctx      context.Context
	f        *elfparse.File
	c        Compression
	reuse    *Compressors
	inMemory bool

	spool spoolFile
	cw    *countWriter
	zw    compressor // its buffers are most of the memory
	buf   []byte
}

func (w *worker) release() {
	if w.zw != nil {
		w.reuse.put(w.c, w.zw)
	}
}

// copyBufs holds the workers' copy buffers: a run of many small files
// (-j, a Bazel worker) would otherwise allocate one per extraction.
var copyBufs = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (w *worker) run(next <-chan task) error {
	b := copyBufs.Get().(*[32 << 10]byte)
	defer copyBufs.Put(b)
	w.buf = b[:]
	for t := range next {
		err := w.do(t)
		if t.chunk == 0 {
			close(t.sec.judged) // whatever happened: the other chunks wait on it
		}
		if err != nil {
			if w.spool != nil {
				w.spool.Close()
				w.spool = nil
			}
			return err
		}
	}
	if fs, ok := w.spool.(*fileSpool); ok {
		if err := fs.w.Flush(); err != nil {
			fs.Close()
			w.spool = nil
			return fmt.Errorf("compressing debug sections: %w", err)
		}
	}
	return nil
}

// do does task t, in a spool made on the first task.
func (w *worker) do(t task) error {
	if t.chunk >= 2 {
		<-t.sec.judged
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if t.sec.given.Load() {
		return nil
	}
	if w.spool == nil {
		if w.inMemory {
			w.spool = &memSpool{}
		} else {
			f, err := scratch.File("debuginfo-extract-*")
			if err != nil {
				return fmt.Errorf("compressing debug sections: %w", err)
			}
			w.spool = newFileSpool(f)
		}
		w.cw = &countWriter{w: w.spool}
	}
	if t.chunk == whole {
		return w.compressWhole(t.sec)
	}
	return w.compressChunk(t)
}

// compressor readies w.zw to write a new stream to w.cw.
func (w *worker) compressor() error {
	if w.zw == nil {
		if w.zw = w.reuse.get(w.c); w.zw == nil {
			var err error
			w.zw, err = newCompressor(w.cw, w.c)
			return err
		}
	}
	w.zw.Reset(w.cw)
	return nil
}

// drop forgets what was written to the spool since pos.
func (w *worker) drop(pos int64) error {
	if err := w.spool.Truncate(pos); err != nil {
		return err
	}
	if _, err := w.spool.Seek(pos, io.SeekStart); err != nil {
		return err
	}
	w.cw.n = pos
	return nil
}

// compressWhole compresses section s as one stream after its compression
// header (for zlib: the deflate stream inside zlib's header and checksum),
// giving up when it does not shrink.
func (w *worker) compressWhole(s *section) error {
	pos := w.cw.n
	w.cw.Write(w.f.Chdr(w.c.chType(), s.size, sanitizeAlign(s.align)))
	if w.c == Zlib {
		w.cw.Write(zlibHeader)
	}
	if err := w.compressor(); err != nil {
		return err
	}
	// Worth it while the output (header included) stays under 97% of the
	// input read so far, and once more when the compressor has flushed.
	adler, shrinks, err := w.feed(s.name, s.r, 0, s.size, func(in uint64) bool { return s.worth(uint64(w.cw.n-pos), in) })
	if err != nil {
		return err
	}
	if shrinks {
		err := w.zw.Close()
		if w.c == Zlib {
			w.cw.Write(binary.BigEndian.AppendUint32(nil, adler))
		}
		if err != nil || w.cw.err != nil {
			return fmt.Errorf("compressing %s: %w", s.name, firstErr(w.cw.err, err))
		}
		shrinks = s.worth(uint64(w.cw.n-pos), s.size)
	}
	if !shrinks {
		return w.drop(pos)
	}
	s.whole = packed{src: w.spool, off: uint64(pos), size: uint64(w.cw.n - pos)}
	return nil
}

// compressChunk compresses one chunk of a section on its own. The first
// chunk judges the section as a whole section's first incompressibleAfter
// bytes do: if it does not shrink, the section is given up and its other
// chunks are skipped. The second chunk may run beside the first; the rest
// wait for its verdict, so an incompressible section costs at most two
// chunks whatever the scheduling. A later chunk that does not shrink is
// kept: the section is judged on its total at the end (see packed).
func (w *worker) compressChunk(t task) error {
	s := t.sec
	pos := w.cw.n
	if err := w.compressor(); err != nil {
		return err
	}
	adler, kept, err := w.feed(s.name, s.r, t.off, t.n, func(in uint64) bool {
		if t.chunk == 0 && !s.worth(uint64(w.cw.n-pos), in) {
			s.given.Store(true)
		}
		return !s.given.Load()
	})
	if err != nil {
		return err
	}
	if !kept {
		return w.drop(pos)
	}
	if last := t.chunk == len(s.chunks)-1; last || w.c == Zstd {
		err = w.zw.Close() // a deflate stream's last block; a zstd frame's end
	} else {
		err = w.zw.(interface{ Flush() error }).Flush() // to a byte boundary
	}
	if err != nil || w.cw.err != nil {
		return fmt.Errorf("compressing %s: %w", s.name, firstErr(w.cw.err, err))
	}
	if t.chunk == 0 && !s.worth(uint64(w.cw.n-pos), t.n) {
		s.given.Store(true)
	}
	if s.given.Load() {
		return w.drop(pos)
	}
	s.chunks[t.chunk] = chunk{src: w.spool, off: uint64(pos), size: uint64(w.cw.n - pos), adler: adler, n: t.n}
	return nil
}

// feed writes n bytes of r from off to the compressor, incompressibleAfter
// bytes at a time, and after each asks keep whether to go on (given the
// bytes fed so far): a section or chunk that does not shrink, or whose
// section was given up, is left early. An interrupt (w.ctx) stops it too.
// It returns the bytes' Adler-32 (zlib's checksum) and whether it fed them
// all.
func (w *worker) feed(name string, r io.ReaderAt, off, n uint64, keep func(in uint64) bool) (uint32, bool, error) {
	h := adler32.New()
	in := io.TeeReader(io.NewSectionReader(r, int64(off), int64(n)), h)
	for done := uint64(0); done < n; {
		m, err := io.CopyBuffer(w.zw, io.LimitReader(in, incompressibleAfter), w.buf)
		if err == nil && m == 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return 0, false, fmt.Errorf("compressing %s: %w", name, err)
		}
		if err := w.ctx.Err(); err != nil {
			return 0, false, err
		}
		done += uint64(m)
		if !keep(done) {
			return 0, false, nil
		}
	}
	return h.Sum32(), true, nil
}

// adler32Combine is the Adler-32 of two runs of bytes laid end to end,
// from the checksum of each and the length of the second (RFC 1950: the
// sum of bytes, and the sum of those running sums, both mod 65521).
func adler32Combine(a1, a2 uint32, n2 uint64) uint32 {
	const base = 65521
	rem := n2 % base
	s1a, s2a := uint64(a1&0xffff), uint64(a1>>16)
	s1b, s2b := uint64(a2&0xffff), uint64(a2>>16)
	// Each byte of the second run adds s1a to its running sum once more.
	s1 := (s1a + s1b + base - 1) % base
	s2 := (s2a + s2b + rem*s1a%base + base - rem) % base
	return uint32(s2<<16 | s1)
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

// newCompressor compresses one stream: a zstd frame (frames laid end to
// end are one zstd stream), or deflate without zlib's header and checksum,
// which are written around it (one stream, or a section's chunks joined).
func newCompressor(w io.Writer, c Compression) (compressor, error) {
	if c == Zstd {
		// One goroutine and a 1 MiB window: deterministic, and memory stays
		// a few MiB whatever the section's size. The fastest level: on gcc
		// DWARF (sqlite3 -O2) it took half the default's time for 4% more
		// bytes, and on g++ DWARF the same bytes in 62% of the time
		// (docs/performance.md, "zstd level").
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
	}
	return flate.NewWriter(w, zlibLevel)
}

package elfdebug

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
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
type Compressors struct{ zlib, zstd sync.Pool }

func (p *Compressors) pool(c Compression) *sync.Pool {
	if c == Zstd {
		return &p.zstd
	}
	return &p.zlib
}

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
	if off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// minCompress is the smallest section worth a compression header.
const minCompress = 64

// packed is a section compressed into the spool file.
type packed struct{ off, size uint64 }

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

// spool compresses the kept DWARF sections of f, one after another, into a
// temporary file, so the output's layout (which needs their sizes before the
// first byte) is known while memory stays bounded. The same input gives the
// same bytes every time: the upload streams the output twice (hash, send).
// A section that would not shrink stays as it is.
func spool(r io.ReaderAt, f *elfparse.File, keep []bool, c Compression, reuse *Compressors) (map[int]packed, spoolFile, error) {
	if c == None {
		return nil, nil, nil
	}
	var total uint64
	for i, s := range f.Sections {
		if keep[i] && compressible(s) {
			total += s.Size
		}
	}
	if total == 0 {
		return nil, nil, nil
	}
	var tmp spoolFile
	if total <= memSpoolMax {
		tmp = &memSpool{b: make([]byte, 0, total/2)}
	} else {
		t, err := os.CreateTemp("", "debuginfo-extract-*")
		if err != nil {
			return nil, nil, fmt.Errorf("compressing debug sections: %w", err)
		}
		os.Remove(t.Name()) // unlinked: gone when closed, whatever happens
		tmp = t
	}
	if reuse == nil {
		reuse = &Compressors{}
	}
	pool := reuse.pool(c)
	var err error
	out := map[int]packed{}
	var pos uint64
	cw := &countWriter{w: tmp}
	var zw compressor // one for all sections: its buffers are most of the memory
	buf := make([]byte, 32<<10)
	for i, s := range f.Sections {
		if !keep[i] || !compressible(s) {
			continue
		}
		cw.Write(f.Chdr(c.chType(), s.Size, sanitizeAlign(s.Addralign)))
		if zw == nil {
			if v, ok := pool.Get().(compressor); ok {
				zw = v
				defer pool.Put(zw)
				zw.Reset(cw)
			} else if zw, err = newCompressor(cw, c); err != nil {
				tmp.Close()
				return nil, nil, err
			} else {
				defer pool.Put(zw)
			}
		} else {
			zw.Reset(cw)
		}
		if _, err := io.CopyBuffer(zw, io.NewSectionReader(r, int64(s.Off), int64(s.Size)), buf); err != nil {
			tmp.Close()
			return nil, nil, fmt.Errorf("compressing %s: %w", s.Name, err)
		}
		if err := zw.Close(); err != nil || cw.err != nil {
			tmp.Close()
			return nil, nil, fmt.Errorf("compressing %s: %w", s.Name, firstErr(cw.err, err))
		}
		n := uint64(cw.n) - pos
		if n >= s.Size {
			// Not worth it: forget these bytes.
			if err := tmp.Truncate(int64(pos)); err != nil {
				tmp.Close()
				return nil, nil, err
			}
			if _, err := tmp.Seek(int64(pos), io.SeekStart); err != nil {
				tmp.Close()
				return nil, nil, err
			}
			cw.n = int64(pos)
			continue
		}
		out[i] = packed{off: pos, size: n}
		pos = uint64(cw.n)
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

func newCompressor(w io.Writer, c Compression) (compressor, error) {
	if c == Zstd {
		// One goroutine and a 1 MiB window: deterministic, and memory stays
		// a few MiB whatever the section's size.
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
	}
	return zlib.NewWriterLevel(w, zlib.DefaultCompression)
}

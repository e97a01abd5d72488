package elfdebug

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"

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
func spool(r io.ReaderAt, f *elfparse.File, keep []bool, c Compression) (map[int]packed, *os.File, error) {
	found := false
	for i, s := range f.Sections {
		found = found || keep[i] && compressible(s)
	}
	if c == None || !found {
		return nil, nil, nil
	}
	tmp, err := os.CreateTemp("", "debuginfo-extract-*")
	if err != nil {
		return nil, nil, fmt.Errorf("compressing debug sections: %w", err)
	}
	os.Remove(tmp.Name()) // unlinked: gone when closed, whatever happens
	out := map[int]packed{}
	var pos uint64
	cw := &countWriter{w: tmp}
	var zw compressor // one for all sections: its buffers are most of the memory
	for i, s := range f.Sections {
		if !keep[i] || !compressible(s) {
			continue
		}
		cw.Write(f.Chdr(c.chType(), s.Size, sanitizeAlign(s.Addralign)))
		if zw == nil {
			if zw, err = newCompressor(cw, c); err != nil {
				tmp.Close()
				return nil, nil, err
			}
		} else {
			zw.Reset(cw)
		}
		if _, err := io.Copy(zw, io.NewSectionReader(r, int64(s.Off), int64(s.Size))); err != nil {
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

package elfdebug

import (
	"context"
	"debug/elf"
	"io"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/ctxio"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/lineorder"
)

// maxZLines bounds the decompressed .debug_line sortCompressedLines
// writes to a temp file (a hostile header may claim any size).
const maxZLines = 256 << 20

// plainSection is a section's uncompressed bytes, read from r.
type plainSection struct {
	r    io.ReaderAt
	size uint64
}

// sortCompressedLines handles a kept .debug_line that is compressed in the
// input (gcc -gz, ld --compress-debug-sections): such sections are passed
// through, so its sequences would stay out of order and Parca would show
// "?:0" (see sortLines). When they are out of order (or some are of
// discarded code, see deadAt) it is decompressed
// (into a spool: see lineSpool), sorted into a second spool, and returned as
// the section's new uncompressed bytes, for spool to compress again (with
// zlib when the rest is not compressed). Nothing is returned for a legacy
// .zdebug_line, or when the section cannot be read: the extraction goes on
// with the bytes as they are.
//
// Its only error is ctx's, when ctx is done (decompressing and sorting a
// large section takes seconds).
func sortCompressedLines(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, dead func(uint64) bool) (map[int]plainSection, io.Closer, int, error) {
	for i, s := range f.Sections {
		if !keep[i] || s.Name != ".debug_line" || s.Flags&uint64(elf.SHF_COMPRESSED) == 0 || overlapsAnother(f, i) {
			continue
		}
		ef, err := elf.NewFile(r)
		if err != nil {
			return nil, nil, 0, ctx.Err()
		}
		sec := ef.Section(".debug_line")
		if sec == nil || sec.Offset != s.Off {
			return nil, nil, 0, ctx.Err()
		}
		// Decompressed into a spool like the sorted one (lineorder reads
		// it a unit at a time).
		sp, n, ok := inflate(ctx, sec)
		if !ok {
			return nil, nil, 0, ctx.Err()
		}
		// Sorted into a second spool; the first is done with after that.
		out, err := lineSpool(uint64(n))
		if err != nil {
			sp.Close()
			return nil, nil, 0, ctx.Err()
		}
		ok, dropped, err := lineorder.ReorderWith(ctx, sp, n, f.Order, lineorder.Options{Dead: dead}, out)
		sp.Close()
		if err == nil && ok {
			err = out.flush()
		}
		if err != nil || !ok {
			out.Close()
			return nil, nil, 0, ctx.Err()
		}
		return map[int]plainSection{i: {out, uint64(n)}}, out, dropped, nil
	}
	return nil, nil, 0, ctx.Err()
}

// inflate decompresses the SHF_COMPRESSED section sec into a spool (see
// lineSpool) and returns it with its size; ok is false, and nothing is
// left open, when the section is larger than maxZLines (a hostile header
// may claim any size), does not decompress, or decompresses to another
// size than its header claims (it is never read past that).
func inflate(ctx context.Context, sec *elf.Section) (_ flushSpool, n int64, ok bool) {
	if sec.Size > maxZLines {
		return nil, 0, false
	}
	sp, err := lineSpool(sec.Size)
	if err != nil {
		return nil, 0, false
	}
	n, err = io.Copy(sp, io.LimitReader(ctxio.Reader(ctx, sec.Open()), int64(sec.Size)+1))
	if err == nil {
		err = sp.flush()
	}
	if err != nil || uint64(n) != sec.Size {
		sp.Close()
		return nil, 0, false
	}
	return sp, n, true
}

package elfdebug

import (
	"cmp"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"os"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/scratch"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/tombstone"
)

// dwarfSections are the kept, uncompressed DWARF sections package
// tombstone reads, read from r, and each one's index by name (.debug_line
// too, which it does not read).
func dwarfSections(r io.ReaderAt, f *elfparse.File, keep []bool) (tombstone.Sections, map[string]int) {
	var secs tombstone.Sections
	idx := map[string]int{}
	for i, s := range f.Sections {
		sec := tombstoneSection(&secs, s.Name)
		// overlapsAnother goes over every section: only for these few,
		// or a file of many sections takes quadratic time.
		if sec == nil || !keep[i] || !s.HasData || s.Flags&uint64(elf.SHF_COMPRESSED) != 0 || overlapsAnother(f, i) {
			continue
		}
		*sec = tombstone.Section{R: io.NewSectionReader(r, int64(s.Off), int64(s.Size)), Size: int64(s.Size)}
		idx[s.Name] = i
	}
	return secs, idx
}

// tombstoneSection is the field of secs for the section named name, nil
// for a section package tombstone does not read (.debug_line gets a
// throwaway one: only its index is wanted).
func tombstoneSection(secs *tombstone.Sections, name string) *tombstone.Section {
	switch name {
	case ".debug_info":
		return &secs.Info
	case ".debug_abbrev":
		return &secs.Abbrev
	case ".debug_addr":
		return &secs.Addr
	case ".debug_rnglists":
		return &secs.Rnglists
	case ".debug_ranges":
		return &secs.Ranges
	case ".debug_aranges":
		return &secs.Aranges
	case ".debug_line":
		return &tombstone.Section{}
	}
	return nil
}

// inflatedSection is a section's decompressed bytes, in a spool.
type inflatedSection struct {
	sp   flushSpool
	size int64
}

// inflated adds to secs and idx the kept DWARF sections that are
// compressed in the input (gcc -gz, objcopy --compress-debug-sections, as
// in Debian's -dbgsym files), decompressed into spools, by section index;
// .debug_line too if lines; not those in done (rewritten already). A
// section that cannot be read, or is larger than maxZLines, is left out
// (and the walk of the rest fails without it, leaving the DWARF as it is).
func inflated(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, secs *tombstone.Sections, idx map[string]int, lines bool, done map[int]plainSection) map[int]inflatedSection {
	var ef *elf.File
	spools := map[int]inflatedSection{}
	for i, s := range f.Sections {
		sec := tombstoneSection(secs, s.Name)
		if _, ok := done[i]; ok || sec == nil || s.Name == ".debug_line" && !lines || !keep[i] || !s.HasData || s.Flags&uint64(elf.SHF_COMPRESSED) == 0 || overlapsAnother(f, i) {
			continue
		}
		if ef == nil {
			var err error
			if ef, err = elf.NewFile(r); err != nil || len(ef.Sections) != len(f.Sections) {
				return spools
			}
		}
		if ef.Sections[i].Offset != s.Off {
			continue
		}
		sp, n, ok := inflate(ctx, ef.Sections[i])
		if !ok {
			continue
		}
		*sec = tombstone.Section{R: sp, Size: n}
		idx[s.Name] = i
		spools[i] = inflatedSection{sp, n}
	}
	return spools
}

// span is a byte range of the input file.
type span struct{ off, n int64 }

func overlapsSpan(spans []span, off, n int64) bool {
	for _, s := range spans {
		if off < s.off+s.n && s.off < off+n {
			return true
		}
	}
	return false
}

// hideDiscarded returns r with the ranges of discarded code (see deadAt)
// emptied in the kept, uncompressed DWARF sections, and the spans of the
// sections it changed. A section compressed in the input (gcc -gz) is
// decompressed, and comes back patched among plain, for spool to compress
// again; closer closes what holds those bytes. DWARF it cannot follow is
// left as it is: the line table's dead sequences are dropped all the same.
// Its errors are ctx's and those of the temp files patches may go to.
func hideDiscarded(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, dead func(uint64) bool) (_ io.ReaderAt, _ []span, plain map[int]plainSection, closer io.Closer, _ error) {
	secs, idx := dwarfSections(r, f, keep)
	spools := inflated(ctx, r, f, keep, &secs, idx, false, nil)
	var used closers
	defer func() {
		for i, in := range spools {
			if _, kept := plain[i]; !kept {
				in.sp.Close()
			}
		}
	}()
	sinks := map[string]*patchSpill{}
	for name, sec := range map[string]*tombstone.Section{".debug_info": &secs.Info, ".debug_rnglists": &secs.Rnglists, ".debug_ranges": &secs.Ranges, ".debug_aranges": &secs.Aranges} {
		if sec.R != nil {
			sk := &patchSpill{src: sec.R, size: sec.Size}
			sec.Sink, sinks[name] = sk, sk
		}
	}
	_, err := tombstone.Find(ctx, secs, f.Order, dead)
	for _, sk := range sinks {
		if err == nil {
			err = sk.done()
		}
	}
	if ctx.Err() != nil || err != nil {
		var ioErr error
		for _, sk := range sinks {
			sk.close()
			ioErr = cmp.Or(ioErr, sk.err)
		}
		switch {
		case ctx.Err() != nil:
			return nil, nil, nil, nil, ctx.Err()
		case ioErr != nil: // not the DWARF's fault: say so, not a worse file
			return nil, nil, nil, nil, fmt.Errorf("emptying the ranges of discarded code: %w", ioErr)
		}
		return r, nil, nil, nil, nil
	}
	var (
		sets  []patchSet
		spans []span
	)
	for name, sk := range sinks {
		if sk.f == nil && sk.mem.Len() == 0 {
			continue
		}
		i := idx[name] // Find patches only the sections it was given
		s := f.Sections[i]
		set := patchSet{ps: &sk.mem, size: sk.size}
		if sk.f != nil {
			set.whole = sk.f // not a nil *os.File in the interface
			used = append(used, sk.f)
		} else {
			sk.mem.Sort()
		}
		if in, ok := spools[i]; ok {
			if plain == nil {
				plain = map[int]plainSection{}
			}
			if sk.f != nil { // its bytes are all in sk.f
				plain[i] = plainSection{sk.f, uint64(sk.size)}
				in.sp.Close()
				continue
			}
			plain[i] = plainSection{patchedReader{in.sp, []patchSet{set}}, uint64(in.size)}
			used = append(used, in.sp)
			continue
		}
		set.base = int64(s.Off)
		spans = append(spans, span{int64(s.Off), int64(s.Size)})
		sets = append(sets, set)
	}
	if len(used) > 0 {
		closer = used
	}
	return patchedReader{r, sets}, spans, plain, closer, nil
}

// spillAfter is how many patches a section keeps in memory (16 bytes and
// their own few each, see tombstone.List) before it is copied to a temp
// file and patched there: a --gc-sections program may need a patch for
// each of millions of entries.
var spillAfter = 1 << 14

// spillWindow is how much of a spilled section flush reads and writes at
// once.
var spillWindow = 1 << 20

// onSpill is called when a section's patches go to a temp file (tests
// count them).
var onSpill = func() {}

// patchSpill is a section's patches: in memory up to spillAfter of them,
// then the section itself, patched, in an unlinked temp file, where each
// further spillAfter are written together (one write each was 0.8 s for a
// 28 MB program's 400,000).
type patchSpill struct {
	src  io.ReaderAt // the section's bytes
	size int64
	mem  tombstone.List
	f    *os.File
	buf  []byte // flush's window
	err  error  // the temp file's
}

func (s *patchSpill) Add(off int64, b []byte) error {
	if off < 0 || off+int64(len(b)) > s.size { // package tombstone's bug
		return fmt.Errorf("a patch of %d bytes at %d, past a %d-byte section", len(b), off, s.size)
	}
	if err := s.mem.Add(off, b); err != nil || s.mem.Len() < spillAfter {
		return err
	}
	s.err = s.spill()
	return s.err
}

// spill moves the patches in memory, and the section first if it is still
// read from src, to s.f.
func (s *patchSpill) spill() error {
	if s.f == nil {
		f, err := scratch.File("debuginfo-dwarf-*")
		if err != nil {
			return err
		}
		s.f = f
		onSpill()
		n, err := io.Copy(f, io.NewSectionReader(s.src, 0, s.size))
		if err == nil && n != s.size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return err // the caller closes s.f
		}
	}
	return s.flush()
}

// flush writes the patches in memory to s.f, a window of it at a time.
func (s *patchSpill) flush() error {
	s.mem.Sort()
	if s.buf == nil {
		s.buf = make([]byte, spillWindow)
	}
	for i := 0; i < s.mem.Len(); {
		start, _ := s.mem.At(i)
		w := s.buf[:min(int64(len(s.buf)), s.size-start)]
		if _, err := s.f.ReadAt(w, start); err != nil {
			return err
		}
		end := start + int64(len(w))
		for ; i < s.mem.Len(); i++ {
			off, b := s.mem.At(i)
			if off >= end {
				break
			}
			copy(w[off-start:], b)
			if tail := min(off+int64(len(b)), s.size); tail > end {
				// Across the window's end: the rest is written now, and
				// the next window starts after it.
				if _, err := s.f.WriteAt(b[end-off:tail-off], end); err != nil {
					return err
				}
			}
		}
		if _, err := s.f.WriteAt(w, start); err != nil {
			return err
		}
	}
	s.mem.Reset()
	return nil
}

// done writes what is left in memory once Find is over, for a section that
// spilled.
func (s *patchSpill) done() error {
	if s.f == nil || s.mem.Len() == 0 {
		return nil
	}
	s.err = s.flush()
	return s.err
}

func (s *patchSpill) close() {
	if s.f != nil {
		s.f.Close()
	}
}

// closers closes each of its closers.
type closers []io.Closer

func (c closers) Close() error {
	var first error
	for _, x := range c {
		if err := x.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// patchSet is a section's changes, its offset in the reader they apply to
// at base: its patches (sorted, none overlapping), or, once they were
// too many (see patchSpill), its patched bytes whole, size of them.
type patchSet struct {
	base  int64
	ps    *tombstone.List
	whole io.ReaderAt
	size  int64
}

// patchedReader is r with patch sets (of different sections) over it.
type patchedReader struct {
	io.ReaderAt
	sets []patchSet
}

func (p patchedReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.ReaderAt.ReadAt(b, off)
	end := off + int64(n)
	for _, set := range p.sets {
		if set.whole != nil {
			lo, hi := max(set.base, off), min(set.base+set.size, end)
			if lo < hi {
				if _, werr := set.whole.ReadAt(b[lo-off:hi-off], lo-set.base); werr != nil {
					return int(lo - off), werr
				}
			}
			continue
		}
		ps := set.ps
		// The first patch ending past off (patches do not overlap, so
		// their ends are in order too).
		for i := ps.EndingPast(off - set.base); i < ps.Len(); i++ {
			at, data := ps.At(i)
			at += set.base
			if at >= end {
				break
			}
			lo, hi := max(at, off), min(at+int64(len(data)), end)
			copy(b[lo-off:hi-off], data[lo-at:hi-at])
		}
	}
	return n, err
}

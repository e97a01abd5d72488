package elfdebug

import (
	"context"
	"debug/elf"
	"io"
	"sort"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
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
// Its only error is ctx's.
func hideDiscarded(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, dead func(uint64) bool) (_ io.ReaderAt, _ []span, plain map[int]plainSection, closer io.Closer, _ error) {
	secs, idx := dwarfSections(r, f, keep)
	spools := inflated(ctx, r, f, keep, &secs, idx, false, nil)
	defer func() {
		for i, in := range spools {
			if _, used := plain[i]; !used {
				in.sp.Close()
			}
		}
	}()
	p, err := tombstone.Find(ctx, secs, f.Order, dead)
	if ctx.Err() != nil {
		return nil, nil, nil, nil, ctx.Err()
	}
	if err != nil || p.Len() == 0 {
		return r, nil, nil, nil, nil
	}
	var (
		sets  []patchSet
		spans []span
		used  closers
	)
	for name, ps := range map[string][]tombstone.Patch{".debug_info": p.Info, ".debug_rnglists": p.Rnglists, ".debug_ranges": p.Ranges, ".debug_aranges": p.Aranges} {
		if len(ps) == 0 {
			continue
		}
		i := idx[name] // Find patches only the sections it was given
		s := f.Sections[i]
		if in, ok := spools[i]; ok {
			if plain == nil {
				plain = map[int]plainSection{}
			}
			plain[i] = plainSection{patchedReader{in.sp, []patchSet{{0, ps, p}}}, uint64(in.size)}
			used = append(used, in.sp)
			continue
		}
		spans = append(spans, span{int64(s.Off), int64(s.Size)})
		sets = append(sets, patchSet{int64(s.Off), ps, p})
	}
	if len(used) > 0 {
		closer = used
	}
	return patchedReader{r, sets}, spans, plain, closer, nil
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

// patchSet is a section's patches (in offset order, none overlapping),
// its offset in the reader they apply to at base, and all, which holds
// their bytes. They are package tombstone's own: a --gc-sections program
// may have a patch for each of hundreds of thousands of entries, and a
// copy of each cost 27 MB.
type patchSet struct {
	base int64
	ps   []tombstone.Patch
	all  tombstone.Patches
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
		ps := set.ps
		// The first patch ending past off (patches do not overlap, so
		// their ends are in order too).
		i := sort.Search(len(ps), func(i int) bool { return set.base+ps[i].Off+int64(len(set.all.Data(ps[i]))) > off })
		for ; i < len(ps) && set.base+ps[i].Off < end; i++ {
			at, data := set.base+ps[i].Off, set.all.Data(ps[i])
			lo, hi := max(at, off), min(at+int64(len(data)), end)
			copy(b[lo-off:hi-off], data[lo-at:hi-at])
		}
	}
	return n, err
}

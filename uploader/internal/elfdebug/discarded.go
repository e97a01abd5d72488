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
		var sec *tombstone.Section
		switch s.Name {
		case ".debug_info":
			sec = &secs.Info
		case ".debug_abbrev":
			sec = &secs.Abbrev
		case ".debug_addr":
			sec = &secs.Addr
		case ".debug_rnglists":
			sec = &secs.Rnglists
		case ".debug_ranges":
			sec = &secs.Ranges
		case ".debug_aranges":
			sec = &secs.Aranges
		case ".debug_line":
			sec = &tombstone.Section{}
		default:
			continue
		}
		// overlapsAnother goes over every section: only for these few,
		// or a file of many sections takes quadratic time.
		if !keep[i] || !s.HasData || s.Flags&uint64(elf.SHF_COMPRESSED) != 0 || overlapsAnother(f, i) {
			continue
		}
		*sec = tombstone.Section{R: io.NewSectionReader(r, int64(s.Off), int64(s.Size)), Size: int64(s.Size)}
		idx[s.Name] = i
	}
	return secs, idx
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
// sections it changed. DWARF it cannot follow, or that is compressed in the
// input (gcc -gz), is left as it is: the line table's dead sequences are
// dropped all the same. Its only error is ctx's.
func hideDiscarded(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, dead func(uint64) bool) (io.ReaderAt, []span, error) {
	secs, idx := dwarfSections(r, f, keep)
	p, err := tombstone.Find(ctx, secs, f.Order, dead)
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	if err != nil || p.Len() == 0 {
		return r, nil, nil
	}
	var (
		all   []filePatch
		spans []span
	)
	for name, ps := range map[string][]tombstone.Patch{".debug_info": p.Info, ".debug_rnglists": p.Rnglists, ".debug_ranges": p.Ranges, ".debug_aranges": p.Aranges} {
		if len(ps) == 0 {
			continue
		}
		s := f.Sections[idx[name]] // Find patches only the sections it was given
		spans = append(spans, span{int64(s.Off), int64(s.Size)})
		for _, pt := range ps {
			all = append(all, filePatch{int64(s.Off) + pt.Off, pt.Data})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].off < all[j].off })
	return patchedReader{r, all}, spans, nil
}

// filePatch replaces data at off in the input.
type filePatch struct {
	off  int64
	data []byte
}

// patchedReader is r with patches (sorted by offset, none overlapping)
// over it.
type patchedReader struct {
	io.ReaderAt
	patches []filePatch
}

func (p patchedReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.ReaderAt.ReadAt(b, off)
	end := off + int64(n)
	// The first patch ending past off (patches do not overlap, so their
	// ends are in order too).
	i := sort.Search(len(p.patches), func(i int) bool { return p.patches[i].off+int64(len(p.patches[i].data)) > off })
	for ; i < len(p.patches) && p.patches[i].off < end; i++ {
		pt := p.patches[i]
		lo, hi := max(pt.off, off), min(pt.off+int64(len(pt.data)), end)
		copy(b[lo-off:hi-off], pt.data[lo-pt.off:hi-pt.off])
	}
	return n, err
}

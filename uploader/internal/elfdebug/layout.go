package elfdebug

import (
	"cmp"
	"debug/elf"
	"io"
	"math/bits"
	"slices"
	"sort"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// The output layout, and why:
//
//   - The head: the input's first bytes [0, headEnd) keep their offsets. It
//     holds the ELF header, the program headers at their original e_phoff and
//     the allocated sections we keep at the start of the first PT_LOAD (.interp,
//     notes, .dynsym, .dynstr, .rela.plt); the dropped sections between them
//     (.gnu.hash, .gnu.version, .rela.dyn) become zeros. So the first PT_LOAD
//     keeps file bytes that cover PT_PHDR, PT_INTERP and PT_NOTE exactly where
//     they were, and each kept section lies inside it at its address's offset,
//     which binutils, elfutils and gdb check.
//   - Every other kept section follows, packed in input order, each at an
//     offset aligned to its sh_addralign.
//   - The section header table comes last.
//
// Program headers keep their type, flags, p_offset, p_vaddr, p_paddr,
// p_memsz and p_align: a symbolizer maps a runtime address to a file address
// through the PT_LOAD whose p_offset matches the mapping's file offset (Parca,
// pprof). Only p_filesz shrinks, to the bytes the head still holds. A
// non-LOAD segment keeps its file bytes only where all of them were copied
// together (kept in place in the head, or packed side by side after it, as
// a PT_NOTE outside the head is); otherwise its p_filesz is 0.

// headDropBudget bounds the zeros the head may hold (where dropped sections
// were) to keep later kept sections at their original offsets; past it, the
// remaining sections are packed after the head like the rest.
const headDropBudget = 1 << 20

// noSection is a region's sec when it is not a section's bytes.
const noSection = -1

// region is a run of input bytes copied to the output.
type region struct {
	old, size, new uint64
	sec            int         // section index, or noSection for a PT_NOTE of a file without section headers
	spooled        io.ReaderAt // non-nil: the bytes are compressed, in this spool at old
	raw            bool        // spooled holds new bytes, not compressed
}

type layout struct {
	phoff   uint64   // where the program headers go
	phMoved bool     // the program headers are not at their original offset
	headEnd uint64   // [0, headEnd) keeps input offsets
	head    []region // kept bytes in the head, sorted (new == old)
	rest    []region // kept bytes after the head, in input order, sorted by new
	moved   []region // the rest's uncompressed regions, sorted by old
	shoff   uint64
	size    uint64 // total output size
	kept    []bool // section i is kept (its bytes are in head or rest)
}

// plan lays out the output for f, given which sections to keep and which of
// them were compressed into the spool.
func plan(f *elfparse.File, keep []bool, comp map[int]packed) *layout {
	l := &layout{kept: append([]bool(nil), keep...)}
	phsize := uint64(len(f.Progs)) * uint64(f.Phentsz)
	l.headEnd = uint64(f.Ehsize)
	if len(f.Progs) > 0 {
		if f.Phoff >= uint64(f.Ehsize) && f.Phoff <= 1<<16 && f.InFile(f.Phoff, phsize) {
			l.phoff = f.Phoff
		} else {
			l.phoff, l.phMoved = alignUp(uint64(f.Ehsize), 8), true
		}
		l.headEnd = l.phoff + phsize
	}

	// Candidates for the head: allocated bytes inside the first PT_LOAD's
	// file range (what the loader maps with the headers), in file order.
	type cand struct {
		off, end uint64
		sec      int
		kept     bool
	}
	var cands []cand
	if load0, ok := firstLoad(f); ok && !l.phMoved {
		inLoad0 := func(off, n uint64) bool {
			end, wraps := bits.Add64(off, n, 0)
			return off >= l.headEnd && wraps == 0 && end <= load0.Filesz
		}
		for i, s := range f.Sections {
			if s.HasData && s.Flags&uint64(elf.SHF_ALLOC) != 0 && inLoad0(s.Off, s.Size) {
				cands = append(cands, cand{s.Off, s.Off + s.Size, i, keep[i]})
			}
		}
		if len(f.Sections) == 0 {
			for _, p := range f.Progs {
				if p.Type == uint32(elf.PT_NOTE) && p.Filesz > 0 && inLoad0(p.Off, p.Filesz) {
					cands = append(cands, cand{p.Off, p.Off + p.Filesz, noSection, true})
				}
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b cand) int { return cmp.Compare(a.off, b.off) })
	// Extend the head to the last kept candidate, as long as the zeros it
	// holds in place of dropped bytes stay within budget.
	budget := uint64(headDropBudget)
	pos, n := l.headEnd, 0
	for i, c := range cands {
		if c.off < pos {
			break // overlapping sections (corrupt input): stop here
		}
		gap := c.off - pos
		if !c.kept {
			gap += c.end - c.off
		}
		if gap > budget {
			break
		}
		budget -= gap
		pos = c.end
		if c.kept {
			n = i + 1
		}
	}
	inHead := make(map[int]bool, n)
	for _, c := range cands[:n] {
		if c.kept {
			l.headEnd = c.end
			inHead[c.sec] = true
			l.head = append(l.head, region{old: c.off, size: c.end - c.off, new: c.off, sec: c.sec})
		}
	}

	// Everything else we keep, packed after the head in input order.
	for i, s := range f.Sections {
		if l.kept[i] && !inHead[i] {
			if p, ok := comp[i]; ok {
				l.rest = append(l.rest, region{old: p.off, size: p.size, sec: i, spooled: p.src, raw: p.raw})
			} else {
				l.rest = append(l.rest, region{old: s.Off, size: s.Size, sec: i})
			}
		}
	}
	if len(f.Sections) == 0 {
		for _, p := range f.Progs {
			if p.Type == uint32(elf.PT_NOTE) && p.Filesz > 0 && f.InFile(p.Off, p.Filesz) && !(n > 0 && p.Off < l.headEnd) {
				l.rest = append(l.rest, region{old: p.Off, size: p.Filesz, sec: noSection})
			}
		}
	}
	// Input order (spooled sections by their input offset too).
	inputOff := func(r region) uint64 {
		if r.sec != noSection {
			return f.Sections[r.sec].Off
		}
		return r.old
	}
	slices.SortStableFunc(l.rest, func(a, b region) int { return cmp.Compare(inputOff(a), inputOff(b)) })
	cur := l.headEnd
	for i := range l.rest {
		r := &l.rest[i]
		align := uint64(4)
		switch {
		case r.spooled != nil && !r.raw:
			align = chdrAlign(f.Class)
		case r.sec != noSection:
			align = sanitizeAlign(f.Sections[r.sec].Addralign)
		}
		r.new = alignUp(cur, align)
		cur = r.new + r.size
	}
	for _, r := range l.rest {
		if r.spooled == nil {
			l.moved = append(l.moved, r)
		}
	}
	if len(f.Sections) > 0 {
		l.shoff = alignUp(cur, 8)
		cur = l.shoff + uint64(len(f.Sections))*uint64(f.Shentsz)
	}
	l.size = cur
	return l
}

// firstLoad returns the PT_LOAD that maps the start of the file.
func firstLoad(f *elfparse.File) (elfparse.Prog, bool) {
	for _, p := range f.Progs {
		if p.Type == uint32(elf.PT_LOAD) && p.Off == 0 && p.Filesz > 0 {
			return p, true
		}
	}
	return elfparse.Prog{}, false
}

// segment returns where the input bytes [off, off+n) are in the output, if
// they were all copied, and together: by a run of head regions or of
// regions after the head, each starting where the one before ended, in the
// input and in the output. (Inside the head's range is not enough: the
// zeros there stand for dropped bytes, or for kept ones packed after it.)
func (l *layout) segment(off, n uint64) (uint64, bool) {
	end, wraps := bits.Add64(off, n, 0)
	if n == 0 || wraps != 0 {
		return off, false
	}
	for _, rs := range [][]region{l.head, l.moved} {
		if to, ok := through(rs, off, end); ok {
			return to, true
		}
	}
	return off, false
}

// through finds [off, end) in rs (sorted by old, not overlapping) as one
// run of regions copied together, and returns where off went.
func through(rs []region, off, end uint64) (uint64, bool) {
	i := sort.Search(len(rs), func(i int) bool { return rs[i].old+rs[i].size > off })
	if i == len(rs) || rs[i].old > off {
		return 0, false
	}
	to := rs[i].new + (off - rs[i].old)
	for ; rs[i].old+rs[i].size < end; i++ {
		if i+1 == len(rs) || rs[i+1].old != rs[i].old+rs[i].size || rs[i+1].new != rs[i].new+rs[i].size {
			return 0, false
		}
	}
	return to, true
}

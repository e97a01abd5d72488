// Package elfdebug writes the debug-only copy of an ELF file (what
// `objcopy --only-keep-debug` makes) in one sequential, streaming pass, so
// memory stays flat however large the input is and the output may go to a
// pipe or a hashing writer.
package elfdebug

import (
	"debug/elf"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// ErrNotELF is the same error buildid.ErrNotELF is, so either works with errors.Is.
var ErrNotELF = elfparse.ErrNotELF

// Stats describes what Extract wrote.
type Stats struct {
	Bytes                                        int64 // bytes written to w
	HasDWARF, HasSymtab, HasDynsym, HasGoPclntab bool
	Kept, Dropped                                int // sections whose data was kept / dropped
}

// Sections whose data a symbolizer may need; everything else keeps its
// header (index, address, size) but loses its bytes.
var keepNames = map[string]bool{
	".symtab": true, ".strtab": true, ".dynsym": true, ".dynstr": true, ".shstrtab": true,
	".comment": true, ".gopclntab": true, ".gosymtab": true, ".go.buildinfo": true,
	".gnu_debuglink": true, ".gnu_debugaltlink": true,
}

func keepName(name string) bool {
	return keepNames[name] || strings.HasPrefix(name, ".debug_") || strings.HasPrefix(name, ".zdebug_")
}

// maxGap is the most padding between two kept sections that we copy rather
// than start a new block; copying it keeps neighbouring notes (and so the
// PT_NOTE segments over them) in their original relative layout.
const maxGap = 4096

// block is a run of kept file bytes copied verbatim.
type block struct {
	old, end uint64 // [old, end) in the input
	align    uint64
	new      uint64 // offset in the output
}

// Extract writes a debug-only ELF copy of the file r (size bytes) to w.
func Extract(r io.ReaderAt, size int64, w io.Writer) (Stats, error) {
	f, err := elfparse.Parse(r, size)
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	keep := make([]bool, len(f.Sections))
	for i, s := range f.Sections {
		if !s.HasData {
			continue
		}
		switch elf.SectionType(s.Type) {
		case elf.SHT_NOTE, elf.SHT_SYMTAB, elf.SHT_DYNSYM:
			keep[i] = true
		}
		keep[i] = keep[i] || keepName(s.Name) || uint32(i) == f.Shstrndx
	}
	// Symbol tables are useless without their string tables.
	for i, s := range f.Sections {
		if keep[i] && (s.Type == uint32(elf.SHT_SYMTAB) || s.Type == uint32(elf.SHT_DYNSYM)) &&
			int(s.Link) < len(f.Sections) && f.Sections[s.Link].HasData {
			keep[s.Link] = true
		}
	}
	for i, s := range f.Sections {
		if !keep[i] {
			if s.HasData {
				st.Dropped++
			}
			continue
		}
		if !f.InFile(s.Off, s.Size) {
			return Stats{}, fmt.Errorf("section %d (%s) at %#x (%d bytes) extends past end of file (%d bytes)", i, s.Name, s.Off, s.Size, size)
		}
		st.Kept++
		switch {
		case s.Name == ".debug_info" || s.Name == ".zdebug_info":
			st.HasDWARF = true
		case s.Type == uint32(elf.SHT_SYMTAB):
			st.HasSymtab = true
		case s.Type == uint32(elf.SHT_DYNSYM):
			st.HasDynsym = true
		case s.Name == ".gopclntab":
			st.HasGoPclntab = true
		}
	}

	blocks := planBlocks(f, keep)

	// Layout: ELF header, program headers, blocks, section headers.
	cur := uint64(f.Ehsize)
	var phoff uint64
	if len(f.Progs) > 0 {
		phoff = alignUp(cur, 8)
		cur = phoff + uint64(len(f.Progs))*uint64(f.Phentsz)
	}
	for i := range blocks {
		b := &blocks[i]
		// Keep the block's offset congruent to the input's modulo its
		// alignment, so every section inside stays aligned.
		b.new = cur + ((b.old - cur) & (b.align - 1))
		cur = b.new + (b.end - b.old)
	}
	dataEnd := cur
	var shoff uint64
	if len(f.Sections) > 0 {
		shoff = alignUp(cur, 8)
		cur = shoff + uint64(len(f.Sections))*uint64(f.Shentsz)
	}
	if f.Class == elf.ELFCLASS32 && cur > 1<<32-1 {
		return Stats{}, fmt.Errorf("debug-only ELF32 file would be %d bytes, too large", cur)
	}
	// mapOff places an input offset in the output: inside a block it moves
	// with the block, otherwise it goes where the next block starts.
	mapOff := func(off uint64) (uint64, bool) {
		i := sort.Search(len(blocks), func(i int) bool { return blocks[i].end > off })
		if i == len(blocks) {
			return dataEnd, false
		}
		if off < blocks[i].old {
			return blocks[i].new, false
		}
		return blocks[i].new + (off - blocks[i].old), true
	}

	shdrs := make([][]byte, len(f.RawSections))
	for i, s := range f.Sections {
		h := f.RawSections[i] // Parse gave us our own copy
		switch {
		case i == 0:
		case keep[i]:
			off, _ := mapOff(s.Off)
			f.PutSectionOffType(h, s.Type, off)
		default:
			off, _ := mapOff(s.Off)
			f.PutSectionOffType(h, uint32(elf.SHT_NOBITS), off)
		}
		shdrs[i] = h
	}
	phdrs := make([][]byte, len(f.RawProgs))
	for i, p := range f.Progs {
		h := f.RawProgs[i]
		switch {
		case p.Type == uint32(elf.PT_PHDR):
			f.PutProgOffFilesz(h, phoff, p.Filesz)
		case p.Filesz > 0:
			// Keep file bytes only for segments wholly inside one copied block
			// (notes); the rest, like objcopy, become file-less.
			start, ok := mapOff(p.Off)
			if ok && p.Filesz <= ^uint64(0)-p.Off {
				if end, ok2 := mapOff(p.Off + p.Filesz - 1); ok2 && end-start == p.Filesz-1 {
					f.PutProgOffFilesz(h, start, p.Filesz)
					break
				}
			}
			f.PutProgOffFilesz(h, start, 0)
		default:
			off, _ := mapOff(p.Off)
			f.PutProgOffFilesz(h, off, 0)
		}
		phdrs[i] = h
	}

	// One sequential pass.
	cw := &countWriter{w: w}
	cw.Write(f.PutHeaderOffsets(phoff, shoff))
	cw.padTo(phoff)
	for _, h := range phdrs {
		cw.Write(h)
	}
	for _, b := range blocks {
		cw.padTo(b.new)
		if cw.err == nil {
			if _, err := io.Copy(cw, io.NewSectionReader(r, int64(b.old), int64(b.end-b.old))); err != nil && cw.err == nil {
				cw.err = fmt.Errorf("copying input bytes %#x-%#x: %w", b.old, b.end, err)
			}
		}
	}
	cw.padTo(shoff)
	for _, h := range shdrs {
		cw.Write(h)
	}
	if cw.err == nil && uint64(cw.n) != cur {
		cw.err = fmt.Errorf("internal error: wrote %d bytes, planned %d", cw.n, cur)
	}
	st.Bytes = cw.n
	return st, cw.err
}

// planBlocks groups kept section data (or, without section headers, the
// PT_NOTE segments) into runs copied verbatim, sorted by input offset.
func planBlocks(f *elfparse.File, keep []bool) []block {
	type rng struct {
		off, end, align uint64
		kept            bool
	}
	var rs []rng
	for i, s := range f.Sections {
		if s.HasData && (keep[i] || f.InFile(s.Off, s.Size)) {
			rs = append(rs, rng{s.Off, s.Off + s.Size, sanitizeAlign(s.Addralign), keep[i]})
		}
	}
	if len(f.Sections) == 0 {
		for _, p := range f.Progs {
			if p.Type == uint32(elf.PT_NOTE) && p.Filesz > 0 && f.InFile(p.Off, p.Filesz) {
				rs = append(rs, rng{p.Off, p.Off + p.Filesz, sanitizeAlign(p.Align), true})
			}
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].off < rs[j].off })
	var blocks []block
	prevKept := false
	for _, r := range rs {
		if !r.kept {
			prevKept = false
			continue
		}
		if n := len(blocks); n > 0 && prevKept && r.off <= blocks[n-1].end+maxGap {
			b := &blocks[n-1]
			b.end = max(b.end, r.end)
			b.align = max(b.align, r.align)
		} else if n > 0 && r.off < blocks[n-1].end {
			// Overlaps the previous block across a dropped section (corrupt
			// input): merge so blocks never overlap.
			b := &blocks[n-1]
			b.end = max(b.end, r.end)
		} else {
			blocks = append(blocks, block{old: r.off, end: r.end, align: r.align})
		}
		prevKept = true
	}
	return blocks
}

func sanitizeAlign(a uint64) uint64 {
	if a == 0 || a&(a-1) != 0 || a > 1<<16 {
		return 1
	}
	return a
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// countWriter counts bytes, remembers the first error and pads with zeros.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

var zeros [4096]byte

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	c.err = err
	return n, err
}

func (c *countWriter) padTo(off uint64) {
	for c.err == nil && uint64(c.n) < off {
		c.Write(zeros[:min(uint64(len(zeros)), off-uint64(c.n))])
	}
}

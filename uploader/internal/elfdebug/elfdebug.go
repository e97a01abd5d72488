// Package elfdebug writes the debug-only copy of an ELF file (what
// `objcopy --only-keep-debug` makes) in one sequential, streaming pass, so
// memory stays flat however large the input is and the output may go to a
// pipe or a hashing writer.
package elfdebug

import (
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"fmt"
	"io"
	"maps"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/lineorder"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/scratch"
)

// ErrNotELF is the same error buildid.ErrNotELF is, so either works with errors.Is.
var ErrNotELF = elfparse.ErrNotELF

// Stats describes what Extract wrote.
type Stats struct {
	Bytes                                        int64 // bytes written to w
	HasDWARF, HasSymtab, HasDynsym, HasGoPclntab bool
	Kept, Dropped                                int // sections whose data was kept / dropped
	Compressed                                   int // kept sections Extract compressed
	// SymbolsNamed counts the functions of the symbol table outside every
	// DWARF unit that a unit added to the DWARF names (see symbolsUnit).
	SymbolsNamed int
	// Discarded counts the line-table sequences of code the linker
	// discarded (see deadAt) that were dropped; their functions' and
	// units' ranges were emptied too, where the DWARF is uncompressed.
	Discarded int
	// SplitDWARF: the input's DWARF is split (-gsplit-dwarf; see
	// SplitDWARF), so it was left out and HasDWARF is false.
	SplitDWARF bool
	// SegmentsRestored: the input is a debug file whose PT_LOAD offsets
	// objcopy rewrote, put back from its layout (see restoredSegments)
	// because no program was given (Options.Segments).
	SegmentsRestored bool
	// LegacyZdebug: the input's DWARF is in .zdebug_* sections (gcc
	// -gz=zlib-gnu), sent as they are (see LegacyZdebugWarning).
	LegacyZdebug bool
}

// LegacyZdebugWarning is what a user is told of .zdebug_* DWARF.
const LegacyZdebugWarning = "its DWARF is in legacy .zdebug_* sections (gcc -gz=zlib-gnu), sent as they are: " +
	"Parca may show ?:0 for unsorted line tables, a function the linker dropped (--gc-sections) in place of a live one, " +
	"and no frame for functions without DWARF; build with -gz (or without it: the upload compresses) instead"

// LegacyZdebug says whether f keeps DWARF in .zdebug_* sections.
func LegacyZdebug(f *elfparse.File) bool {
	for _, s := range f.Sections {
		if s.HasData && strings.HasPrefix(s.Name, ".zdebug_") {
			return true
		}
	}
	return false
}

// Sections whose data a symbolizer may need; everything else keeps its
// header (index, address, size) but loses its bytes.
var keepNames = map[string]bool{
	".symtab": true, ".strtab": true, ".dynsym": true, ".dynstr": true, ".shstrtab": true,
	".comment": true, ".gopclntab": true, ".gosymtab": true, ".interp": true,
	".gnu_debuglink": true, ".gnu_debugaltlink": true,
	// Parca reads it to name PLT stubs when it symbolizes from symbol tables.
	".rela.plt": true,
}

func keepName(name string) bool { return keepNames[name] || isDWARF(name) }

func isDWARF(name string) bool {
	return strings.HasPrefix(name, ".debug_") || strings.HasPrefix(name, ".zdebug_")
}

// Extract writes a debug-only ELF copy of the file r (size bytes) to w,
// with DWARF compressed by the default method.
func Extract(r io.ReaderAt, size int64, w io.Writer) (Stats, error) {
	return ExtractWith(r, size, w, Options{})
}

// ExtractWith is Extract with options. Every byte it read from r is read
// again once the output is written: an input that changed meanwhile, even
// where no size or time shows it, fails with ErrInputChanged rather than
// leave an output that is no version of it.
func ExtractWith(r io.ReaderAt, size int64, w io.Writer, opts Options) (Stats, error) {
	x, err := open(r, size, opts, true)
	if err != nil {
		return Stats{}, err
	}
	defer x.Close()
	n, err := x.WriteTo(w)
	if err == nil {
		x.log.seal()
		err = x.InputUnchanged()
	}
	if err == nil {
		err = x.CheckDWARF()
	}
	st := x.Stats
	st.Bytes = n
	return st, err
}

// Open lays out the debug-only copy of the ELF file r (size bytes), doing
// now whatever must be done once (sorting line tables, compressing
// sections into spools), and returns it to be read: see Extraction. r must
// stay readable and unchanged until the Extraction is closed.
func Open(r io.ReaderAt, size int64, opts Options) (*Extraction, error) {
	return open(r, size, opts, false)
}

// open is Open. With logAll, the bytes copied from r are read through the
// log too, which stays open: what the extraction's reads took from r is
// then all checked by InputUnchanged (ExtractWith's one pass), not only
// what Open made (an upload hashes the copied bytes twice itself).
func open(r io.ReaderAt, size int64, opts Options, logAll bool) (_ *Extraction, err error) {
	x := &Extraction{log: newReadLog(r)}
	input := r // what parts copied as they are read from
	r = x.log
	if logAll {
		input = x.log
	}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	// Headers, notes, symbol tables and a small file's DWARF are many small
	// reads near the ends of the file: served from two up-front reads.
	r, release, err := elfparse.Window(r, size)
	x.closers = append(x.closers, closerFunc(func() error { release(); return nil }))
	if err != nil {
		return nil, err
	}
	win := r
	f, err := elfparse.Parse(r, size)
	if err != nil {
		return nil, err
	}
	st := &x.Stats
	// Split DWARF is left out: Parca then names functions from the
	// symbol table instead of showing no frame at all.
	st.SplitDWARF = SplitDWARF(f, r)
	st.LegacyZdebug = LegacyZdebug(f)
	keep := make([]bool, len(f.Sections))
	for i, s := range f.Sections {
		if !s.HasData {
			continue
		}
		switch elf.SectionType(s.Type) {
		case elf.SHT_NOTE, elf.SHT_SYMTAB, elf.SHT_DYNSYM:
			keep[i] = true
		}
		keep[i] = keep[i] || keepName(s.Name) && !(st.SplitDWARF && isDWARF(s.Name)) || uint32(i) == f.Shstrndx
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
			return nil, fmt.Errorf("section %d (%s) at %#x (%d bytes) extends past end of file (%d bytes)", i, s.Name, s.Off, s.Size, size)
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

	// Go binaries too: Parca looks Go functions up in the DWARF line table
	// as well when there is one, and the Go linker's units, its assembly
	// ones and a cgo binary's C units come out of order (sqlite3_open showed
	// "?:0" in a cgo program). Sorting their compressed table costs a 20 MB
	// binary's extraction about 40 ms (decompress, compress again).
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	// Read through the window (a small file's DWARF is in it already); the
	// window lives until Close, which waits for an upload's recheck.
	x.dwarf = func() error { return checkDWARF(ctx, win, f, keep) }
	dead := deadAt(f)
	r, lines, dropped, err := sortLines(ctx, r, f, keep, dead)
	if err != nil {
		return nil, err
	}
	if lines != nil {
		x.closers = append(x.closers, lines)
	}
	ov, sorted := r.(overlay)
	plain, zlines, zdropped, err := sortCompressedLines(ctx, r, f, keep, dead)
	if err != nil {
		return nil, err
	}
	if zlines != nil {
		x.closers = append(x.closers, zlines)
	}
	if plain == nil {
		plain = map[int]plainSection{} // sections' new bytes, for spool to compress
	}
	st.Discarded = dropped + zdropped
	// Code the linker discarded has line-table sequences: only then is the
	// rest of the DWARF walked for its ranges.
	var patched []span
	if st.Discarded > 0 {
		var zinfo map[int]plainSection
		var zclose io.Closer
		if r, patched, zinfo, zclose, err = hideDiscarded(ctx, r, f, keep, dead); err != nil {
			return nil, err
		}
		if zclose != nil {
			x.closers = append(x.closers, zclose)
		}
		maps.Copy(plain, zinfo)
	}
	// Functions no unit covers get one of their own (see symbolsUnit): the
	// sections it adds to are written as they are without compression.
	syms, named, sclose := symbolsUnit(ctx, r, f, keep, plain, dead)
	if sclose != nil {
		x.closers = append(x.closers, sclose)
	}
	st.SymbolsNamed = named
	for i, p := range syms {
		// Compressed unless --compress-debug-sections=none asks otherwise
		// of a section that was not compressed in the input.
		if opts.Compress != None || f.Sections[i].Flags&uint64(elf.SHF_COMPRESSED) != 0 {
			plain[i] = p
			delete(syms, i)
		}
	}
	comp, spools, err := spool(ctx, r, f, keep, opts.Compress, opts.Reuse, plain)
	if err != nil {
		return nil, err
	}
	if spools != nil {
		x.closers = append(x.closers, spools)
	}
	st.Compressed = len(comp)
	if len(syms) > 0 {
		if comp == nil {
			comp = map[int]packed{}
		}
		for i, p := range syms {
			comp[i] = packed{src: p.r, size: p.size, raw: true}
		}
	}
	l := plan(f, keep, comp)
	if f.Class == elf.ELFCLASS32 && l.size >= 1<<32 { // offsets are 32-bit
		return nil, fmt.Errorf("debug-only ELF32 file would be %d bytes, too large", l.size)
	}

	regions := append(append([]region(nil), l.head...), l.rest...)
	newOff := map[int]uint64{}
	for _, r := range regions {
		if r.sec != noSection {
			newOff[r.sec] = r.new
		}
	}
	shdrs := make([][]byte, len(f.RawSections))
	for i, s := range f.Sections {
		h := f.RawSections[i] // Parse gave us our own copy
		switch {
		case i == 0:
		case comp[i].raw:
			f.PutSectionOffType(h, s.Type, newOff[i])
			f.PutSectionSize(h, comp[i].size)
		case comp[i].src != nil:
			f.PutSectionCompressed(h, newOff[i], comp[i].size, chdrAlign(f.Class))
		case l.kept[i]:
			f.PutSectionOffType(h, s.Type, newOff[i])
		default:
			// Dropped: the header stays as it was, without file bytes
			// and so without a compression header: debug/elf (Parca)
			// refuses a file whose SHF_COMPRESSED section has none to read.
			f.PutSectionOffType(h, uint32(elf.SHT_NOBITS), s.Off)
			clearCompressed(f, h)
		}
		if n := f.Entsize(s.Type); l.kept[i] && n != 0 && s.Entsize != n {
			// A table's entry size is fixed by the ABI; binutils refuse
			// another (symbolizers read the table by the ABI's size).
			f.PutSectionEntsize(h, n)
		}
		shdrs[i] = h
	}
	segs := opts.Segments
	if segs == nil {
		segs, st.SegmentsRestored = restoredSegments(f.Progs, f.Sections)
	}
	program := newProgramSegments(segs, opts.Segments, f.Progs)
	phdrs := make([][]byte, len(f.RawProgs))
	for i, p := range f.Progs {
		h := f.RawProgs[i]
		switch {
		case p.Type == uint32(elf.PT_PHDR):
			f.PutProgOffFilesz(h, l.phoff, p.Filesz)
		case p.Type == uint32(elf.PT_LOAD):
			// p_offset stays: symbolizers match it against a mapping's file
			// offset. Its file bytes are what of it the head holds (none
			// for a segment starting at or past the head's end).
			off, filesz := p.Off, p.Filesz
			if s, ok := program.at(p); ok {
				off, filesz = s.Off, s.Filesz
			} else if s, ok := program.moved(i, p); ok {
				f.PutProgPlace(h, s)
				off, filesz = s.Off, s.Filesz
			}
			f.PutProgOffFilesz(h, off, min(filesz, max(l.headEnd, off)-off))
		default:
			if off, ok := l.segment(p.Off, p.Filesz); ok {
				f.PutProgOffFilesz(h, off, p.Filesz)
			} else {
				f.PutProgOffFilesz(h, p.Off, 0)
			}
		}
		phdrs[i] = h
	}
	out := make([]elfparse.Prog, len(phdrs))
	for i, h := range phdrs {
		out[i] = f.DecodeProg(h)
	}
	loads := newLoadIndex(out)
	followLoads(f, phdrs, out, loads)
	unreadableSegments(f, phdrs, out, loads)

	// The parts, in output order.
	x.add(bytesPart(f.PutHeaderOffsets(l.phoff, l.shoff)))
	if len(phdrs) > 0 { // none in relocatable objects (.o, .dwo): phoff is 0
		x.padTo(int64(l.phoff))
		x.add(bytesPart(bytes.Join(phdrs, nil)))
	}
	for _, rg := range regions {
		x.padTo(int64(rg.new))
		p := Part{Src: input, Off: int64(rg.old), N: int64(rg.size)}
		switch {
		case rg.spooled != nil:
			p.Src = rg.spooled
		case overlapsSpan(patched, p.Off, p.N):
			p.Src = r // its discarded code's ranges emptied
		case sorted && p.Off >= ov.off && p.Off+p.N <= ov.off+ov.size:
			p.Src, p.Off = ov.sec, p.Off-ov.off // the sorted .debug_line
		case sorted && p.Off < ov.off+ov.size && ov.off < p.Off+p.N:
			p.Src = r // straddles it (it cannot: see overlapsAnother)
		case elfparse.Holds(win, p.Off, p.N):
			p.Src = win // read already: a small file is read once
		}
		x.add(p)
	}
	if len(shdrs) > 0 { // none in a file stripped of them (sstrip): shoff is 0
		x.padTo(int64(l.shoff))
		x.add(bytesPart(bytes.Join(shdrs, nil)))
	}
	if x.size != int64(l.size) {
		return nil, fmt.Errorf("internal error: laid out %d bytes, planned %d", x.size, l.size)
	}
	if !logAll {
		x.log.seal()
	}
	return x, nil
}

const copyBufferMax = 1 << 20

// loadIndex finds a PT_LOAD holding an address range in O(log n): a
// hostile file may have 65,535 program headers, and a scan of them all for
// each would take minutes.
type loadIndex struct {
	loads []elfparse.Prog // by Vaddr
	top   []int           // top[i]: the one of loads[:i+1] that ends highest
}

func newLoadIndex(progs []elfparse.Prog) loadIndex {
	var x loadIndex
	for _, p := range progs {
		if p.Type == uint32(elf.PT_LOAD) {
			x.loads = append(x.loads, p)
		}
	}
	slices.SortStableFunc(x.loads, func(a, b elfparse.Prog) int { return cmp.Compare(a.Vaddr, b.Vaddr) })
	for i, l := range x.loads {
		if i == 0 || satEnd(l.Vaddr, l.Memsz) > satEnd(x.loads[x.top[i-1]].Vaddr, x.loads[x.top[i-1]].Memsz) {
			x.top = append(x.top, i)
		} else {
			x.top = append(x.top, x.top[i-1])
		}
	}
	return x
}

// holding is a PT_LOAD whose memory holds [vaddr, vaddr+size).
func (x loadIndex) holding(vaddr, size uint64) (elfparse.Prog, bool) {
	i := sort.Search(len(x.loads), func(i int) bool { return x.loads[i].Vaddr > vaddr }) - 1
	if i < 0 {
		return elfparse.Prog{}, false
	}
	l := x.loads[x.top[i]]
	return l, satEnd(vaddr, size) <= satEnd(l.Vaddr, l.Memsz)
}

// satEnd is a+n, saturated: hostile headers overflow.
func satEnd(a, n uint64) uint64 {
	if s, c := bits.Add64(a, n, 0); c == 0 {
		return s
	}
	return math.MaxUint64
}

// followLoads gives a segment without file bytes in the output (PT_DYNAMIC,
// PT_GNU_EH_FRAME, PT_GNU_RELRO) the offset of its address in the PT_LOAD
// holding it. A linker's are that already; objcopy --only-keep-debug moves
// them, and the PT_LOADs' offsets may have been put back since. out are
// phdrs decoded; PT_LOADs are not changed.
func followLoads(f *elfparse.File, phdrs [][]byte, out []elfparse.Prog, loads loadIndex) {
	for i, p := range f.Progs {
		if p.Type == uint32(elf.PT_LOAD) || p.Type == uint32(elf.PT_PHDR) || out[i].Filesz != 0 || p.Memsz == 0 {
			continue
		}
		if l, ok := loads.holding(p.Vaddr, p.Memsz); ok {
			out[i].Off = l.Off + (p.Vaddr - l.Vaddr)
			f.PutProgOffFilesz(phdrs[i], out[i].Off, 0)
		}
	}
}

// unreadableSegments makes PT_NULL of the segments binutils cannot read in
// the output, which they report as errors: a PT_PHDR that no PT_LOAD's
// file bytes and addresses cover (a damaged input: a linker puts the
// program headers in the first segment), and a PT_INTERP without its bytes
// (the input was a debug file: objcopy --only-keep-debug keeps none of
// .interp). Symbolizers read neither.
func unreadableSegments(f *elfparse.File, phdrs [][]byte, out []elfparse.Prog, loads loadIndex) {
	for i, p := range out {
		unreadable := false
		switch p.Type {
		case uint32(elf.PT_PHDR):
			// binutils want it in one PT_LOAD's file bytes and addresses.
			l, ok := loads.holding(p.Vaddr, p.Filesz)
			unreadable = !ok || l.Off > p.Off || satEnd(p.Off, p.Filesz) > satEnd(l.Off, l.Filesz) || satEnd(p.Vaddr, p.Filesz) > satEnd(l.Vaddr, l.Filesz)
		case uint32(elf.PT_INTERP):
			unreadable = p.Filesz == 0
		}
		if unreadable {
			f.PutProgType(phdrs[i], uint32(elf.PT_NULL))
		}
	}
}

// programSegments finds, for each PT_LOAD of a debug file, the same
// segment in the program it was made from: by a map, as a hostile file
// may have 65,535 of them.
type programSegments struct {
	byPlace map[segPlace]elfparse.Prog
	// given are the program's own headers (Options.Segments), when they
	// are the debug file's type for type (see moved).
	given []elfparse.Prog
}

// segPlace is what a debug file keeps of its program's PT_LOAD: address,
// size and flags.
type segPlace struct {
	typ, flags   uint32
	vaddr, memsz uint64
}

// newProgramSegments indexes segs (the program's PT_LOADs, given or put
// back); given and debug are the program's and the debug file's headers.
func newProgramSegments(segs, given, debug []elfparse.Prog) programSegments {
	x := programSegments{byPlace: map[segPlace]elfparse.Prog{}}
	for _, s := range segs {
		k := segPlace{s.Type, s.Flags, s.Vaddr, s.Memsz}
		if _, dup := x.byPlace[k]; !dup {
			x.byPlace[k] = s // the first, as a scan would find
		}
	}
	if len(given) == len(debug) && slices.EqualFunc(given, debug, func(a, b elfparse.Prog) bool { return a.Type == b.Type }) {
		x.given = given
	}
	return x
}

// at is the program's PT_LOAD at p's address, of p's size and flags.
func (x programSegments) at(p elfparse.Prog) (elfparse.Prog, bool) {
	s, ok := x.byPlace[segPlace{p.Type, p.Flags, p.Vaddr, p.Memsz}]
	return s, ok
}

// moved is the program's PT_LOAD at index i when the debug file's (p) is
// one objcopy moved, so that no address matches (it puts llvm-bolt's code
// segment at 0x674, of another size): the program's header is taken whole
// then. Only when both have the same program headers, type for type, and
// this one has the same flags: a debug file is paired with its program by
// build ID and section layout already.
func (x programSegments) moved(i int, p elfparse.Prog) (elfparse.Prog, bool) {
	if x.given == nil {
		return elfparse.Prog{}, false
	}
	return x.given[i], x.given[i].Flags == p.Flags
}

// clearCompressed clears SHF_COMPRESSED in the raw section header h.
func clearCompressed(f *elfparse.File, h []byte) {
	if f.Class == elf.ELFCLASS64 {
		f.Order.PutUint64(h[8:], f.Order.Uint64(h[8:])&^uint64(elf.SHF_COMPRESSED))
	} else {
		f.Order.PutUint32(h[8:], f.Order.Uint32(h[8:])&^uint32(elf.SHF_COMPRESSED))
	}
}

func sanitizeAlign(a uint64) uint64 {
	if a == 0 || a&(a-1) != 0 || a > 1<<16 {
		return 1
	}
	return a
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// countWriter counts bytes and remembers the first error.
type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

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

// deadAt says where a linker put the DWARF of code it discarded (see
// package tombstone): address 0 when no code is there, and lld's all-ones
// (and, in .debug_ranges, all-ones less one). Code is where an executable
// section is: gold and GNU ld's -z noseparate-code start the first
// executable segment at 0, with the ELF header, not code, there (review
// s14-r5, finding 2); without section headers, the executable segments
// tell. Nil for a file without segments (.o, .dwo), whose addresses count
// from each section.
func deadAt(f *elfparse.File) func(uint64) bool {
	load, zeroRuns := false, false
	for _, p := range f.Progs {
		if p.Type == uint32(elf.PT_LOAD) {
			load = true
			zeroRuns = zeroRuns || p.Flags&uint32(elf.PF_X) != 0 && p.Vaddr == 0 && p.Memsz > 0
		}
	}
	if !load {
		return nil
	}
	if len(f.Sections) > 1 {
		const exec = uint64(elf.SHF_ALLOC | elf.SHF_EXECINSTR)
		zeroRuns = slices.ContainsFunc(f.Sections, func(s elfparse.Section) bool {
			return s.Flags&exec == exec && s.Addr == 0 && s.Size > 0
		})
	}
	top := ^uint64(0)
	if f.Class == elf.ELFCLASS32 {
		top = 1<<32 - 1
	}
	return func(a uint64) bool { return a == 0 && !zeroRuns || a >= top-1 }
}

// sortLines returns r with the kept, uncompressed .debug_line section's
// sequences in address order (see package lineorder), written to a spool
// (memory up to memSpoolMax, else an unlinked temp file) that the caller
// closes, or r as it is and no spool.
func sortLines(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, dead func(uint64) bool) (io.ReaderAt, io.Closer, int, error) {
	for i, s := range f.Sections {
		if !keep[i] || s.Name != ".debug_line" || s.Flags&uint64(elf.SHF_COMPRESSED) != 0 || overlapsAnother(f, i) {
			continue
		}
		sp, err := lineSpool(s.Size)
		if err != nil {
			return nil, nil, 0, err
		}
		opts := lineorder.Options{JoinAlone: true, Dead: dead}
		ok, dropped, err := lineorder.ReorderWith(ctx, io.NewSectionReader(r, int64(s.Off), int64(s.Size)), int64(s.Size), f.Order, opts, sp)
		if err == nil && ok {
			err = sp.flush()
		}
		if err != nil || !ok {
			sp.Close()
			if ctx.Err() != nil {
				return nil, nil, 0, ctx.Err()
			}
			if err != nil {
				return nil, nil, 0, fmt.Errorf("reading .debug_line: %w", err)
			}
			return r, nil, 0, nil
		}
		return overlay{ReaderAt: r, off: int64(s.Off), size: int64(s.Size), sec: sp}, sp, dropped, nil
	}
	return r, nil, 0, nil
}

// lineSpool is where a sorted .debug_line of size bytes is written: memory
// up to memSpoolMax, else an unlinked temp file.
func lineSpool(size uint64) (flushSpool, error) {
	if size <= memSpoolMax {
		return &memSpool{b: make([]byte, 0, size)}, nil
	}
	t, err := scratch.File("debuginfo-lines-*")
	if err != nil {
		return nil, err
	}
	return newFileSpool(t), nil
}

// flushSpool is a spoolFile whose writes are readable after flush.
type flushSpool interface {
	spoolFile
	flush() error
}

func (m *memSpool) flush() error  { return nil }
func (s *fileSpool) flush() error { return s.w.Flush() }

// overlapsAnother says whether section i shares file bytes with another
// section (only in a crafted file): its new order would change that one too.
func overlapsAnother(f *elfparse.File, i int) bool {
	a := f.Sections[i]
	for j, b := range f.Sections {
		if j != i && b.HasData && b.Type != uint32(elf.SHT_NOBITS) && a.Off < b.Off+b.Size && b.Off < a.Off+a.Size {
			return true
		}
	}
	return false
}

// overlay is a file whose bytes [off, off+size) are read from sec instead.
type overlay struct {
	io.ReaderAt
	off, size int64
	sec       io.ReaderAt
}

func (o overlay) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		at := off + int64(n)
		var m int
		var err error
		switch {
		case at < o.off:
			m, err = o.ReaderAt.ReadAt(p[n:min(len(p), n+int(o.off-at))], at)
		case at < o.off+o.size:
			m, err = o.sec.ReadAt(p[n:min(len(p), n+int(o.off+o.size-at))], at-o.off)
		default:
			m, err = o.ReaderAt.ReadAt(p[n:], at)
		}
		n += m
		if err == io.EOF && m > 0 && n < len(p) && at < o.off+o.size {
			err = nil // the end of one part, not of the file
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

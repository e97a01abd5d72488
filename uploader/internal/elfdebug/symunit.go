package elfdebug

import (
	"bytes"
	"cmp"
	"context"
	"debug/elf"
	"encoding/binary"
	"io"
	"slices"
	"sort"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/tombstone"
)

// Functions without DWARF in a binary with DWARF (libc's in a -static
// program, a prebuilt .a built without -g, crt's _start) get no frame at
// all in Parca v0.28.0, not even their symbol's name: it looks an address
// up in the DWARF alone once there is DWARF, and finds no unit (review
// s14-r1, finding 3). symbolsUnit appends one DWARF unit naming those
// functions, from the symbol table: units are searched in order, so the
// program's own units still answer for their code, and this one, last,
// only for what none of them covers. It gives names, no lines, as a
// symbols-only upload would.

// symbolsUnitName is the unit's DW_AT_name.
const symbolsUnitName = "<functions without DWARF, from the symbol table>"

// maxSymbolsUnit bounds the unit (a binary whose DWARF covers little of
// it gets names for the first this many bytes' worth of functions).
const maxSymbolsUnit = 2 << 20

// symFunc is one function of the symbol table that no unit covers.
type symFunc struct {
	addr, size uint64
	name       []byte
	nameOff    int64 // of name in the string table
	global     bool
}

// symbolsUnit returns, for each of .debug_info, .debug_abbrev and
// .debug_line, its new bytes (the section as it is now, then what it gains)
// when some function of the symbol table lies outside every unit, and how
// many functions the new unit names. A section is as it is now: its bytes
// in plain when an earlier step rewrote it (sorted lines, emptied ranges),
// else decompressed when it is compressed in the input (closer closes
// those bytes), else read from r. Nothing when the three are not all kept,
// or the DWARF cannot be followed, or dead (deadAt's) is nil.
func symbolsUnit(ctx context.Context, r io.ReaderAt, f *elfparse.File, keep []bool, plain map[int]plainSection, dead func(uint64) bool) (_ map[int]plainSection, _ int, closer io.Closer) {
	if dead == nil { // deadAt's nil: no segments, an object file's addresses are its sections'
		return nil, 0, nil
	}
	secs, idx := dwarfSections(r, f, keep)
	var spools map[int]inflatedSection
	if !goProgram(f) {
		// Go's linker compresses its DWARF, which covers all but a few
		// cgo helpers: not worth decompressing and compressing again
		// (Parca's own binary: +1 s of CPU for 43 functions).
		spools = inflated(ctx, r, f, keep, &secs, idx, true, plain)
	}
	var used closers
	defer func() {
		for _, in := range spools {
			if !slices.Contains(used, io.Closer(in.sp)) {
				in.sp.Close()
			}
		}
	}()
	for i, p := range plain {
		if sec := tombstoneSection(&secs, f.Sections[i].Name); sec != nil {
			*sec = tombstone.Section{R: p.r, Size: int64(p.size)}
			idx[f.Sections[i].Name] = i
		}
	}
	// .debug_line is not read for coverage: its bytes and size, as they are now.
	now := func(i int) (io.ReaderAt, uint64) {
		if p, ok := plain[i]; ok {
			return p.r, p.size
		}
		if in, ok := spools[i]; ok {
			return in.sp, uint64(in.size)
		}
		s := f.Sections[i]
		return io.NewSectionReader(r, int64(s.Off), int64(s.Size)), s.Size
	}
	secs.Aranges = tombstone.Section{} // units' ranges are in .debug_info
	info, iok := idx[".debug_info"]
	abbrev, aok := idx[".debug_abbrev"]
	line, lok := idx[".debug_line"]
	if !iok || !aok || !lok {
		return nil, 0, nil
	}
	_, abbrevOff := now(abbrev)
	_, lineOff := now(line)
	if abbrevOff >= 1<<32 || lineOff >= 1<<32 {
		return nil, 0, nil // the new unit's offsets into them are 32-bit
	}
	cover, err := tombstone.Coverage(ctx, secs, f.Order)
	if err != nil {
		return nil, 0, nil
	}
	funcs := uncovered(r, f, keep, merge(cover))
	if len(funcs) == 0 {
		return nil, 0, nil
	}
	asize := 8
	if f.Class == elf.ELFCLASS32 {
		asize = 4
	}
	bo, ok := f.Order.(binary.AppendByteOrder)
	if !ok {
		return nil, 0, nil
	}
	add := map[int][]byte{
		abbrev: symbolsAbbrevs,
		line:   lineUnit(bo, asize, end(funcs)),
		info:   infoUnit(bo, asize, uint32(abbrevOff), uint32(lineOff), funcs),
	}
	out := map[int]plainSection{}
	for i, b := range add {
		rd, size := now(i)
		if in, ok := spools[i]; ok && plain[i].r == nil {
			used = append(used, in.sp)
		}
		out[i] = plainSection{r: appended{rd, int64(size), b}, size: size + uint64(len(b))}
	}
	if len(used) > 0 {
		closer = used
	}
	return out, len(funcs), closer
}

// goProgram says whether f was linked by Go's linker.
func goProgram(f *elfparse.File) bool {
	for _, s := range f.Sections {
		if s.Name == ".gopclntab" || s.Name == ".note.go.buildid" {
			return true
		}
	}
	return false
}

// merge sorts ranges and joins those that touch or overlap.
func merge(rs [][2]uint64) [][2]uint64 {
	slices.SortFunc(rs, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]uint64
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// uncovered reads the symbol table (.symtab, else .dynsym) and returns its
// functions that lie in no range of cover (merged), one per address (a
// global name over a local one), in address order.
func uncovered(r io.ReaderAt, f *elfparse.File, keep []bool, cover [][2]uint64) []symFunc {
	tab := -1
	for i, s := range f.Sections {
		if keep[i] && s.HasData && s.Type == uint32(elf.SHT_SYMTAB) {
			tab = i
		}
	}
	if tab < 0 {
		for i, s := range f.Sections {
			if keep[i] && s.HasData && s.Type == uint32(elf.SHT_DYNSYM) {
				tab = i
			}
		}
	}
	if tab < 0 || int(f.Sections[tab].Link) >= len(f.Sections) {
		return nil
	}
	sym, str := f.Sections[tab], f.Sections[f.Sections[tab].Link]
	if !str.HasData || str.Flags&uint64(elf.SHF_COMPRESSED) != 0 || sym.Flags&uint64(elf.SHF_COMPRESSED) != 0 {
		return nil
	}
	entSize := uint64(24)
	if f.Class == elf.ELFCLASS32 {
		entSize = 16
	}
	inCover := func(a uint64) bool {
		i := sort.Search(len(cover), func(i int) bool { return cover[i][1] > a })
		return i < len(cover) && cover[i][0] <= a
	}
	// The functions first, then their names in string-table order: the
	// table is read once, forward, whatever order symbols name it in.
	byAddr := map[uint64]int{}
	var funcs []symFunc
	buf := make([]byte, min(64<<10, sym.Size)/entSize*entSize) // a small table, a small buffer
	for at := uint64(0); at+entSize <= sym.Size && len(funcs) < maxSymbolsUnit/24; {
		n, err := r.ReadAt(buf[:min(uint64(len(buf)), (sym.Size-at)/entSize*entSize)], int64(sym.Off+at))
		if n < int(entSize) {
			break
		}
		for e := 0; e+int(entSize) <= n && len(funcs) < maxSymbolsUnit/24; e += int(entSize) {
			b := buf[e : e+int(entSize)]
			var name uint32
			var value, size uint64
			var info uint8
			var shndx uint16
			if entSize == 24 {
				name, info, shndx, value, size = f.Order.Uint32(b), b[4], f.Order.Uint16(b[6:]), f.Order.Uint64(b[8:]), f.Order.Uint64(b[16:])
			} else {
				name, value, size, info, shndx = f.Order.Uint32(b), uint64(f.Order.Uint32(b[4:])), uint64(f.Order.Uint32(b[8:])), b[12], f.Order.Uint16(b[14:])
			}
			typ, bind := elf.SymType(info&0xf), elf.SymBind(info>>4)
			if typ != elf.STT_FUNC && typ != elf.STT_GNU_IFUNC || size == 0 || name == 0 || shndx == uint16(elf.SHN_UNDEF) || shndx >= uint16(elf.SHN_LORESERVE) || inCover(value) {
				continue
			}
			global := bind == elf.STB_GLOBAL || bind == elf.STB_WEAK
			fn := symFunc{addr: value, size: size, nameOff: int64(name), global: global}
			if k, ok := byAddr[value]; ok {
				if global && !funcs[k].global {
					funcs[k] = fn // a global name over a local one
				}
				continue
			}
			byAddr[value] = len(funcs)
			funcs = append(funcs, fn)
		}
		if err != nil && err != io.EOF {
			break
		}
		at += uint64(n) / entSize * entSize
	}
	slices.SortFunc(funcs, func(a, b symFunc) int { return cmp.Compare(a.nameOff, b.nameOff) })
	strs := &strtab{r: io.NewSectionReader(r, int64(str.Off), int64(str.Size))}
	named := funcs[:0]
	total := 0
	for _, fn := range funcs {
		if fn.name = strs.name(fn.nameOff); len(fn.name) == 0 {
			continue
		}
		if total += len(fn.name) + 24; total > maxSymbolsUnit {
			break
		}
		named = append(named, fn)
	}
	slices.SortFunc(named, func(a, b symFunc) int { return cmp.Compare(a.addr, b.addr) })
	return named
}

// strtab reads names from a string table through a 64 KiB window that
// moves forward: names asked for in table order cost one read per 64 KiB.
// A read per name cost a static C++ program's extraction 5,000 system
// calls, each logged and hashed for the recheck.
type strtab struct {
	r   *io.SectionReader
	buf []byte
	at  int64 // offset of buf in r
}

// maxName bounds a name: a longer one is left out.
const maxName = 4 << 10

// name is the NUL-terminated string at off, nil if there is none (past the
// table, unterminated, or longer than maxName).
func (s *strtab) name(off int64) []byte {
	if off < s.at || off >= s.at+int64(len(s.buf)) || bytes.IndexByte(s.buf[off-s.at:], 0) < 0 {
		if s.buf == nil {
			s.buf = make([]byte, min(64<<10, s.r.Size())) // a small table, a small buffer
		}
		n, _ := s.r.ReadAt(s.buf[:cap(s.buf)], off)
		s.buf, s.at = s.buf[:n], off
	}
	b := s.buf[off-s.at:]
	i := bytes.IndexByte(b, 0)
	if i < 0 || i > maxName {
		return nil
	}
	return bytes.Clone(b[:i])
}

// symbolsAbbrevs is the unit's abbreviation table: 1, the unit (name,
// line table, low_pc, high_pc as a length, children); 2, a function (name,
// low_pc, high_pc as a length).
var symbolsAbbrevs = []byte{
	1, 0x11, 1, 0x03, 0x08, 0x10, 0x17, 0x11, 0x01, 0x12, 0x0f, 0, 0,
	2, 0x2e, 0, 0x03, 0x08, 0x11, 0x01, 0x12, 0x0f, 0, 0,
	0,
}

// lineUnit is the unit's DWARF 4 line table: one file, "??", and one
// sequence whose only row is its end, at hi, past every function of the
// unit, so that no function gets a line from it. A unit needs a line table
// for a symbolizer to read it (Parca asks for its lines), and one with a
// statement row: Parca caches a unit's tables only once it has one, and
// rebuilt them, adding every function again, at every address looked up
// (an empty table took a Parca to 20 GB on a static C++ program).
func lineUnit(bo binary.AppendByteOrder, asize int, hi uint64) []byte {
	hdr := []byte{1, 1, 1, 0xfb, 14, 13, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1} // to the opcode lengths
	hdr = append(hdr, 0)                                                     // no directories
	hdr = append(hdr, '?', '?', 0, 0, 0, 0, 0)                               // one file, then the end
	prog := []byte{0, byte(1 + asize), 2}                                    // DW_LNE_set_address
	if asize == 4 {
		prog = bo.AppendUint32(prog, uint32(hi))
	} else {
		prog = bo.AppendUint64(prog, hi)
	}
	prog = append(prog, 0, 1, 1) // DW_LNE_end_sequence: the row
	b := bo.AppendUint32(nil, uint32(2+4+len(hdr)+len(prog)))
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, uint32(len(hdr)))
	return append(append(b, hdr...), prog...)
}

// infoUnit is the DWARF 4 unit naming funcs (in address order).
func infoUnit(bo binary.AppendByteOrder, asize int, abbrevOff, lineOff uint32, funcs []symFunc) []byte {
	addr := func(b []byte, a uint64) []byte {
		if asize == 4 {
			return bo.AppendUint32(b, uint32(a))
		}
		return bo.AppendUint64(b, a)
	}
	lo, hi := funcs[0].addr, end(funcs)
	var d []byte
	d = append(d, 1)
	d = append(append(d, symbolsUnitName...), 0)
	d = bo.AppendUint32(d, lineOff)
	d = addr(d, lo)
	d = binary.AppendUvarint(d, hi-lo)
	for _, fn := range funcs {
		d = append(d, 2)
		d = append(append(d, fn.name...), 0)
		d = addr(d, fn.addr)
		d = binary.AppendUvarint(d, fn.size)
	}
	d = append(d, 0) // the end of the unit's children
	b := bo.AppendUint32(nil, uint32(2+4+1+len(d)))
	b = bo.AppendUint16(b, 4)
	b = bo.AppendUint32(b, abbrevOff)
	b = append(b, byte(asize))
	return append(b, d...)
}

// end is where the last of funcs ends.
func end(funcs []symFunc) uint64 {
	hi := uint64(0)
	for _, fn := range funcs {
		hi = max(hi, fn.addr+fn.size)
	}
	return hi
}

// appended reads r's first n bytes, then tail.
type appended struct {
	r    io.ReaderAt
	n    int64
	tail []byte
}

func (a appended) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	if off < a.n {
		k, err := a.r.ReadAt(p[:min(int64(len(p)), a.n-off)], off)
		done = k
		if k < int(min(int64(len(p)), a.n-off)) {
			return done, err
		}
	}
	if done < len(p) {
		at := off + int64(done) - a.n
		if at >= int64(len(a.tail)) {
			return done, io.EOF
		}
		done += copy(p[done:], a.tail[at:])
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

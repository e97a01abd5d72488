// Package elfparse is a minimal, defensive ELF header reader shared by
// buildid, elfdebug and stamp. It reads only the ELF header, program
// headers, section headers, the section name table and notes, so its cost
// does not grow with the size of the file, and it bounds-checks every
// offset because its input is often whatever a user pointed us at.
package elfparse

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrNotELF is wrapped by errors for input that is not an ELF file.
var ErrNotELF = errors.New("not an ELF file")

// Limits that keep corrupt headers from making us allocate or read a lot.
const (
	maxSections  = 1 << 20  // far above any real file, far below what a lie could claim
	maxProgs     = 1 << 16  // PN_XNUM files are theoretical; cap them anyway
	maxEntsize   = 256      // a header table entry is 32 to 64 bytes; this bounds a table's allocation
	maxShstrtab  = 16 << 20 // section names are a few KiB in practice
	maxNoteBytes = 16 << 20 // total note bytes scanned per file
	// MaxDesc is the largest note descriptor we keep in memory.
	MaxDesc = 4096
)

// Prog is a program header.
type Prog struct {
	Type, Flags                             uint32
	Off, Vaddr, Paddr, Filesz, Memsz, Align uint64
}

// Section is a section header plus its resolved name.
type Section struct {
	Name                   string
	NameOff, Type          uint32
	Flags, Addr, Off, Size uint64
	Link, Info             uint32
	Addralign, Entsize     uint64
	HasData                bool // occupies file bytes (not NOBITS, size > 0)
}

// File is the parsed header view of an ELF file.
type File struct {
	Class    elf.Class
	Order    binary.ByteOrder
	Size     int64
	Header   []byte // the raw ELF header (e_ehsize bytes)
	Ehsize   int
	Phoff    uint64
	Phentsz  int
	Shoff    uint64
	Shentsz  int
	Shstrndx uint32
	Progs    []Prog
	// RawProgs and RawSections hold each header's bytes so writers can keep
	// fields (and any extra bytes of larger entries) they do not change.
	RawProgs    [][]byte
	Sections    []Section
	RawSections [][]byte
}

func (f *File) is64() bool { return f.Class == elf.ELFCLASS64 }

// Parse reads the headers of the ELF file in r (size bytes).
func Parse(r io.ReaderAt, size int64) (*File, error) {
	var ident [elf.EI_NIDENT]byte
	if size < int64(len(ident)) {
		return nil, fmt.Errorf("%w: %d bytes", ErrNotELF, size)
	}
	if _, err := r.ReadAt(ident[:], 0); err != nil {
		return nil, fmt.Errorf("reading ELF ident: %w", err)
	}
	if !bytes.Equal(ident[:4], []byte(elf.ELFMAG)) {
		return nil, fmt.Errorf("%w: bad magic", ErrNotELF)
	}
	f := &File{Class: elf.Class(ident[elf.EI_CLASS]), Size: size}
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		f.Order = binary.LittleEndian
	case elf.ELFDATA2MSB:
		f.Order = binary.BigEndian
	default:
		return nil, fmt.Errorf("%w: unknown data encoding %d", ErrNotELF, ident[elf.EI_DATA])
	}
	var stdEh, stdPh, stdSh int
	switch f.Class {
	case elf.ELFCLASS32:
		stdEh, stdPh, stdSh = 52, 32, 40
	case elf.ELFCLASS64:
		stdEh, stdPh, stdSh = 64, 56, 64
	default:
		return nil, fmt.Errorf("%w: unknown class %d", ErrNotELF, ident[elf.EI_CLASS])
	}
	if size < int64(stdEh) {
		return nil, fmt.Errorf("truncated ELF header: file has %d bytes", size)
	}
	hdr := make([]byte, stdEh)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, fmt.Errorf("reading ELF header: %w", err)
	}
	o := f.Order
	var phnum, shnum uint64
	if f.is64() {
		f.Phoff = o.Uint64(hdr[32:])
		f.Shoff = o.Uint64(hdr[40:])
		f.Ehsize = int(o.Uint16(hdr[52:]))
		f.Phentsz = int(o.Uint16(hdr[54:]))
		phnum = uint64(o.Uint16(hdr[56:]))
		f.Shentsz = int(o.Uint16(hdr[58:]))
		shnum = uint64(o.Uint16(hdr[60:]))
		f.Shstrndx = uint32(o.Uint16(hdr[62:]))
	} else {
		f.Phoff = uint64(o.Uint32(hdr[28:]))
		f.Shoff = uint64(o.Uint32(hdr[32:]))
		f.Ehsize = int(o.Uint16(hdr[40:]))
		f.Phentsz = int(o.Uint16(hdr[42:]))
		phnum = uint64(o.Uint16(hdr[44:]))
		f.Shentsz = int(o.Uint16(hdr[46:]))
		shnum = uint64(o.Uint16(hdr[48:]))
		f.Shstrndx = uint32(o.Uint16(hdr[50:]))
	}
	if f.Ehsize < stdEh || int64(f.Ehsize) > size || f.Ehsize > 4096 {
		return nil, fmt.Errorf("bad ELF header size %d", f.Ehsize)
	}
	f.Header = make([]byte, f.Ehsize)
	if _, err := r.ReadAt(f.Header, 0); err != nil {
		return nil, fmt.Errorf("reading ELF header: %w", err)
	}

	// Section headers first: extended numbering keeps the real counts in
	// section 0.
	if f.Shoff != 0 {
		if f.Shentsz < stdSh || f.Shentsz > maxEntsize {
			return nil, fmt.Errorf("bad section header size %d", f.Shentsz)
		}
		if shnum == 0 || f.Shstrndx == uint32(elf.SHN_XINDEX) || phnum == 0xffff {
			s0, err := readAt(r, size, f.Shoff, uint64(f.Shentsz), "section header 0")
			if err != nil {
				return nil, err
			}
			first := f.decodeSection(s0)
			if shnum == 0 {
				shnum = first.Size
			}
			if f.Shstrndx == uint32(elf.SHN_XINDEX) {
				if first.Link == 0 {
					return nil, fmt.Errorf("corrupt ELF: section name table index escapes to section 0, which names none")
				}
				f.Shstrndx = first.Link
			}
			if phnum == 0xffff {
				phnum = uint64(first.Info)
			}
		}
		if shnum > maxSections {
			return nil, fmt.Errorf("too many sections (%d)", shnum)
		}
		raw, err := f.readTable(r, f.Shoff, shnum, f.Shentsz, "section headers")
		if err != nil {
			return nil, err
		}
		f.RawSections, f.Sections = raw, make([]Section, len(raw))
		for i, b := range raw {
			f.Sections[i] = f.decodeSection(b)
		}
		for i := range f.Sections {
			s := &f.Sections[i]
			s.HasData = i > 0 && s.Type != uint32(elf.SHT_NOBITS) && s.Size > 0
		}
		if err := f.readNames(r); err != nil {
			return nil, err
		}
	}
	if f.Phoff == 0 && phnum > 0 {
		// Inside the ELF header itself: no linker writes that, and a
		// copy could not keep both (debug/elf then read past its end).
		return nil, fmt.Errorf("%d program headers at offset 0, inside the ELF header", phnum)
	}
	if f.Phoff != 0 && phnum > 0 {
		if f.Phentsz < stdPh || f.Phentsz > maxEntsize {
			return nil, fmt.Errorf("bad program header size %d", f.Phentsz)
		}
		if phnum > maxProgs {
			return nil, fmt.Errorf("too many program headers (%d)", phnum)
		}
		raw, err := f.readTable(r, f.Phoff, phnum, f.Phentsz, "program headers")
		if err != nil {
			return nil, err
		}
		f.RawProgs, f.Progs = raw, make([]Prog, len(raw))
		for i, b := range raw {
			f.Progs[i] = f.DecodeProg(b)
		}
	}
	return f, nil
}

// readTable reads n entries of entsz bytes at off in one read (the size is
// checked against the file first, so a lying count costs at most what the
// file holds) and returns each entry as its own slice of that one buffer.
func (f *File) readTable(r io.ReaderAt, off, n uint64, entsz int, what string) ([][]byte, error) {
	total := n * uint64(entsz) // n <= 1<<20, entsz < 1<<16: no overflow
	if off > uint64(f.Size) || total > uint64(f.Size)-off {
		return nil, fmt.Errorf("%s at %#x (%d bytes) extend past end of file (%d bytes)", what, off, total, f.Size)
	}
	buf := make([]byte, total)
	if _, err := r.ReadAt(buf, int64(off)); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	entries := make([][]byte, n)
	for i := range entries {
		lo, hi := uint64(i)*uint64(entsz), uint64(i+1)*uint64(entsz)
		entries[i] = buf[lo:hi:hi]
	}
	return entries, nil
}

func (f *File) readNames(r io.ReaderAt) error {
	if f.Shstrndx == 0 || len(f.Sections) == 0 {
		return nil // no names: sections stay anonymous
	}
	if int(f.Shstrndx) >= len(f.Sections) {
		// Without names no debug section can be recognised: refusing beats
		// silently writing a debuginfo file without its DWARF.
		return fmt.Errorf("corrupt ELF: section name table index %d, but only %d sections", f.Shstrndx, len(f.Sections))
	}
	st := f.Sections[f.Shstrndx]
	if !st.HasData {
		return nil
	}
	n := min(st.Size, maxShstrtab)
	tab, err := readAt(r, f.Size, st.Off, n, "section name table")
	if err != nil {
		return err
	}
	for i := range f.Sections {
		s := &f.Sections[i]
		if uint64(s.NameOff) < uint64(len(tab)) {
			name := tab[s.NameOff:]
			if j := bytes.IndexByte(name, 0); j >= 0 {
				name = name[:j]
			}
			s.Name = string(name)
		}
	}
	return nil
}

// readAt reads n bytes at off, failing cleanly when that is outside the file.
func readAt(r io.ReaderAt, size int64, off, n uint64, what string) ([]byte, error) {
	if off > uint64(size) || n > uint64(size)-off {
		return nil, fmt.Errorf("%s at %#x (%d bytes) extends past end of file (%d bytes)", what, off, n, size)
	}
	b := make([]byte, n)
	if _, err := r.ReadAt(b, int64(off)); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	return b, nil
}

// InFile reports whether [off, off+n) lies inside the file.
func (f *File) InFile(off, n uint64) bool {
	return off <= uint64(f.Size) && n <= uint64(f.Size)-off
}

func (f *File) decodeSection(b []byte) Section {
	o := f.Order
	if f.is64() {
		return Section{NameOff: o.Uint32(b[0:]), Type: o.Uint32(b[4:]), Flags: o.Uint64(b[8:]),
			Addr: o.Uint64(b[16:]), Off: o.Uint64(b[24:]), Size: o.Uint64(b[32:]),
			Link: o.Uint32(b[40:]), Info: o.Uint32(b[44:]), Addralign: o.Uint64(b[48:]), Entsize: o.Uint64(b[56:])}
	}
	return Section{NameOff: o.Uint32(b[0:]), Type: o.Uint32(b[4:]), Flags: uint64(o.Uint32(b[8:])),
		Addr: uint64(o.Uint32(b[12:])), Off: uint64(o.Uint32(b[16:])), Size: uint64(o.Uint32(b[20:])),
		Link: o.Uint32(b[24:]), Info: o.Uint32(b[28:]), Addralign: uint64(o.Uint32(b[32:])), Entsize: uint64(o.Uint32(b[36:]))}
}

// DecodeProg decodes a raw program header.
func (f *File) DecodeProg(b []byte) Prog {
	o := f.Order
	if f.is64() {
		return Prog{Type: o.Uint32(b[0:]), Flags: o.Uint32(b[4:]), Off: o.Uint64(b[8:]),
			Vaddr: o.Uint64(b[16:]), Paddr: o.Uint64(b[24:]), Filesz: o.Uint64(b[32:]),
			Memsz: o.Uint64(b[40:]), Align: o.Uint64(b[48:])}
	}
	return Prog{Type: o.Uint32(b[0:]), Off: uint64(o.Uint32(b[4:])), Vaddr: uint64(o.Uint32(b[8:])),
		Paddr: uint64(o.Uint32(b[12:])), Filesz: uint64(o.Uint32(b[16:])), Memsz: uint64(o.Uint32(b[20:])),
		Flags: o.Uint32(b[24:]), Align: uint64(o.Uint32(b[28:]))}
}

// PutSectionOffType rewrites the type and offset of a raw section header.
func (f *File) PutSectionOffType(b []byte, typ uint32, off uint64) {
	f.Order.PutUint32(b[4:], typ)
	if f.is64() {
		f.Order.PutUint64(b[24:], off)
	} else {
		f.Order.PutUint32(b[16:], uint32(off))
	}
}

// PutSectionSize rewrites the size of a raw section header.
func (f *File) PutSectionSize(b []byte, size uint64) {
	if f.is64() {
		f.Order.PutUint64(b[32:], size)
	} else {
		f.Order.PutUint32(b[20:], uint32(size))
	}
}

// PutSectionEntsize rewrites the entry size of a raw section header.
func (f *File) PutSectionEntsize(b []byte, n uint64) {
	if f.is64() {
		f.Order.PutUint64(b[56:], n)
	} else {
		f.Order.PutUint32(b[36:], uint32(n))
	}
}

// Entsize is the entry size the ELF ABI fixes for sections of type typ in
// f's class (symbols, relocations), 0 for other types.
func (f *File) Entsize(typ uint32) uint64 {
	var n32, n64 uint64
	switch elf.SectionType(typ) {
	case elf.SHT_SYMTAB, elf.SHT_DYNSYM:
		n32, n64 = 16, 24
	case elf.SHT_REL:
		n32, n64 = 8, 16
	case elf.SHT_RELA:
		n32, n64 = 12, 24
	}
	if f.is64() {
		return n64
	}
	return n32
}

// PutProgPlace rewrites the addresses, memory size and alignment of a raw
// program header to p's.
func (f *File) PutProgPlace(b []byte, p Prog) {
	if f.is64() {
		f.Order.PutUint64(b[16:], p.Vaddr)
		f.Order.PutUint64(b[24:], p.Paddr)
		f.Order.PutUint64(b[40:], p.Memsz)
		f.Order.PutUint64(b[48:], p.Align)
	} else {
		f.Order.PutUint32(b[8:], uint32(p.Vaddr))
		f.Order.PutUint32(b[12:], uint32(p.Paddr))
		f.Order.PutUint32(b[20:], uint32(p.Memsz))
		f.Order.PutUint32(b[28:], uint32(p.Align))
	}
}

// PutProgType rewrites the type of a raw program header.
func (f *File) PutProgType(b []byte, typ uint32) { f.Order.PutUint32(b[0:], typ) }

// PutProgOffFilesz rewrites the offset and file size of a raw program header.
func (f *File) PutProgOffFilesz(b []byte, off, filesz uint64) {
	if f.is64() {
		f.Order.PutUint64(b[8:], off)
		f.Order.PutUint64(b[32:], filesz)
	} else {
		f.Order.PutUint32(b[4:], uint32(off))
		f.Order.PutUint32(b[16:], uint32(filesz))
	}
}

// PutHeaderOffsets returns a copy of the ELF header with new e_phoff and e_shoff.
func (f *File) PutHeaderOffsets(phoff, shoff uint64) []byte {
	h := bytes.Clone(f.Header)
	if f.is64() {
		f.Order.PutUint64(h[32:], phoff)
		f.Order.PutUint64(h[40:], shoff)
	} else {
		f.Order.PutUint32(h[28:], uint32(phoff))
		f.Order.PutUint32(h[32:], uint32(shoff))
	}
	return h
}

// Note is one ELF note whose descriptor is at most MaxDesc bytes.
type Note struct {
	Name    string // owner, NULs trimmed
	Type    uint32
	Desc    []byte
	DescOff int64 // file offset of Desc
	Where   string
}

// Notes returns the notes of SHT_NOTE sections or, when the file has no
// section headers, of PT_NOTE segments. Notes with oversized descriptors
// are skipped; a malformed note ends its section's scan without error.
func (f *File) Notes(r io.ReaderAt) ([]Note, error) {
	type region struct {
		off, size, align uint64
		where            string
	}
	var regs []region
	for _, s := range f.Sections {
		if s.Type == uint32(elf.SHT_NOTE) && s.HasData {
			regs = append(regs, region{s.Off, s.Size, s.Addralign, "section " + s.Name})
		}
	}
	if len(f.Sections) == 0 {
		for _, p := range f.Progs {
			if p.Type == uint32(elf.PT_NOTE) && p.Filesz > 0 {
				regs = append(regs, region{p.Off, p.Filesz, p.Align, "PT_NOTE segment"})
			}
		}
	}
	var notes []Note
	budget := uint64(maxNoteBytes)
	for _, rg := range regs {
		if !f.InFile(rg.off, rg.size) {
			continue // a truncated note region cannot be trusted; others may still be fine
		}
		align := uint64(4)
		if rg.align == 8 {
			align = 8 // 64-bit GNU property notes
		}
		end := rg.off + rg.size
		var hdr [12]byte
		for pos := rg.off; pos+12 <= end; {
			if budget < 12 {
				return notes, nil
			}
			budget -= 12
			if _, err := r.ReadAt(hdr[:], int64(pos)); err != nil {
				return nil, fmt.Errorf("reading note: %w", err)
			}
			namesz := uint64(f.Order.Uint32(hdr[0:]))
			descsz := uint64(f.Order.Uint32(hdr[4:]))
			typ := f.Order.Uint32(hdr[8:])
			nameOff := pos + 12
			descOff := nameOff + alignUp(namesz, align)
			next := descOff + alignUp(descsz, align)
			if namesz > end-nameOff || descOff > end || descsz > end-descOff {
				break
			}
			if namesz <= 64 && descsz <= MaxDesc && namesz+descsz <= budget {
				budget -= namesz + descsz
				buf := make([]byte, namesz+descsz)
				if _, err := r.ReadAt(buf[:namesz], int64(nameOff)); err != nil {
					return nil, fmt.Errorf("reading note: %w", err)
				}
				if _, err := r.ReadAt(buf[namesz:], int64(descOff)); err != nil {
					return nil, fmt.Errorf("reading note: %w", err)
				}
				notes = append(notes, Note{
					Name: string(bytes.TrimRight(buf[:namesz], "\x00")), Type: typ,
					Desc: buf[namesz:], DescOff: int64(descOff), Where: rg.where,
				})
			}
			if next <= pos || next > end {
				break
			}
			pos = next
		}
	}
	return notes, nil
}

func alignUp(v, a uint64) uint64 {
	if v > ^uint64(0)-a {
		return ^uint64(0) &^ (a - 1)
	}
	return (v + a - 1) &^ (a - 1)
}

// Chdr returns an ELF compression header for size bytes of data aligned to align.
func (f *File) Chdr(typ elf.CompressionType, size, align uint64) []byte {
	if f.is64() {
		b := make([]byte, 24)
		f.Order.PutUint32(b[0:], uint32(typ))
		f.Order.PutUint64(b[8:], size)
		f.Order.PutUint64(b[16:], align)
		return b
	}
	b := make([]byte, 12)
	f.Order.PutUint32(b[0:], uint32(typ))
	f.Order.PutUint32(b[4:], uint32(size))
	f.Order.PutUint32(b[8:], uint32(align))
	return b
}

// PutSectionCompressed marks a raw section header SHF_COMPRESSED, with its
// new offset, size and alignment (that of the compression header).
func (f *File) PutSectionCompressed(b []byte, off, size, align uint64) {
	o := f.Order
	if f.is64() {
		o.PutUint64(b[8:], o.Uint64(b[8:])|uint64(elf.SHF_COMPRESSED))
		o.PutUint64(b[24:], off)
		o.PutUint64(b[32:], size)
		o.PutUint64(b[48:], align)
		return
	}
	o.PutUint32(b[8:], o.Uint32(b[8:])|uint32(elf.SHF_COMPRESSED))
	o.PutUint32(b[16:], uint32(off))
	o.PutUint32(b[20:], uint32(size))
	o.PutUint32(b[32:], uint32(align))
}

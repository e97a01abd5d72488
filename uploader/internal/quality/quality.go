// Package quality tells what a profiler UI can show from an ELF file: names
// need a symbol table, DWARF or Go's pclntab; file:line and source files
// need DWARF (Go's pclntab gives lines but no source archive). It reads
// headers, for .dynsym the symbols until one defined function is seen, and
// for DWARF its abbreviations and, if one may start a skeleton, its units'
// headers (split DWARF, see elfdebug.SplitDWARF).
package quality

import (
	"debug/elf"
	"fmt"
	"io"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// Quality is what an ELF file holds for symbolization.
type Quality struct {
	DWARF     bool // a non-empty .debug_info (or .zdebug_info), not split
	Symtab    bool // a .symtab with at least one symbol
	Dynsym    bool // a .dynsym that defines at least one function
	GoPclntab bool // Go's .gopclntab
	// SplitDWARF: split DWARF (-gsplit-dwarf, Bazel --fission), which
	// extraction leaves out (Parca reads no .dwo file and shows no frame
	// at all from it), or a .debug_info that extraction left out so.
	SplitDWARF bool
	// Skeletons: the file still holds split DWARF's skeleton units, which
	// sent as they are (--no-extract) give Parca nothing at all.
	Skeletons bool
}

// SymbolsOnly reports a file that gives names but no file:line or sources.
func (q Quality) SymbolsOnly() bool { return !q.DWARF && !q.Useless() }

// Rank orders what a file gives a profiler: 3 DWARF (file:line), 2 a
// symbol table or Go pclntab (names), 1 dynamic symbols only, 0 nothing.
func (q Quality) Rank() int {
	switch {
	case q.DWARF:
		return 3
	case q.Symtab || q.GoPclntab:
		return 2
	case q.Dynsym:
		return 1
	}
	return 0
}

// Useless reports a file from which no name can be recovered.
func (q Quality) Useless() bool { return !q.DWARF && !q.Symtab && !q.Dynsym && !q.GoPclntab }

// SymbolsOnlyWarning is the warning for a file without DWARF: what users
// will miss, and how to fix it.
func (q Quality) SymbolsOnlyWarning() string {
	if q.SplitDWARF {
		return "symbols only: split DWARF (-gsplit-dwarf), whose .dwo files Parca does not read: " +
			"no file:line or sources; build without -gsplit-dwarf (Bazel: --fission=no)"
	}
	what := "symbols only: no file:line or sources"
	if q.GoPclntab {
		// -g is not a Go flag: Go drops DWARF with -ldflags=-w (or -s).
		return "symbols only: no sources (no DWARF; lines come from Go's pclntab, and cgo's C functions get no name); " +
			"build without -ldflags=-s -w and do not strip"
	}
	return what + "; build with -g and do not strip (Bazel: -c dbg, or --copt=-g --strip=never)"
}

// UselessError is why a file without any symbol information is refused.
const UselessError = "no DWARF, no symbol table and no Go pclntab: profiles could show addresses only; " +
	"build with -g and do not strip (Bazel: -c dbg, or --copt=-g --strip=never)"

// Of reads the quality of the ELF file r (size bytes).
func Of(r io.ReaderAt, size int64) (Quality, error) {
	f, err := elfparse.Parse(r, size)
	if err != nil {
		return Quality{}, err
	}
	return OfParsed(f, r)
}

// OfParsed is Of for a file already parsed from r.
func OfParsed(f *elfparse.File, r io.ReaderAt) (q Quality, err error) {
	for _, s := range f.Sections {
		if !s.HasData {
			// What extraction leaves of split DWARF: the headers.
			isInfo := s.Name == ".debug_info" || s.Name == ".zdebug_info"
			q.SplitDWARF = q.SplitDWARF || isInfo && s.Type == uint32(elf.SHT_NOBITS) && s.Size > 0
			continue
		}
		switch {
		case s.Name == ".debug_info" || s.Name == ".zdebug_info":
			q.DWARF = true
		case s.Type == uint32(elf.SHT_SYMTAB):
			q.Symtab = q.Symtab || s.Entsize > 0 && s.Size >= 2*s.Entsize // entry 0 is always null
		case s.Name == ".gopclntab":
			q.GoPclntab = true
		case s.Type == uint32(elf.SHT_DYNSYM) && !q.Dynsym:
			if q.Dynsym, err = definesFunc(f, r, s); err != nil {
				return Quality{}, err
			}
		}
	}
	if q.DWARF && elfdebug.SplitDWARF(f, r) {
		q.DWARF, q.SplitDWARF, q.Skeletons = false, true, true
	}
	return q, nil
}

// definesFunc scans a dynamic symbol table for a defined function.
func definesFunc(f *elfparse.File, r io.ReaderAt, s elfparse.Section) (bool, error) {
	ent := uint64(24)
	if f.Class == elf.ELFCLASS32 {
		ent = 16
	}
	if s.Entsize != ent || !f.InFile(s.Off, s.Size) {
		return false, fmt.Errorf("section %s: malformed symbol table (entry size %d, %d bytes at %#x)", s.Name, s.Entsize, s.Size, s.Off)
	}
	buf := make([]byte, min(max(s.Size/ent, 1)*ent, 64<<10/ent*ent)) // small tables, small buffers
	for off := s.Off; off < s.Off+s.Size; off += uint64(len(buf)) {
		b := buf[:min(uint64(len(buf)), s.Off+s.Size-off)]
		if _, err := r.ReadAt(b, int64(off)); err != nil {
			return false, fmt.Errorf("reading %s: %w", s.Name, err)
		}
		for i := uint64(0); i+ent <= uint64(len(b)); i += ent {
			e := b[i : i+ent]
			var info byte
			var shndx uint16
			if ent == 24 {
				info, shndx = e[4], f.Order.Uint16(e[6:])
			} else {
				info, shndx = e[12], f.Order.Uint16(e[14:])
			}
			if elf.ST_TYPE(info) == elf.STT_FUNC && elf.SectionIndex(shndx) != elf.SHN_UNDEF {
				return true, nil
			}
		}
	}
	return false, nil
}

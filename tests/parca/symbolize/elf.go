package symbolize

import (
	"bytes"
	"debug/dwarf"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
)

// Mapping is a profile mapping. Its address form decides how Parca turns a
// location's address back into an ELF virtual address.
type Mapping struct {
	Start, Limit, Offset uint64
	File, BuildID        string
	base                 uint64 // runtime address = ELF address + base
}

// Address is where the ELF virtual address addr appears in profiles with
// this mapping.
func (m Mapping) Address(addr uint64) uint64 { return addr + m.base }

// Form is one of the two address forms profiles carry.
type Form string

const (
	// ELFAddresses: locations hold ELF virtual addresses and the mapping is
	// empty (start, limit and offset 0), as Parca stores parca-agent's stacks.
	ELFAddresses Form = "elf"
	// RuntimeAddresses: locations hold process addresses inside a mapping with
	// the text segment's real start, limit and file offset, as every pprof
	// writer sends them. A PIE is placed at pieBase; a non-PIE at its vaddr.
	RuntimeAddresses Form = "runtime"
)

// pieBase is where Linux places a PIE's first segment when ASLR is off.
const pieBase = 0x555555554000

// Forms are both address forms.
var Forms = []Form{ELFAddresses, RuntimeAddresses}

// MappingFor builds the mapping a profiler would report for the binary at
// path (the linked, unstripped file) in address form f.
func MappingFor(path, buildID string, f Form) (Mapping, error) {
	m := Mapping{File: "/proc/self/" + filepath.Base(path), BuildID: buildID}
	if f == ELFAddresses {
		return m, nil
	}
	ef, err := elf.Open(path)
	if err != nil {
		return m, err
	}
	defer ef.Close()
	const page = 4096
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		var base uint64
		if ef.Type == elf.ET_DYN {
			base = pieBase
		}
		m.base = base
		m.Start = base + p.Vaddr&^(page-1)
		m.Limit = base + (p.Vaddr+p.Memsz+page-1)&^(page-1)
		m.Offset = p.Off &^ (page - 1)
		return m, nil
	}
	return m, fmt.Errorf("%s: no executable PT_LOAD segment", path)
}

// GNUBuildID reads the GNU build-ID note of the file at path.
func GNUBuildID(path string) (string, error) {
	ef, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer ef.Close()
	for _, s := range ef.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := io.ReadAll(io.LimitReader(s.Open(), 1<<20))
		if err != nil {
			return "", err
		}
		for len(b) >= 12 {
			nsz, dsz, typ := ef.ByteOrder.Uint32(b), ef.ByteOrder.Uint32(b[4:]), ef.ByteOrder.Uint32(b[8:])
			name := align4(int(nsz))
			desc := align4(int(dsz))
			if 12+name+desc > len(b) {
				break
			}
			if typ == 3 && bytes.Equal(bytes.TrimRight(b[12:12+nsz], "\x00"), []byte("GNU")) {
				return hex.EncodeToString(b[12+name : 12+name+int(dsz)]), nil
			}
			b = b[12+name+desc:]
		}
	}
	return "", fmt.Errorf("%s: no GNU build ID", path)
}

func align4(n int) int { return (n + 3) &^ 3 }

// AddrOfLine is the lowest is_stmt address the DWARF line table of the
// binary at path gives to file:line (file matched by base name).
func AddrOfLine(path, file string, line int) (uint64, error) {
	d, closer, err := openDWARF(path)
	if err != nil {
		return 0, err
	}
	defer closer()
	best, found := uint64(0), false
	r := d.Reader()
	for {
		cu, err := r.Next()
		if err != nil {
			return 0, err
		}
		if cu == nil {
			break
		}
		// A skeleton unit (split DWARF 5) keeps the line table too.
		if cu.Tag != dwarf.TagCompileUnit && cu.Tag != dwarf.TagSkeletonUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(cu)
		if err != nil || lr == nil {
			r.SkipChildren()
			continue
		}
		var e dwarf.LineEntry
		for lr.Next(&e) == nil {
			if e.IsStmt && !e.EndSequence && e.Line == line && e.File != nil &&
				filepath.Base(e.File.Name) == file && e.Address != 0 && (!found || e.Address < best) {
				best, found = e.Address, true
			}
		}
		r.SkipChildren()
	}
	if !found {
		return 0, fmt.Errorf("%s: no code at %s:%d in the line table", path, file, line)
	}
	return best, nil
}

// LineOf is the file:line the DWARF line table gives addr. It scans the
// rows itself: LineReader.SeekPC gives up on tables whose sequences are
// not in address order (gcc leaves discarded COMDAT sequences at 0).
func LineOf(path string, addr uint64) (string, int, error) {
	d, closer, err := openDWARF(path)
	if err != nil {
		return "", 0, err
	}
	defer closer()
	cu, err := d.Reader().SeekPC(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%s: no compile unit holds %#x: %w", path, addr, err)
	}
	lr, err := d.LineReader(cu)
	if err != nil || lr == nil {
		return "", 0, fmt.Errorf("%s: no line table for %#x", path, addr)
	}
	// Rows at one address (gcc gives a function header spanning two lines
	// a row each at the entry): the first is_stmt one, as Parca takes it.
	var e, prev, first dwarf.LineEntry
	inSeq := false
	for lr.Next(&e) == nil {
		if inSeq && prev.Address <= addr && addr < e.Address {
			return first.File.Name, first.Line, nil
		}
		if !inSeq || e.Address != prev.Address || !first.IsStmt && e.IsStmt {
			first = e
		}
		prev, inSeq = e, !e.EndSequence
	}
	return "", 0, fmt.Errorf("%s: %#x not in the line table", path, addr)
}

// FuncAddr is the address of the function symbol name in the binary's
// symbol table.
func FuncAddr(path, name string) (uint64, error) {
	ef, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer ef.Close()
	syms, err := ef.Symbols()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	for _, s := range syms {
		if s.Name == name && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
			return s.Value, nil
		}
	}
	return 0, fmt.Errorf("%s: no function symbol %q", path, name)
}

func openDWARF(path string) (*dwarf.Data, func(), error) {
	ef, err := elf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	d, err := ef.DWARF()
	if err != nil {
		ef.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, func() { ef.Close() }, nil
}

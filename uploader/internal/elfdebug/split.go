package elfdebug

import (
	"bufio"
	"debug/elf"
	"encoding/binary"
	"io"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// Split DWARF (gcc or clang -gsplit-dwarf, Bazel --fission) leaves only
// skeleton units in the linked file: a unit header and one DIE that names
// the .dwo file holding the rest. Parca v0.28.0 picks its DWARF liner for
// any file with DWARF, reads no .dwo file, and then shows no frame at all
// for addresses in a skeleton unit, not even the symbol table's name
// ("liner pctolines: failed to find entry for compile unit"). Without
// DWARF it names functions from the symbol table.

const (
	dwUTCompile      = 0x01
	dwUTSkeleton     = 0x04
	dwTagSkeleton    = 0x4a
	dwAtDwoName      = 0x76
	dwAtGNUDwoName   = 0x2130 // DWARF 4's GNU extension (gcc -gdwarf-4 -gsplit-dwarf)
	maxSkeletonCodes = 1 << 16
)

// maxSplitScan bounds what SplitDWARF reads of a section: a compressed
// section's header may claim any size.
const maxSplitScan = 1 << 30

// abbrevKey is an abbreviation: the offset of its table in .debug_abbrev
// (what a unit header names) and its code.
type abbrevKey struct{ table, code uint64 }

// SplitDWARF reports whether any unit of f's .debug_info is a skeleton of
// split DWARF: a DWARF 5 DW_UT_skeleton unit, or one whose first DIE's
// abbreviation is a DW_TAG_skeleton_unit or has DW_AT_dwo_name or
// DW_AT_GNU_dwo_name. .debug_abbrev is read first, once: a file none of
// whose abbreviations could start a skeleton (nearly every file) needs no
// read of .debug_info. Malformed DWARF ends the scan, never the
// extraction: what was read so far decides.
func SplitDWARF(f *elfparse.File, r io.ReaderAt) bool {
	info, abbrev := -1, -1
	for i, s := range f.Sections {
		if !s.HasData || !f.InFile(s.Off, s.Size) {
			continue
		}
		switch s.Name {
		case ".debug_info", ".zdebug_info":
			info = i
		case ".debug_abbrev", ".zdebug_abbrev":
			abbrev = i
		}
	}
	if info < 0 || abbrev < 0 {
		return false
	}
	var ef *elf.File // opened only for a compressed section
	open := func(i int) io.Reader {
		s := f.Sections[i]
		if s.Flags&uint64(elf.SHF_COMPRESSED) == 0 && !strings.HasPrefix(s.Name, ".zdebug_") {
			return io.NewSectionReader(r, int64(s.Off), int64(s.Size))
		}
		if ef == nil {
			var err error
			if ef, err = elf.NewFile(r); err != nil {
				return nil
			}
		}
		if i >= len(ef.Sections) || ef.Sections[i].Offset != s.Off {
			return nil
		}
		return ef.Sections[i].Open()
	}
	ar := open(abbrev)
	if ar == nil {
		return false
	}
	skel := skeletonAbbrevs(bufio.NewReader(io.LimitReader(ar, maxSplitScan)))
	if len(skel) == 0 {
		return false
	}
	ir := open(info)
	if ir == nil {
		return false
	}
	return anySkeleton(bufio.NewReader(io.LimitReader(ir, maxSplitScan)), f.Order, skel)
}

// skeletonAbbrevs lists the abbreviations (up to maxSkeletonCodes) in
// .debug_abbrev that may start a skeleton unit.
func skeletonAbbrevs(r *bufio.Reader) map[abbrevKey]bool {
	skel := map[abbrevKey]bool{}
	var pos uint64
	u := func() (uint64, bool) {
		v, n, ok := uleb(r)
		pos += n
		return v, ok
	}
	table := uint64(0)
	for len(skel) < maxSkeletonCodes {
		code, ok := u()
		if !ok {
			return skel
		}
		if code == 0 { // the end of a table; the next starts here
			table = pos
			continue
		}
		tag, ok := u()
		if _, err := r.ReadByte(); !ok || err != nil { // DW_CHILDREN_*
			return skel
		}
		pos++
		is := tag == dwTagSkeleton
		for {
			attr, ok1 := u()
			form, ok2 := u()
			if !ok1 || !ok2 {
				return skel
			}
			if attr == 0 && form == 0 {
				break
			}
			// The one form whose abbreviation carries a value.
			if form == dwarfform.ImplicitConst {
				if _, ok := u(); !ok { // an SLEB128: skipped alike
					return skel
				}
			}
			is = is || attr == dwAtDwoName || attr == dwAtGNUDwoName
		}
		if is {
			skel[abbrevKey{table, code}] = true
		}
	}
	return skel
}

// anySkeleton walks the unit headers of .debug_info for a skeleton unit.
func anySkeleton(r *bufio.Reader, order binary.ByteOrder, skel map[abbrevKey]bool) bool {
	var b [8]byte
	read := func(n int) ([]byte, bool) {
		_, err := io.ReadFull(r, b[:n])
		return b[:n], err == nil
	}
	for {
		p, ok := read(4)
		if !ok {
			return false
		}
		length, off := uint64(order.Uint32(p)), 4 // offsets in the unit: 4 or 8 bytes
		if length == 0xffffffff {
			if p, ok = read(8); !ok {
				return false
			}
			length, off = order.Uint64(p), 8
		} else if length >= 0xfffffff0 { // reserved
			return false
		}
		// What is left of the unit after each field read.
		left := length
		take := func(n int) ([]byte, bool) {
			if uint64(n) > left {
				return nil, false
			}
			left -= uint64(n)
			return read(n)
		}
		p, ok = take(2)
		if !ok {
			return false
		}
		version := order.Uint16(p)
		var utype byte = dwUTCompile
		if version >= 5 {
			if p, ok = take(2); !ok { // unit_type, address_size
				return false
			}
			utype = p[0]
			if utype == dwUTSkeleton {
				return true
			}
		}
		p, ok = take(off)
		if !ok {
			return false
		}
		table := uint64(order.Uint32(p))
		if off == 8 {
			table = order.Uint64(p)
		}
		if version >= 2 && version <= 4 {
			if _, ok = take(1); !ok { // address_size
				return false
			}
		}
		if version >= 2 && version <= 5 && utype == dwUTCompile && left > 0 {
			code, n, ok := uleb(r)
			if !ok || n > left {
				return false
			}
			left -= n
			if skel[abbrevKey{table, code}] {
				return true
			}
		}
		if left > maxSplitScan {
			return false
		}
		if _, err := r.Discard(int(left)); err != nil {
			return false
		}
	}
}

// uleb reads an unsigned LEB128 (at most 10 bytes) and returns its value
// and length.
func uleb(r io.ByteReader) (v, n uint64, ok bool) {
	for shift := uint(0); shift < 70; shift += 7 {
		c, err := r.ReadByte()
		if err != nil {
			return 0, n, false
		}
		n++
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			return v, n, true
		}
	}
	return 0, n, false
}

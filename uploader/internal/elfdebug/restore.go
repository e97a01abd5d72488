package elfdebug

import (
	"debug/elf"
	"math/bits"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// restoredSegments gives back the PT_LOAD offsets of the program a debug
// file was made from, when objcopy --only-keep-debug (strip
// --only-keep-debug) rewrote them: it lays segments without file bytes at
// the offset of the bytes before them, so the executable segment of a PIE
// built by GNU ld moves from 0x1000 to 0, and gold's data segment from
// 0x12dc0 to 0xdc0. Parca maps a profile's runtime address (a file offset
// in the program) through these offsets, and with the rewritten ones names
// nothing, or the wrong function.
//
// Linkers (GNU ld, gold, lld, Go's) place each PT_LOAD at the lowest offset
// past the previous one's file bytes that is congruent to its address
// modulo its alignment, and objcopy keeps that congruence. A segment's file
// bytes end where its last section that is not .bss ends (the debug file
// keeps every section's name, address and size), so the offsets come back
// from the section and program headers alone. eu-strip -f keeps the
// offsets: nothing to do.
//
// A linker's own offsets are never below the ones this gives (it is the
// lowest layout the rule allows), and objcopy's are below them where it
// moved a segment: ok is false, and nothing changes, unless some PT_LOAD
// sits below where the rule puts it.
func restoredSegments(progs []elfparse.Prog, secs []elfparse.Section) (restored []elfparse.Prog, ok bool) {
	for _, s := range secs {
		if s.HasData && s.Flags&uint64(elf.SHF_EXECINSTR) != 0 {
			return nil, false // a program (its code is here): its offsets are its own
		}
	}
	var loads []elfparse.Prog
	for _, p := range progs {
		if p.Type != uint32(elf.PT_LOAD) {
			continue
		}
		a := max(p.Align, 1)
		if a&(a-1) != 0 || p.Off%a != p.Vaddr%a {
			return nil, false // not a linker's or objcopy's layout
		}
		loads = append(loads, p)
	}
	moved := false
	end := uint64(0)
	for i, p := range loads {
		a := max(p.Align, 1)
		off := end + (p.Vaddr%a-end%a+a)%a // the lowest offset >= end congruent to Vaddr
		if off < end {
			return nil, false // overflow: a hostile header
		}
		if i == 0 {
			off = p.Off // the ELF header's segment stays where it is
		}
		moved = moved || p.Off < off
		next, c := bits.Add64(off, fileBytes(p, secs), 0)
		if c != 0 || next > 1<<48 {
			return nil, false
		}
		p.Off, end = off, next
		restored = append(restored, p)
	}
	if !moved {
		return nil, false
	}
	return restored, true
}

// fileBytes is how many file bytes segment p had in its program: up to the
// end of its last allocated section that is not .bss-like, or its file
// bytes here if more (the first segment's headers have no section). A
// segment without sections is taken as all file bytes.
func fileBytes(p elfparse.Prog, secs []elfparse.Section) uint64 {
	n, found := p.Filesz, false
	for _, s := range secs {
		if s.Flags&uint64(elf.SHF_ALLOC) == 0 || s.Size == 0 || s.Addr < p.Vaddr || s.Addr-p.Vaddr >= p.Memsz {
			continue
		}
		found = true
		if !bssLike(s) {
			n = max(n, min(s.Addr-p.Vaddr+s.Size, p.Memsz))
		}
	}
	if !found {
		return p.Memsz
	}
	return n
}

// bssLike says whether s had no file bytes in the program: objcopy made
// every allocated section of a debug file NOBITS, so the name tells.
func bssLike(s elfparse.Section) bool {
	if s.Flags&uint64(elf.SHF_TLS) != 0 && s.Type == uint32(elf.SHT_NOBITS) && strings.HasPrefix(s.Name, ".tbss") {
		return true
	}
	for _, b := range []string{".bss", ".tbss", ".sbss", ".lbss", ".noptrbss", ".dynbss"} {
		if s.Name == b || strings.HasPrefix(s.Name, b+".") {
			return true
		}
	}
	return false
}

// UnsureWarning is what a user is told of a debug file whose segments are
// unsure (see SegmentsUnsure), followed by how to send it with its program.
const UnsureWarning = "its program headers do not match its sections (objcopy --only-keep-debug damages those of a llvm-bolt program): " +
	"profiles with runtime addresses may get no names"

// SegmentsUnsure says whether the program headers of a debug file (a file
// without code) cannot be trusted to map runtime addresses: PT_LOADs out
// of address order or overlapping (the ELF spec allows neither), or one
// with memory that holds none of the file's allocated sections. objcopy
// --only-keep-debug does that to the code segment llvm-bolt adds (its
// address becomes 0x674, below the others', its p_paddr stays 0x200000),
// and no offset put back helps then: only the program's own headers
// (upload both) do.
func SegmentsUnsure(f *elfparse.File) bool {
	var end uint64
	first := true
	for _, p := range f.Progs {
		if p.Type != uint32(elf.PT_LOAD) || p.Memsz == 0 {
			continue
		}
		if !first && p.Vaddr < end {
			return true
		}
		first = false
		if e, c := bits.Add64(p.Vaddr, p.Memsz, 0); c == 0 {
			end = e
		} else {
			return true
		}
		holds := false
		for _, s := range f.Sections {
			if s.Flags&uint64(elf.SHF_ALLOC) != 0 && s.Size > 0 && s.Addr >= p.Vaddr && s.Addr-p.Vaddr < p.Memsz {
				holds = true
				break
			}
		}
		if !holds {
			return true
		}
	}
	return false
}

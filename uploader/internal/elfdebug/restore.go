package elfdebug

import (
	"debug/elf"
	"math/bits"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// restoredSegments gives back the PT_LOAD offsets of the program a debug
// file was made from, when objcopy --only-keep-debug (strip
// --only-keep-debug) rewrote them: it lays segments without file bytes at
// the offset of the bytes before them, so the executable segment of a PIE
// built by GNU ld moves from 0x1000 to 0. Parca maps a profile's runtime
// address (a file offset in the program) through these offsets, and with
// the rewritten ones names nothing, or the wrong function.
//
// Linkers (GNU ld, gold, lld, Go's) place each PT_LOAD at the lowest offset
// past the previous one's bytes that is congruent to its address modulo its
// alignment, and objcopy keeps that congruence. So the offsets come back
// from the addresses and sizes alone, if no segment but the last holds
// .bss (memory past its file bytes), which is how these linkers lay out
// programs and libraries. eu-strip -f keeps the offsets: nothing to do.
//
// ok is false when the offsets look like a program's own: no PT_LOAD starts
// inside the file bytes of an earlier one, which a linker never writes.
func restoredSegments(progs []elfparse.Prog) (restored []elfparse.Prog, ok bool) {
	var loads []elfparse.Prog
	rewritten := false
	var held uint64 // end of the file bytes of the PT_LOADs so far
	for _, p := range progs {
		if p.Type != uint32(elf.PT_LOAD) {
			continue
		}
		a := p.Align
		if a == 0 {
			a = 1
		}
		if a&(a-1) != 0 || p.Off%a != p.Vaddr%a {
			return nil, false // not a linker's or objcopy's layout
		}
		if len(loads) > 0 && p.Memsz > 0 && p.Off < held {
			rewritten = true
		}
		if end, c := bits.Add64(p.Off, p.Filesz, 0); c == 0 && end > held {
			held = end
		}
		loads = append(loads, p)
	}
	if !rewritten {
		return nil, false
	}
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
		next, c := bits.Add64(off, p.Memsz, 0)
		if c != 0 || next > 1<<48 {
			return nil, false
		}
		p.Off, end = off, next
		restored = append(restored, p)
	}
	return restored, true
}

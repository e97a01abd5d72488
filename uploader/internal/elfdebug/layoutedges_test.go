package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// ELF64 program header fields (offsets within one 56-byte entry).
const (
	phType   = 0
	phOffset = 8
	phFilesz = 32
)

// patched writes b, changed by edit, next to the test's files.
func patched(t *testing.T, name string, b []byte, edit func([]byte) []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, edit(bytes.Clone(b)), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// progEntry returns program header i of an ELF64 file's bytes.
func progEntry(b []byte, i int) []byte {
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	return b[phoff+uint64(i)*56 : phoff+uint64(i+1)*56]
}

// Program headers stay at their input offset up to 64 KiB into the file (the
// head then holds at most 64 KiB of zeros before them); further in, they
// move to just after the ELF header. PT_PHDR follows them, and the notes
// keep their bytes (through their sections, or through PT_NOTE alone in a
// file without section headers).
func TestProgramHeadersPastTheFirst64KiBMove(t *testing.T) {
	testbin.Need(t, "gcc")
	b, err := os.ReadFile(testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"))
	if err != nil {
		t.Fatal(err)
	}
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	phnum := int(binary.LittleEndian.Uint16(b[0x38:]))
	phsize := uint64(phnum) * 56
	for _, tc := range []struct {
		at, want   uint64
		noSections bool
	}{{1 << 16, 1 << 16, false}, {1<<16 + 8, 64, false}, {1<<16 + 8, 64, true}} {
		// A copy of the table at tc.at, past the file's old end, with
		// PT_PHDR saying so.
		bin := patched(t, "phdrs", b, func(c []byte) []byte {
			c = append(c, make([]byte, tc.at-uint64(len(c)))...)
			c = append(c, b[phoff:phoff+phsize]...)
			binary.LittleEndian.PutUint64(c[0x20:], tc.at)
			for i := range phnum {
				if h := progEntry(c, i); binary.LittleEndian.Uint32(h[phType:]) == uint32(elf.PT_PHDR) {
					binary.LittleEndian.PutUint64(h[phOffset:], tc.at)
				}
			}
			if tc.noSections {
				binary.LittleEndian.PutUint64(c[0x28:], 0)
				binary.LittleEndian.PutUint16(c[0x3c:], 0)
				binary.LittleEndian.PutUint16(c[0x3e:], 0)
			}
			return c
		})
		name := fmt.Sprintf("program headers at %#x (section headers: %v)", tc.at, !tc.noSections)
		out, _ := extractFile(t, bin)
		fi, fo := testbin.OpenELF(t, bin), testbin.OpenELF(t, out)
		ob, _ := os.ReadFile(out)
		ephoff := binary.LittleEndian.Uint64(ob[0x20:])
		if ephoff != tc.want {
			t.Errorf("%s: at %#x in the debug file, want %#x", name, ephoff, tc.want)
		}
		if len(fo.Progs) != phnum {
			t.Fatalf("%s: debug file has %d program headers, want %d", name, len(fo.Progs), phnum)
		}
		notes := 0
		for i, p := range fo.Progs {
			switch p.Type {
			case elf.PT_PHDR:
				if p.Off != ephoff {
					t.Errorf("%s: PT_PHDR at %#x, the table at %#x", name, p.Off, ephoff)
				}
			case elf.PT_NOTE:
				notes++
				want := make([]byte, fi.Progs[i].Filesz)
				fi.Progs[i].ReadAt(want, 0)
				got := make([]byte, p.Filesz)
				if _, err := p.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: PT_NOTE %d has %d bytes at %#x, not the input's %d (%v)", name, i, p.Filesz, p.Off, len(want), err)
				}
			}
		}
		if notes == 0 || !tc.noSections && fo.Section(".debug_info") == nil {
			t.Errorf("%s: debug file has %d PT_NOTEs and .debug_info %v", name, notes, fo.Section(".debug_info"))
		}
	}
}

// firstLoadOf returns the first PT_LOAD of f.
func firstLoadOf(t *testing.T, f *elf.File) *elf.Prog {
	t.Helper()
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			return p
		}
	}
	t.Fatal("no PT_LOAD")
	return nil
}

// PT_NOTE and PT_INTERP inside the first PT_LOAD keep their offset, size
// and bytes (file(1) reads the build ID through PT_NOTE), also when a note
// is the last thing the head keeps: in a static program whose only
// allocated section before the code is its build ID.
func TestNoteSegmentsKeepTheirBytes(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	start := filepath.Join(dir, "start.c")
	if err := os.WriteFile(start, []byte(`void _start(void) { for (;;) __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	static := filepath.Join(dir, "static")
	testbin.Run(t, dir, "gcc", "-g", "-static", "-nostdlib", "-Wl,--build-id", "-o", static, start)
	for name, bin := range map[string]string{
		"dynamic": testbin.GCC(t, dir, "hello", testbin.HelloC, "-g"),
		"static":  static,
	} {
		out, _ := extractFile(t, bin)
		fi, fo := testbin.OpenELF(t, bin), testbin.OpenELF(t, out)
		load0 := firstLoadOf(t, fi)
		notes := 0
		for i, p := range fi.Progs {
			if (p.Type != elf.PT_NOTE && p.Type != elf.PT_INTERP) || p.Off+p.Filesz > load0.Off+load0.Filesz {
				continue
			}
			notes++
			o := fo.Progs[i]
			if o.Off != p.Off || o.Filesz != p.Filesz {
				t.Errorf("%s: %v at %#x (%d bytes) in the debug file, was at %#x (%d bytes)", name, p.Type, o.Off, o.Filesz, p.Off, p.Filesz)
				continue
			}
			want := make([]byte, p.Filesz)
			got := make([]byte, p.Filesz)
			p.ReadAt(want, 0)
			if _, err := o.ReadAt(got, 0); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %v at %#x: bytes differ (%v)", name, p.Type, p.Off, err)
			}
		}
		if notes == 0 {
			t.Errorf("%s: no PT_NOTE in the first PT_LOAD to check", name)
		}
	}
}

// A hostile segment that claims bytes up to exactly 2^64 holds none: its
// program header keeps no file bytes in the debug file (the end offset
// wraps to 0, which must not read as "inside the head").
func TestSegmentEndingAt2To64(t *testing.T) {
	testbin.Need(t, "gcc")
	hello := testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g")
	b, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	fi := testbin.OpenELF(t, hello)
	idx := stackIndex(t, fi)
	bin := patched(t, "wrap", b, func(c []byte) []byte { asNote(c, idx, 1<<64-16, 16); return c })
	out, _ := extractFile(t, bin)
	ob, _ := os.ReadFile(out)
	h := progEntry(ob, idx)
	if off, n := binary.LittleEndian.Uint64(h[phOffset:]), binary.LittleEndian.Uint64(h[phFilesz:]); n != 0 {
		t.Errorf("segment claiming [2^64-16, 2^64): debug file's header says %d bytes at %#x, want none", n, off)
	}
}

// A zero-size PT_NOTE holds nothing to keep: in a file without section
// headers, one placed late in the first PT_LOAD does not stretch the head
// (the debug file still ends where the last real note does).
func TestZeroSizeNoteKeepsNothing(t *testing.T) {
	testbin.Need(t, "gcc")
	hello := testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g")
	b, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	fi := testbin.OpenELF(t, hello)
	load0 := firstLoadOf(t, fi)
	idx := stackIndex(t, fi)
	var notesEnd uint64
	for _, p := range fi.Progs {
		if p.Type == elf.PT_NOTE {
			notesEnd = max(notesEnd, p.Off+p.Filesz)
		}
	}
	if load0.Filesz < notesEnd+64 {
		t.Fatalf("input does not fit the test: first PT_LOAD %d bytes, notes end at %#x", load0.Filesz, notesEnd)
	}
	bin := patched(t, "zeronote", b, func(c []byte) []byte {
		// No section headers (as sstrip leaves), and an empty note near
		// the end of the first PT_LOAD.
		binary.LittleEndian.PutUint64(c[0x28:], 0)
		binary.LittleEndian.PutUint16(c[0x3c:], 0)
		binary.LittleEndian.PutUint16(c[0x3e:], 0)
		asNote(c, idx, load0.Filesz-32, 0)
		return c
	})
	out, _ := extractFile(t, bin)
	fi2, _ := os.Stat(out)
	if uint64(fi2.Size()) != notesEnd {
		t.Errorf("debug file is %d bytes, want %d (the end of the last non-empty note)", fi2.Size(), notesEnd)
	}
}

// The head may hold exactly headDropBudget bytes that are not kept (holes
// and dropped sections) before a kept section, which then stays at its
// input offset; 8 bytes more and it is packed after the head instead.
// Built by moving a dynamic program's .rela.plt (kept) further into its
// first PT_LOAD, past everything else.
func TestHeadDropBudgetExactly(t *testing.T) {
	testbin.Need(t, "gcc")
	bin := testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	fi := testbin.OpenELF(t, bin)
	plain, _ := extractFile(t, bin)
	fo := testbin.OpenELF(t, plain)
	load0 := firstLoadOf(t, fi)
	load0Idx := slices.Index(fi.Progs, load0)
	phEnd := binary.LittleEndian.Uint64(b[0x20:]) + uint64(len(fi.Progs))*56
	relaIdx, kept := -1, uint64(0)
	for i, s := range fi.Sections {
		inLoad0 := s.Flags&elf.SHF_ALLOC != 0 && s.Type != elf.SHT_NOBITS && s.Offset >= phEnd && s.Offset+s.Size <= load0.Filesz
		switch {
		case s.Name == ".rela.plt":
			relaIdx = i
		case inLoad0 && fo.Sections[i].Type != elf.SHT_NOBITS:
			kept += s.Size // in the head, and not counted against the budget
		}
	}
	if relaIdx < 0 || fo.Sections[relaIdx].Type == elf.SHT_NOBITS {
		t.Fatal("input has no kept .rela.plt")
	}
	rela := fi.Sections[relaIdx]
	shoff := binary.LittleEndian.Uint64(b[0x28:])
	for _, tc := range []struct {
		extra  uint64
		inHead bool
	}{{0, true}, {8, false}} {
		at := phEnd + kept + headDropBudget + tc.extra
		moved := patched(t, "moved", b, func(c []byte) []byte {
			c = append(c, make([]byte, at-uint64(len(c)))...)
			c = append(c, b[rela.Offset:rela.Offset+rela.Size]...)
			binary.LittleEndian.PutUint64(c[shoff+uint64(relaIdx)*64+24:], at) // sh_offset
			h := progEntry(c, load0Idx)
			binary.LittleEndian.PutUint64(h[phFilesz:], at+rela.Size)
			binary.LittleEndian.PutUint64(h[40:], at+rela.Size) // p_memsz
			return c
		})
		out, _ := extractFile(t, moved)
		got := testbin.OpenELF(t, out).Sections[relaIdx]
		if tc.inHead && got.Offset != at {
			t.Errorf("with exactly %d bytes not kept before it, .rela.plt moved from %#x to %#x", headDropBudget, at, got.Offset)
		}
		if !tc.inHead && got.Offset >= headDropBudget {
			t.Errorf("with %d bytes not kept before it, .rela.plt stayed at %#x (in the debug file at %#x)", headDropBudget+tc.extra, at, got.Offset)
		}
	}
}

// stackIndex is the index of f's PT_GNU_STACK, a program header no test
// input needs, which the tests turn into a note of their choosing.
func stackIndex(t *testing.T, f *elf.File) int {
	t.Helper()
	i := slices.IndexFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_GNU_STACK })
	if i < 0 {
		t.Fatal("no PT_GNU_STACK to turn into a note")
	}
	return i
}

// asNote turns program header idx of b (an ELF64 file) into a PT_NOTE over
// [off, off+n).
func asNote(b []byte, idx int, off, n uint64) {
	h := progEntry(b, idx)
	binary.LittleEndian.PutUint32(h[phType:], uint32(elf.PT_NOTE))
	binary.LittleEndian.PutUint64(h[phOffset:], off)
	binary.LittleEndian.PutUint64(h[phFilesz:], n)
}

// A segment keeps file bytes in the debug file only if they are the input's:
// one over a kept section and a dropped one after it keeps none (the dropped
// bytes are zeros), as does one over two kept sections that the packing
// after the head puts apart; two kept sections that stay adjacent keep it.
func TestSegmentsOverSeveralSections(t *testing.T) {
	// Notes that are not allocated (so packed after the head): .note.one
	// (aligned to 4) right before .note.two (aligned to 8), after a note
	// whose size moves them in the input, and after a section of drop bytes
	// that are not kept: with drop 4 they land 4 bytes off their input
	// alignment in the debug file, where .note.two then needs padding.
	notes := func(drop, pad int) string {
		return fmt.Sprintf(".section .rules.drop,\"\",@progbits\n.zero %d\n"+
			".section .note.pad,\"\",@note\n.p2align 2\n.long 4, %d, 1\n.asciz \"abc\"\n.zero %d\n"+
			".section .note.one,\"\",@note\n.p2align 2\n.long 4, 12, 1\n.asciz \"abc\"\n.zero 12\n"+
			".section .note.two,\"\",@note\n.p2align 3\n.long 4, 4, 2\n.asciz \"abc\"\n.long 7\n", drop, pad, pad)
	}
	gaps, adjacents := 0, 0
	for _, v := range [][2]int{{8, 4}, {8, 8}, {4, 4}, {4, 8}} {
		drop, pad := v[0], v[1]
		bin := withAsm(t, fmt.Sprintf("notes%d-%d", drop, pad), notes(drop, pad))
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		fi := testbin.OpenELF(t, bin)
		one, two, abi, gnuHash := fi.Section(".note.one"), fi.Section(".note.two"), fi.Section(".note.ABI-tag"), fi.Section(".gnu.hash")
		if one == nil || two == nil || abi == nil || gnuHash == nil || abi.Offset+abi.Size > gnuHash.Offset {
			t.Fatalf("input does not fit the test: %v %v %v %v", one, two, abi, gnuHash)
		}
		if one.Offset+one.Size != two.Offset {
			continue // apart in the input already
		}
		shstrtab := fi.Section(".shstrtab")
		if shstrtab.Offset+shstrtab.Size > binary.LittleEndian.Uint64(b[0x28:]) {
			t.Fatalf("input does not fit the test: .shstrtab is not before the section headers")
		}
		o1, o2 := testbin.OpenELF(t, extracted(t, bin)).Section(".note.one"), testbin.OpenELF(t, extracted(t, bin)).Section(".note.two")
		adjacent := o1.Offset+o1.Size == o2.Offset
		if adjacent {
			adjacents++
		} else {
			gaps++
		}
		for _, tc := range []struct {
			name    string
			off, to uint64
			keeps   bool
		}{
			{"a kept note and the dropped .gnu.hash after it", abi.Offset, gnuHash.Offset + gnuHash.Size, false},
			{"two kept notes after the head", one.Offset, two.Offset + two.Size, adjacent},
			{"the second of them alone", two.Offset, two.Offset + two.Size, true},
			{"the last kept section and what follows it", shstrtab.Offset, shstrtab.Offset + shstrtab.Size + 8, false},
		} {
			checkNoteOver(t, fmt.Sprintf("%s (drop %d, pad %d)", tc.name, drop, pad), b, tc.off, tc.to, tc.keeps)
		}
	}
	if gaps == 0 || adjacents == 0 {
		t.Errorf("of the programs, %d have padding between the notes in the debug file and %d do not: want some of each", gaps, adjacents)
	}
}

// extracted is extractFile for a file extracted more than once.
func extracted(t *testing.T, bin string) string {
	t.Helper()
	c := filepath.Join(t.TempDir(), filepath.Base(bin))
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := extractFile(t, c)
	return out
}

// checkNoteOver turns b's PT_GNU_STACK into a PT_NOTE over [off, to),
// extracts it, and checks the note keeps its bytes (keeps) or none, and
// that any bytes it keeps are the input's.
func checkNoteOver(t *testing.T, name string, b []byte, off, to uint64, keeps bool) {
	t.Helper()
	fi, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	stack := stackIndex(t, fi)
	p := patched(t, "seg", b, func(c []byte) []byte { asNote(c, stack, off, to-off); return c })
	fo := testbin.OpenELF(t, extracted(t, p))
	for _, pr := range progProblems(testbin.OpenELF(t, p), fo) {
		t.Errorf("%s: %s", name, pr)
	}
	want := uint64(0)
	if keeps {
		want = to - off
	}
	if got := fo.Progs[stack].Filesz; got != want {
		t.Errorf("%s: the segment keeps %d of its %d bytes, want %d", name, got, to-off, want)
	}
}

// A segment over two kept sections with dropped bytes between them keeps
// none, even where the debug file puts the two side by side.
func TestSegmentOverADroppedGap(t *testing.T) {
	bin := withAsm(t, "gap", ".section .note.a,\"\",@note\n.p2align 2\n.long 4, 4, 1\n.asciz \"abc\"\n.long 1\n"+
		".section .rules.gap,\"\",@progbits\n.zero 8\n"+
		".section .note.b,\"\",@note\n.p2align 2\n.long 4, 4, 2\n.asciz \"abc\"\n.long 2\n")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	fi := testbin.OpenELF(t, bin)
	a, gap, nb := fi.Section(".note.a"), fi.Section(".rules.gap"), fi.Section(".note.b")
	if a == nil || gap == nil || nb == nil || a.Offset+a.Size != gap.Offset || gap.Offset+gap.Size != nb.Offset {
		t.Fatalf("input does not fit the test: %v %v %v", a, gap, nb)
	}
	fo := testbin.OpenELF(t, extracted(t, bin))
	if oa, ob := fo.Section(".note.a"), fo.Section(".note.b"); oa.Offset+oa.Size != ob.Offset {
		t.Fatalf("the notes are not side by side in the debug file: %#x+%d, %#x", oa.Offset, oa.Size, ob.Offset)
	}
	checkNoteOver(t, "two kept notes around dropped bytes", b, a.Offset, nb.Offset+nb.Size, false)
}

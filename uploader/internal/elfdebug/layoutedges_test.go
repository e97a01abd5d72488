package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
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
// move to just after the ELF header.
func TestProgramHeadersPastTheFirst64KiBMove(t *testing.T) {
	testbin.Need(t, "gcc")
	b, err := os.ReadFile(testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"))
	if err != nil {
		t.Fatal(err)
	}
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	phsize := uint64(binary.LittleEndian.Uint16(b[0x38:])) * 56
	for _, tc := range []struct {
		at, want uint64
	}{{1 << 16, 1 << 16}, {1<<16 + 8, 64}} {
		// A copy of the table at tc.at, past the file's old end.
		bin := patched(t, "phdrs", b, func(c []byte) []byte {
			c = append(c, make([]byte, tc.at-uint64(len(c)))...)
			c = append(c, b[phoff:phoff+phsize]...)
			binary.LittleEndian.PutUint64(c[0x20:], tc.at)
			return c
		})
		out, _ := extractFile(t, bin)
		fo := elfFile(t, out)
		ob, _ := os.ReadFile(out)
		if got := binary.LittleEndian.Uint64(ob[0x20:]); got != tc.want {
			t.Errorf("program headers at %#x in the input: at %#x in the debug file, want %#x", tc.at, got, tc.want)
		}
		if len(fo.Progs) != int(phsize/56) || fo.Section(".debug_info") == nil {
			t.Errorf("program headers at %#x: debug file has %d program headers and .debug_info %v", tc.at, len(fo.Progs), fo.Section(".debug_info"))
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
		fi, fo := elfFile(t, bin), elfFile(t, out)
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
	b, err := os.ReadFile(testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, p := range fi.Progs {
		if p.Type == elf.PT_GNU_STACK {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("no PT_GNU_STACK to turn into a hostile note")
	}
	bin := patched(t, "wrap", b, func(c []byte) []byte {
		h := progEntry(c, idx)
		binary.LittleEndian.PutUint32(h[phType:], uint32(elf.PT_NOTE))
		binary.LittleEndian.PutUint64(h[phOffset:], 1<<64-16)
		binary.LittleEndian.PutUint64(h[phFilesz:], 16)
		return c
	})
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
	b, err := os.ReadFile(testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"))
	if err != nil {
		t.Fatal(err)
	}
	fi, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	load0 := firstLoadOf(t, fi)
	idx := -1
	var notesEnd uint64
	for i, p := range fi.Progs {
		switch p.Type {
		case elf.PT_GNU_STACK:
			idx = i
		case elf.PT_NOTE:
			notesEnd = max(notesEnd, p.Off+p.Filesz)
		}
	}
	if idx < 0 || load0.Filesz < notesEnd+64 {
		t.Fatalf("input does not fit the test: PT_GNU_STACK %d, first PT_LOAD %d bytes, notes end at %#x", idx, load0.Filesz, notesEnd)
	}
	bin := patched(t, "zeronote", b, func(c []byte) []byte {
		// No section headers (as sstrip leaves), and an empty note near
		// the end of the first PT_LOAD.
		binary.LittleEndian.PutUint64(c[0x28:], 0)
		binary.LittleEndian.PutUint16(c[0x3c:], 0)
		binary.LittleEndian.PutUint16(c[0x3e:], 0)
		h := progEntry(c, idx)
		binary.LittleEndian.PutUint32(h[phType:], uint32(elf.PT_NOTE))
		binary.LittleEndian.PutUint64(h[phOffset:], load0.Filesz-32)
		binary.LittleEndian.PutUint64(h[phFilesz:], 0)
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
	fi := elfFile(t, bin)
	plain, _ := extractFile(t, bin)
	fo := elfFile(t, plain)
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
		got := elfFile(t, out).Sections[relaIdx]
		if tc.inHead && got.Offset != at {
			t.Errorf("with exactly %d bytes not kept before it, .rela.plt moved from %#x to %#x", headDropBudget, at, got.Offset)
		}
		if !tc.inHead && got.Offset >= headDropBudget {
			t.Errorf("with %d bytes not kept before it, .rela.plt stayed at %#x (in the debug file at %#x)", headDropBudget+tc.extra, at, got.Offset)
		}
	}
}

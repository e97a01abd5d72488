package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A binary without section headers (what sstrip leaves) still has its
// notes: the debug file keeps them where PT_NOTE said, inside the first
// PT_LOAD's file bytes, so a profiler finds the same build ID there. (The
// CLI refuses such a file before extracting: without section headers no
// symbol table is found, so it would symbolize nothing.)
func TestNoSectionHeaders(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	// e_shoff, e_shnum and e_shstrndx of an ELF64 header: no sections.
	binary.LittleEndian.PutUint64(b[0x28:], 0)
	binary.LittleEndian.PutUint16(b[0x3c:], 0)
	binary.LittleEndian.PutUint16(b[0x3e:], 0)
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	want, err := buildid.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := extractFile(t, bin)
	if got, err := buildid.Read(out); err != nil || got.Value != want.Value {
		t.Errorf("debug file's build ID %q (%v), want %q", got.Value, err, want.Value)
	}
	fi, fo := testbin.OpenELF(t, bin), testbin.OpenELF(t, out)
	ob, _ := os.ReadFile(out)
	var load0 *elf.Prog
	for _, p := range fo.Progs {
		if p.Type == elf.PT_LOAD {
			load0 = p
			break
		}
	}
	var notesEnd uint64
	for i, p := range fi.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notesEnd = max(notesEnd, p.Off+p.Filesz)
		o := fo.Progs[i]
		if o.Off != p.Off || o.Filesz != p.Filesz {
			t.Errorf("PT_NOTE at %#x (%d bytes), was at %#x (%d bytes)", o.Off, o.Filesz, p.Off, p.Filesz)
			continue
		}
		if load0 == nil || o.Off+o.Filesz > load0.Off+load0.Filesz {
			t.Errorf("PT_NOTE at %#x is past the first PT_LOAD's file bytes", o.Off)
		}
		if !bytes.Equal(ob[o.Off:o.Off+o.Filesz], b[p.Off:p.Off+p.Filesz]) {
			t.Errorf("PT_NOTE's bytes at %#x changed", o.Off)
		}
	}
	// Nothing but the head (headers and notes in place) is kept: no note
	// is written a second time after it.
	if uint64(len(ob)) != notesEnd {
		t.Errorf("debug file is %d bytes; want %d, the end of the last note", len(ob), notesEnd)
	}
}

// A PT_NOTE outside the first PT_LOAD (here: a section-less file whose
// second note segment was moved into the code segment) is packed after the
// head, and its program header moves with its bytes.
func TestNoteSegmentOutsideTheHeadMovesWithItsBytes(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f := testbin.OpenELF(t, bin)
	var code *elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			code = p
			break
		}
	}
	phoff := binary.LittleEndian.Uint64(b[0x20:])
	moved := -1
	for i, p := range f.Progs {
		if p.Type == elf.PT_NOTE && code != nil && p.Filesz <= code.Filesz {
			moved = i // the last note segment: its bytes go into the code segment
		}
	}
	if moved < 0 {
		t.Skip("no note segment to move")
	}
	p := f.Progs[moved]
	to := code.Off + 16 // inside the code segment, 4-aligned
	copy(b[to:to+p.Filesz], b[p.Off:p.Off+p.Filesz])
	binary.LittleEndian.PutUint64(b[phoff+uint64(moved)*56+8:], to) // p_offset
	binary.LittleEndian.PutUint64(b[0x28:], 0)                      // no section headers
	binary.LittleEndian.PutUint16(b[0x3c:], 0)
	binary.LittleEndian.PutUint16(b[0x3e:], 0)
	in := filepath.Join(dir, "moved-note")
	if err := os.WriteFile(in, b, 0o755); err != nil {
		t.Fatal(err)
	}
	out, _ := extractFile(t, in)
	ob, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	o := testbin.OpenELF(t, out).Progs[moved]
	if o.Filesz != p.Filesz || o.Off+o.Filesz > uint64(len(ob)) || !bytes.Equal(ob[o.Off:o.Off+o.Filesz], b[to:to+p.Filesz]) {
		t.Errorf("moved PT_NOTE: %+v in a %d-byte debug file; want its %d bytes where it points", o.ProgHeader, len(ob), p.Filesz)
	}
}

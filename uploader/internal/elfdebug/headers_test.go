package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// progProblems lists how out's ELF type and program headers differ from
// in's in ways that stop a symbolizer from mapping runtime addresses: every
// field of every program header must be kept except p_filesz, which may
// shrink; a segment that keeps file bytes must hold the original bytes
// (PT_PHDR excepted: it holds the rewritten headers), wherever it moved.
func progProblems(in, out *elf.File) []string {
	var probs []string
	if in.Type != out.Type || in.Machine != out.Machine || in.Entry != out.Entry {
		probs = append(probs, fmt.Sprintf("file header %v %v %#x -> %v %v %#x", in.Type, in.Machine, in.Entry, out.Type, out.Machine, out.Entry))
	}
	if len(in.Progs) != len(out.Progs) {
		return append(probs, fmt.Sprintf("%d program headers -> %d", len(in.Progs), len(out.Progs)))
	}
	for i, p := range in.Progs {
		a, b := p.ProgHeader, out.Progs[i].ProgHeader
		moved := a.Off != b.Off
		if a.Type == elf.PT_LOAD || a.Type == elf.PT_PHDR || b.Filesz == 0 {
			moved = false // these keep their offset: compare it below
		}
		same := a.Type == b.Type && a.Flags == b.Flags && a.Vaddr == b.Vaddr && a.Paddr == b.Paddr &&
			a.Memsz == b.Memsz && a.Align == b.Align && (a.Off == b.Off || moved) && b.Filesz <= a.Filesz
		if moved && b.Filesz != a.Filesz {
			same = false // a moved segment moves whole
		}
		if !same {
			probs = append(probs, fmt.Sprintf("program header %d: %+v -> %+v", i, a, b))
			continue
		}
		if b.Filesz > 0 && a.Type != elf.PT_PHDR && a.Type != elf.PT_LOAD {
			want, _ := io.ReadAll(io.NewSectionReader(p, 0, int64(b.Filesz)))
			got, err := io.ReadAll(out.Progs[i].Open())
			if err != nil || !bytes.Equal(want, got) {
				probs = append(probs, fmt.Sprintf("program header %d (%v): bytes differ (%v)", i, a.Type, err))
			}
		}
	}
	return probs
}

// normalize maps a runtime address inside the mapping [start, limit) of
// file offset mapOff back to an address in the ELF file, the way a
// profiling backend does: find the PT_LOAD holding the address's file
// offset and apply its p_offset/p_vaddr.
func normalize(f *elf.File, start, limit, mapOff, addr uint64) (uint64, error) {
	fileOff := addr - start + mapOff
	var hit *elf.ProgHeader
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && fileOff >= p.Off && fileOff < p.Off+p.Memsz && p.Off < mapOff+(limit-start) {
			if hit != nil {
				return 0, fmt.Errorf("file offset %#x in two PT_LOADs", fileOff)
			}
			h := p.ProgHeader
			hit = &h
		}
	}
	if hit == nil {
		return 0, fmt.Errorf("no PT_LOAD holds file offset %#x", fileOff)
	}
	return fileOff - hit.Off + hit.Vaddr, nil
}

// runtimeProblems loads in at a made-up base (for PIE and shared objects)
// as the kernel would, and checks that every function address of in comes
// back unchanged when normalized through out's program headers.
func runtimeProblems(in, out *elf.File, funcs []uint64) []string {
	base := uint64(0)
	if in.Type == elf.ET_DYN {
		base = 0x555555554000
	}
	var probs []string
	for _, fn := range funcs {
		var seg *elf.Prog
		for _, p := range in.Progs {
			if p.Type == elf.PT_LOAD && fn >= p.Vaddr && fn < p.Vaddr+p.Memsz {
				seg = p
			}
		}
		if seg == nil {
			probs = append(probs, fmt.Sprintf("%#x: in no PT_LOAD of the input", fn))
			continue
		}
		// The kernel maps whole pages: the mapping starts at the page of
		// p_vaddr and its file offset is p_offset rounded down alike.
		pageOff := seg.Vaddr & 0xfff
		start := base + seg.Vaddr - pageOff
		limit := base + (seg.Vaddr+seg.Memsz+0xfff)&^0xfff
		got, err := normalize(out, start, limit, seg.Off-pageOff, base+fn)
		if err != nil || got != fn {
			probs = append(probs, fmt.Sprintf("runtime %#x (mapping %#x-%#x @%#x): got %#x, %v; want %#x", base+fn, start, limit, seg.Off-pageOff, got, err, fn))
		}
	}
	return probs
}

// TestRealBinaries extracts gcc, g++ and Go binaries and checks what a
// symbolizer and the usual ELF tools need from each output.
func TestRealBinaries(t *testing.T) {
	for _, in := range inputs(t) {
		t.Run(in.name, func(t *testing.T) {
			out, _ := extractFile(t, in.path)
			fi, fo := testbin.OpenELF(t, in.path), testbin.OpenELF(t, out)
			funcs := funcAddrs(t, in.path, in.funcs...)
			t.Run("program headers", func(t *testing.T) {
				for _, p := range progProblems(fi, fo) {
					t.Error(p)
				}
				for _, p := range runtimeProblems(fi, fo, funcs) {
					t.Error(p)
				}
			})
			t.Run("broken program headers are caught", func(t *testing.T) {
				checkBreakageCaught(t, fi, out, funcs)
			})
			t.Run("section alignment", func(t *testing.T) {
				for _, p := range alignProblems(fo) {
					t.Error(p)
				}
			})
			t.Run("compression", func(t *testing.T) { checkCompression(t, in) })
			t.Run("ELF tools", func(t *testing.T) {
				needTools(t)
				for _, p := range toolProblems(t, in, out) {
					t.Error(p)
				}
			})
		})
	}
}

// checkBreakageCaught breaks the extracted file out the ways earlier
// versions did (the text PT_LOAD's p_offset rewritten or zeroed) and checks
// that the program header checks notice.
func checkBreakageCaught(t *testing.T, fi *elf.File, out string, funcs []uint64) {
	good, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	tried := 0
	for _, mut := range []struct {
		name string
		off  func(old uint64) uint64
	}{
		{"zeroed", func(uint64) uint64 { return 0 }},
		{"shifted", func(old uint64) uint64 { return old + 0x190 }}, // what the first extractor did to Go
		{"packed", func(old uint64) uint64 { return old &^ 0xfff / 4 }},
	} {
		for i, p := range fi.Progs {
			if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 || mut.off(p.Off) == p.Off {
				continue
			}
			tried++
			bad := bytes.Clone(good)
			phoff := binary.LittleEndian.Uint64(bad[32:])
			binary.LittleEndian.PutUint64(bad[phoff+uint64(i)*56+8:], mut.off(p.Off))
			fb, err := elf.NewFile(bytes.NewReader(bad))
			if err != nil {
				t.Fatal(err)
			}
			if len(progProblems(fi, fb)) == 0 {
				t.Errorf("%s p_offset of text PT_LOAD %d: header check passed", mut.name, i)
			}
			if len(runtimeProblems(fi, fb, funcs)) == 0 {
				t.Errorf("%s p_offset of text PT_LOAD %d: runtime addresses still normalize", mut.name, i)
			}
		}
	}
	if tried == 0 {
		t.Error("no broken variant tried")
	}
}

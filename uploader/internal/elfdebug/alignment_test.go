package elfdebug

import (
	"debug/elf"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Every section whose bytes are kept must sit at an offset its sh_addralign
// allows, as in the input: readers map .dynsym, .symtab and notes as arrays
// of aligned records.
func TestKeptSectionsStayAligned(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	bins := map[string]string{
		"gcc":       testbin.GCC(t, dir, "plain", testbin.HelloC, "-g", "-O1"),
		"gcc-zlib":  testbin.GCC(t, dir, "zlib", testbin.HelloC, "-g", "-gz=zlib"),
		"gcc-nopie": testbin.GCC(t, dir, "nopie", testbin.HelloC, "-g", "-no-pie"),
		"go":        testbin.GoBuild(t, dir, "gohello", testbin.HelloGo("hi"), ""),
		// A note aligned to 64 KiB, the largest alignment honoured (larger
		// ones, which no toolchain emits for notes, would pad with zeros).
		"align-64k": withAsm(t, "align64k", ".section .note.rules,\"\",@note\n.p2align 16\n.long 4, 4, 1\n.asciz \"abc\"\n.long 0\n"),
	}
	for name, bin := range bins {
		t.Run(name, func(t *testing.T) {
			in, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			outPath, _ := extractFile(t, bin)
			out, err := elf.Open(outPath)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			for i, s := range out.Sections {
				if s.Type == elf.SHT_NOBITS || s.Type == elf.SHT_NULL || s.Addralign <= 1 {
					continue
				}
				if in.Sections[i].Offset%s.Addralign != 0 {
					continue // misaligned in the input already: nothing to keep
				}
				if s.Offset%s.Addralign != 0 {
					t.Errorf("%s at %#x, not a multiple of its alignment %d (input: %#x)", s.Name, s.Offset, s.Addralign, in.Sections[i].Offset)
				}
			}
		})
	}
}

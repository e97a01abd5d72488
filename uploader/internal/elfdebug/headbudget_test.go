package elfdebug

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// The head (the first PT_LOAD's kept sections at their input offsets) may
// hold up to headDropBudget of zeros where dropped sections were, and no
// more: past it the rest is packed, so a debug file never carries megabytes
// of zeros, while far-apart kept sections still stay in place.
func TestHeadDropBudget(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	main := filepath.Join(dir, "main.c")
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("main.c", "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n")
	const noExecStack = ".section .note.GNU-stack,\"\",@progbits\n"

	// 6,000 exported functions with long names: over 1 MiB of .dynstr
	// (kept) between small dropped sections (.gnu.hash, .gnu.version).
	var syms strings.Builder
	syms.WriteString(".text\n")
	for i := range 6000 {
		name := fmt.Sprintf("exported_function_%s_%05d", strings.Repeat("x", 150), i)
		fmt.Fprintf(&syms, ".globl %s\n.type %s,@function\n%s:\nret\n", name, name, name)
	}
	syms.WriteString(noExecStack)
	bigDynstr := filepath.Join(dir, "bigdynstr")
	testbin.Run(t, dir, "gcc", "-g", "-rdynamic", "-o", bigDynstr, main, write("syms.s", syms.String()))

	// 65,536 pointers to relocate: 1.5 MiB of .rela.dyn (dropped) between
	// .dynstr and .rela.plt (both kept).
	relocs := ".section .data.rel.ro,\"aw\"\n.rept 65536\n.quad main\n.endr\n" + noExecStack
	bigRela := filepath.Join(dir, "bigrela")
	testbin.Run(t, dir, "gcc", "-g", "-o", bigRela, main, write("relocs.s", relocs))

	t.Run("kept sections far apart stay in place", func(t *testing.T) {
		out, _ := extractFile(t, bigDynstr)
		for _, p := range headProblems(t, bigDynstr, out) {
			t.Error(p)
		}
	})
	t.Run("a dropped section over the budget ends the head", func(t *testing.T) {
		out, _ := extractFile(t, bigRela)
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > headDropBudget {
			t.Errorf("debug file is %d bytes: it carries the dropped .rela.dyn's place as zeros", fi.Size())
		}
		// Only what follows the dropped 1.5 MiB moved.
		for _, p := range headProblems(t, bigRela, out) {
			if !strings.HasPrefix(p, ".rela.plt ") {
				t.Error(p)
			}
		}
		f, err := elf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if s := f.Section(".rela.plt"); s == nil || s.Type == elf.SHT_NOBITS {
			t.Errorf(".rela.plt not kept: %+v", s)
		}
	})
}

// A static program without notes (-nostdlib, no build ID) keeps nothing in
// its first PT_LOAD but the headers: the sections that follow are packed
// after the program headers, never over them.
func TestNothingKeptInTheFirstLoad(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "start.c")
	if err := os.WriteFile(src, []byte(`void _start(void) { for (;;) __asm__ volatile("mov $60, %eax; xor %edi, %edi; syscall"); }`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tiny")
	testbin.Run(t, dir, "gcc", "-g", "-static", "-nostdlib", "-Wl,--build-id=none", "-o", bin, src)
	out, _ := extractFile(t, bin)
	fi, fo := testbin.OpenELF(t, bin), testbin.OpenELF(t, out)
	if len(fo.Progs) != len(fi.Progs) {
		t.Fatalf("%d program headers, want %d", len(fo.Progs), len(fi.Progs))
	}
	for i, p := range fi.Progs {
		if o := fo.Progs[i]; o.Type != p.Type || o.Off != p.Off || o.Vaddr != p.Vaddr || o.Memsz != p.Memsz {
			t.Errorf("program header %d: %+v, want %+v", i, o.ProgHeader, p.ProgHeader)
		}
	}
	if s := fo.Section(".debug_info"); s == nil {
		t.Error("no .debug_info in the debug file")
	} else if _, err := fo.DWARF(); err != nil {
		t.Errorf("DWARF: %v", err)
	}
}

// Kept sections after the head are packed in input order (the layout's
// promise, which keeps the output deterministic and readable in order).
func TestRestPackedInInputOrder(t *testing.T) {
	for _, c := range []Compression{None, Zlib} {
		bin := testbin.C(t, "prog", "p", "-g")
		f, err := os.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		out := filepath.Join(t.TempDir(), "out")
		o, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ExtractWith(f, fi.Size(), o, Options{Compress: c}); err != nil {
			t.Fatal(err)
		}
		f.Close()
		o.Close()
		in, ou := testbin.OpenELF(t, bin), testbin.OpenELF(t, out)
		var prev *elf.Section
		for i, s := range in.Sections {
			o := ou.Sections[i]
			if s.Type == elf.SHT_NULL || o.Type == elf.SHT_NOBITS || s.Flags&elf.SHF_ALLOC != 0 {
				continue // dropped, or in the head at its input offset
			}
			if prev != nil && o.Offset < prev.Offset {
				t.Errorf("%v: %s at %#x comes before %s at %#x, against input order", c, s.Name, o.Offset, prev.Name, prev.Offset)
			}
			prev = o
		}
	}
}

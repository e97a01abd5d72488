package elfdebug

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// outsideSegments lists the allocated sections of f that keep bytes outside
// every PT_LOAD's file bytes. objcopy ("allocated section not in segment")
// and gdb ("Loadable section outside of ELF segments") warn about each. Only
// Go outputs have any: .gopclntab (symbolizers read Go's line table from it
// when there is no DWARF) and, in Go PIEs, .dynsym/.dynstr lie in a PT_LOAD
// that has no file bytes in a debug file. objcopy --only-keep-debug drops them.
func outsideSegments(f *elf.File) []string {
	var names []string
	for _, s := range f.Sections {
		if s.Flags&elf.SHF_ALLOC == 0 || s.Type == elf.SHT_NOBITS || s.Size == 0 {
			continue
		}
		in := false
		for _, p := range f.Progs {
			in = in || p.Type == elf.PT_LOAD && s.Offset >= p.Off && s.Offset+s.Size <= p.Off+p.Filesz
		}
		if !in {
			names = append(names, s.Name)
		}
	}
	return names
}

// toolProblems runs binutils, elfutils and gdb on the debug file out of
// bin and lists every failure and every line they print on stderr.
func toolProblems(t *testing.T, in input, out string) []string {
	t.Helper()
	dir := t.TempDir()
	bin, goBin := in.path, in.goBin
	var probs []string
	fo, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer fo.Close()
	var expected []*regexp.Regexp
	outside := outsideSegments(fo)
	if len(outside) > 0 && !goBin {
		probs = append(probs, fmt.Sprintf("allocated sections outside segments: %v", outside))
	}
	for _, name := range outside {
		q := regexp.QuoteMeta(name)
		expected = append(expected, regexp.MustCompile("warning: allocated section `"+q+"' not in segment$"),
			regexp.MustCompile(`warning: Loadable section "`+q+`" outside of ELF segments$`))
	}
	if len(outside) > 0 {
		expected = append(expected, regexp.MustCompile(`^  in /\S+$`)) // gdb's second line
	}
	isExpected := func(line string) bool {
		for _, re := range expected {
			if re.MatchString(line) {
				return true
			}
		}
		return false
	}
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if line != "" && !isExpected(line) {
				probs = append(probs, fmt.Sprintf("%s %s: %s", name, strings.Join(args, " "), line))
			}
		}
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s %s: %v", name, strings.Join(args, " "), err))
		}
		return stdout.String()
	}
	run("readelf", "-a", "-W", out)
	run("eu-readelf", "-a", out)
	if !goBin {
		// elflint's debug-file mode also wants Go's sections to be in segments.
		run("eu-elflint", "--gnu-ld", "-d", out)
	}
	for i, flag := range []string{"--strip-unneeded", "--compress-debug-sections=zlib", "--compress-debug-sections=zstd", "--decompress-debug-sections"} {
		copied := filepath.Join(dir, fmt.Sprint("objcopy", i))
		run("objcopy", flag, out, copied)
		run("readelf", "-a", "-W", copied)
	}
	gdb := run("gdb", "-nx", "-batch", "-iex", "set auto-load off", "-ex", "symbol-file "+out, "-ex", "info line "+in.gdbFunc)
	if !regexp.MustCompile(`Line \d+ of "[^"]+" starts at address`).MatchString(gdb) {
		probs = append(probs, fmt.Sprintf("gdb: no line for %s:\n%s", in.gdbFunc, gdb))
	}
	if in.name == "go-pie" {
		// eu-unstrip fails on Go PIEs whatever the debug file (eu-strip's
		// own: "cannot get symbol table entry: invalid section index").
		return probs
	}
	stripped, unstripped := filepath.Join(dir, "stripped"), filepath.Join(dir, "unstripped")
	run("strip", "-o", stripped, bin)
	run("eu-unstrip", "-o", unstripped, stripped, out)
	run("readelf", "-a", "-W", unstripped)
	addr := fmt.Sprintf("%#x", funcAddrs(t, bin, in.funcs[0])[0])
	if want, got := run("addr2line", "-f", "-e", bin, addr), run("addr2line", "-f", "-e", unstripped, addr); want != got || strings.Contains(got, "??") {
		probs = append(probs, fmt.Sprintf("addr2line on eu-unstrip's output: %q, want %q", got, want))
	}
	return probs
}

// alignProblems lists kept sections whose file offset breaks their sh_addralign.
func alignProblems(f *elf.File) []string {
	var probs []string
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && s.Type != elf.SHT_NULL && s.Addralign > 1 && s.Offset%s.Addralign != 0 {
			probs = append(probs, fmt.Sprintf("%s at %#x, aligned to %d", s.Name, s.Offset, s.Addralign))
		}
	}
	return probs
}

// chdrProblems lists the sections Extract compressed (in out, from in) that
// are not aligned for their compression header as binutils aligns them:
// sh_addralign 8 in ELF64 (Elf64_Chdr), 4 in ELF32, and the section's offset
// a multiple of it. Sections compressed already in the input (Go's, aligned
// to 1 by its linker) pass through as they are. Read raw: debug/elf reports
// a compressed section's ch_addralign instead.
func chdrProblems(t *testing.T, in, out string) []string {
	t.Helper()
	fi, f := parseFile(t, in), parseFile(t, out)
	want := uint64(8)
	if f.Class == elf.ELFCLASS32 {
		want = 4
	}
	var probs []string
	for i, s := range f.Sections {
		ours := s.Flags&uint64(elf.SHF_COMPRESSED) != 0 && fi.Sections[i].Flags&uint64(elf.SHF_COMPRESSED) == 0
		if ours && (s.Addralign != want || s.Off%want != 0) {
			probs = append(probs, fmt.Sprintf("%s (compressed) at %#x, aligned to %d; want %d", s.Name, s.Off, s.Addralign, want))
		}
	}
	return probs
}

// gapProblems lists the sections Extract placed (those not at their input
// offset) that sit further from the previous section's end than their
// alignment needs: the layout packs them, so every byte of a gap is waste
// on the wire.
func gapProblems(t *testing.T, in, out string) []string {
	t.Helper()
	fi, fo := parseFile(t, in), parseFile(t, out)
	type placed struct {
		name           string
		off, end, algn uint64
		moved          bool
	}
	var secs []placed
	for i, s := range fo.Sections {
		if s.HasData {
			secs = append(secs, placed{s.Name, s.Off, s.Off + s.Size, max(1, s.Addralign), s.Off != fi.Sections[i].Off})
		}
	}
	sort.Slice(secs, func(a, b int) bool { return secs[a].off < secs[b].off })
	var probs []string
	for k := 1; k < len(secs); k++ {
		prev, s := secs[k-1], secs[k]
		if s.moved && s.off >= prev.end && s.off-prev.end >= s.algn {
			probs = append(probs, fmt.Sprintf("%s at %#x: %d bytes after %s, aligned to %d", s.name, s.off, s.off-prev.end, prev.name, s.algn))
		}
	}
	return probs
}

// headProblems lists the kept allocated sections inside the input's first
// PT_LOAD that did not keep their input offset (the head's promise, for
// inputs whose dropped bytes there are under the budget: every real binary
// here), and a first PT_LOAD whose file bytes stop short of the last of them.
func headProblems(t *testing.T, in, out string) []string {
	t.Helper()
	fi, fo := parseFile(t, in), parseFile(t, out)
	var load0, oload0 *elfparse.Prog
	for i := range fi.Progs {
		if fi.Progs[i].Type == uint32(elf.PT_LOAD) {
			load0, oload0 = &fi.Progs[i], &fo.Progs[i]
			break
		}
	}
	if load0 == nil {
		return nil
	}
	var probs []string
	for i, s := range fi.Sections {
		o := fo.Sections[i]
		if !s.HasData || !o.HasData || s.Flags&uint64(elf.SHF_ALLOC) == 0 || s.Off < load0.Off || s.Off+s.Size > load0.Off+load0.Filesz {
			continue
		}
		if o.Off != s.Off {
			probs = append(probs, fmt.Sprintf("%s (in the first PT_LOAD) moved from %#x to %#x", s.Name, s.Off, o.Off))
		} else if s.Off+s.Size > oload0.Off+oload0.Filesz {
			probs = append(probs, fmt.Sprintf("%s at %#x is past the first PT_LOAD's %d file bytes", s.Name, s.Off, oload0.Filesz))
		}
	}
	return probs
}

func parseFile(t *testing.T, path string) *elfparse.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAlignProblemsCatchesMisalignment(t *testing.T) {
	f := &elf.File{Sections: []*elf.Section{{SectionHeader: elf.SectionHeader{Name: ".dynsym", Type: elf.SHT_DYNSYM, Offset: 0x384, Addralign: 8}}}}
	if len(alignProblems(f)) != 1 {
		t.Error("misaligned .dynsym not reported")
	}
}

func needTools(t *testing.T) {
	testbin.Need(t, "readelf", "objcopy", "strip", "addr2line", "eu-readelf", "eu-elflint", "eu-unstrip", "gdb")
}

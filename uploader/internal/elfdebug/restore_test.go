package elfdebug

import (
	"bytes"
	"debug/elf"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func loadOffsets(t *testing.T, path string) []uint64 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var offs []uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			offs = append(offs, p.Off)
		}
	}
	return offs
}

// A debug file made by objcopy --only-keep-debug and extracted alone gets
// its program's PT_LOAD offsets back, for every linker and layout here;
// the program itself, eu-strip's debug file and our own output are left
// as they are.
func TestDebugFileAloneGetsProgramOffsets(t *testing.T) {
	testbin.Need(t, "objcopy")
	src := `#include <stdio.h>
int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }
int main(void) { printf("%d\n", work(10)); return 0; }
`
	builds := map[string]func(t *testing.T) string{
		"pie":    func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "a", src, "-g") },
		"no-pie": func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "a", src, "-g", "-no-pie") },
		"gold":   func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "a", src, "-g", "-fuse-ld=gold") },
		"noseparate-code": func(t *testing.T) string {
			return testbin.GCC(t, t.TempDir(), "a", src, "-g", "-Wl,-z,noseparate-code")
		},
		"static": func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "a", src, "-g", "-static") },
		"max-page-size-2m": func(t *testing.T) string {
			return testbin.GCC(t, t.TempDir(), "a", src, "-g", "-Wl,-z,max-page-size=0x200000")
		},
		"shared-library": func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "lib.so", src, "-g", "-shared", "-fPIC") },
		// Code past the first page: gold's data segment moves (review s15-r1, finding 1).
		"gold-large": func(t *testing.T) string { return testbin.GCC(t, t.TempDir(), "a", largeSrc(), "-g", "-fuse-ld=gold") },
		// A segment with .bss before the code (review s15-r1, finding 3).
		"code-after-bss": func(t *testing.T) string {
			return testbin.GCC(t, t.TempDir(), "a", farSrc, "-g", "-O1", "-no-pie", "-Wl,--section-start=farcode=0x800000")
		},
		"go":     func(t *testing.T) string { return testbin.Go(t, "hello", "hi") },
		"go-pie": func(t *testing.T) string { return testbin.Go(t, "gopie", "hi", "-buildmode=pie") },
	}
	for name, build := range builds {
		t.Run(name, func(t *testing.T) {
			bin := build(t)
			want := loadOffsets(t, bin)
			debug := filepath.Join(t.TempDir(), "a.debug")
			testbin.Run(t, "", "objcopy", "--only-keep-debug", bin, debug)
			out, st := extractFile(t, debug)
			if got := loadOffsets(t, out); !slices.Equal(got, want) {
				t.Errorf("PT_LOAD offsets of the extracted debug file %#x, the program's %#x (objcopy's %#x)", got, want, loadOffsets(t, debug))
			}
			if unsure(t, debug) {
				t.Error("SegmentsUnsure on an intact debug file")
			}
			// The other segments follow their PT_LOAD's (review s16-r1,
			// finding 7: PT_DYNAMIC, PT_GNU_EH_FRAME and PT_GNU_RELRO kept
			// objcopy's offsets).
			for _, p := range inconsistentSegments(t, out) {
				t.Error(p)
			}
			rewritten := !slices.Equal(loadOffsets(t, debug), want)
			if st.SegmentsRestored != rewritten {
				t.Errorf("SegmentsRestored %v; objcopy rewrote the offsets: %v", st.SegmentsRestored, rewritten)
			}
			// What already has the program's offsets is left alone.
			for _, in := range []string{bin, out} {
				if _, st := extractFile(t, in); st.SegmentsRestored {
					t.Errorf("%s: offsets restored, but they are the program's", filepath.Base(in))
				}
			}
		})
	}
	t.Run("eu-strip", func(t *testing.T) {
		testbin.Need(t, "eu-strip")
		bin := builds["pie"](t)
		dir := t.TempDir()
		testbin.Run(t, dir, "eu-strip", "-f", filepath.Join(dir, "a.debug"), "-o", filepath.Join(dir, "a"), bin)
		out, st := extractFile(t, filepath.Join(dir, "a.debug"))
		if got, want := loadOffsets(t, out), loadOffsets(t, bin); st.SegmentsRestored || !slices.Equal(got, want) {
			t.Errorf("eu-strip's debug file: restored %v, offsets %#x, the program's %#x", st.SegmentsRestored, got, want)
		}
	})
}

// largeSrc is a program whose code takes several pages.
func largeSrc() string {
	var b strings.Builder
	b.WriteString("#include <stdio.h>\n")
	for i := range 300 {
		fmt.Fprintf(&b, "__attribute__((noinline)) int f%d(int x) { int r = x; for (int i = 0; i < x %% 7 + 3; i++) r = r * 31 + i + %d; return r ^ (r >> 3); }\n", i, i)
	}
	b.WriteString("int main(int argc, char **argv) { int s = 0;\n")
	for i := range 300 {
		fmt.Fprintf(&b, "  s += f%d(argc + s);\n", i)
	}
	b.WriteString("  printf(\"%d\\n\", s); return 0; }\n")
	return b.String()
}

// farSrc puts code in a section linked after the data segment, whose .bss
// reaches past the next page.
const farSrc = `#include <stdio.h>
static char big_bss[0xf68];
int data_v[16] = {1,2,3};
#define G(n) __attribute__((noinline, section("farcode"))) int far_##n(int x) { int r = x; for (int i = 0; i < x % 5 + 2; i++) r = r * 17 + i + n; return r ^ (r >> 2); }
G(1) G(2) G(3) G(4)
int main(int argc, char **argv) {
  big_bss[argc] = argc;
  printf("%d\n", far_1(argc) + far_2(argc) + far_3(argc) + far_4(argc) + big_bss[1] + data_v[argc]);
  return 0;
}
`

func unsure(t *testing.T, path string) bool {
	t.Helper()
	f, st, err := elfparse.OpenRegular(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := elfparse.Parse(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return SegmentsUnsure(p)
}

// Hostile program headers never restore offsets past the 48-bit range or
// through an overflow, and odd alignments are not guessed at.
func TestRestoredSegmentsHostile(t *testing.T) {
	load := func(off, vaddr, filesz, memsz, align uint64) elfparse.Prog {
		return elfparse.Prog{Type: uint32(elf.PT_LOAD), Off: off, Vaddr: vaddr, Filesz: filesz, Memsz: memsz, Align: align}
	}
	cases := map[string][]elfparse.Prog{
		"memsz overflow":    {load(0, 0, 0x100, math.MaxUint64, 0x1000), load(0, 0x1000, 0, 0x10, 0x1000)},
		"huge size":         {load(0, 0, 0x100, 0x100, 0x1000), load(0, 0x1000, 0, 1<<50, 0x1000)},
		"alignment not 2^n": {load(0, 0, 0x100, 0x100, 0x1000), load(0, 0x1800, 0, 0x10, 0x1800)},
		"not congruent":     {load(0, 0, 0x100, 0x100, 0x1000), load(0x10, 0x1000, 0, 0x10, 0x1000)},
	}
	for name, progs := range cases {
		if got, ok := restoredSegments(progs, nil); ok {
			t.Errorf("%s: restored %+v", name, got)
		}
	}
	// objcopy's PIE layout: back to 0x1000 and 0x2e00.
	got, ok := restoredSegments([]elfparse.Prog{
		load(0, 0, 0x39c, 0x5e0, 0x1000), load(0, 0x1000, 0, 0x161, 0x1000), load(0, 0x2000, 0, 0x104, 0x1000), load(0xe00, 0x3e00, 0, 0x218, 0x1000)}, nil)
	if !ok || got[1].Off != 0x1000 || got[2].Off != 0x2000 || got[3].Off != 0x2e00 {
		t.Errorf("restored %+v, %v; want offsets 0x1000, 0x2000 and 0x2e00", got, ok)
	}
}

// A debug file whose code segment objcopy moved where no address matches
// the program's (what it does to llvm-bolt's: address 0x674, another
// size), extracted with its program's headers, gets that segment's header
// from the program whole. Checked on a real llvm-bolt-16 build as well.
func TestMovedSegmentTakenFromProgram(t *testing.T) {
	testbin.Need(t, "objcopy")
	bin := testbin.GCC(t, t.TempDir(), "a", "int main(void) { return 0; }\n", "-g")
	debug := filepath.Join(t.TempDir(), "a.debug")
	testbin.Run(t, "", "objcopy", "--only-keep-debug", bin, debug)
	testbin.MoveCodeSegment(t, debug, 0x674, 99)
	b, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	in := parseFile(t, bin)
	var out bytes.Buffer
	if _, err := ExtractWith(bytes.NewReader(b), int64(len(b)), &out, Options{Segments: in.Progs}); err != nil {
		t.Fatal(err)
	}
	of, err := elf.NewFile(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	pf := testbin.OpenELF(t, bin)
	for i, p := range pf.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		got := of.Progs[i].ProgHeader
		got.Filesz = p.Filesz // trimmed to what the output holds
		if got != p.ProgHeader {
			t.Errorf("PT_LOAD %d: %+v, the program's %+v", i, of.Progs[i].ProgHeader, p.ProgHeader)
		}
	}
}

// inconsistentSegments lists the segments of the file at path whose offset
// is not their address's in the PT_LOAD that holds them.
func inconsistentSegments(t *testing.T, path string) []string {
	f := testbin.OpenELF(t, path)
	var probs []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD || p.Type == elf.PT_NULL || p.Type == elf.PT_GNU_STACK {
			continue
		}
		for _, l := range f.Progs {
			if l.Type == elf.PT_LOAD && l.Vaddr <= p.Vaddr && p.Vaddr < l.Vaddr+l.Memsz && p.Off-l.Off != p.Vaddr-l.Vaddr {
				probs = append(probs, fmt.Sprintf("%v at offset %#x for address %#x: its PT_LOAD maps %#x at %#x", p.Type, p.Off, p.Vaddr, l.Vaddr, l.Off))
			}
		}
	}
	return probs
}

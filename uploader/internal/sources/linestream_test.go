package sources

import (
	"bytes"
	"debug/elf"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// corpus builds real binaries of every kind the streaming reader must read
// exactly as debug/dwarf does: gcc DWARF 2 to 5, g++, clang, compressed
// DWARF of each kind, Go plain and -trimpath, and gofmt.
func corpus(t *testing.T) map[string]string {
	dir := cProgram(t)
	bins := map[string]string{}
	cxx := filepath.Join(dir, "src/shape.cc")
	writeFile(t, cxx, "#include <string>\n#include <vector>\n#include <iostream>\nnamespace s { struct C { std::vector<std::string> v; }; }\n"+
		"int main() { s::C c; c.v.push_back(\"x\"); std::cout << c.v.size() << std::endl; }\n")
	gz := map[string]string{}
	for _, mode := range []string{"zlib", "zlib-gnu", "zstd"} {
		if exec.Command("sh", "-c", "echo 'int main(void){return 0;}' | gcc -x c -g -gz="+mode+" -o /dev/null -").Run() == nil {
			gz[mode] = "-gz=" + mode
		}
	}
	build := func(name, cc string, args ...string) {
		if _, err := exec.LookPath(cc); err != nil {
			t.Logf("no %s: %s not in the corpus", cc, name)
			return
		}
		run(t, dir, nil, cc, append(args, "-o", name)...)
		bins[name] = filepath.Join(dir, name)
	}
	c := []string{"-Iinc", "src/main.c", "src/util.c"}
	for _, v := range []string{"2", "3", "4", "5"} {
		build("gcc-dwarf"+v, "gcc", append([]string{"-g", "-gdwarf-" + v}, c...)...)
	}
	build("gcc-O2-abs", "gcc", append([]string{"-O2", "-g", "-I" + filepath.Join(dir, "inc"), filepath.Join(dir, "src/main.c")}, c[2:]...)...)
	build("gcc-prefix-map", "gcc", append([]string{"-g", "-fdebug-prefix-map=" + dir + "=/build"}, c...)...)
	build("gcc-dwarf64", "gcc", append([]string{"-g", "-gdwarf64"}, c...)...)
	build("gcc-types-section", "gcc", append([]string{"-g", "-gdwarf-4", "-fdebug-types-section"}, c...)...)
	for mode, flag := range gz {
		build("gcc-gz-"+mode, "gcc", append([]string{"-g", flag}, c...)...)
		build("gcc4-gz-"+mode, "gcc", append([]string{"-g", "-gdwarf-4", flag}, c...)...)
	}
	build("gxx", "g++", "-g", "-O1", "src/shape.cc")
	build("gxx-dwarf4", "g++", "-g", "-gdwarf-4", "src/shape.cc")
	build("clang", "clang", append([]string{"-g"}, c...)...)
	build("clang-dwarf4", "clang", append([]string{"-g", "-gdwarf-4"}, c...)...)
	build("clangxx", "clang++", "-g", "src/shape.cc")
	// objcopy's compression of a whole linked binary, and --only-keep-debug.
	if _, ok := bins["gcc-dwarf5"]; ok {
		if _, err := exec.LookPath("objcopy"); err == nil {
			run(t, dir, nil, "objcopy", "--compress-debug-sections=zlib-gnu", "gcc-dwarf5", "objcopy-zdebug")
			bins["objcopy-zdebug"] = filepath.Join(dir, "objcopy-zdebug")
			run(t, dir, nil, "objcopy", "--only-keep-debug", "gxx", "gxx.debug")
			bins["gxx.debug"] = filepath.Join(dir, "gxx.debug")
		}
	}
	gdir, goBin := goProgram(t)
	run(t, gdir, goEnv, goBin, "build", "-o", "plain", ".")
	run(t, gdir, goEnv, goBin, "build", "-trimpath", "-o", "trim", ".")
	bins["go-plain"] = filepath.Join(gdir, "plain")
	bins["go-trimpath"] = filepath.Join(gdir, "trim")
	// A larger Go program: many packages, cgo off.
	run(t, gdir, goEnv, goBin, "build", "-o", "gofmt", "cmd/gofmt")
	bins["go-gofmt"] = filepath.Join(gdir, "gofmt")
	return bins
}

// TestStreamMatchesDebugDwarf: the streaming reader lists the same files,
// in the same order, with the same comp_dirs, as debug/dwarf.
func TestStreamMatchesDebugDwarf(t *testing.T) {
	bins := corpus(t)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range bins {
			if !yield(k) {
				return
			}
		}
	}) {
		t.Run(name, func(t *testing.T) {
			f, err := elf.Open(bins[name])
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fi, err := os.Stat(bins[name])
			if err != nil {
				t.Fatal(err)
			}
			want, err := lineTableFilesDWARF(f, fi.Size())
			if err != nil {
				t.Fatalf("debug/dwarf: %v", err)
			}
			got, err := streamLineFiles(f, fi.Size())
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if len(want) < 3 {
				t.Fatalf("debug/dwarf lists only %v: not a useful comparison", want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("stream lists %d files, debug/dwarf %d", len(got), len(want))
				for i := range max(len(got), len(want)) {
					var g, w dwarfFile
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					if g != w {
						t.Errorf("%d: stream %q, debug/dwarf %q", i, g, w)
					}
				}
			}
			t.Logf("%d files", len(got))
		})
	}
}

// TestStreamObjectFile: object files still go through debug/dwarf (they
// need relocations) and give the file list of the linked program's unit.
func TestStreamObjectFile(t *testing.T) {
	dir := cProgram(t)
	run(t, dir, nil, "gcc", "-g", "-Iinc", "-c", "src/main.c", "-o", "main.o")
	files, err := lineTableFilesOf(t, filepath.Join(dir, "main.o"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	if !slices.Contains(names, "src/main.c") || !slices.Contains(names, "inc/a.h") {
		t.Errorf("object file lists %v", names)
	}
}

// FuzzStreamLineFiles feeds mutated ELF files (seeded from real small
// binaries in testdata/fuzz) to the streaming reader: errors are fine;
// panics, pseudo-file names and overlong names are not, and whatever it
// lists comes with no more than maxHeld bytes held.
func FuzzStreamLineFiles(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	// Small real binaries: no libc, so the DWARF is most of the file.
	if _, err := exec.LookPath("gcc"); err == nil {
		dir := f.TempDir()
		src := filepath.Join(dir, "s.c")
		os.WriteFile(src, []byte("#include \"h.h\"\nvoid _start(void) { for (;;) f(); }\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "h.h"), []byte("static int x; static void f(void) { x++; }\n"), 0o644)
		for _, flags := range [][]string{{"-gdwarf-5"}, {"-gdwarf-4"}, {"-gdwarf-5", "-gz=zlib"}} {
			out := filepath.Join(dir, "bin")
			args := append([]string{"-g", "-Os", "-nostdlib", "-static", "-o", out, src}, flags...)
			if exec.Command("gcc", args...).Run() == nil {
				if b, err := os.ReadFile(out); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			return
		}
		files, err := streamLineFiles(ef, int64(len(data)))
		if err != nil {
			return
		}
		for _, df := range files {
			if pseudoFile(df.name) || len(df.name) > 3*maxString {
				t.Fatalf("file %q listed", df.name)
			}
		}
	})
}

// TestObjectFileDWARFCap: object files are read whole by debug/dwarf, so
// one whose DWARF exceeds maxObjectDWARF is refused before it is read.
func TestObjectFileDWARFCap(t *testing.T) {
	dir := cProgram(t)
	if _, err := exec.LookPath("objcopy"); err != nil {
		t.Skip("no objcopy")
	}
	run(t, dir, nil, "gcc", "-g", "-Iinc", "-c", "src/main.c", "-o", "main.o")
	big := filepath.Join(dir, "big.str")
	if err := os.WriteFile(big, bytes.Repeat([]byte("name\x00"), (maxObjectDWARF+1<<20)/5), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, dir, nil, "objcopy", "--update-section", ".debug_str="+big, "main.o", "big.o")
	_, err := lineTableFilesOf(t, filepath.Join(dir, "big.o"))
	if err == nil || !strings.Contains(err.Error(), "the limit for object files") {
		t.Errorf("err = %v, want the object-file limit", err)
	}
}

// TestCursorSwitchesSection: the string cursor serves .debug_str and
// .debug_line_str in turn; bytes buffered from one must never be returned
// for the other (clang's DWARF 5 names comp_dir in one, files in the other).
func TestCursorSwitchesSection(t *testing.T) {
	a := &section{name: "a", r: bytes.NewReader([]byte("aaaa\x00bbbb\x00")), size: 10}
	b := &section{name: "b", r: bytes.NewReader([]byte("xxxx\x00yyyy\x00")), size: 10}
	d := &dwarfStream{strCache: map[strKey]string{}, work: 1 << 20}
	d.cs = newCursor(a, nil, make([]byte, 4096))
	for _, c := range []struct {
		s    *section
		off  uint64
		want string
	}{{a, 0, "aaaa"}, {b, 5, "yyyy"}, {a, 5, "bbbb"}, {b, 0, "xxxx"}} {
		if got, err := d.stringAt(c.s, c.off); err != nil || got != c.want {
			t.Errorf("%s@%d = %q, %v; want %q", c.s.name, c.off, got, err, c.want)
		}
	}
}

// TestStreamMatchesDebugDwarfMutated corrupts bytes inside the DWARF
// sections of small real binaries (a fixed sequence of 2,000, so the test
// is deterministic): whenever debug/dwarf reads a mutant, the streaming
// reader must read it too and list exactly the same files. (The converse
// need not hold: the stream reads less, so it accepts mutants in entries
// it never decodes.)
func TestStreamMatchesDebugDwarfMutated(t *testing.T) {
	dir := cProgram(t)
	var seeds [][]byte
	for _, cc := range [][]string{{"gcc", "-gdwarf-5"}, {"gcc", "-gdwarf-4"}, {"gcc", "-gdwarf-2"}, {"clang", "-gdwarf-5"}} {
		if _, err := exec.LookPath(cc[0]); err != nil {
			continue
		}
		out := filepath.Join(dir, "seed")
		run(t, dir, nil, cc[0], cc[1], "-Iinc", "src/main.c", "src/util.c", "-o", out)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	r := rand.New(rand.NewPCG(3, 1))
	both := 0
	for i := range 2000 {
		seed := seeds[i%len(seeds)]
		ef, err := elf.NewFile(bytes.NewReader(seed))
		if err != nil {
			t.Fatal(err)
		}
		var secs []*elf.Section
		for _, s := range ef.Sections {
			if dwarfName(s.Name) != "" && s.Type != elf.SHT_NOBITS && s.Size > 0 {
				secs = append(secs, s)
			}
		}
		b := bytes.Clone(seed)
		for range 1 + r.IntN(3) {
			s := secs[r.IntN(len(secs))]
			b[int(s.Offset)+r.IntN(int(s.Size))] = byte(r.IntN(256))
		}
		if ef, err = elf.NewFile(bytes.NewReader(b)); err != nil {
			continue
		}
		want, err := lineTableFilesDWARF(ef, int64(len(b)))
		if err != nil {
			continue
		}
		got, err := streamLineFiles(ef, int64(len(b)))
		if err != nil {
			t.Errorf("mutant %d: debug/dwarf reads it, the stream fails: %v", i, err)
			continue
		}
		both++
		if !slices.Equal(got, want) {
			t.Errorf("mutant %d:\nstream      %q\ndebug/dwarf %q", i, got, want)
		}
	}
	t.Logf("%d of 2000 mutants read by both", both)
}

package cli

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// splitProgram makes the usual separate debug file of a gcc program
// (objcopy --only-keep-debug; strip with stripFlag; --add-gnu-debuglink)
// and returns the stripped program, its debug file beside it, and the
// program as linked.
func splitProgram(t *testing.T, stripFlag string, flags ...string) (stripped, debug, linked string) {
	t.Helper()
	testbin.Need(t, "objcopy", "strip")
	dir, bin := reviewBuild(t, append([]string{"-O2", "-g"}, flags...)...)
	linked = bin + ".linked"
	testbin.Run(t, dir, "cp", bin, linked)
	testbin.Run(t, dir, "objcopy", "--only-keep-debug", bin, bin+".debug")
	testbin.Run(t, dir, "strip", stripFlag, bin)
	testbin.Run(t, dir, "objcopy", "--add-gnu-debuglink="+bin+".debug", bin)
	return bin, bin + ".debug", linked
}

// extractOut runs `debuginfo extract` of bin with args, wants exit code
// want, and returns the opened output (nil on failure) and stderr.
func extractOut(t *testing.T, want int, bin string, args ...string) (*elf.File, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, append([]string{"extract", bin, "-o", out}, args...)...)
	if code != want {
		t.Fatalf("extract exit %d, want %d\n%s%s", code, want, stdout, stderr)
	}
	if code != 0 {
		return nil, stderr
	}
	return testbin.OpenELF(t, out), stderr
}

func hasDWARF(f *elf.File) bool {
	s := f.Section(".debug_info")
	return s != nil && s.Size > 0
}

// A stripped program whose debug file is beside it (by .gnu_debuglink) or
// installed by build ID is extracted from that file, with the program's
// segment offsets: `strip -g` (symbols kept) and --strip-all of a static
// program (nothing kept: refused before).
func TestExtractFindsSeparateDebugFile(t *testing.T) {
	for _, tc := range []struct {
		name, strip string
		flags       []string
		byID        bool
	}{
		{"strip-g-debuglink", "-g", nil, false},
		{"strip-all-static-debuglink", "--strip-all", []string{"-static"}, false},
		{"strip-all-by-build-id", "--strip-all", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin, debug, linked := splitProgram(t, tc.strip, tc.flags...)
			var args []string
			if tc.byID {
				ef, err := elf.Open(linked)
				if err != nil {
					t.Fatal(err)
				}
				id := gnuBuildIDOf(t, ef)
				ef.Close()
				dir := t.TempDir()
				installed := filepath.Join(dir, ".build-id", id[:2], id[2:]+".debug")
				testbin.Run(t, "/", "mkdir", "-p", filepath.Dir(installed))
				testbin.Run(t, "/", "mv", debug, installed)
				args = []string{"--debug-file-directory=" + dir}
			}
			f, stderr := extractOut(t, 0, bin, args...)
			if !hasDWARF(f) {
				t.Errorf("no DWARF in the output:\n%s", stderr)
			}
			if strings.Contains(stderr, "warning") {
				t.Errorf("warned: %s", stderr)
			}
			orig, err := elf.Open(linked)
			if err != nil {
				t.Fatal(err)
			}
			defer orig.Close()
			for i, p := range orig.Progs {
				if p.Type == elf.PT_LOAD && (i >= len(f.Progs) || f.Progs[i].Off != p.Off || f.Progs[i].Vaddr != p.Vaddr) {
					t.Errorf("PT_LOAD %d: offset/vaddr not the program's %#x/%#x", i, p.Off, p.Vaddr)
				}
			}
		})
	}
}

func gnuBuildIDOf(t *testing.T, f *elf.File) string {
	t.Helper()
	s := f.Section(".note.gnu.build-id")
	if s == nil {
		t.Fatal("no build ID")
	}
	b, err := s.Data()
	if err != nil || len(b) < 16+20 {
		t.Fatalf("build ID note: %v", err)
	}
	const hex = "0123456789abcdef"
	var id []byte
	for _, c := range b[16:] {
		id = append(id, hex[c>>4], hex[c&15])
	}
	return string(id)
}

// What extract does when the debug file cannot be used: fail, saying why
// (a stale one of another build, a debuglink naming a path, never
// followed, none found), rather than write a record of symbols only that
// an upload would keep in the store for good (review s16-r3, finding 1);
// --find-debug-file=false (the Bazel aspect's: it reads only declared
// inputs) extracts what the program holds.
func TestExtractSeparateDebugFileRefused(t *testing.T) {
	t.Run("stale", func(t *testing.T) {
		bin, debug, _ := splitProgram(t, "-g")
		_, other, _ := splitProgram(t, "-g", "-O1")
		testbin.Run(t, "/", "cp", other, debug)
		_, stderr := extractOut(t, 1, bin, "--debug-file-directory=")
		if !strings.Contains(stderr, debug+", found as its separate debug file, is not this build's: not used") || !strings.Contains(stderr, "not extracted with symbols only") {
			t.Errorf("a stale debug file:\n%s", stderr)
		}
	})
	t.Run("not-found", func(t *testing.T) {
		bin, debug, _ := splitProgram(t, "-g")
		os.Remove(debug)
		_, stderr := extractOut(t, 1, bin, "--debug-file-directory=")
		if !strings.Contains(stderr, `.gnu_debuglink names "prog.debug", not found`) {
			t.Errorf("no debug file:\n%s", stderr)
		}
	})
	t.Run("not-found-nothing-left", func(t *testing.T) {
		bin, debug, _ := splitProgram(t, "--strip-all", "-static")
		os.Remove(debug)
		_, stderr := extractOut(t, 1, bin, "--debug-file-directory=")
		if !strings.Contains(stderr, `.gnu_debuglink names "prog.debug", not found`) {
			t.Errorf("a program that gives nothing, debug file not found:\n%s", stderr)
		}
	})
	t.Run("path-in-debuglink", func(t *testing.T) {
		testbin.Need(t, "objcopy", "strip")
		dir, bin := reviewBuild(t, "-O2", "-g")
		if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatal(err)
		}
		testbin.Run(t, dir, "objcopy", "--only-keep-debug", bin, filepath.Join(dir, "sub", "prog.debug"))
		testbin.Run(t, dir, "strip", "-g", bin)
		testbin.Run(t, dir, "objcopy", "--add-gnu-debuglink=sub/prog.debug", bin)
		// objcopy stores the base name; make it a path, as a hostile file could.
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(string(b), "prog.debug\x00")
		if i < 0 {
			t.Fatal("no debuglink name")
		}
		copy(b[i:], "sub/prog.d\x00")
		os.Rename(filepath.Join(dir, "sub", "prog.debug"), filepath.Join(dir, "sub", "prog.d"))
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
		_, stderr := extractOut(t, 1, bin, "--debug-file-directory=")
		if !strings.Contains(stderr, `names "sub/prog.d", not a file name: not looked for`) {
			t.Errorf("a debuglink path was followed or not said:\n%s", stderr)
		}
	})
	t.Run("find-debug-file=false", func(t *testing.T) {
		bin, _, _ := splitProgram(t, "-g")
		f, stderr := extractOut(t, 0, bin, "--find-debug-file=false")
		if hasDWARF(f) || strings.Contains(stderr, "debuglink") || !strings.Contains(stderr, "symbols only") {
			t.Errorf("--find-debug-file=false: dwarf=%v\n%s", hasDWARF(f), stderr)
		}
	})
}

// The usual split-debug layout (distributions, CMake/Make recipes):
//
//	gcc -O2 -g -o app prog.c
//	objcopy --only-keep-debug app app.debug
//	strip -g app && objcopy --add-gnu-debuglink=app.debug app
//
// `debuginfo upload app` finds app.debug (upload.addDebugFiles), but
// `debuginfo extract app` still extracts the symbols the stripped program
// kept, with no DWARF.
func TestReviewDebuglinkFollowed(t *testing.T) {
	testbin.Need(t, "objcopy", "strip")
	dir, bin := reviewBuild(t, "-O2", "-g")
	orig, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	testbin.Run(t, dir, "objcopy", "--only-keep-debug", bin, bin+".debug")
	testbin.Run(t, dir, "strip", "-g", bin)
	testbin.Run(t, dir, "objcopy", "--add-gnu-debuglink="+bin+".debug", bin)
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCLI(t, "extract", bin, "-o", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if s := f.Section(".debug_info"); s == nil || s.Size == 0 {
		t.Errorf("the debug file of a stripped binary with .gnu_debuglink has no DWARF (app.debug is beside it):\n%s%s", stdout, stderr)
	}
	for i, p := range orig.Progs {
		if p.Type == elf.PT_LOAD && (i >= len(f.Progs) || f.Progs[i].Off != p.Off || f.Progs[i].Vaddr != p.Vaddr) {
			t.Errorf("PT_LOAD %d: offset/vaddr not the binary's %#x/%#x", i, p.Off, p.Vaddr)
		}
	}
}

// A debug file whose code segment objcopy moved below the others (what it
// does to llvm-bolt's) is warned about when extracted alone; extracted
// through its program, it gets the program's headers and no warning.
func TestExtractDamagedDebugFileWarned(t *testing.T) {
	bin, debug, _ := splitProgram(t, "-g")
	testbin.MoveCodeSegment(t, debug, 0x674, 0)
	if _, stderr := extractOut(t, 0, debug); !strings.Contains(stderr, "program headers do not match its sections") || !strings.Contains(stderr, "extract its program instead") {
		t.Errorf("a damaged debug file alone, not warned:\n%s", stderr)
	}
	if out, stderr := extractOut(t, 0, bin, "--debug-file-directory="); strings.Contains(stderr, "warning") || !hasDWARF(out) {
		t.Errorf("through its program: dwarf=%v\n%s", hasDWARF(out), stderr)
	}
}

// An output naming the debug file extract found is refused as a named
// input is (review s16-r1, finding 1: the user's only copy of the DWARF was
// replaced), and flags that do not go together are refused before
// anything is written (finding 5).
func TestExtractNeverOverwritesItsInputs(t *testing.T) {
	bin, debug, _ := splitProgram(t, "-g")
	want, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(bin)
	for _, args := range [][]string{
		{"-o", debug},
		{"-o", filepath.Join(dir, "o.debuginfo"), "--sources-out", debug},
		{"-o", filepath.Join(dir, "o.debuginfo"), "--record", debug},
	} {
		code, stdout, stderr := runCLI(t, append([]string{"extract", bin, "--debug-file-directory="}, args...)...)
		if code != ExitUsage || !strings.Contains(stderr, "is an input: it would be overwritten (the separate debug file found for") {
			t.Errorf("%q: exit %d\n%s%s", args, code, stdout, stderr)
		}
		if got, _ := os.ReadFile(debug); !bytes.Equal(got, want) {
			t.Fatalf("%q: the debug file was changed", args)
		}
	}
	out := filepath.Join(dir, "sub", "o.debuginfo")
	os.Mkdir(filepath.Dir(out), 0o755)
	code, _, stderr := runCLI(t, "extract", bin, "-o", out, "--sources-out", filepath.Join(dir, "s.tar.zst"))
	if _, err := os.Stat(out); code != ExitUsage || err == nil || !strings.Contains(stderr, "--sources-out must be in the same directory as OUT") {
		t.Errorf("--sources-out elsewhere: exit %d, output left: %v\n%s", code, err == nil, stderr)
	}
}

// A program reached through a symlink finds the debug file beside the file
// it leads to, as gdb does (review s16-r1, finding 4).
func TestExtractThroughSymlinkFindsDebugFile(t *testing.T) {
	bin, _, _ := splitProgram(t, "-g")
	link := filepath.Join(t.TempDir(), "app")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	if f, stderr := extractOut(t, 0, link, "--debug-file-directory="); !hasDWARF(f) {
		t.Errorf("through a symlink: no DWARF\n%s", stderr)
	}
}

// The unstripped program kept as the debug file (cp app app.debug; strip
// -g app), which gdb reads, is extracted for the stripped one (review
// s16-r1, finding 2); a debuglink naming the program itself is not.
func TestExtractUnstrippedCopyAsDebugFile(t *testing.T) {
	bin, debug, linked := splitProgram(t, "-g")
	testbin.Run(t, "", "cp", linked, debug)
	f, stderr := extractOut(t, 0, bin, "--debug-file-directory=")
	if !hasDWARF(f) || strings.Contains(stderr, "warning") {
		t.Errorf("the unstripped copy: dwarf=%v\n%s", hasDWARF(f), stderr)
	}
	orig := testbin.OpenELF(t, linked)
	for i, p := range orig.Progs {
		if p.Type == elf.PT_LOAD && (f.Progs[i].Off != p.Off || f.Progs[i].Vaddr != p.Vaddr) {
			t.Errorf("PT_LOAD %d: offset/vaddr not the program's %#x/%#x", i, p.Off, p.Vaddr)
		}
	}
	testbin.Run(t, "", "objcopy", "--remove-section=.gnu_debuglink", bin)
	testbin.Run(t, filepath.Dir(bin), "objcopy", "--add-gnu-debuglink="+filepath.Base(bin), bin)
	if _, stderr := extractOut(t, 1, bin, "--debug-file-directory="); !strings.Contains(stderr, "is the program itself: not used") {
		t.Errorf("a debuglink naming the program:\n%s", stderr)
	}
}

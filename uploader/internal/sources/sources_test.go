package sources

import (
	"archive/tar"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// run runs a command in dir and fails the test on error.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cProgram writes a C program whose headers live in subdirectories.
func cProgram(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "inc/a.h"), "static inline int a(int x) { return x + 1; }\n")
	writeFile(t, filepath.Join(dir, "inc/sub/b.h"), "static inline int b(int x) { return x * 2; }\n")
	writeFile(t, filepath.Join(dir, "src/util.c"), "#include \"sub/b.h\"\nint util(int x) { return b(x); }\n")
	writeFile(t, filepath.Join(dir, "src/main.c"), `#include <stdio.h>
#include "a.h"
#include "sub/b.h"
int util(int);
int main(void) { printf("%d\n", a(b(util(3)))); return 0; }
`)
	return dir
}

// expected derives, independently of the package, the archive the binary
// should give: every line-table file name debug/dwarf reports, normalized,
// mapped to the file on disk found by locate ("" = not on disk).
func expected(t *testing.T, bin string, locate func(name, compDir string) string) map[string]string {
	t.Helper()
	want := map[string]string{}
	for _, lf := range testbin.LineTableFiles(t, bin) {
		if strings.HasPrefix(lf.Name, "<") || lf.Name == "?" {
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(lf.Name, "./"), "/")
		if _, dup := want[name]; dup {
			continue
		}
		disk := locate(lf.Name, lf.CompDir)
		if fi, err := os.Stat(disk); disk != "" && err == nil && fi.Mode().IsRegular() {
			want[name] = disk
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s: no source file on disk; test setup is wrong", bin)
	}
	return want
}

// readArchive decodes an archive into name -> content, checking the
// headers are the deterministic ones and entries are sorted.
func readArchive(t *testing.T, b []byte) (map[string]string, []string) {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	got := map[string]string{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Mode != 0o644 || !h.ModTime.Equal(time.Unix(0, 0)) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Typeflag != tar.TypeReg {
			t.Errorf("%s: header not deterministic: %+v", h.Name, h)
		}
		c, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, dup := got[h.Name]; dup {
			t.Errorf("duplicate entry %s", h.Name)
		}
		got[h.Name] = string(c)
		order = append(order, h.Name)
	}
	if !slices.IsSorted(order) {
		t.Errorf("entries not sorted: %v", order)
	}
	return got, order
}

// checkArchive asserts the archive holds exactly want, with the files'
// contents.
func checkArchive(t *testing.T, b []byte, res Result, want map[string]string) {
	t.Helper()
	got, order := readArchive(t, b)
	wantNames := slices.Sorted(maps.Keys(want))
	if !slices.Equal(order, wantNames) {
		t.Fatalf("archive names:\n got %q\nwant %q", order, wantNames)
	}
	var total int64
	for name, disk := range want {
		c, err := os.ReadFile(disk)
		if err != nil {
			t.Fatal(err)
		}
		if got[name] != string(c) {
			t.Errorf("%s: content differs from %s", name, disk)
		}
		total += int64(len(c))
	}
	if res.Files != len(want) || res.Bytes != total {
		t.Errorf("result %d files %d bytes, want %d files %d bytes", res.Files, res.Bytes, len(want), total)
	}
}

func fromBinary(t *testing.T, bin string, opts Options) ([]byte, Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := FromBinary(bin, opts, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// under keeps the entries of want whose file is inside one of dirs: what
// the path policy admits with those source roots.
func under(want map[string]string, dirs ...string) map[string]string {
	out := map[string]string{}
	for name, disk := range want {
		for _, d := range dirs {
			if strings.HasPrefix(disk, d+"/") {
				out[name] = disk
			}
		}
	}
	return out
}

// plainLocate is where a build that ran here left its files.
func plainLocate(name, compDir string) string {
	if path.IsAbs(name) {
		return name
	}
	return path.Join(compDir, name)
}

func TestCRelativePaths(t *testing.T) {
	for _, dw := range []string{"-gdwarf-4", "-gdwarf-5"} {
		t.Run(dw, func(t *testing.T) {
			dir := cProgram(t)
			run(t, dir, nil, "gcc", dw, "-Iinc", "src/main.c", "src/util.c", "-o", "prog")
			bin := filepath.Join(dir, "prog")
			want := expected(t, bin, plainLocate)
			if _, ok := want["src/main.c"]; dw == "-gdwarf-5" && !ok {
				t.Errorf("DWARF 5 names are relative to comp_dir; want src/main.c in %v", slices.Sorted(maps.Keys(want)))
			}
			if _, ok := want[strings.TrimPrefix(dir, "/")+"/inc/sub/b.h"]; dw == "-gdwarf-4" && !ok {
				t.Errorf("DWARF 4 names are absolute; want %s/inc/sub/b.h in %v", dir, slices.Sorted(maps.Keys(want)))
			}
			b, res := fromBinary(t, bin, Options{Roots: []string{dir}})
			checkArchive(t, b, res, under(want, dir))
			if len(res.Missing) != 0 {
				t.Errorf("missing %v", res.Missing)
			}
			// System headers are outside the source roots: listed, not archived.
			if !slices.ContainsFunc(res.Skipped, func(s string) bool {
				return strings.HasPrefix(s, "usr/include/stdio.h: /usr/include/stdio.h is outside the source roots")
			}) || !slices.Contains(res.Outside, "/usr/include/stdio.h") {
				t.Errorf("skipped = %q, outside = %q; want usr/include/stdio.h outside the roots", res.Skipped, res.Outside)
			}
			b, res = fromBinary(t, bin, Options{Roots: []string{dir}, Include: []string{"usr/include/**"}})
			checkArchive(t, b, res, want)
		})
	}
}

func TestCDebugPrefixMap(t *testing.T) {
	for _, dw := range []string{"-gdwarf-4", "-gdwarf-5"} {
		t.Run(dw, func(t *testing.T) {
			dir := cProgram(t)
			run(t, dir, nil, "gcc", dw, "-Iinc", "-fdebug-prefix-map="+dir+"=/build/ci", "src/main.c", "src/util.c", "-o", "prog")
			bin := filepath.Join(dir, "prog")

			// Without a map nothing from the checkout is found, and the
			// missing paths say where the build ran.
			var warn bytes.Buffer
			b, res := fromBinary(t, bin, Options{Warn: &warn})
			if !slices.Contains(res.Missing, "/build/ci/src/main.c") {
				t.Errorf("missing = %v, want /build/ci/src/main.c in it", res.Missing)
			}
			if !strings.Contains(warn.String(), "missing: /build/ci/inc/sub/b.h\n") {
				t.Errorf("warnings lack b.h:\n%s", warn.String())
			}
			got, _ := readArchive(t, b)
			for name := range got {
				if strings.Contains(name, "src/") || strings.Contains(name, "inc/") {
					t.Errorf("archived %s without a prefix map", name)
				}
			}

			pm, err := ParsePrefixMap("/build/ci=" + dir)
			if err != nil {
				t.Fatal(err)
			}
			want := expected(t, bin, func(name, compDir string) string {
				p := plainLocate(name, compDir)
				if rest, ok := strings.CutPrefix(p, "/build/ci"); ok {
					return dir + rest
				}
				return p
			})
			if _, ok := want["src/main.c"]; !ok {
				if _, ok := want["build/ci/src/main.c"]; !ok {
					t.Fatalf("main.c not in expected set %v", slices.Sorted(maps.Keys(want)))
				}
			}
			// The map's target is a source root.
			b, res = fromBinary(t, bin, Options{PrefixMaps: []PrefixMap{pm}})
			checkArchive(t, b, res, under(want, dir))
			if len(res.Missing) != 0 {
				t.Errorf("missing %v", res.Missing)
			}
		})
	}
}

// TestDebugDwarfMatchesReadelf pins the fact the archive names rest on:
// debug/dwarf's file name is the line table's directory entry joined with
// the file entry (readelf's view), not joined with comp_dir in DWARF 5.
func TestDebugDwarfMatchesReadelf(t *testing.T) {
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Skip("no readelf")
	}
	dir := cProgram(t)
	run(t, dir, nil, "gcc", "-gdwarf-5", "-Iinc", "src/main.c", "src/util.c", "-o", "prog")
	out, err := exec.Command("readelf", "--debug-dump=line", filepath.Join(dir, "prog")).Output()
	if err != nil {
		t.Fatal(err)
	}
	fromReadelf := map[string]bool{}
	var dirs []string
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "The Directory Table"):
			section, dirs = "dir", nil
			continue
		case strings.HasPrefix(line, "The File Name Table"):
			section = "file"
			continue
		case line == "" || strings.HasPrefix(line, "Entry"):
			if line == "" {
				section = ""
			}
			continue
		}
		f := strings.Fields(line)
		last := f[len(f)-1]
		switch section {
		case "dir":
			dirs = append(dirs, last)
		case "file":
			var idx int
			if _, err := fmt.Sscan(f[1], &idx); err != nil || idx >= len(dirs) {
				t.Fatalf("cannot parse readelf line %q", line)
			}
			if path.IsAbs(last) {
				fromReadelf[last] = true
			} else {
				fromReadelf[path.Join(dirs[idx], last)] = true
			}
		}
	}
	files, err := lineTableFilesOf(t, filepath.Join(dir, "prog"))
	if err != nil {
		t.Fatal(err)
	}
	fromGo := map[string]bool{}
	for _, f := range files {
		fromGo[f.name] = true
	}
	if !maps.Equal(fromGo, fromReadelf) {
		t.Errorf("debug/dwarf names %v\nreadelf names %v", slices.Sorted(maps.Keys(fromGo)), slices.Sorted(maps.Keys(fromReadelf)))
	}
	if !fromGo["src/main.c"] || !fromGo["inc/sub/b.h"] {
		t.Errorf("want relative src/main.c and inc/sub/b.h, got %v", slices.Sorted(maps.Keys(fromGo)))
	}
}

func lineTableFilesOf(t *testing.T, bin string) ([]dwarfFile, error) {
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return lineTableFiles(f, fi.Size())
}

// goProgram writes a two-package module and returns its directory.
func goProgram(t *testing.T) (dir, goBin string) {
	t.Helper()
	goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if os.Getenv("GOROOT") == "" {
		goBin = "go"
	}
	if _, err := exec.LookPath(goBin); err != nil {
		if goBin, err = exec.LookPath("/usr/local/go/bin/go"); err != nil {
			t.Skip("no go toolchain")
		}
	}
	dir = t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/m\n\ngo 1.22\n")
	writeFile(t, filepath.Join(dir, "util/u.go"), "package util\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n")
	writeFile(t, filepath.Join(dir, "main.go"), "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/util\"\n)\n\nfunc main() { fmt.Println(util.Add(1, 2)) }\n")
	return dir, goBin
}

var goEnv = []string{"GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0"}

func goroot(t *testing.T, goBin string) string {
	out, err := exec.Command(goBin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func TestGoPlain(t *testing.T) {
	dir, goBin := goProgram(t)
	run(t, dir, goEnv, goBin, "build", "-o", "prog", ".")
	bin := filepath.Join(dir, "prog")
	want := expected(t, bin, plainLocate)
	if _, ok := want[strings.TrimPrefix(dir, "/")+"/util/u.go"]; !ok {
		t.Errorf("want %s/util/u.go archived; have %d names", dir, len(want))
	}
	b, res := fromBinary(t, bin, Options{Roots: []string{dir}})
	checkArchive(t, b, res, under(want, dir))
	// The standard library joins with its own root.
	b, res = fromBinary(t, bin, Options{Roots: []string{dir, goroot(t, goBin)}})
	checkArchive(t, b, res, want)
	for name := range want {
		if strings.Contains(name, "<") {
			t.Errorf("pseudo file %s archived", name)
		}
	}
}

func TestGoTrimpath(t *testing.T) {
	dir, goBin := goProgram(t)
	run(t, dir, goEnv, goBin, "build", "-trimpath", "-o", "prog", ".")
	bin := filepath.Join(dir, "prog")
	root := goroot(t, goBin)

	// Module paths are found only through prefix maps.
	_, res := fromBinary(t, bin, Options{})
	if res.Files != 0 || !slices.Contains(res.Missing, "example.com/m/main.go") || !slices.Contains(res.Missing, "runtime/proc.go") {
		t.Errorf("without maps: %d files, missing %d (want example.com/m/main.go, runtime/proc.go)", res.Files, len(res.Missing))
	}
	if slices.ContainsFunc(res.Missing, func(s string) bool { return strings.Contains(s, "<") || s == "?" }) {
		t.Errorf("pseudo files reported missing")
	}

	// An empty OLD maps every remaining name, here the standard library.
	var pms []PrefixMap
	for _, s := range []string{"example.com/m=" + dir, "=" + root + "/src/"} {
		pm, err := ParsePrefixMap(s)
		if err != nil {
			t.Fatal(err)
		}
		pms = append(pms, pm)
	}
	want := expected(t, bin, func(name, _ string) string {
		if rest, ok := strings.CutPrefix(name, "example.com/m"); ok {
			return dir + rest
		}
		return root + "/src/" + name
	})
	for _, n := range []string{"example.com/m/main.go", "example.com/m/util/u.go", "runtime/proc.go"} {
		if _, ok := want[n]; !ok {
			t.Errorf("%s not in expected set", n)
		}
	}
	b, res := fromBinary(t, bin, Options{PrefixMaps: pms})
	checkArchive(t, b, res, want)
}

func TestDeterministic(t *testing.T) {
	dir := cProgram(t)
	run(t, dir, nil, "gcc", "-g", "-Iinc", "src/main.c", "src/util.c", "-o", "prog")
	bin := filepath.Join(dir, "prog")
	a, res := fromBinary(t, bin, Options{Roots: []string{dir}})
	if res.Files == 0 {
		t.Fatal("nothing archived")
	}
	// A new mtime must not change the bytes.
	if err := os.Chtimes(filepath.Join(dir, "inc/a.h"), time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	b, _ := fromBinary(t, bin, Options{Roots: []string{dir}})
	if !bytes.Equal(a, b) {
		t.Fatal("two runs gave different archives")
	}

	// Archives reuse idle encoders: one that wrote another archive before
	// writes what a new one writes.
	encoders.Lock()
	encoders.idle = nil
	encoders.Unlock()
	fresh, _ := fromBinary(t, bin, Options{Roots: []string{dir}})
	if other, _ := fromBinary(t, bin, Options{Roots: []string{dir}, Include: []string{"**"}}); bytes.Equal(other, fresh) {
		t.Fatal("the archive with system headers is the same as the one without")
	}
	reused, _ := fromBinary(t, bin, Options{Roots: []string{dir}})
	if !bytes.Equal(fresh, a) || !bytes.Equal(reused, a) {
		t.Fatal("a reused encoder or a new one gave another archive")
	}
}

func TestGlobsAndSize(t *testing.T) {
	dir := cProgram(t)
	run(t, dir, nil, "gcc", "-g", "-Iinc", "src/main.c", "src/util.c", "-o", "prog")
	bin := filepath.Join(dir, "prog")
	all := expected(t, bin, plainLocate)
	filter := func(keep func(string) bool) map[string]string {
		m := map[string]string{}
		for k, v := range all {
			if keep(k) {
				m[k] = v
			}
		}
		return m
	}

	// Exclude wins over Include.
	b, res := fromBinary(t, bin, Options{Roots: []string{dir}, Include: []string{"usr/**"}, Exclude: []string{"usr/include/**", "**/b.h"}})
	checkArchive(t, b, res, filter(func(n string) bool { return !strings.HasPrefix(n, "usr/include/") && !strings.HasSuffix(n, "/b.h") }))
	if !slices.ContainsFunc(res.Skipped, func(s string) bool { return strings.HasPrefix(s, "usr/include/stdio.h: excluded") }) {
		t.Errorf("skipped = %v", res.Skipped)
	}

	// Include admits names outside the roots; alone it admits only those.
	b, res = fromBinary(t, bin, Options{Include: []string{"usr/include/*.h", "**/b.h"}})
	checkArchive(t, b, res, filter(func(n string) bool { return n == "usr/include/stdio.h" || n == "inc/sub/b.h" }))

	// a.h is the smallest file; a cap just below main.c's size keeps the headers.
	fi, err := os.Stat(filepath.Join(dir, "src/main.c"))
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	b, res = fromBinary(t, bin, Options{Roots: []string{dir}, MaxFileSize: fi.Size() - 1, Warn: &warn})
	checkArchive(t, b, res, filter(func(n string) bool { return strings.HasPrefix(n, "inc/") || n == "src/util.c" }))
	if !strings.Contains(warn.String(), "skipped: src/main.c: too large") {
		t.Errorf("warnings:\n%s", warn.String())
	}

	if _, err := FromBinary(bin, Options{Exclude: []string{"[bad"}}, io.Discard); err == nil {
		t.Error("bad glob accepted")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		glob, name string
		want       bool
	}{
		{"usr/include/**", "usr/include/stdio.h", true},
		{"usr/include/**", "usr/include/x86_64-linux-gnu/bits/types.h", true},
		{"usr/include/**", "usr/lib/gcc/stddef.h", false},
		{"/usr/include/**", "usr/include/stdio.h", true},
		{"**/*.h", "a.h", true},
		{"**/*.h", "inc/sub/b.h", true},
		{"**/*.h", "src/main.c", false},
		{"src/*.c", "src/sub/x.c", false},
		{"src/**/x.c", "src/x.c", true},
		{"src/**/x.c", "src/a/b/x.c", true},
		{"**", "anything/at/all", true},
		{"a/**/**/b", "a/b", true},
	} {
		got, err := Match(c.glob, c.name)
		if err != nil || got != c.want {
			t.Errorf("Match(%q, %q) = %v, %v; want %v", c.glob, c.name, got, err, c.want)
		}
	}
}

func TestParsePrefixMap(t *testing.T) {
	pm, err := ParsePrefixMap("/build/ci=/home/me/src=x")
	if err != nil || pm != (PrefixMap{"/build/ci", "/home/me/src=x"}) {
		t.Errorf("got %+v, %v", pm, err)
	}
	for _, bad := range []string{"nothing", "/a="} {
		if _, err := ParsePrefixMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFromManifest(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.c"), "int a;\n")
	writeFile(t, filepath.Join(dir, "big.c"), strings.Repeat("x", 100))
	writeFile(t, filepath.Join(dir, "inc/b.h"), "int b;\n")
	manifest := filepath.Join(dir, "m.txt")
	writeFile(t, manifest, strings.Join([]string{
		"# comment",
		"/src/a.c\t" + filepath.Join(dir, "a.c"),
		"",
		"./inc/b.h\t" + filepath.Join(dir, "inc/b.h"),
		"src/a.c\t" + filepath.Join(dir, "a.c"), // same entry again: deduped
		"gone.c\t" + filepath.Join(dir, "gone.c"),
		"big.c\t" + filepath.Join(dir, "big.c"),
		"third_party/x.h\t" + filepath.Join(dir, "inc/b.h"),
	}, "\n")+"\n")
	var buf bytes.Buffer
	var warn bytes.Buffer
	res, err := FromManifest(manifest, Options{Roots: []string{dir}, MaxFileSize: 50, Exclude: []string{"third_party/**"}, Warn: &warn}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, buf.Bytes(), res, map[string]string{
		"src/a.c": filepath.Join(dir, "a.c"),
		"inc/b.h": filepath.Join(dir, "inc/b.h"),
	})
	if !slices.Equal(res.Missing, []string{filepath.Join(dir, "gone.c")}) {
		t.Errorf("missing = %v", res.Missing)
	}
	if len(res.Skipped) != 2 {
		t.Errorf("skipped = %v", res.Skipped)
	}
	if n := strings.Count(warn.String(), "\n"); n != 3 {
		t.Errorf("want 3 warning lines, got:\n%s", warn.String())
	}

	writeFile(t, manifest, "a.c\t/x\na.c\t/y\n")
	if _, err := FromManifest(manifest, Options{}, io.Discard); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("conflict: err = %v", err)
	}
	writeFile(t, manifest, "a.c /x\n")
	if _, err := FromManifest(manifest, Options{}, io.Discard); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("malformed: err = %v", err)
	}
}

func TestNotELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	writeFile(t, p, "not an ELF file")
	if _, err := FromBinary(p, Options{}, io.Discard); err == nil {
		t.Error("want an error")
	}
}

func FuzzParseManifestLine(f *testing.F) {
	for _, s := range []string{"a.c\t/src/a.c", "/abs/x.h\tx.h", "./rel\tp", "# c", "", "no tab", "\t/x", "a\t", "a\tb\tc", "a\tb\talias", "a\t\talias"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, disk, alias, ok, err := parseManifestLine(line)
		if err != nil && ok {
			t.Fatal("ok with error")
		}
		if !ok {
			return
		}
		if name == "" || disk == "" || strings.ContainsRune(disk, '\t') {
			t.Fatalf("bad parse %q -> %q, %q", line, name, disk)
		}
		// Accepted lines round-trip; "./" keeps a name starting with "#"
		// from reading as a comment.
		again := "./" + name + "\t" + disk
		if alias {
			again += "\talias"
		}
		n2, d2, a2, ok2, err2 := parseManifestLine(again)
		if !ok2 || err2 != nil || d2 != disk || n2 != name || a2 != alias {
			t.Fatalf("round trip of %q: %q %q %v %v %v", line, n2, d2, a2, ok2, err2)
		}
	})
}

// FuzzLineTableFiles feeds mutated ELF files (seeded from a small object
// with DWARF 5 line tables) to the DWARF reader: errors are fine, panics
// and pseudo-file names are not.
func FuzzLineTableFiles(f *testing.F) {
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := lineTableFiles(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, df := range files {
			if pseudoFile(df.name) {
				t.Fatalf("pseudo file %q listed", df.name)
			}
		}
	})
}

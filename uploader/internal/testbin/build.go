package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// HelloC is a small C program with a few functions worth symbolizing.
const HelloC = `#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int square(int x) {
	return x * x;
}

__attribute__((noinline)) int sum_squares(int n) {
	int s = 0;
	for (int i = 0; i < n; i++)
		s += square(i);
	return s;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 10;
	printf("sum=%d\n", sum_squares(n));
	return 0;
}
`

// O2C has main in .text.startup and a cold part in .text.unlikely at
// gcc -O2: its unit's line-table sequences are out of address order, as
// Parca v0.28.0 cannot symbolize (see package lineorder).
const O2C = `#include <stdio.h>
#include <stdlib.h>
__attribute__((cold, noinline, noreturn)) static void bad(long x) { fprintf(stderr, "%ld\n", x); abort(); }
__attribute__((noinline)) long sum(const long *v, int n) {
  long s = 0;
  for (int i = 0; i < n; i++) { if (__builtin_expect(v[i] < 0, 0)) bad(v[i]); s += v[i]; }
  return s;
}
int main(int argc, char **argv) { long v[4] = {argc, 2, 3, 4}; printf("%ld\n", sum(v, 4)); return 0; }
`

// HelloGo prints msg; two different msgs make two different programs.
func HelloGo(msg string) string {
	return "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(" + `"` + msg + `"` + ") }\n"
}

// Need skips the test when a tool is missing, and fails it in CI (env CI
// set), where tools/deps.sh must have installed every tool.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed (tools/deps.sh installs it)", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
}

// Run runs a command and fails the test with its output on error.
func Run(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// GCC compiles src with gcc and extra flags into dir/name and returns its path.
func GCC(t testing.TB, dir, name, src string, flags ...string) string {
	t.Helper()
	Need(t, "gcc")
	c := filepath.Join(dir, name+".c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	Run(t, dir, "gcc", append(append([]string{}, flags...), "-o", out, c)...)
	return out
}

// GoBuild builds the Go program src into dir/name with -trimpath and the given -ldflags.
func GoBuild(t testing.TB, dir, name, src, ldflags string) string {
	t.Helper()
	return goBuild(t, dir, name, src, "-trimpath", "-ldflags="+ldflags)
}

// goBuild builds src as module name with the given go build flags.
func goBuild(t testing.TB, dir, name, src string, flags ...string) string {
	t.Helper()
	Need(t, "go")
	pkg := filepath.Join(dir, name+"_src")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pkg, "go.mod"), []byte("module "+name+"\n\ngo 1.24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, ".")...)
	cmd.Dir = pkg
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// GCSources writes into dir a program whose unused_big, larger than a
// page, --gc-sections drops: GNU ld leaves its DWARF at address 0, over
// main and used_small. Two units (lib.c, main.c), or one (one.c); it
// returns the file names.
func GCSources(t testing.TB, dir string, oneUnit bool) []string {
	t.Helper()
	var big strings.Builder
	big.WriteString("int unused_big(int *v, int n) {\n  int s = 0;\n")
	for i := range 200 {
		big.WriteString("  for (int i = 0; i < n; i++) s += v[i] * " + strconv.Itoa(i+1) + " ^ (s >> " + strconv.Itoa(i%7) + ");\n")
	}
	big.WriteString("  return s;\n}\nint used_lib(int x) { return x + 7; }\n")
	main := "#include <stdio.h>\nint used_lib(int);\n__attribute__((noinline)) int used_small(int x) { return x * 3 + 1; }\n" +
		"int main(int argc, char **argv) { (void)argv; printf(\"%d\\n\", used_small(argc) + used_lib(argc)); return 0; }\n"
	files := map[string]string{"lib.c": big.String(), "main.c": main}
	if oneUnit {
		files = map[string]string{"one.c": big.String() + main}
	}
	var names []string
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// SameIDTwins builds, in dir, two C programs "one" and "two" that differ only
// in a constant and are linked with -g and one forced build ID (20 bytes of
// b, two hex digits): the same build ID and section sizes, not the same code.
func SameIDTwins(t testing.TB, dir, b string) (one, two string) {
	t.Helper()
	flag := "-Wl,--build-id=0x" + strings.Repeat(b, 20)
	one = GCC(t, dir, "one", "int main(void) { return 1; }\n", "-g", "-O1", flag)
	two = GCC(t, dir, "two", "int main(void) { return 2; }\n", "-g", "-O1", flag)
	return one, two
}

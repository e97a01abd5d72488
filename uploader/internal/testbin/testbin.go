// Package testbin builds real test inputs (gcc and Go programs) in a test's
// temp dir, so tests exercise binaries made the way users make them.
package testbin

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// C compiles a C program whose main prints msg, with extra gcc flags
// (e.g. "-g", "-Wl,--build-id=none"), and returns the binary's path.
func C(t testing.TB, name, msg string, flags ...string) string {
	t.Helper()
	code := fmt.Sprintf(`#include <stdio.h>
static int work_%[1]s(int n) { int s = 0; for (int i = 0; i < n; i++) s += i * i; return s; }
int main(void) { printf("%[2]s %%d\n", work_%[1]s(10)); return 0; }
`, sanitize(name), msg)
	return GCC(t, t.TempDir(), name, code, flags...)
}

// Go builds a stdlib-only Go program whose main prints msg, with extra
// go build flags (e.g. "-ldflags=-buildid=redacted").
func Go(t testing.TB, name, msg string, flags ...string) string {
	t.Helper()
	return goBuild(t, t.TempDir(), sanitize(name), HelloGo(msg), flags...)
}

// File writes data to a new file in a temp dir.
func File(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Copy copies a file into a new temp dir under name.
func Copy(t testing.TB, src, name string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := File(t, name, data)
	if err := os.Chmod(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// OpenFiles counts this process's open file descriptors, for tests that
// check nothing is left open; it skips the test where /proc is missing.
func OpenFiles(t testing.TB) int {
	e, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(e)
}

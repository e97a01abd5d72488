package symbolize

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLineOfTwoLineHeader: gcc gives a function whose header spans two
// lines a row for each at its entry; Parca shows the first, so LineOf
// (what symbolize-check expects) must too (a review got false failures for
// 10 of 37 zstd functions).
func TestLineOfTwoLineHeader(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.c")
	if err := os.WriteFile(src, []byte("__attribute__((noinline)) int\ntwo_line_header(int n)\n{\n  int s = 0; for (int i = 0; i < n; i++) s += i ^ n; return s;\n}\n"+
		"int main(int c, char **v) { return two_line_header(c * 100); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "prog")
	if out, err := exec.Command("gcc", "-g", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	addr, err := FuncAddr(bin, "two_line_header")
	if err != nil {
		t.Fatal(err)
	}
	_, line, err := LineOf(bin, addr)
	// -O2: rows for lines 3 and 4 at the entry.
	if err != nil || line != 3 {
		t.Fatalf("LineOf = %d, %v; want 3, the first row at the entry", line, err)
	}
}

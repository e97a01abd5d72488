package cli

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// buildC compiles a small C program with relative paths, its directories
// renamed to /build/ci in DWARF when remap is set.
func buildC(t *testing.T, remap bool) (dir, bin string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	dir = t.TempDir()
	for name, content := range map[string]string{
		"inc/lib/util.h": "static inline int twice(int x) { return 2 * x; }\n",
		"src/main.c":     "#include \"lib/util.h\"\nint main(void) { return twice(0); }\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"-g", "-Iinc", "src/main.c", "-o", "prog"}
	if remap {
		args = append(args, "-fdebug-prefix-map="+dir+"=/build/ci")
	}
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	return dir, filepath.Join(dir, "prog")
}

func archiveNames(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
	}
}

func TestSourcesDefaultOutput(t *testing.T) {
	dir, bin := buildC(t, false)
	code, out, errOut := runCLI(t, "sources", bin, "--source-root", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	archive := bin + ".sources.tar.zst"
	names := archiveNames(t, archive)
	if !slices.Equal(names, []string{"inc/lib/util.h", "src/main.c"}) {
		t.Errorf("names = %q", names)
	}
	b, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if !strings.Contains(out, "sha256: "+hex.EncodeToString(sum[:])) || !strings.Contains(out, ": 2 files,") {
		t.Errorf("summary:\n%s", out)
	}
	// No temp file left behind.
	entries, _ := os.ReadDir(filepath.Dir(bin))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left %s", e.Name())
		}
	}
}

func TestSourcesPrefixMapHintAndJSON(t *testing.T) {
	dir, bin := buildC(t, true)
	out := filepath.Join(t.TempDir(), "s.tar.zst")

	code, stdout, _ := runCLI(t, "source", bin, "-o", out, "--exclude", "usr/**")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stdout, "--prefix-map") || !strings.Contains(stdout, "/build/ci") {
		t.Errorf("want a --prefix-map hint naming /build/ci:\n%s", stdout)
	}

	code, stdout, stderr := runCLI(t, "sources", bin, "-o", out, "--exclude", "usr/**", "--prefix-map", "/build/ci="+dir, "--json", "--verbose")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s sourcesSummary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if s.Files != 2 || len(s.Missing) != 0 || s.Hint != "" || s.Output != out || len(s.SHA256) != 64 {
		t.Errorf("summary %+v", s)
	}
	if !strings.Contains(stderr, "skipped: usr/include/") && len(s.Skipped) > 0 {
		t.Errorf("--verbose did not list skipped files:\n%s", stderr)
	}
	if names := archiveNames(t, out); !slices.Equal(names, []string{"inc/lib/util.h", "src/main.c"}) {
		t.Errorf("names = %q", names)
	}
}

func TestSourcesManifestAndUsage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "a.c")
	if err := os.WriteFile(src, []byte("int a;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "m.txt")
	if err := os.WriteFile(manifest, []byte("/work/a.c\t"+src+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.tar.zst")
	if code, stdout, stderr := runCLI(t, "sources", "--sources-manifest", manifest, "-o", out, "--source-root", dir); code != ExitOK {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	if names := archiveNames(t, out); !slices.Equal(names, []string{"work/a.c"}) {
		t.Errorf("names = %q", names)
	}

	for _, args := range [][]string{
		{"sources"},
		{"sources", "--sources-manifest", manifest},
		{"sources", "a", "b"},
		{"sources", "x", "--prefix-map", "nothing"},
		{"sources", "x", "--exclude", "[bad"},
		{"sources", "x", "--max-file-size", "0"},
		{"sources", "x", "--source-root", filepath.Join(dir, "no-such-dir")},
		{"sources", "x", "--source-root", src},
		{"sources", "--no-such-flag"},
	} {
		if code, _, _ := runCLI(t, args...); code != ExitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, ExitUsage)
		}
	}
	if code, stdout, _ := runCLI(t, "sources", "--help"); code != ExitOK || !strings.Contains(stdout, "PATH.sources.tar.zst") {
		t.Errorf("--help: exit %d\n%s", code, stdout)
	}
	// Not an ELF file: a failure, and no output left behind.
	bad := filepath.Join(dir, "bad.tar.zst")
	if code, _, _ := runCLI(t, "sources", manifest, "-o", bad); code != ExitFailed {
		t.Errorf("non-ELF: exit %d", code)
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("output written on failure: %v", err)
	}
}

func TestCommonPrefix(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"/build/ci/src/a.c", "/build/ci/inc/b.h", "/usr/include/stdio.h"}, "/build/ci"},
		{[]string{"example.com/m/main.go", "example.com/m/util/u.go", "runtime/proc.go"}, "example.com/m"},
		{[]string{"a.c"}, ""},
	} {
		if got := commonPrefix(c.in); got != c.want {
			t.Errorf("commonPrefix(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSourcesJSONOnFailure: a failed archive still gives a --json reader
// an object to parse, with the reason (a review got an empty stdout).
func TestSourcesJSONOnFailure(t *testing.T) {
	_, bin := buildC(t, true)
	code, stdout, _ := runCLI(t, "sources", bin, "-o", filepath.Join(t.TempDir(), "no", "such", "dir", "s.tar.zst"), "--json")
	var s sourcesSummary
	if err := json.Unmarshal([]byte(stdout), &s); code != ExitFailed || err != nil || s.Error == "" {
		t.Errorf("exit %d, %v, summary %+v:\n%s", code, err, s, stdout)
	}
}

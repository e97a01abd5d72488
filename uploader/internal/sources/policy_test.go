package sources

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// hostileProgram builds, with gcc, a binary whose DWARF line tables name
// files its author has no business reading: #line sets the file name
// recorded for the code after it. dir is the source root; it holds the CI
// token file, a symlink out of the root and a hard link to the token.
func hostileProgram(t *testing.T) (dir, bin, token, outside string) {
	t.Helper()
	testbin.Need(t, "gcc")
	dir, outside = t.TempDir(), t.TempDir()
	token = filepath.Join(dir, "ci-token")
	files := map[string]string{
		token:                                "psc_v1_secret-token-value\n",
		filepath.Join(outside, "secret.txt"): "outside secret\n",
		filepath.Join(dir, "src/ok.c"):       "int ok;\n",
	}
	for p, c := range files {
		writeFile(t, p, c)
	}
	if err := os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "src/link.c")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(token, filepath.Join(dir, "src/hard.c")); err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	for i, name := range []string{
		"/etc/shadow",
		filepath.Join(outside, "secret.txt"),
		"../" + filepath.Base(outside) + "/secret.txt",
		token,
		"src/link.c",
		"src/hard.c",
		"/proc/self/environ",
		"src/ok.c",
	} {
		fmt.Fprintf(&src, "#line 1 %q\nint f%d(int x) { return x + %d; }\n", name, i, i)
	}
	src.WriteString("#line 1 \"main.c\"\nint main(void) { return f0(1) + f1(2) + f2(3) + f3(4) + f4(5) + f5(6) + f6(7) + f7(8); }\n")
	bin = testbin.GCC(t, dir, "hostile", src.String(), "-g")
	return dir, bin, token, outside
}

func TestHostileLineTables(t *testing.T) {
	dir, bin, token, outside := hostileProgram(t)
	var warn bytes.Buffer
	b, res := fromBinary(t, bin, Options{
		Roots:   []string{dir},
		Include: []string{"**/secret.txt", "src/**", "etc/**", "proc/**"}, // no glob admits secrets or unsafe names
		Never:   []string{token},
		Warn:    &warn,
	})
	got, _ := readArchive(t, b)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range got {
			if !yield(n) {
				return
			}
		}
	})
	// The include glob admits the outside secret.txt by its clean absolute
	// name; etc/shadow is admitted by name too when readable, so check
	// what must never be there instead of an exact list.
	for _, n := range names {
		if strings.Contains(n, "..") || strings.HasPrefix(n, "/") || strings.Contains(n, "ci-token") || n == "src/hard.c" || n == "src/link.c" || strings.HasPrefix(n, "proc/") {
			t.Errorf("archived %q", n)
		}
		if strings.Contains(got[n], "secret-token-value") {
			t.Errorf("%s holds the token", n)
		}
	}
	main := strings.TrimPrefix(filepath.Join(dir, "hostile.c"), "/") // the file gcc compiled
	for _, n := range []string{"src/ok.c", main} {
		if !slices.Contains(names, n) {
			t.Errorf("%s not archived; names %q", n, names)
		}
	}
	for _, want := range []string{
		strings.TrimPrefix(token, "/") + ": a credential file in use",
		"src/hard.c: a credential file in use",
		"proc/self/environ: a kernel or device file",
		`"../` + filepath.Base(outside) + `/secret.txt": unsafe name: a ".." part`,
		"src/link.c: a symlink to " + outside + "/secret.txt, outside the source roots",
	} {
		if !slices.ContainsFunc(res.Skipped, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("skipped lacks %q:\n%s", want, strings.Join(res.Skipped, "\n"))
		}
	}

	// By default (no include globs) only files inside the root go in, and a
	// symlink out of the root is refused.
	b, res = fromBinary(t, bin, Options{Roots: []string{dir}, Never: []string{token}})
	got, _ = readArchive(t, b)
	if len(got) != 2 || got["src/ok.c"] != "int ok;\n" || got[main] == "" {
		t.Errorf("archive = %q, want src/ok.c and hostile.c only", slices.Collect(func(yield func(string) bool) {
			for n := range got {
				yield(n)
			}
		}))
	}
	for _, want := range []string{
		"etc/shadow: /etc/shadow is outside the source roots",
		strings.TrimPrefix(outside, "/") + "/secret.txt: " + outside + "/secret.txt is outside the source roots",
		"src/link.c: a symlink to " + outside + "/secret.txt, outside the source roots",
	} {
		if !slices.ContainsFunc(res.Skipped, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("skipped lacks %q:\n%s", want, strings.Join(res.Skipped, "\n"))
		}
	}
	if _, err := os.Stat("/etc/shadow"); err == nil && !slices.Contains(res.Outside, "/etc/shadow") {
		t.Errorf("outside = %q", res.Outside)
	}
}

// A manifest is trusted to list the build's files, but not to smuggle
// names or credentials in.
func TestManifestPolicy(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeFile(t, token, "secret\n")
	writeFile(t, filepath.Join(dir, "a.c"), "int a;\n")
	manifest := filepath.Join(dir, "m.tsv")
	writeFile(t, manifest, strings.Join([]string{
		"a.c\t" + filepath.Join(dir, "a.c"),
		"../up.c\t" + filepath.Join(dir, "a.c"),
		"tok.c\t" + token,
		"shadow\t/etc/shadow",
	}, "\n")+"\n")
	var buf bytes.Buffer
	res, err := FromManifest(manifest, Options{Roots: []string{dir}, Never: []string{token}}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, buf.Bytes(), res, map[string]string{"a.c": filepath.Join(dir, "a.c")})
	if len(res.Skipped) != 3 {
		t.Errorf("skipped = %q, want ../up.c, tok.c and shadow", res.Skipped)
	}
}

func TestCheckName(t *testing.T) {
	for name, want := range map[string]string{
		"/usr/include/stdio.h": "usr/include/stdio.h",
		"./src/a.c":            "src/a.c",
		"src/a.c":              "src/a.c",
		"example.com/m/x.go":   "example.com/m/x.go",
		"a..b/c..":             "a..b/c..",
	} {
		if got, err := CheckName(name); err != nil || got != want {
			t.Errorf("CheckName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"", ".", "/.", "./.", "/", "./", "..", "../x", "a/../b", "a/..", "//etc/passwd", ".//x", "a//b", "a/./b", "a/", `..\x`, "a\x1b[2Jb", "a\nb", "\xff", "././x"} {
		if got, err := CheckName(name); err == nil {
			t.Errorf("CheckName(%q) = %q, want an error", name, got)
		}
	}
}

// FuzzPathPolicy: whatever name CheckName accepts is a clean relative path
// that Parca's stripping leaves as it is and that no unpacker places
// outside its directory.
func FuzzPathPolicy(f *testing.F) {
	for _, s := range []string{"/etc/shadow", "../x", "./a/b.c", "//x", "a/./b", "a\\..\\b", "src/main.c", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := CheckName(name)
		if err != nil {
			return
		}
		if n != Normalize(name) {
			t.Fatalf("CheckName(%q) = %q, not the normalized name %q (the server would not find it)", name, n, Normalize(name))
		}
		if Normalize(n) != n || !filepath.IsLocal(n) || filepath.Clean(n) != n || strings.ContainsAny(n, "\\\x00\n\r") {
			t.Fatalf("CheckName(%q) = %q, not a clean local path", name, n)
		}
		for _, seg := range strings.Split(n, "/") {
			if seg == ".." || seg == "." || seg == "" {
				t.Fatalf("CheckName(%q) = %q has segment %q", name, n, seg)
			}
		}
	})
}

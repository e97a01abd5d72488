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

// docs/sources.md: a symlink in a root that leads out of all roots stays
// out whatever a manifest lists, except Bazel's own exec-root links, which
// lead into the workspace (and from a sandbox into the exec root).
func TestManifestSymlinksOutOfRoots(t *testing.T) {
	base := t.TempDir()
	outside := filepath.Join(base, "outside", "secret.txt")
	writeFile(t, outside, "outside secret\n")
	link := func(target, at string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, at); err != nil {
			t.Fatal(err)
		}
	}
	// A plain checkout (the Make include): a link to a file outside.
	plain := filepath.Join(base, "plain")
	writeFile(t, filepath.Join(plain, "ok.c"), "int ok;\n")
	link(outside, filepath.Join(plain, "shadowlink"))
	link("../outside/secret.txt", filepath.Join(plain, "rel.c"))

	// Bazel: a workspace, the exec root of links into it and into an
	// external repository, and a sandbox of links into the exec root.
	ws := filepath.Join(base, "ws")
	ob := filepath.Join(base, "ob")
	exec := filepath.Join(ob, "execroot", "_main")
	sandbox := filepath.Join(ob, "sandbox", "linux-sandbox", "7", "execroot", "_main")
	writeFile(t, filepath.Join(ws, "src", "foo.c"), "int foo;\n")
	writeFile(t, filepath.Join(ws, "top.c"), "int top;\n")
	writeFile(t, filepath.Join(ob, "external", "repo", "lib.c"), "int lib;\n")
	link(outside, filepath.Join(ws, "src", "x.c")) // planted in the checkout
	link(outside, filepath.Join(ws, "secret.txt")) // planted, same base name
	link(filepath.Join(ws, "src"), filepath.Join(exec, "src"))
	link(filepath.Join(ws, "top.c"), filepath.Join(exec, "top.c"))
	link(filepath.Join(ws, "secret.txt"), filepath.Join(exec, "secret.txt"))
	link(filepath.Join(ob, "external", "repo"), filepath.Join(exec, "external", "repo"))
	// A local_repository: Bazel links the output base's external/<name> to
	// the directory the WORKSPACE names; a link inside it still escapes.
	local := filepath.Join(base, "vendor", "extlib")
	writeFile(t, filepath.Join(local, "src", "ext.c"), "int ext;\n")
	link(outside, filepath.Join(local, "src", "evil.c"))
	link(local, filepath.Join(ob, "external", "extlib"))
	link(filepath.Join(ob, "external", "extlib"), filepath.Join(exec, "external", "extlib"))
	// Another output base's external link is no way out of this one.
	link(filepath.Join(base, "elsewhere", "external", "extlib"), filepath.Join(exec, "external", "other"))
	writeFile(t, filepath.Join(base, "elsewhere", "external", "extlib", "src", "ext.c"), "int other;\n")
	for _, f := range []string{"src/foo.c", "src/x.c", "top.c", "secret.txt", "external/repo/lib.c", "external/extlib/src/ext.c", "external/extlib/src/evil.c"} {
		link(filepath.Join(exec, f), filepath.Join(sandbox, f))
	}
	link(outside, filepath.Join(sandbox, "forged.c")) // not a mirror of its path

	for _, tc := range []struct {
		name, root string
		lines      []string
		want       map[string]string // archived name -> disk
		skipped    []string
	}{
		{"plain", plain, []string{"ok.c", "src/x.c\tshadowlink", "rel.c"},
			map[string]string{"ok.c": filepath.Join(plain, "ok.c")},
			[]string{"src/x.c: a symlink to " + outside + ", outside the source roots", "rel.c: a symlink to " + outside}},
		{"exec root", exec, []string{"src/foo.c", "top.c", "external/repo/lib.c", "src/x.c", "secret.txt", "external/extlib/src/ext.c", "external/extlib/src/evil.c", "external/other/src/ext.c"},
			map[string]string{"src/foo.c": filepath.Join(ws, "src/foo.c"), "top.c": filepath.Join(ws, "top.c"), "external/repo/lib.c": filepath.Join(ob, "external/repo/lib.c"),
				"external/extlib/src/ext.c": filepath.Join(local, "src/ext.c")},
			[]string{"src/x.c: a symlink to " + outside, "secret.txt: a symlink to " + outside, "external/extlib/src/evil.c: a symlink to " + outside, "external/other/src/ext.c: a symlink to "}},
		{"sandbox", sandbox, []string{"src/foo.c", "top.c", "external/repo/lib.c", "src/x.c", "secret.txt", "forged.c", "external/extlib/src/ext.c", "external/extlib/src/evil.c"},
			map[string]string{"src/foo.c": filepath.Join(ws, "src/foo.c"), "top.c": filepath.Join(ws, "top.c"), "external/repo/lib.c": filepath.Join(ob, "external/repo/lib.c"),
				"external/extlib/src/ext.c": filepath.Join(local, "src/ext.c")},
			[]string{"src/x.c: a symlink to " + outside, "secret.txt: a symlink to " + outside, "forged.c: a symlink to " + outside, "external/extlib/src/evil.c: a symlink to " + outside}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lines []string
			for _, l := range tc.lines {
				name, disk, ok := strings.Cut(l, "\t")
				if !ok {
					disk = name
				}
				lines = append(lines, name+"\t"+filepath.Join(tc.root, disk))
			}
			manifest := filepath.Join(t.TempDir(), "m.tsv")
			writeFile(t, manifest, strings.Join(lines, "\n")+"\n")
			var buf bytes.Buffer
			// The include glob names everything: it must not matter.
			res, err := FromManifest(manifest, Options{Roots: []string{tc.root}, Include: []string{"**"}}, &buf)
			if err != nil {
				t.Fatal(err)
			}
			checkArchive(t, buf.Bytes(), res, tc.want)
			for _, want := range tc.skipped {
				if !slices.ContainsFunc(res.Skipped, func(s string) bool { return strings.HasPrefix(s, want) }) {
					t.Errorf("skipped lacks %q:\n%s", want, strings.Join(res.Skipped, "\n"))
				}
			}
		})
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

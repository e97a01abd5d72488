package sources

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// Edges of an explicit manifest: a file of exactly the size limit is
// archived (one byte more is not), a line far longer than a path is read
// past, and an error names the line it is on.
func TestManifestEdges(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "exact.c"), strings.Repeat("x", 50))
	writeFile(t, filepath.Join(dir, "over.c"), strings.Repeat("x", 51))
	manifest := filepath.Join(dir, "m.txt")
	long := strings.Repeat("d/", 50000) + "x.c" // 100 KB: past bufio's default line size
	writeFile(t, manifest, strings.Join([]string{
		"exact.c\t" + filepath.Join(dir, "exact.c"),
		"over.c\t" + filepath.Join(dir, "over.c"),
		long + "\t" + filepath.Join(dir, "gone.c"),
	}, "\n")+"\n")
	var buf, warn bytes.Buffer
	res, err := FromManifest(manifest, Options{Roots: []string{dir}, MaxFileSize: 50, Warn: &warn}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	checkArchive(t, buf.Bytes(), res, map[string]string{"exact.c": filepath.Join(dir, "exact.c")})
	if !strings.Contains(warn.String(), "over.c: too large (51 bytes, limit 50)") {
		t.Errorf("warnings:\n%s", warn.String())
	}

	writeFile(t, manifest, "# names\n\na.c\t/x\nb.c\t/y\na.c\t/z\n")
	_, err = FromManifest(manifest, Options{}, io.Discard)
	if want := fmt.Sprintf("%s:5:", manifest); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v; want it to name line 5 (%s)", err, want)
	}
}

// TestManifestAliases: an alias line names a file a second time; a plain
// line wins over an alias of the same name, and an alias given to two files
// names neither.
func TestManifestAliases(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"cg/a.go", "cg/b.go", "other/b.go", "cg/c.go"} {
		writeFile(t, filepath.Join(dir, f), "package "+filepath.Dir(f)+" // "+f+"\n")
	}
	manifest := filepath.Join(dir, "m.txt")
	disk := func(f string) string { return filepath.Join(dir, f) }
	writeFile(t, manifest, strings.Join([]string{
		"cg/a.go\t" + disk("cg/a.go"),
		"ws/cg/a.go\t" + disk("cg/a.go") + "\talias",
		"a.go\t" + disk("cg/a.go") + "\talias",
		"b.go\t" + disk("cg/b.go") + "\talias",
		"b.go\t" + disk("other/b.go") + "\talias", // two files: neither
		"c.go\t" + disk("cg/c.go") + "\talias",
		"c.go\t" + disk("cg/c.go") + "\talias", // the same file twice: kept
		"x.go\t" + disk("cg/a.go") + "\talias",
		"x.go\t" + disk("cg/c.go"), // a plain line wins
	}, "\n")+"\n")
	var buf, warn bytes.Buffer
	if _, err := FromManifest(manifest, Options{Roots: []string{dir}, Warn: &warn}, &buf); err != nil {
		t.Fatal(err)
	}
	got, _ := readArchive(t, buf.Bytes())
	want := map[string]string{
		"cg/a.go":    "cg/a.go",
		"ws/cg/a.go": "cg/a.go",
		"a.go":       "cg/a.go",
		"c.go":       "cg/c.go",
		"x.go":       "cg/c.go",
	}
	if len(got) != len(want) {
		t.Errorf("archived %v, want the names of %v", got, want)
	}
	for name, from := range want {
		if got[name] != "package "+filepath.Dir(from)+" // "+from+"\n" {
			t.Errorf("%s: %q, want the content of %s", name, got[name], from)
		}
	}
	if !strings.Contains(warn.String(), "b.go") || !strings.Contains(warn.String(), "alias of more than one file") {
		t.Errorf("the ambiguous alias is not reported: %s", warn.String())
	}
	if _, _, _, _, err := parseManifestLine("a.go\tb.go\tweak"); err == nil {
		t.Error("a third field other than alias is accepted")
	}
}

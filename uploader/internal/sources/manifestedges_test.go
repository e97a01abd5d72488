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

package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// escapedFiles lists what a hostile build ID left outside the bucket: any
// path under the server's directory, outside the bucket, named "escaped".
func escapedFiles(t testing.TB, p *Parca) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(filepath.Dir(p.Bucket), func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "escaped") && !strings.HasPrefix(path, p.Bucket+"/") {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// Build IDs become paths in Parca's bucket (debuginfo/<id>/debuginfo), and
// Parca v0.28.0 does not check them: a Go build-ID note or --build-id with
// ".." parts made it write outside its bucket. The uploader now refuses such
// IDs (exit 1, the ID escaped), and keeps storing ordinary Go build IDs,
// whose "/" parts nest, in Parca and in the file store alike.
func TestHostileBuildIDsStayInBucket(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	hostile := testbin.GoBuild(t, t.TempDir(), "hostile", testbin.HelloGo("hostile"), "-B=none -buildid=../../escaped/note")
	for _, args := range [][]string{
		{hostile},
		{"--no-extract", "--build-id=../../escaped/flag", hostile},
		{"--no-extract", "--build-id=../../escaped\x1b[2K", hostile},
	} {
		r := cli(t, append([]string{"upload", "--store-address=" + p.Addr, "--insecure", "--retries=0"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "invalid") || !strings.Contains(r.stderr, `"../../escaped`) || strings.Contains(r.stderr, "\x1b") {
			t.Errorf("want exit 1 and the ID refused, shown escaped: %v", r)
		}
	}
	if files := escapedFiles(t, p); len(files) > 0 {
		t.Errorf("written outside the bucket %s: %q", p.Bucket, files)
	}

	// An ordinary Go build ID: stored nested under debuginfo/ in both stores.
	const goID = "aaaaAAAA_-/bbbbBBBB12/cccc/dddd"
	ok := testbin.GoBuild(t, t.TempDir(), "goid", testbin.HelloGo("go id"), "-B=none -buildid="+goID)
	rep := one(t, mustUpload(t, p, ok))
	if rep.Action != upload.Uploaded || rep.BuildID != goID || rep.BuildIDType != "go" {
		t.Fatalf("Go build ID: %+v", rep)
	}
	checkStored(t, p, goID, "debuginfo", extract(t, ok))
	dir := t.TempDir()
	if r := cli(t, "upload", "--store-address=file://"+dir, ok); r.code != 0 {
		t.Fatalf("file store refused the Go build ID: %v", r)
	}
	want, _ := os.ReadFile(p.ObjectPath(goID, "debuginfo"))
	if got, err := os.ReadFile(filepath.Join(dir, "debuginfo", goID, "debuginfo")); err != nil || string(got) != string(want) {
		t.Errorf("file store: %v (or content differs from Parca's copy)", err)
	}
}

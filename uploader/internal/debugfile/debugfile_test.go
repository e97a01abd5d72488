package debugfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// gdb's order: by build ID under each debug directory, then the debuglink
// name beside the program, in .debug/, and under each debug directory at
// the program's directory. A build ID that is not lower-case hex makes no
// path (it would name a file of its choosing).
func TestCandidatesInGDBOrder(t *testing.T) {
	id := buildid.ID{Type: buildid.GNU, Value: "ab12cd"}
	got := Candidates("/opt/app/bin/app", id, "app.debug", []string{"/usr/lib/debug", "/d2"})
	want := []string{
		"/usr/lib/debug/.build-id/ab/12cd.debug", "/d2/.build-id/ab/12cd.debug",
		"/opt/app/bin/app.debug", "/opt/app/bin/.debug/app.debug",
		"/usr/lib/debug/opt/app/bin/app.debug", "/d2/opt/app/bin/app.debug",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Candidates:\n got %q\nwant %q", got, want)
	}
	for _, v := range []string{"../../etc", "AB12", "a"} {
		if c := Candidates("/x/app", buildid.ID{Type: buildid.GNU, Value: v}, "", []string{"/d"}); len(c) != 0 {
			t.Errorf("build ID %q gave %q", v, c)
		}
	}
}

// Search takes the first file try accepts, reports why the first one
// found was not used, and says when the debuglink's file is nowhere.
func TestSearch(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	var tried []string
	found, note := Search([]string{filepath.Join(dir, "missing"), filepath.Join(dir, "d"), a, b}, "x", "", "do this", func(p string, _ os.FileInfo) string {
		tried = append(tried, p)
		if p == a {
			return "is not this build's: not used"
		}
		return ""
	})
	if !found || note != "" || !slices.Equal(tried, []string{a, b}) {
		t.Errorf("found %v, note %q, tried %q", found, note, tried)
	}
	found, note = Search([]string{a}, "x", "", "do this", func(string, os.FileInfo) string { return "is not this build's: not used" })
	if found || note != a+", found as its separate debug file, is not this build's: not used" {
		t.Errorf("found %v, note %q", found, note)
	}
	found, note = Search(nil, "app.debug", "", "do this", nil)
	if found || !strings.Contains(note, `names "app.debug", not found`) || !strings.HasSuffix(note, "else do this)") {
		t.Errorf("found %v, note %q", found, note)
	}
	if _, note = Search(nil, "", "", "do this", nil); note != "" {
		t.Errorf("no debuglink, nothing found: note %q", note)
	}
}

// A file that is there but not a regular one (a directory, a FIFO) is
// named in the note, never opened.
func TestSearchNamesNonRegularFile(t *testing.T) {
	d := filepath.Join(t.TempDir(), "app.debug")
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	found, note := Search([]string{d}, "app.debug", "", "do this", func(string, os.FileInfo) string {
		t.Error("tried a directory")
		return ""
	})
	if found || note != d+", found as its separate debug file, is not a regular file: not used" {
		t.Errorf("found %v, note %q", found, note)
	}
}

// A program reached through a symlink: the link's directory first, then
// the directory of the file it leads to, as gdb does.
func TestCandidatesOfSymlinkedProgram(t *testing.T) {
	root := t.TempDir()
	opt, bin := filepath.Join(root, "opt"), filepath.Join(root, "bin")
	for _, d := range []string{opt, bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(opt, "app"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../opt/app", filepath.Join(bin, "app")); err != nil {
		t.Fatal(err)
	}
	got := Candidates(filepath.Join(bin, "app"), buildid.ID{}, "app.debug", nil)
	want := []string{
		filepath.Join(bin, "app.debug"), filepath.Join(bin, ".debug", "app.debug"),
		filepath.Join(opt, "app.debug"), filepath.Join(opt, ".debug", "app.debug"),
	}
	if !slices.Equal(got, want) {
		t.Errorf("Candidates:\n got %q\nwant %q", got, want)
	}
}

// A stripped copy has its program's code; a program with the same forced
// build ID and sizes but another constant does not.
func TestSameCode(t *testing.T) {
	testbin.Need(t, "strip")
	dir := t.TempDir()
	one, two := testbin.SameIDTwins(t, dir, "cd")
	stripped := filepath.Join(dir, "one.stripped")
	testbin.Run(t, "", "strip", "-g", "-o", stripped, one)
	for _, tc := range []struct {
		a, b string
		want bool
	}{{one, stripped, true}, {stripped, one, true}, {one, two, false}} {
		if got, err := SameCode(tc.a, tc.b); err != nil || got != tc.want {
			t.Errorf("SameCode(%s, %s) = %v, %v; want %v", filepath.Base(tc.a), filepath.Base(tc.b), got, err, tc.want)
		}
	}
}

package sources

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestRelativeCompDir: a build made reproducible with
// -fdebug-prefix-map=$(CURDIR)=. (or =tree) has a relative comp_dir and
// relative names. make.md's recipes must find the files: from the build's
// directory with no map, with --prefix-map=.=DIR from anywhere, and with
// --prefix-map=tree=DIR for a comp_dir of "tree" (a review found all three
// archived nothing).
func TestRelativeCompDir(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, c := range []struct {
		name, remap string
		chdir       bool
		maps        func(dir string) []PrefixMap
	}{
		{"dot, from the build directory", ".", true, func(string) []PrefixMap { return nil }},
		{"dot, a map of .", ".", false, func(dir string) []PrefixMap { return []PrefixMap{{Old: ".", New: dir}} }},
		{"tree, a map of tree", "tree", false, func(dir string) []PrefixMap { return []PrefixMap{{Old: "tree", New: dir}} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "src/m.c"), "#include \"h.h\"\nint main(void) { return h(0); }\n")
			writeFile(t, filepath.Join(dir, "include/h.h"), "static inline int h(int x) { return x * 2; }\n")
			cmd := exec.Command("gcc", "-g", "-Iinclude", "-fdebug-prefix-map="+dir+"="+c.remap, "-o", "app", "src/m.c")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("gcc: %v\n%s", err, out)
			}
			if c.chdir {
				t.Chdir(dir)
			} else {
				t.Chdir(t.TempDir())
			}
			b, res := fromBinary(t, filepath.Join(dir, "app"), Options{Roots: []string{dir}, PrefixMaps: c.maps(dir)})
			got, _ := readArchive(t, b)
			for _, want := range []string{"src/m.c", "include/h.h"} {
				if _, ok := got[want]; !ok {
					t.Errorf("%s not archived: archive %v, missing %v, skipped %v", want, keys(got), res.Missing, res.Skipped)
				}
			}
		})
	}
}

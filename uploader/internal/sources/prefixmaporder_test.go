package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// With two --prefix-maps that both match a name, the first one given wins
// (as Options.PrefixMaps documents), even when the later one also finds a
// file: the archive holds the first checkout's bytes.
func TestFirstMatchingPrefixMapWins(t *testing.T) {
	dir := cProgram(t)
	run(t, dir, nil, "gcc", "-g", "-Iinc", "-fdebug-prefix-map="+dir+"=/build/ci", "src/main.c", "src/util.c", "-o", "prog")
	bin := filepath.Join(dir, "prog")

	// A second checkout with different bytes in every file.
	other := t.TempDir()
	for _, f := range []string{"src/main.c", "src/util.c", "inc/a.h", "inc/sub/b.h"} {
		writeFile(t, filepath.Join(other, "ci", f), "/* the other checkout's "+f+" */\n")
	}
	first := PrefixMap{Old: "/build/ci", New: dir}
	broader := PrefixMap{Old: "/build", New: other} // also matches every name
	for _, c := range []struct {
		maps []PrefixMap
		from string
	}{
		{[]PrefixMap{first, broader}, dir},
		{[]PrefixMap{broader, first}, filepath.Join(other, "ci")},
	} {
		b, res := fromBinary(t, bin, Options{PrefixMaps: c.maps})
		got, _ := readArchive(t, b)
		found := false
		for name, content := range got {
			if !strings.HasSuffix(name, "src/main.c") {
				continue
			}
			found = true
			want, err := os.ReadFile(filepath.Join(c.from, "src/main.c"))
			if err != nil {
				t.Fatal(err)
			}
			if content != string(want) {
				t.Errorf("maps %v: %s holds %q, want the bytes from %s", c.maps, name, content, c.from)
			}
		}
		if !found || len(res.Missing) != 0 {
			t.Errorf("maps %v: src/main.c archived=%v, missing %v", c.maps, found, res.Missing)
		}
	}
}

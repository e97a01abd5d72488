package sources

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A source root given through a symlink (a checkout reached by a link) still
// admits the files under the directory it points to.
func TestSourceRootThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "prog", "int main(void) { return 0; }\n", "-g")
	link := filepath.Join(t.TempDir(), "checkout")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	b, res := fromBinary(t, bin, Options{Roots: []string{link}})
	got, _ := readArchive(t, b)
	if name := Normalize(filepath.Join(dir, "prog.c")); got[name] == "" {
		t.Errorf("prog.c not archived with the root given as a symlink; archive %v, skipped %v", keys(got), res.Skipped)
	}
}

// A credential file that is replaced during the run (a helper rewriting its
// token file by rename) is still never archived: the policy knows it by
// path too, not only by the identity it had when the run began.
func TestCredentialFileReplacedDuringTheRun(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	writeFile(t, token, "old-token\n")
	p := newPolicy(Options{Roots: []string{dir}, Never: []string{token}})
	writeFile(t, token+".new", "new-token\n")
	if err := os.Rename(token+".new", token); err != nil {
		t.Fatal(err)
	}
	if _, _, reason, _ := p.admit(token, true); reason == "" {
		t.Error("the replaced credential file was admitted")
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestPrefixMapToRootAdmitsNothing: --prefix-map=X=/ (an easy slip) does
// not make "/" a source root: /etc/passwd named by DWARF stays out.
func TestPrefixMapToRootAdmitsNothing(t *testing.T) {
	p := newPolicy(Options{Roots: []string{t.TempDir()}, PrefixMaps: []PrefixMap{{Old: "/nothing", New: "/"}}})
	if _, _, reason, _ := p.admit("/etc/passwd", false); !strings.Contains(reason, "outside the source roots") {
		t.Errorf("/etc/passwd: reason %q", reason)
	}
}

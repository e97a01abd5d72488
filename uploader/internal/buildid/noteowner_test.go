package buildid

import (
	"os"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// foreignNoteC adds a note of type 3 (NT_GNU_BUILD_ID's number) owned by
// "ACME", in a section that sorts before .note.gnu.build-id: only owner
// "GNU" makes type 3 a build ID.
const foreignNoteC = `__asm__(".pushsection .note.a.acme,\"a\",@note\n"
	".balign 4\n.long 5\n.long 8\n.long 3\n.asciz \"ACME\"\n.balign 4\n"
	".long 0xdeadbeef\n.long 0xcafef00d\n.popsection\n");
int main(void) { return 0; }
`

func TestTypeThreeNoteOfAnotherOwnerIsNotTheBuildID(t *testing.T) {
	testbin.Need(t, "gcc", "readelf")
	dir := t.TempDir()

	withGNU := testbin.GCC(t, dir, "withgnu", foreignNoteC, "-Wl,--build-id=0x0102030405060708")
	if out := testbin.Run(t, "", "readelf", "-n", withGNU); !strings.Contains(out, "ACME") {
		t.Fatalf("test setup: no ACME note in\n%s", out)
	}
	id, err := Read(withGNU)
	if err != nil {
		t.Fatal(err)
	}
	if id.Type != GNU || id.Value != "0102030405060708" {
		t.Errorf("with a GNU build ID too: %+v", id)
	}

	// Without a GNU note the foreign one must not stand in for it.
	only := testbin.GCC(t, dir, "onlyacme", foreignNoteC, "-Wl,--build-id=none")
	id, err = Read(only)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(only)
	if id.Type != Hash || id.Value != refHash(b) {
		t.Errorf("only a foreign type-3 note: %+v, want the file hash %s", id, refHash(b))
	}
}

// An empty Go build-ID note says nothing: the file hash stands in.
func TestEmptyGoNoteFallsBackToHash(t *testing.T) {
	testbin.Need(t, "gcc")
	src := `__asm__(".pushsection .note.go.buildid,\"a\",@note\n"
	".balign 4\n.long 3\n.long 0\n.long 4\n.asciz \"Go\"\n.balign 4\n.popsection\n");
int main(void) { return 0; }
`
	bin := testbin.GCC(t, t.TempDir(), "emptygo", src, "-Wl,--build-id=none")
	id, err := Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(bin)
	if id.Type != Hash || id.Value != refHash(b) {
		t.Errorf("empty Go note: %+v, want the file hash", id)
	}
}

// An empty GNU build-ID note says nothing either.
func TestEmptyGNUNoteFallsBackToHash(t *testing.T) {
	testbin.Need(t, "gcc")
	src := `__asm__(".pushsection .note.x.gnuempty,\"a\",@note\n"
	".balign 4\n.long 4\n.long 0\n.long 3\n.asciz \"GNU\"\n.balign 4\n.popsection\n");
int main(void) { return 0; }
`
	bin := testbin.GCC(t, t.TempDir(), "emptygnu", src, "-Wl,--build-id=none")
	id, err := Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(bin)
	if id.Type != Hash || id.Value != refHash(b) {
		t.Errorf("empty GNU note: %+v, want the file hash", id)
	}
}

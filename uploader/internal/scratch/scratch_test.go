package scratch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileIsUnlinked(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	f, err := File("x-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("data"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "x-*")); len(left) != 0 {
		t.Errorf("temp file still has a name: %v", left)
	}
}

func TestMissingTMPDIRIsNamed(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	t.Setenv("TMPDIR", missing)
	_, err := File("x-*")
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "TMPDIR") {
		t.Errorf("err = %v; want one naming %s and TMPDIR", err, missing)
	}
}

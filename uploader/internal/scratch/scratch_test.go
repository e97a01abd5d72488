package scratch

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestOutOfDescriptorsIsNotBlamedOnTMPDIR: a process at its open-file
// limit gets EMFILE, which setting TMPDIR does not cure (review s14-r2,
// finding 3).
func TestOutOfDescriptorsIsNotBlamedOnTMPDIR(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	low := old
	low.Cur = 0 // no descriptor may be opened
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	_, err := File("x-*")
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, syscall.EMFILE) || strings.Contains(err.Error(), "set TMPDIR") {
		t.Errorf("err = %v; want EMFILE without the TMPDIR advice", err)
	}
}

package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestWriteRemovesStaleTemps: the temp a writer killed mid-write left
// beside path is removed by the next write of path; a live writer's temp
// (locked) and a brand-new one are kept.
func TestWriteRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "receipt.json")
	old := time.Now().Add(-time.Hour)
	temp := func(name string, age time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := temp(".receipt.json.tmp123", old)
	live := temp(".receipt.json.tmp456", old)
	fresh := temp(".receipt.json.tmp789", time.Now())
	other := temp(".other.json.tmp1", old)
	f, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("stale temp left behind (%v)", err)
	}
	for _, p := range []string{live, fresh, other} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(p), err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "{}\n" {
		t.Errorf("path holds %q", b)
	}
}

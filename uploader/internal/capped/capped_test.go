package capped

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A file of exactly the limit is read whole; one byte more is refused, and
// a file without end (/dev/zero) ends the read at the limit.
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	for size, ok := range map[int]bool{0: true, 10: true, 11: false} {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := ReadFile(path, 10, "a test file")
		if ok && (err != nil || len(b) != size) {
			t.Errorf("%d bytes: %d read, %v", size, len(b), err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), path+" holds more than 10 bytes: not a test file")) {
			t.Errorf("%d bytes: err = %v", size, err)
		}
	}
	if _, err := ReadFile("/dev/zero", 1<<10, "a test file"); err == nil {
		t.Error("/dev/zero was read as a small file")
	}
}

package elfdebug

import (
	"io"
	"os"
	"testing"
)

// The temp-file spool buffers writes; dropping what was written last (a
// section that did not shrink) and reading back must see every byte
// written before, buffered or not.
func TestFileSpoolDropsAndReadsBack(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "spool")
	if err != nil {
		t.Fatal(err)
	}
	s := newFileSpool(f)
	defer s.Close()
	s.Write([]byte("keep-"))
	s.Write([]byte("drop this"))
	if err := s.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("next"))
	got := make([]byte, 9)
	if n, err := s.ReadAt(got, 0); n != 9 || (err != nil && err != io.EOF) || string(got) != "keep-next" {
		t.Errorf("ReadAt = %d, %v, %q; want keep-next", n, err, got)
	}
	if fi, _ := f.Stat(); fi.Size() != 9 {
		t.Errorf("file holds %d bytes, want 9", fi.Size())
	}
}

package elfparse

import (
	"bytes"
	"io"
	"testing"
)

// countingReader counts reads that reach the file, and like some ReaderAts
// reports io.EOF with a read that ends exactly at the end.
type countingReader struct {
	data  []byte
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	n, err := bytes.NewReader(c.data).ReadAt(p, off)
	if err == nil && off+int64(n) == int64(len(c.data)) {
		err = io.EOF
	}
	return n, err
}

// The window's point is that reads near either end of a file (headers,
// notes, section headers) cost no further syscalls.
func TestWindowServesBothEndsWithoutFurtherReads(t *testing.T) {
	for _, size := range []int{100, 2*windowSize - 1, 2 * windowSize, 2*windowSize + 1, 5 * windowSize} {
		c := &countingReader{data: make([]byte, size)}
		w, release, err := Window(c, int64(size))
		defer release()
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		upFront := c.reads
		p := make([]byte, 64)
		for _, off := range []int{0, size/2 - 32, size - 64} {
			if size > 2*windowSize && off == size/2-32 {
				continue // the middle of a large file is not windowed
			}
			if _, err := w.ReadAt(p, int64(off)); err != nil && err != io.EOF {
				t.Fatalf("size %d: ReadAt(%d): %v", size, off, err)
			}
		}
		if c.reads != upFront {
			t.Errorf("size %d: %d reads reached the file after the window was filled", size, c.reads-upFront)
		}
		if upFront > 2 {
			t.Errorf("size %d: %d reads to fill the window", size, upFront)
		}
	}
}

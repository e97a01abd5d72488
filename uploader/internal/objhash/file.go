package objhash

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrShrank is File's and Range's error when the file holds fewer bytes
// than it was asked to hash: it was truncated or rewritten while being read.
var ErrShrank = errors.New("file shrank while it was being hashed")

// File returns the hash of f's first size bytes (size from a stat just
// before), reading from f's start whatever its offset. It is the upload's
// first pass over a file sent as it is, so it is made fast where it can be
// (see file_linux.go); the result is always Sum of those bytes.
func File(f *os.File, size int64) (string, error) {
	h := New()
	if err := Range(h, f, 0, size); err != nil {
		return "", err
	}
	// A file cut short inside its last mapped page reads as zeros, not SIGBUS.
	if st, err := f.Stat(); err != nil || st.Size() < size {
		return "", fmt.Errorf("%w (%d bytes hashed)", ErrShrank, size)
	}
	return Sum(h), nil
}

// Range writes the n bytes of r at off to h: an extraction's hash pass
// hashes its parts this way. An *os.File's is read as File reads it.
func Range(h io.Writer, r io.ReaderAt, off, n int64) error {
	if f, ok := r.(*os.File); ok {
		return fileRange(h, f, off, n)
	}
	return readRange(h, r, off, n)
}

// ReadRange writes the n bytes of r at off to h through ReadAt and a small
// buffer, never a mapping: for a pass that runs beside another (the input's
// recheck beside the send), where resident memory matters more than speed.
func ReadRange(h io.Writer, r io.ReaderAt, off, n int64) error {
	return readRange(h, r, off, n)
}

// readBufs hold readRange's buffers for large ranges: 128 KiB reads cost
// little more per byte than 1 MiB ones, and an extraction hashes many
// parts, each of which allocated its own buffer before.
const readBuf = 128 << 10

var readBufs = sync.Pool{New: func() any { return new([readBuf]byte) }}

// readRange hashes r's n bytes at off through ReadAt.
func readRange(h io.Writer, r io.ReaderAt, off, n int64) error {
	var buf []byte
	if n < readBuf {
		buf = make([]byte, max(n, 1)) // small files' parts: no 128 KiB each
	} else {
		b := readBufs.Get().(*[readBuf]byte)
		defer readBufs.Put(b)
		buf = b[:]
	}
	m, err := io.CopyBuffer(h, io.NewSectionReader(r, off, n), buf)
	if err != nil {
		return err
	}
	if m < n {
		return fmt.Errorf("%w (%d of %d bytes from byte %d)", ErrShrank, m, n, off)
	}
	return nil
}

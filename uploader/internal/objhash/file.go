package objhash

import (
	"errors"
	"fmt"
	"io"
	"os"
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

// readRange hashes r's n bytes at off through ReadAt.
func readRange(h io.Writer, r io.ReaderAt, off, n int64) error {
	m, err := io.CopyBuffer(h, io.NewSectionReader(r, off, n), make([]byte, min(max(n, 1), 1<<20)))
	if err != nil {
		return err
	}
	if m < n {
		return fmt.Errorf("%w (%d of %d bytes from byte %d)", ErrShrank, m, n, off)
	}
	return nil
}

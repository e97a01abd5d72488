package objhash

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrShrank is File's error when the file holds fewer bytes than it was
// asked to hash: it was truncated or rewritten while being read.
var ErrShrank = errors.New("file shrank while it was being hashed")

// File returns the hash of f's first size bytes (size from a stat just
// before), reading from f's start whatever its offset. It is the upload's
// first pass over a file sent as it is, so it is made fast where it can be
// (see file_linux.go); the result is always Sum of those bytes.
func File(f *os.File, size int64) (string, error) {
	return fileHash(f, size)
}

// readHash hashes f's first size bytes through read(2).
func readHash(f *os.File, size int64) (string, error) {
	h := New()
	n, err := io.Copy(h, io.NewSectionReader(f, 0, size))
	if err != nil {
		return "", err
	}
	if n < size {
		return "", fmt.Errorf("%w (%d of %d bytes)", ErrShrank, n, size)
	}
	return Sum(h), nil
}

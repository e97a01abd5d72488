//go:build !linux

package objhash

import (
	"io"
	"os"
)

func fileRange(h io.Writer, f *os.File, off, n int64) error { return readRange(h, f, off, n) }

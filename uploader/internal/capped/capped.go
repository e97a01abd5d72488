// Package capped reads files that must be small (token files, CA bundles,
// flag files) without trusting them to end: a path like /dev/zero fails
// instead of filling memory.
package capped

import (
	"fmt"
	"io"
	"os"
)

// ReadFile reads path, failing once it holds more than limit bytes; the
// error names what the file was supposed to be ("a token file").
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = fmt.Errorf("%s holds more than %d bytes: not %s", path, limit, what)
	}
	return b, err
}

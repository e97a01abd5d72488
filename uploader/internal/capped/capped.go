// Package capped reads files that must be small (token files, CA bundles,
// flag files) without trusting them to end: a path like /dev/zero fails
// instead of filling memory.
package capped

import (
	"context"
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

// ReadFileContext is ReadFile that stops waiting when ctx ends. Only a file
// that is not a regular one (a FIFO, /dev/stdin fed by a slow command) can
// keep a read waiting: it is read aside, and left to its writer once ctx
// ends, so that Ctrl-C and SIGTERM are not held up by it.
func ReadFileContext(ctx context.Context, path string, limit int64, what string) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil || fi.Mode().IsRegular() {
		return ReadFile(path, limit, what)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := ReadFile(path, limit, what)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("stopped waiting for %s to be written: %w", path, ctx.Err())
	}
}

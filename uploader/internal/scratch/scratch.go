// Package scratch makes the unlinked temp files that extraction, upload
// staging and source listing spill to.
package scratch

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// File creates a temp file (name from pattern, as os.CreateTemp) and
// unlinks it at once: it is gone when closed, whatever happens to the
// process. A failure names the directory and how to choose another, since
// "open /x/debuginfo-...: no such file or directory" does not say TMPDIR.
func File(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		// Out of descriptors, not a TMPDIR problem: the caller says which
		// limit to raise.
		return nil, fmt.Errorf("cannot create a temp file in %s: %w", os.TempDir(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot create a temp file in %s (set TMPDIR to a writable directory): %w", os.TempDir(), err)
	}
	os.Remove(f.Name())
	return f, nil
}

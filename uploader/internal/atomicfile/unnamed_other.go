//go:build !linux

package atomicfile

import "os"

// createUnnamed: only Linux has O_TMPFILE; elsewhere temps are named.
func createUnnamed(dir, display string) *os.File { return nil }

func linkUnnamed(f *os.File, name string) error { panic("no unnamed files here") }

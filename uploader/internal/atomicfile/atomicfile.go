// Package atomicfile writes files through a temporary file and a rename, so
// readers (and Bazel) never see a half-written file.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Write replaces path with what write produces, with mode perm. On any
// error the temporary file is removed and path is left as it was. The temp
// file is locked while it is written; the temps of path that killed
// writers left (unlocked, not brand new) are removed first.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	prefix := "." + filepath.Base(path) + ".tmp"
	RemoveStale(filepath.Dir(path), prefix)
	tmp, err := os.CreateTemp(filepath.Dir(path), prefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return err
	}
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// StaleAfter is how old an unlocked temp file must be before it is taken
// for a dead writer's: a live writer locks its temp right after creating it.
const StaleAfter = 10 * time.Second

// RemoveStale deletes the regular files in dir whose names start with
// prefix, are unlocked and older than StaleAfter: temps that a writer
// killed mid-write (kill -9) left. Errors only mean a temp stays for later.
func RemoveStale(dir, prefix string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err == nil && time.Since(fi.ModTime()) > StaleAfter && syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			_ = os.Remove(p)
		}
		f.Close()
	}
}

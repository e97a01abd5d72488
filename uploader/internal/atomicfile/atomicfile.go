// Package atomicfile writes files through a temporary file and a rename, so
// readers (and Bazel) never see a half-written file.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Write replaces path with what write produces, with mode perm. On any
// error the temporary file is removed and path is left as it was. The temp
// file is locked while it is written; the temps of path that killed
// writers left (unlocked, not brand new) are removed first.
//
// A path that is not a regular file (/dev/null, /dev/stdout, a FIFO) is
// written to as it is: a rename would replace the node or link itself,
// which for root means /dev/null becomes a file for the whole machine.
func Write(path string, perm os.FileMode, write func(io.Writer) error) (err error) {
	if IsStdout(path) {
		// Through our own descriptor: a second open of /dev/stdout has
		// its own offset, and what else goes to stdout would overwrite it.
		return write(os.Stdout)
	}
	if flags, direct, err := special(path); err != nil || direct {
		if err != nil {
			return err
		}
		f, err := os.OpenFile(path, flags, 0)
		if err != nil {
			return err
		}
		if err := write(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	prefix := "." + filepath.Base(path) + ".tmp"
	RemoveStale(filepath.Dir(path), prefix)
	// name is the temp's name: "" while it is unnamed (see createUnnamed).
	tmp, name, err := createTemp(filepath.Dir(path), prefix)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, bare(err))
	}
	defer func() { written(name) }()
	defer func() {
		if err != nil {
			tmp.Close()
			if name != "" {
				os.Remove(name)
			}
			// The user named path, not our temp file beside it.
			var pe *fs.PathError
			if errors.As(err, &pe) && pe.Path == tmp.Name() {
				err = fmt.Errorf("writing %s: %w", path, pe.Err)
			}
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
	if name == "" {
		// Named only now, under a fresh temp name, and then renamed
		// over path: linkat cannot replace a file, and the rename keeps
		// the replacement atomic.
		if name, err = nameTemp(tmp, filepath.Dir(path), prefix); err != nil {
			return fmt.Errorf("cannot write %s: %w", path, bare(err))
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(name, path); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = fmt.Errorf("cannot replace %s: %w", path, le.Err)
		}
	}
	return err
}

// bare is err without the path an *fs.PathError or *os.LinkError adds.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// IsStdout says whether path names this process's standard output
// ("-", /dev/stdout, /proc/self/fd/1, or the file or pipe it leads to): the
// caller then prints its messages elsewhere, or they would mix with it.
// A file named "-" is "./-".
func IsStdout(path string) bool {
	if path == "-" {
		return true
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	so, err := os.Stdout.Stat()
	return err == nil && os.SameFile(fi, so)
}

// special says whether path is written through rather than replaced, and
// with which open flags: an existing device, FIFO or socket, or a link
// into /proc (/dev/stdout is one to /proc/self/fd/1, a regular file when
// stdout is redirected to one: appended to, as the shell's >> or a fresh
// > file expects). A directory is an error.
func special(path string) (flags int, direct bool, err error) {
	fi, err := os.Stat(path)
	switch {
	case os.IsNotExist(err):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	case fi.IsDir():
		return 0, false, fmt.Errorf("%s is a directory: give a file name", path)
	case !fi.Mode().IsRegular():
		return os.O_WRONLY, true, nil
	}
	// Each link in turn: /proc/self/fd/N is itself a link to the file.
	for range 40 {
		target, err := os.Readlink(path)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		if strings.HasPrefix(target, "/proc/") {
			return os.O_WRONLY | os.O_APPEND, true, nil
		}
		path = target
	}
	return 0, false, nil
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

// The temp files being written, for RemoveOnSignal.
var (
	liveMu sync.Mutex
	live   = map[string]bool{}
)

// createTemp creates a temp file beside the output and registers it for
// RemoveOnSignal in one step: a signal between the two left the file behind
// (CI, under load, after the test had seen the file appear). Where it can,
// the file is unnamed (name ""): nothing to remove, even after a SIGKILL.
func createTemp(dir, prefix string) (f *os.File, name string, err error) {
	if f := createUnnamed(dir, filepath.Join(dir, prefix)); f != nil && !namedOnly {
		return f, "", nil
	} else if f != nil {
		f.Close()
	}
	liveMu.Lock()
	defer liveMu.Unlock()
	f, err = os.CreateTemp(dir, prefix+"*")
	if err != nil {
		return nil, "", err
	}
	live[f.Name()] = true
	return f, f.Name(), nil
}

// namedOnly makes createTemp name every temp, as where O_TMPFILE is
// refused (for tests).
var namedOnly = false

// nameTemp links the unnamed f into dir under a fresh temp name, registered
// for RemoveOnSignal.
func nameTemp(f *os.File, dir, prefix string) (string, error) {
	liveMu.Lock()
	defer liveMu.Unlock()
	for {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := linkUnnamed(f, name)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err == nil {
			live[name] = true
		}
		return name, err
	}
}

// written drops a temp file that is no longer being written from RemoveOnSignal's list.
func written(name string) {
	liveMu.Lock()
	defer liveMu.Unlock()
	delete(live, name)
}

// RemoveOnSignal makes SIGINT and SIGTERM remove the temp files being
// written before the process exits as the signal would have it (130, 143):
// an interrupted extraction of a large file would otherwise leave a temp
// of hundreds of MB beside its output, which RemoveStale only takes once it
// is StaleAfter old and another write comes (review s11-r3). stop ends it.
func RemoveOnSignal() (stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-c:
			liveMu.Lock() // held to the exit: no temp is added meanwhile
			for name := range live {
				os.Remove(name)
			}
			code := 130
			if sig == syscall.SIGTERM {
				code = 143
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(c)
		close(done)
	}
}

package upload

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// DefaultDebugDirs is where distributions install separate debug files
// (Debian's -dbgsym and Fedora's -debuginfo packages), gdb's default.
var DefaultDebugDirs = []string{"/usr/lib/debug"}

// debugLinkMax bounds the .gnu_debuglink section read: a file name (at
// most NAME_MAX bytes), padding and a CRC.
const debugLinkMax = 512

// debugLink is the file name a program's .gnu_debuglink gives for its
// separate debug file, "" when it has none. A name that is not a plain
// file name (a path, "..", too long) is not looked up: bad is it then.
func debugLink(f *elfparse.File, r io.ReaderAt) (name, bad string) {
	for _, s := range f.Sections {
		if s.Name != ".gnu_debuglink" || !s.HasData || s.Size > debugLinkMax || !f.InFile(s.Off, s.Size) {
			continue
		}
		b := make([]byte, s.Size)
		if _, err := r.ReadAt(b, int64(s.Off)); err != nil {
			return "", ""
		}
		raw, _, found := bytes.Cut(b, []byte{0})
		n := string(raw)
		if !found || n == "" || len(n) > 255 || n == "." || n == ".." || strings.ContainsRune(n, '/') {
			return "", n
		}
		return n, ""
	}
	return "", ""
}

// debugFileCandidates lists where gdb looks for the separate debug file of
// the program at path, in its order: by build ID under each debug
// directory, then by the .gnu_debuglink name beside the program, in its
// .debug directory, and under each debug directory at the program's own
// directory.
func debugFileCandidates(path string, id buildid.ID, link string, dirs []string) []string {
	var c []string
	if id.Type == buildid.GNU && len(id.Value) > 2 && isHex(id.Value) {
		for _, d := range dirs {
			c = append(c, filepath.Join(d, ".build-id", id.Value[:2], id.Value[2:]+".debug"))
		}
	}
	if link != "" {
		dir := filepath.Dir(path)
		c = append(c, filepath.Join(dir, link), filepath.Join(dir, ".debug", link))
		if abs, err := filepath.Abs(dir); err == nil {
			for _, d := range dirs {
				c = append(c, filepath.Join(d, abs, link))
			}
		}
	}
	return c
}

func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

type fileKey struct{ dev, ino uint64 }

func keyOf(fi os.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{uint64(st.Dev), st.Ino}, true
}

// addDebugFiles adds to jobs the separate debug file of each program in
// them that has no DWARF of its own (objcopy --only-keep-debug, then strip;
// a distribution's debug package), found where gdb finds it, unless the run
// names it already: the program and its debug file then go as a pair (see
// markCollisions), the debug file with the program's segment offsets. A
// file found there is used only if it is a debug file of this very program
// (same build ID, same sections at the same addresses); one of another
// build is reported on the program and left alone.
func addDebugFiles(jobs []*job, opts Options) []*job {
	if opts.asGiven() || opts.BuildID != "" {
		return jobs
	}
	named := map[fileKey]bool{}
	for _, j := range jobs {
		if j.seen != nil {
			if k, ok := keyOf(j.seen); ok {
				named[k] = true
			}
		}
	}
	n := len(jobs)
	for _, j := range jobs[:n] {
		if j.prepared != nil || j.seen == nil || j.debugOnly || j.rank >= 3 || j.id.Value == "" || j.err != nil && !j.useless {
			continue
		}
		var other string
		found := false
		for _, c := range debugFileCandidates(j.path, j.id, j.debugLink, opts.DebugDirs) {
			fi, err := os.Stat(c)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			k, ok := keyOf(fi)
			if ok && named[k] {
				found = true
				break // in this run already: paired there
			}
			d := &job{path: c, content: c}
			inspect(candidate{path: c}, opts, d)
			if why := notItsDebugFile(j, d); why != "" {
				if other == "" {
					other = c + ", found as its separate debug file, " + why
				}
				continue
			}
			named[k] = true
			d.foundFor = j.path
			jobs = append(jobs, d)
			other, found = "", true
			break
		}
		var note string
		switch {
		case other != "":
			note = other
		case j.debugLink != "" && !found:
			note = fmt.Sprintf("its .gnu_debuglink names %q, not found beside it, in .debug/ or under --debug-file-directory (a distribution's program: install its debug package; else give that file's path too)", j.debugLink)
		case j.badDebugLink != "" && !found:
			note = fmt.Sprintf("its .gnu_debuglink names %q, not a file name: not looked for; give the debug file's path too", j.badDebugLink)
		}
		if note != "" {
			if j.useless {
				j.err = fmt.Errorf("%w; %s", j.err, note)
			} else {
				j.warning = alsoWarn(j.warning, note)
			}
		}
	}
	return jobs
}

// notItsDebugFile says why d, found where program j's debug file would be,
// is not it; "" when it is.
func notItsDebugFile(j, d *job) string {
	switch {
	case d.err != nil && !d.useless && d.id.Value == "":
		return "could not be read (" + reasonOf(d.err) + "): not used"
	case d.id.Value != j.id.Value && j.id.Type != buildid.GNU && j.id.Type != buildid.Go:
		return "cannot be told from another build's: the program has no build ID (link with -Wl,--build-id): not used"
	case d.id.Value != j.id.Value || d.layout != j.layout:
		return "is not this build's: not used"
	case !d.debugOnly:
		return "is a program, not a debug file: not used"
	case d.err != nil:
		return "gives nothing either: not used"
	}
	return ""
}

// Package debugfile finds the separate debug file of a stripped program
// (objcopy --only-keep-debug, then strip; a distribution's debug package)
// where gdb finds it, and tells whether a file found there belongs to it.
package debugfile

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/quality"
)

// DefaultDirs is where distributions install separate debug files
// (Debian's -dbgsym and Fedora's -debuginfo packages), gdb's default.
var DefaultDirs = []string{"/usr/lib/debug"}

// linkMax bounds the .gnu_debuglink section read: a file name (at most
// NAME_MAX bytes), padding and a CRC.
const linkMax = 512

// Link is the file name a program's .gnu_debuglink gives for its separate
// debug file, "" when it has none. A name that is not a plain file name (a
// path, "..", too long) is not looked up, so that a hostile program cannot
// make us read a file of its choosing: bad is it then.
func Link(f *elfparse.File, r io.ReaderAt) (name, bad string) {
	for _, s := range f.Sections {
		if s.Name != ".gnu_debuglink" || !s.HasData || s.Size > linkMax || !f.InFile(s.Off, s.Size) {
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

// Candidates lists where gdb looks for the separate debug file of the
// program at path, in its order: by build ID under each debug directory,
// then by the .gnu_debuglink name beside the program, in its .debug
// directory, and under each debug directory at the program's own
// directory; for a symlink, then the same for the file it leads to.
func Candidates(path string, id buildid.ID, link string, dirs []string) []string {
	var c []string
	if id.Type == buildid.GNU && len(id.Value) > 2 && isHex(id.Value) {
		for _, d := range dirs {
			c = append(c, filepath.Join(d, ".build-id", id.Value[:2], id.Value[2:]+".debug"))
		}
	}
	if link == "" {
		return c
	}
	progDirs := []string{filepath.Dir(path)}
	if real, err := filepath.EvalSymlinks(path); err == nil && !sameDir(filepath.Dir(real), progDirs[0]) {
		// A program reached through a symlink: gdb then tries the
		// directory of the file it leads to as well.
		progDirs = append(progDirs, filepath.Dir(real))
	}
	for _, dir := range progDirs {
		c = append(c, filepath.Join(dir, link), filepath.Join(dir, ".debug", link))
		if abs, err := filepath.Abs(dir); err == nil {
			for _, d := range dirs {
				c = append(c, filepath.Join(d, abs, link))
			}
		}
	}
	return c
}

func sameDir(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

func isHex(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// Layout lists f's allocated sections by name, address and size, which a
// debug file keeps from its program: equal layouts say "the same program"
// where a build ID alone cannot.
func Layout(f *elfparse.File) string {
	var b strings.Builder
	for _, s := range f.Sections {
		if s.Flags&uint64(elf.SHF_ALLOC) != 0 {
			fmt.Fprintf(&b, "%s@%x+%x;", s.Name, s.Addr, s.Size)
		}
	}
	return b.String()
}

// HasCode says whether f holds code: an executable section with file
// bytes. A debug file has none.
func HasCode(f *elfparse.File) bool {
	for _, s := range f.Sections {
		if s.HasData && s.Flags&uint64(elf.SHF_EXECINSTR) != 0 {
			return true
		}
	}
	return len(f.Sections) == 0 // without section headers, assume so
}

// Facts are what decides whether a file is a program's debug file.
type Facts struct {
	ID        buildid.ID
	Layout    string
	DebugOnly bool
	DWARF     bool
	ReadErr   error // the file could not be read as ELF (no ID)
	Useless   bool  // it gives a profiler nothing
}

// Of gathers the facts of the ELF file f read from r.
func Of(f *elfparse.File, r io.ReaderAt, size int64) Facts {
	id, err := buildid.FromParsed(f, r, size)
	if err != nil {
		return Facts{ReadErr: err}
	}
	q, err := quality.OfParsed(f, r)
	if err != nil {
		return Facts{ReadErr: err}
	}
	return Facts{ID: id, Layout: Layout(f), DebugOnly: !HasCode(f), DWARF: q.DWARF, Useless: q.Useless()}
}

// LayoutDiffers says why a debug file with its program's build ID but not
// its sections is not taken for it.
const LayoutDiffers = "has the program's build ID but not its sections (was the program changed after the split, by patchelf or strip -R?)"

// OtherCode says why a program with this one's build ID and sections is not
// taken for its unstripped copy.
const OtherCode = "is a program with the same build ID and sections but other code: not used"

// NotIts says why d, found where program p's debug file would be, is not
// it; "" when it is. reason shortens a read error for the message. The
// unstripped program itself (cp app app.debug; strip -g app) is one, as
// for gdb: the same build ID and sections, with DWARF.
func NotIts(p, d Facts, reason func(error) string) string {
	switch {
	case d.ReadErr != nil:
		return "could not be read (" + reason(d.ReadErr) + "): not used"
	case d.ID.Value != p.ID.Value && p.ID.Type != buildid.GNU && p.ID.Type != buildid.Go:
		return "cannot be told from another build's: the program has no build ID (link with -Wl,--build-id): not used"
	case d.ID.Value != p.ID.Value:
		return "is not this build's: not used"
	case d.Layout != p.Layout:
		return LayoutDiffers + ": not used; name that file by itself if the program's code did not move"
	case !d.DebugOnly && !d.DWARF:
		return "is a program without DWARF either: not used"
	case d.Useless:
		return "gives nothing either: not used"
	}
	return ""
}

// NotItsFile is NotIts for the program at progPath and the file d at path,
// which, when it is a program too (the unstripped copy), must also have
// the program's code (SameCode): the same build ID and sections do not
// prove that when the ID was forced.
func NotItsFile(progPath string, p Facts, path string, d Facts, reason func(error) string) string {
	if why := NotIts(p, d, reason); why != "" || d.DebugOnly {
		return why
	}
	if same, err := SameCode(progPath, path); err != nil || !same {
		return OtherCode
	}
	return ""
}

// Unfound is the note for a program whose .gnu_debuglink names link (or,
// with bad set, a name not looked up) and whose debug file was not found;
// instead says what to do with the debug file if the user has it.
func Unfound(link, bad, instead string) string {
	if bad != "" {
		return fmt.Sprintf("its .gnu_debuglink names %q, not a file name: not looked for; %s", bad, instead)
	}
	return fmt.Sprintf("its .gnu_debuglink names %q, not found beside it, in .debug/ or under --debug-file-directory (a distribution's program: install its debug package; else %s)", link, instead)
}

// Search tries each candidate that is a regular file, in order, until try
// takes one (returns ""); else try returns why the file is not the
// program's debug file. The note is for the user when none was taken: why
// the first file found was not used, or that the one the program's
// .gnu_debuglink names (link, or bad: not looked up) was not found, with
// instead (see Unfound); "" when the program names none and nothing was
// found.
func Search(candidates []string, link, bad, instead string, try func(path string, fi os.FileInfo) (why string)) (found bool, note string) {
	var other string
	for _, c := range candidates {
		fi, err := os.Stat(c)
		var why string
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			continue
		case err != nil: // a symlink loop, a directory we may not search
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			why = "could not be read (" + err.Error() + "): not used"
		case fi.Mode().IsRegular():
			why = try(c, fi)
		default:
			why = "is not a regular file: not used" // a directory, a FIFO (never opened)
		}
		if why == "" {
			return true, ""
		}
		if other == "" {
			other = c + ", found as its separate debug file, " + why
		}
	}
	switch {
	case other != "":
		return false, other
	case link != "" || bad != "":
		return false, Unfound(link, bad, instead)
	}
	return false, ""
}

// SameCode says whether the programs at paths a and b have the same bytes
// in every allocated section: one program, stripped of other sections or
// not. The same build ID and section layout do not prove that when an ID
// is forced (-Wl,--build-id=0x...) and a change keeps every size.
func SameCode(a, b string) (bool, error) {
	fa, sa, err := elfparse.OpenRegular(a)
	if err != nil {
		return false, err
	}
	defer fa.Close()
	fb, sb, err := elfparse.OpenRegular(b)
	if err != nil {
		return false, err
	}
	defer fb.Close()
	pa, err := elfparse.Parse(fa, sa.Size())
	if err != nil {
		return false, err
	}
	pb, err := elfparse.Parse(fb, sb.Size())
	if err != nil {
		return false, err
	}
	if Layout(pa) != Layout(pb) {
		return false, nil
	}
	alloc := func(f *elfparse.File) []elfparse.Section {
		var l []elfparse.Section
		for _, s := range f.Sections {
			if s.Flags&uint64(elf.SHF_ALLOC) != 0 {
				l = append(l, s)
			}
		}
		return l
	}
	secsB := alloc(pb) // as many as pa's, in the same order: the layouts are equal
	bufA, bufB := make([]byte, 64<<10), make([]byte, 64<<10)
	for i, s := range alloc(pa) {
		t := secsB[i]
		if !s.HasData && !t.HasData {
			continue
		}
		if s.HasData != t.HasData || !pa.InFile(s.Off, s.Size) || !pb.InFile(t.Off, t.Size) {
			return false, nil
		}
		for off := uint64(0); off < s.Size; off += uint64(len(bufA)) {
			n := min(uint64(len(bufA)), s.Size-off)
			if _, err := fa.ReadAt(bufA[:n], int64(s.Off+off)); err != nil {
				return false, err
			}
			if _, err := fb.ReadAt(bufB[:n], int64(t.Off+off)); err != nil {
				return false, err
			}
			if !bytes.Equal(bufA[:n], bufB[:n]) {
				return false, nil
			}
		}
	}
	return true, nil
}

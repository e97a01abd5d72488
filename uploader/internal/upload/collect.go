package upload

import (
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// PathError is a path that cannot be uploaded, and why.
type PathError struct {
	Path string
	Err  error
}

// candidate is a file that may be uploaded: named on the command line, or
// found by walking a directory (where only ELF files that are not objects
// count; see identify). seq is its place in the walk, dir the index in
// paths of the directory it was found in.
type candidate struct {
	path   string
	walked bool
	seq    int
	dir    int
}

// collect expands paths and hands each file to found, in order, and says
// which paths were directories: a file
// stands for itself, a directory for every regular file below it.
// Directories are walked without following symlinked directories, so link
// loops cannot trap the walk. Files are not opened here: identify reads
// each once, in parallel with the walk.
func collect(paths []string, found func(candidate), fail func(PathError)) (isDir []bool) {
	isDir = make([]bool, len(paths))
	seq := 0
	for i, p := range paths {
		add := func(path string, walked bool) {
			found(candidate{path: path, walked: walked, seq: seq, dir: i})
			seq++
		}
		fi, err := os.Stat(p)
		if err != nil {
			fail(PathError{p, explainPath(err)})
			continue
		}
		isDir[i] = fi.IsDir()
		if !isDir[i] {
			if !fi.Mode().IsRegular() {
				fail(PathError{p, fmt.Errorf("not a regular file")})
				continue
			}
			add(p, false)
			continue
		}
		root := p
		if li, err := os.Lstat(p); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			// A directory named through a link (bazel-bin) is searched: the
			// trailing separator makes the walk resolve it. Links met inside
			// the walk are still not followed.
			root = p + string(filepath.Separator)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				fail(PathError{path, explainPath(err)})
				return nil
			}
			switch {
			case d.Type().IsRegular():
			case d.Type()&fs.ModeSymlink != 0 && isRegular(path):
				// A link to a file counts; links to directories are not
				// followed, so a link loop cannot trap the walk.
			default:
				return nil // directories (WalkDir enters them), devices, FIFOs
			}
			add(path, true)
			return nil
		})
		if err != nil {
			fail(PathError{p, err})
		}
	}
	return isDir
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// elfKind says whether the file r is an ELF file and, if so, its e_type
// (ET_REL for an object file, ET_CORE for a core dump), from its first 18
// bytes. A file shorter than that is not ELF whatever it starts with (no
// ELF header is that short), so a walk passes it over like any other.
func elfKind(r io.ReaderAt) (isELF bool, etype uint16) {
	var h [18]byte
	if n, _ := r.ReadAt(h[:], 0); n < len(h) || string(h[:4]) != "\x7fELF" {
		return false, 0
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 { // EI_DATA: ELFDATA2MSB
		order = binary.BigEndian
	}
	return true, order.Uint16(h[16:])
}

func explainPath(err error) error {
	switch {
	case os.IsNotExist(err):
		return fmt.Errorf("no such file or directory")
	case os.IsPermission(err):
		return fmt.Errorf("permission denied")
	}
	return err
}

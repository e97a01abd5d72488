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
// count; see identify). seq is its place in the walk.
type candidate struct {
	path   string
	walked bool
	seq    int
}

// collect expands paths and hands each file to found, in order: a file
// stands for itself, a directory for every regular file below it.
// Directories are walked without following symlinked directories, so link
// loops cannot trap the walk. Files are not opened here: identify reads
// each once, in parallel with the walk.
func collect(paths []string, found func(candidate), fail func(PathError)) {
	seq := 0
	add := func(path string, walked bool) {
		found(candidate{path: path, walked: walked, seq: seq})
		seq++
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			fail(PathError{p, explainPath(err)})
			continue
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				fail(PathError{p, fmt.Errorf("not a regular file")})
				continue
			}
			add(p, false)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
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
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// elfKind says whether the file r is an ELF file and, if so, whether it is
// ET_REL (an object file), from its first 18 bytes: e_ident, then e_type. A
// file too short to hold them is not ELF.
func elfKind(r io.ReaderAt) (isELF, relocatable bool) {
	var h [18]byte
	n, _ := r.ReadAt(h[:], 0)
	if n < 4 || string(h[:4]) != "\x7fELF" {
		return false, false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 { // EI_DATA: ELFDATA2MSB
		order = binary.BigEndian
	}
	return true, n == len(h) && order.Uint16(h[16:]) == 1 // ET_REL
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

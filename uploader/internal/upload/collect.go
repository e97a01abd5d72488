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

// Collect expands paths: a file stands for itself (it must be ELF unless
// anyFile), a directory for every ELF file below it except relocatable
// objects (.o: no profiler ever loads one), which it returns as objects.
// Directories are walked without following symlinked directories, so link
// loops cannot trap the walk, and only one file is open at a time.
func Collect(paths []string, anyFile bool) (files, objects []string, errs []PathError) {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, PathError{p, explainPath(err)})
			continue
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				errs = append(errs, PathError{p, fmt.Errorf("not a regular file")})
				continue
			}
			if !anyFile {
				if ok, _, err := elfKind(p); err != nil {
					errs = append(errs, PathError{p, explainPath(err)})
					continue
				} else if !ok {
					errs = append(errs, PathError{p, fmt.Errorf("not an ELF file (use --no-extract --build-id=ID to upload other files)")})
					continue
				}
			}
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, PathError{path, explainPath(err)})
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
			// Inside a directory, non-ELF files and relocatable objects (a build
			// directory's .o files) are expected and passed over; a file we
			// cannot read may be an ELF file, so it fails.
			ok, relocatable, err := elfKind(path)
			switch {
			case err != nil:
				errs = append(errs, PathError{path, explainPath(err)})
			case ok && relocatable:
				objects = append(objects, path)
			case ok:
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, PathError{p, err})
		}
	}
	return files, objects, errs
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// elfKind says whether path is an ELF file and, if so, whether it is ET_REL
// (an object file), from one read of its first 18 bytes: e_ident, then
// e_type. A file too short to hold them is not ELF.
func elfKind(path string) (isELF, relocatable bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	var h [18]byte
	n, _ := io.ReadFull(f, h[:])
	if n < 4 || string(h[:4]) != "\x7fELF" {
		return false, false, nil
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 { // EI_DATA: ELFDATA2MSB
		order = binary.BigEndian
	}
	return true, n == len(h) && order.Uint16(h[16:]) == 1, nil // ET_REL
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

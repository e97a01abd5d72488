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
				if ok, err := isELF(p); err != nil {
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
			ok, err := isELF(path)
			switch {
			case err != nil:
				errs = append(errs, PathError{path, explainPath(err)})
			case ok && isRelocatable(path):
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

func isELF(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil {
		return false, nil
	}
	return string(magic[:]) == "\x7fELF", nil
}

// isRelocatable says whether an ELF file is ET_REL (an object file). A file
// whose header cannot be read is not: it goes on and fails where ELF is parsed.
func isRelocatable(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [18]byte // e_ident (16 bytes), then e_type
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	var order binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 { // EI_DATA: ELFDATA2MSB
		order = binary.BigEndian
	}
	return order.Uint16(h[16:]) == 1 // ET_REL
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

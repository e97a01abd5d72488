// Package record holds the JSON record that `debuginfo extract --record`
// writes and `debuginfo upload --record` reads: the contract between the
// Bazel rules (and the Make include) and the CLI.
package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
)

// Version is the record format written by extract.
const Version = 1

// Record is the JSON file `debuginfo extract --record` writes beside its
// outputs and `debuginfo upload --record` reads (docs/architecture.md).
// Debuginfo and Sources are names relative to the record's own directory,
// so a record keeps working after Bazel moves the three files together.
type Record struct {
	Version     int    `json:"version"`
	Binary      string `json:"binary"`
	BuildID     string `json:"build_id"`
	BuildIDType string `json:"build_id_type"` // gnu, go or hash
	Debuginfo   string `json:"debuginfo"`
	Sources     string `json:"sources,omitempty"`
}

// Read reads and checks a record; dir is the directory its file
// names are relative to.
func Read(path string) (rec Record, dir string, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Record{}, "", err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&rec); err != nil {
		return Record{}, "", fmt.Errorf("%s: bad record: %w", path, err)
	}
	if err := rec.check(); err != nil {
		return Record{}, "", fmt.Errorf("%s: %w", path, err)
	}
	return rec, filepath.Dir(path), nil
}

func (r Record) check() error {
	if r.Version != Version {
		return fmt.Errorf("record version %d, want %d (written by a different debuginfo?)", r.Version, Version)
	}
	t, err := buildid.ParseType(r.BuildIDType)
	if err != nil {
		return fmt.Errorf("record has unknown build_id_type %q", r.BuildIDType)
	}
	if err := buildid.Check(r.BuildID, t); err != nil {
		return fmt.Errorf("record has no usable build_id: %w", err)
	}
	if r.Debuginfo == "" {
		return errors.New("record names no debuginfo file")
	}
	for _, name := range []string{r.Debuginfo, r.Sources} {
		// Plain names only: a record must not point outside its directory.
		if name != "" && (name != filepath.Base(name) || name == "." || name == "..") {
			return fmt.Errorf("record file name %q is not a plain name in the record's directory", name)
		}
	}
	return nil
}

// Write writes rec to path atomically.
func Write(path string, rec Record) error {
	if err := rec.check(); err != nil {
		return err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// Package stamp gives a binary a GNU build ID derived from its own content,
// for binaries whose ID is shared with others (rules_go's -buildid=redacted
// makes every Go binary's GNU build ID the same).
package stamp

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// ErrNoGNUBuildID is returned for files without a GNU build-ID note to rewrite.
var ErrNoGNUBuildID = errors.New("no NT_GNU_BUILD_ID note to stamp (link with a build ID, e.g. -Wl,--build-id or Go >= 1.24's default)")

// Stamp writes to w a copy of r (size bytes) whose GNU build-ID descriptor
// holds SHA-256 of the whole file with that descriptor zeroed, truncated to
// the descriptor's length. Nothing else changes, so the result is the same
// for any old ID: stamping a stamped file reproduces it byte for byte.
func Stamp(r io.ReaderAt, size int64, w io.Writer) (newID string, err error) {
	f, err := elfparse.Parse(r, size)
	if err != nil {
		return "", err
	}
	notes, err := f.Notes(r)
	if err != nil {
		return "", err
	}
	var off, n int64
	for _, nt := range notes {
		if nt.Type == 3 && nt.Name == "GNU" && len(nt.Desc) > 0 {
			off, n = nt.DescOff, int64(len(nt.Desc))
			break
		}
	}
	if n == 0 {
		return "", ErrNoGNUBuildID
	}
	if n > sha256.Size {
		return "", fmt.Errorf("GNU build ID is %d bytes, more than the %d a SHA-256 can fill", n, sha256.Size)
	}
	h := sha256.New()
	if err := copyWith(h, r, size, off, make([]byte, n)); err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	id := h.Sum(nil)[:n]
	if err := copyWith(w, r, size, off, id); err != nil {
		return "", err
	}
	return hex.EncodeToString(id), nil
}

// copyWith streams r to w with the bytes at off replaced by patch.
func copyWith(w io.Writer, r io.ReaderAt, size, off int64, patch []byte) error {
	if n, err := io.Copy(w, io.NewSectionReader(r, 0, off)); err != nil || n != off {
		return cmp.Or(err, io.ErrUnexpectedEOF)
	}
	if _, err := w.Write(patch); err != nil {
		return err
	}
	rest := off + int64(len(patch))
	n, err := io.Copy(w, io.NewSectionReader(r, rest, size-rest))
	if err == nil && n != size-rest {
		err = io.ErrUnexpectedEOF
	}
	return err
}

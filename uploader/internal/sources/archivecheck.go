package sources

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/klauspost/compress/zstd"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// zstdMagic starts every zstd frame (RFC 8878).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// CheckArchive reports whether the file at path is a source archive of the
// kind this package writes: a zstd stream holding a tar archive. A record
// names its archive by path, and that path may be a symlink (Bazel's
// sandbox is made of them): whatever it leads to is uploaded as the
// sources, so a token file or /etc/shadow must be refused here. Only the
// first tar header (or the end-of-archive marker of an empty archive) is
// read; memory stays small whatever the file holds.
func CheckArchive(path string) error {
	f, _, err := elfparse.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, len(zstdMagic))
	if _, err := io.ReadFull(f, magic); err != nil || !bytes.Equal(magic, zstdMagic) {
		return fmt.Errorf("%s is not a source archive (no zstd magic; `debuginfo extract --sources-out` writes tar + zstd)", path)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	zr, err := newDecoder(f)
	if err != nil {
		return err
	}
	defer zr.Close()
	if _, err := tar.NewReader(io.LimitReader(zr, 1<<20)).Next(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is not a source archive (zstd, but not a tar archive inside: %v)", path, err)
	}
	return nil
}

// ScanArchive reads the source archive at path (one CheckArchive accepted)
// through the content rule (content.go) with secrets, the credentials of
// the uploading run: an archive made by `extract` where no credential was
// given (a Bazel action) was only checked for token shapes, and an opaque
// token must not leave in it.
func ScanArchive(path string, secrets []string) error {
	f, _, err := elfparse.OpenRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := newDecoder(f)
	if err != nil {
		return err
	}
	defer zr.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// Source text compresses 5 to 20 times; far more is a bomb, which would
	// cost time, not memory.
	limit := max(minScanLimit, maxArchiveInflation*st.Size())
	sc := newScanner(secrets)
	defer sc.release()
	n, why, err := sc.scan(io.Discard, io.LimitReader(zr, limit+1))
	switch {
	case err != nil:
		return fmt.Errorf("%s is not a source archive: %v", path, err)
	case why != "":
		return fmt.Errorf("%s: %s %s; make the archive again without it", path, whichEntry(f, secrets), why)
	case n > limit:
		return fmt.Errorf("%s expands to more than %d bytes (%d times its size): not an archive `debuginfo extract` writes", path, limit, maxArchiveInflation)
	}
	return nil
}

// whichEntry names the entry of the archive in f that holds a secret, for
// the message (found again entry by entry, only once the whole stream was
// found to hold one): "its entry NAME:", or a vaguer phrase when the name
// itself holds the secret or no single entry does.
func whichEntry(f *os.File, secrets []string) string {
	const vague = "a file in it is not sent:"
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return vague
	}
	zr, err := newDecoder(f)
	if err != nil {
		return vague
	}
	defer zr.Close()
	sc := newScanner(secrets)
	defer sc.release()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return vague
		}
		if sc.find([]byte(h.Name)) != "" {
			return "an entry's name (not shown) holds a secret:"
		}
		if _, why, err := sc.scan(io.Discard, tr); err == nil && why != "" {
			return fmt.Sprintf("its entry %s is not sent:", printable(h.Name))
		}
	}
}

// newDecoder reads an archive's zstd stream with bounded memory: one
// goroutine, a window no larger than the encoder's (newEncoder), low-memory
// buffers.
func newDecoder(r io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
}

// Bounds on what ScanArchive decompresses (a variable for tests).
const maxArchiveInflation = 64

var minScanLimit int64 = 1 << 30

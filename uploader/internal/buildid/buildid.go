// Package buildid finds the ID a profiler and a debuginfo store agree on for
// an ELF file: its GNU build ID, else its Go build ID, else the profilers'
// file hash. It reads headers and notes only, never the whole file.
package buildid

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// Type says which kind of build ID an ID is.
type Type int

// The kinds of build ID, in the order Read prefers them.
const (
	GNU  Type = iota + 1 // NT_GNU_BUILD_ID note
	Go                   // Go linker's build ID note
	Hash                 // file hash, for files without a build ID note
)

func (t Type) String() string {
	switch t {
	case GNU:
		return "gnu"
	case Go:
		return "go"
	case Hash:
		return "hash"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// ParseType is the inverse of String, for records and flags.
func ParseType(s string) (Type, error) {
	for _, t := range []Type{GNU, Go, Hash} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown build ID type %q (want gnu, go or hash)", s)
}

// Proto is the store protocol's name for t.
func (t Type) Proto() debuginfopb.BuildIDType {
	switch t {
	case GNU:
		return debuginfopb.BuildIDType_BUILD_ID_TYPE_GNU
	case Go:
		return debuginfopb.BuildIDType_BUILD_ID_TYPE_GO
	case Hash:
		return debuginfopb.BuildIDType_BUILD_ID_TYPE_HASH
	}
	return debuginfopb.BuildIDType_BUILD_ID_TYPE_UNKNOWN_UNSPECIFIED
}

// ID is a file's build ID and where it was found.
type ID struct {
	Value    string // lower-case hex for GNU and Hash; the note's string for Go
	Type     Type
	Source   string // where it came from, for humans
	Redacted bool   // the GNU ID every `-buildid=redacted` Go binary shares
}

// ErrNotELF is wrapped by errors for input that is not an ELF file.
var ErrNotELF = elfparse.ErrNotELF

// UniqueIDAdvice says how to give each binary its own build ID.
const UniqueIDAdvice = "give each binary its own build ID: with Bazel, ship the binary wrapped in debuginfo_binary " +
	"(or set --@rules_debuginfo//rules:stamp_go for go_binary); elsewhere run `debuginfo stamp` on it, " +
	"or link with -ldflags=-B=0x<unique hex> or a real -buildid"

// RedactedAdvice explains what to do about a Redacted ID.
const RedactedAdvice = "this is the GNU build ID that every Go binary linked with -buildid=redacted (rules_go's default) shares, " +
	"so a debuginfo store would mix up all such binaries; " + UniqueIDAdvice

// IsRedacted says whether a GNU build ID (lower-case hex) is one that every
// Go binary linked with -buildid=redacted shares.
func IsRedacted(gnuID string) bool { return redactedIDs[gnuID] }

// Note types and owners (elf.h, cmd/link).
const (
	ntGNUBuildID = 3
	ntGoBuildID  = 4
)

// Hash-ID parameters shared with parca-agent / the OpenTelemetry eBPF
// profiler (libpf FileIDFromExecutableReader); changing them breaks matching.
const (
	hashChunk = 4096
	hashBytes = 16
)

// redactedIDs are the GNU build IDs the Go linker derives from the Go build
// ID "redacted" (-B gobuildid, the default since Go 1.24): the first 20
// bytes of a SHA-256 variant from cmd/internal/hash.Sum32, which flips bits
// of the first byte to set it apart from plain SHA-256. Go 1.24 used
// sum[0] ^= 0x01 (b78919af...), Go 1.25+ sum[0] ^= 0xff (498919af...);
// before 1.24 an explicit -B gobuildid used notsha256 (every bit flipped).
var redactedIDs = func() map[string]bool {
	sum := sha256.Sum256([]byte("redacted"))
	ids := map[string]bool{}
	for _, flip := range []byte{0x01, 0xff} {
		s := sum
		s[0] ^= flip
		ids[hex.EncodeToString(s[:20])] = true
	}
	not := sum
	for i := range not {
		not[i] = ^not[i]
	}
	ids[hex.EncodeToString(not[:20])] = true
	return ids
}()

// Read returns the build ID of the ELF file at path.
func Read(path string) (ID, error) {
	w, st, done, err := elfparse.OpenWindow(path)
	defer done()
	if err != nil {
		return ID{}, err
	}
	id, err := FromReaderAt(w, st.Size())
	if err != nil {
		return ID{}, fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// FromReaderAt returns the build ID of the ELF file r of size bytes. A note
// whose ID fails Check is an error (a crafted Go note with ".." parts would
// otherwise become a path on the store), not a reason to fall back.
func FromReaderAt(r io.ReaderAt, size int64) (ID, error) {
	f, err := elfparse.Parse(r, size)
	if err != nil {
		return ID{}, err
	}
	return FromParsed(f, r, size)
}

// FromParsed is FromReaderAt for a file already parsed from r.
func FromParsed(f *elfparse.File, r io.ReaderAt, size int64) (ID, error) {
	id, err := fromParsed(f, r, size)
	if err != nil {
		return ID{}, err
	}
	if err := Check(id.Value, id.Type); err != nil {
		return ID{}, fmt.Errorf("%w (from the %s)", err, id.Source)
	}
	return id, nil
}

func fromParsed(f *elfparse.File, r io.ReaderAt, size int64) (ID, error) {
	notes, err := f.Notes(r)
	if err != nil {
		return ID{}, err
	}
	for _, n := range notes {
		if n.Type == ntGNUBuildID && n.Name == "GNU" && len(n.Desc) > 0 {
			v := hex.EncodeToString(n.Desc)
			return ID{Value: v, Type: GNU, Source: "NT_GNU_BUILD_ID note in " + n.Where, Redacted: redactedIDs[v]}, nil
		}
	}
	for _, n := range notes {
		if n.Type == ntGoBuildID && n.Name == "Go" && len(n.Desc) > 0 {
			return ID{Value: string(n.Desc), Type: Go, Source: "Go build ID note in " + n.Where}, nil
		}
	}
	v, err := fileHash(r, size)
	if err != nil {
		return ID{}, err
	}
	return ID{Value: v, Type: Hash, Source: "file hash (SHA-256 of first and last 4 KiB and size)"}, nil
}

// fileHash is libpf's FileID: SHA-256 of the first and last 4 KiB (which
// overlap for small files) and the big-endian size, truncated to 16 bytes.
// Its hex form equals libpf's "%016x%016x" of the two big-endian halves.
func fileHash(r io.ReaderAt, size int64) (string, error) {
	h := sha256.New()
	n := min(size, hashChunk)
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, n)); err != nil {
		return "", fmt.Errorf("hashing file: %w", err)
	}
	if _, err := io.Copy(h, io.NewSectionReader(r, size-n, n)); err != nil {
		return "", fmt.Errorf("hashing file: %w", err)
	}
	var sz [8]byte
	binary.BigEndian.PutUint64(sz[:], uint64(size))
	h.Write(sz[:])
	return hex.EncodeToString(h.Sum(nil)[:hashBytes]), nil
}

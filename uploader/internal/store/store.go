// Package store is the client side of Parca's debuginfo protocol: a Store
// that the upload pipeline asks "do you want this?" and hands files to. Two
// implementations: the gRPC service (Parca, Polar Signals) and an embedded
// file:// store that writes Parca's bucket layout.
package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// Key names one object in a store.
type Key struct {
	BuildID     string
	BuildIDType pb.BuildIDType
	Type        pb.DebuginfoType
}

// Check refuses a key whose build ID could not safely become a path on a
// store. Every Store checks before it uses a key, so both accept the same
// IDs whichever caller forgot to check.
func (k Key) Check() error {
	var t buildid.Type // unknown: any valid kind
	switch k.BuildIDType {
	case pb.BuildIDType_BUILD_ID_TYPE_GNU:
		t = buildid.GNU
	case pb.BuildIDType_BUILD_ID_TYPE_GO:
		t = buildid.Go
	case pb.BuildIDType_BUILD_ID_TYPE_HASH:
		t = buildid.Hash
	}
	return buildid.Check(k.BuildID, t)
}

// Object is something to send: its size, hex SHA-256, and a way to read it.
type Object struct {
	Name string // for messages
	Size int64
	Hash string
	// Open returns a fresh reader of the bytes, once per attempt. A reader
	// whose bytes turn out not to match Size and Hash must fail its last
	// Read, so a changed input is never marked finished.
	Open func() (io.ReadCloser, error)
}

// Progress is told how many more bytes were sent.
type Progress func(n int64)

// Store is where objects go.
type Store interface {
	// ShouldUpload asks whether the store wants key (reason says why or why not).
	ShouldUpload(ctx context.Context, key Key, force bool) (should bool, reason string, err error)
	// Upload sends obj under key and marks it finished only once all bytes
	// are stored. ErrSkipped (wrapped) means the store declined it after all.
	Upload(ctx context.Context, key Key, obj Object, force bool, progress Progress) error
	// MarksInProgress says whether an upload cut short (the process
	// killed) leaves its build ID marked "in progress" on the store, where
	// it refuses unforced uploads for a while: the case the upload
	// package's in-flight journal handles.
	MarksInProgress() bool
	Close() error
}

// Skipped is returned by Upload when the store declines the object at
// initiation (someone else is uploading it, or it already holds these bytes).
type Skipped struct {
	Reason string
	// InProgress: the store says another upload of it is under way, which
	// may be a dead one elsewhere: nothing is known to be stored.
	InProgress bool
}

func (s *Skipped) Error() string { return "skipped: " + s.Reason }

// TypeName is the lower-case name the CLI and reports use for a DebuginfoType.
func TypeName(t pb.DebuginfoType) string {
	switch t {
	case pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE:
		return "executable"
	case pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES:
		return "sources"
	case pb.DebuginfoType_DEBUGINFO_TYPE_SOURCE_MAP:
		return "sourcemap"
	default:
		return "debuginfo"
	}
}

// ParseType is the inverse of TypeName (parca-debuginfo's --type values).
func ParseType(s string) (pb.DebuginfoType, error) {
	switch strings.ToLower(s) {
	case "", "debuginfo":
		return pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED, nil
	case "executable":
		return pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE, nil
	case "sources", "source":
		return pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES, nil
	}
	return 0, fmt.Errorf("unknown type %q (want debuginfo, executable or sources)", s)
}

// objectName is the file name Parca's bucket uses for a type.
func objectName(t pb.DebuginfoType) string { return TypeName(t) }

// metadataName is the name of the metadata object beside it.
func metadataName(t pb.DebuginfoType) string {
	switch t {
	case pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE:
		return "executable.metadata"
	case pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES:
		return "sources.metadata"
	case pb.DebuginfoType_DEBUGINFO_TYPE_SOURCE_MAP:
		return "sourcemap.metadata"
	default:
		return "metadata"
	}
}

// countingReader reports progress as bytes are read.
type countingReader struct {
	r        io.Reader
	progress Progress
	n        atomic.Int64 // bytes read so far (the HTTP transport reads on its own goroutine)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if n > 0 && c.progress != nil {
		c.progress(int64(n))
	}
	return n, err
}

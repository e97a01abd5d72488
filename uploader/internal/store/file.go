package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/ctxio"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// File is the embedded store behind --store-address=file:///DIR: it writes
// Parca's bucket layout (debuginfo/<build_id>/<type> with protojson metadata
// beside it), so a directory filled here can seed a Parca filesystem bucket.
type File struct {
	Dir string
	now func() time.Time
}

// NewFile opens (and creates) a file store rooted at dir.
func NewFile(dir string) (*File, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("file store path %q must be absolute (file:///abs/dir)", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, "debuginfo"), 0o755); err != nil {
		return nil, fmt.Errorf("file store: %w", err)
	}
	return &File{Dir: dir, now: time.Now}, nil
}

func (f *File) Close() error { return nil }

// MarksInProgress: a killed copy leaves only an unlocked temp file, which
// the next upload removes (see renameInto).
func (f *File) MarksInProgress() bool { return false }

// objectDir is debuginfo/<build ID> under the store, as in Parca's bucket:
// a Go build ID's "/"-separated parts become nested directories. Key.Check
// admits no empty, "." or ".." part, so the result stays inside the store;
// filepath.IsLocal checks that again.
func (f *File) objectDir(key Key) (string, error) {
	if err := key.Check(); err != nil {
		return "", err
	}
	if !filepath.IsLocal(key.BuildID) {
		return "", fmt.Errorf("build ID %q is not a local path", key.BuildID)
	}
	return filepath.Join(f.Dir, "debuginfo", filepath.FromSlash(key.BuildID)), nil
}

func (f *File) readMeta(dir string, t pb.DebuginfoType) (*pb.Debuginfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, metadataName(t)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := &pb.Debuginfo{}
	if err := protojson.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("corrupt metadata in %s: %w", dir, err)
	}
	return m, nil
}

func (f *File) ShouldUpload(ctx context.Context, key Key, force bool) (bool, string, error) {
	dir, err := f.objectDir(key)
	if err != nil {
		return false, "", err
	}
	m, err := f.readMeta(dir, key.Type)
	if err != nil {
		return false, "", err
	}
	switch {
	case m == nil || m.Upload == nil:
		return true, "first time this build ID is seen", nil
	case m.Upload.State != pb.DebuginfoUpload_STATE_UPLOADED:
		// A process that died mid-write never renamed its data into place.
		return true, "a previous upload did not finish", nil
	case force:
		return true, "already uploaded, replacing it (forced)", nil
	}
	return false, "already uploaded", nil
}

// Upload copies the file under a temporary name, renames it into place and
// only then writes metadata that says "uploaded": a crash leaves no
// half-written object marked finished.
func (f *File) Upload(ctx context.Context, key Key, obj Object, force bool, progress Progress) error {
	dir, err := f.objectDir(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	removeStaleTemps(dir, key.Type)
	id := randomID()
	started := timestamppb.New(f.now())
	meta := &pb.Debuginfo{
		BuildId: key.BuildID,
		Source:  pb.Debuginfo_SOURCE_UPLOAD,
		Type:    key.Type,
		Upload:  &pb.DebuginfoUpload{Id: id, Hash: obj.Hash, State: pb.DebuginfoUpload_STATE_UPLOADING, StartedAt: started},
	}
	if err := writeMeta(dir, key.Type, meta); err != nil {
		return err
	}
	src, err := obj.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	// The object is renamed into place and its metadata written under a
	// lock on the directory: two uploads of one build ID at once (--force)
	// could otherwise leave one's object under the other's hash, marked
	// uploaded.
	var unlock func()
	err = renameInto(filepath.Join(dir, objectName(key.Type)), func(tmp *os.File) error {
		n, err := io.Copy(tmp, &countingReader{r: ctxio.Reader(ctx, src), progress: progress})
		if err == nil && n != obj.Size {
			return fmt.Errorf("%s changed while uploading (%d bytes read, %d expected)", obj.Name, n, obj.Size)
		}
		if err == nil {
			err = tmp.Sync() // the bytes are on disk before metadata says "uploaded"
		}
		if err == nil {
			unlock, err = lockDir(dir)
		}
		return err
	})
	if unlock != nil {
		defer unlock()
	}
	if err != nil {
		return err
	}
	meta.Upload.State = pb.DebuginfoUpload_STATE_UPLOADED
	meta.Upload.FinishedAt = timestamppb.New(f.now())
	return writeMeta(dir, key.Type, meta)
}

// lockDir takes an exclusive flock on dir, for as long as a rename and a
// metadata write take.
func lockDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX); err != nil {
		d.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return func() { d.Close() }, nil // closing the last descriptor releases the lock
}

func writeMeta(dir string, t pb.DebuginfoType, m *pb.Debuginfo) error {
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(m)
	if err != nil {
		return err
	}
	return renameInto(filepath.Join(dir, metadataName(t)), func(tmp *os.File) error {
		_, err := tmp.Write(b)
		return err
	})
}

// renameInto writes path through a temporary file beside it and a rename,
// so a reader (or a crash) never sees a half-written object. The temp file
// is flock'ed while it is written: a writer killed mid-copy (kill -9)
// leaves it unlocked, which is how removeStaleTemps tells it from the temp
// of an upload still running in another process.
func renameInto(path string, write func(tmp *os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+tempInfix+"*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	err = syscall.Flock(int(tmp.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if err == nil {
		err = write(tmp)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

const tempInfix = ".tmp-"

// removeStaleTemps deletes the temps of t's object and metadata in dir
// that killed writers left (see atomicfile.RemoveStale).
func removeStaleTemps(dir string, t pb.DebuginfoType) {
	for _, name := range []string{objectName(t), metadataName(t)} {
		atomicfile.RemoveStale(dir, "."+name+tempInfix)
	}
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

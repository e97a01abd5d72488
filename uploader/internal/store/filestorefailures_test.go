package store_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// failingReader yields some bytes, then the error a changed input or a
// cancelled run reports.
type failingReader struct{ left int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left == 0 {
		return 0, errors.New("input changed while uploading")
	}
	n := min(len(p), f.left)
	f.left -= n
	return n, nil
}

func (f *failingReader) Close() error { return nil }

// The file store never marks an object finished when its bytes did not all
// arrive: a read error, or fewer or more bytes than announced.
func TestFileStoreMarksNothingFinishedOnBadBytes(t *testing.T) {
	good, data := object(t, 10000)
	for _, c := range []struct {
		name string
		obj  store.Object
		want string
	}{
		{"read error", store.Object{Name: "x", Size: good.Size, Hash: good.Hash,
			Open: func() (io.ReadCloser, error) { return &failingReader{left: 4000}, nil }}, "input changed"},
		{"shorter than announced", fileObject(filepath.Join(t.TempDir(), "short"), good.Size, good.Hash), "changed while uploading"},
		{"longer than announced", store.Object{Name: "x", Size: good.Size - 1, Hash: good.Hash, Open: good.Open}, "changed while uploading"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "shorter than announced" {
				os.WriteFile(c.obj.Name, data[:5000], 0o644)
			}
			dir := t.TempDir()
			fs, err := store.NewFile(dir)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			err = fs.Upload(ctx, key, c.obj, false, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Upload err = %v, want it to mention %q", err, c.want)
			}
			// Checked before anything else runs that could sweep stale temps.
			filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), ".tmp-") {
					t.Errorf("the failed write left a temp file: %s", p)
				}
				return nil
			})
			if should, reason, _ := fs.ShouldUpload(ctx, key, false); !should {
				t.Errorf("after a failed upload the store says %v, %q", should, reason)
			}
			if _, err := os.Stat(filepath.Join(dir, "debuginfo", key.BuildID, "debuginfo")); err == nil {
				t.Error("a partial object was left under its final name")
			}
		})
	}
}

// Stored files are world-readable (a store served by another user, e.g.
// a Parca process, must read them), not the 0600 of a temp file.
func TestFileStoreFilesAreReadable(t *testing.T) {
	dir := t.TempDir()
	fs, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := object(t, 1000)
	if err := fs.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"debuginfo", "metadata"} {
		fi, err := os.Stat(filepath.Join(dir, "debuginfo", key.BuildID, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", name, fi.Mode().Perm())
		}
	}
}

// Build IDs become directory names: too short or path-like ones are refused.
func TestFileStoreRefusesUnsafeBuildIDs(t *testing.T) {
	fs, err := store.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", ".", "..", "ab", "a/bc", "../x"} {
		k := key
		k.BuildID = id
		if _, _, err := fs.ShouldUpload(context.Background(), k, false); err == nil || !strings.Contains(err.Error(), "invalid ") || !strings.Contains(err.Error(), "build ID") {
			t.Errorf("build ID %q: err = %v", id, err)
		}
	}
}

// A Go build ID "<victim>/metadata" would make the victim's metadata path
// a directory, so the victim could never be uploaded: such IDs are refused,
// and the victim still uploads.
func TestFileStoreGoIDCannotSquatAnotherID(t *testing.T) {
	dir := t.TempDir()
	fs, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	victim := "28b08bbd758be0c7f3912430b237d96713526324"
	data := filepath.Join(dir, "data")
	if err := os.WriteFile(data, []byte("debuginfo"), 0o644); err != nil {
		t.Fatal(err)
	}
	obj := fileObject(data, 9, "")
	for _, part := range []string{"metadata", "debuginfo", "sources", "executable", "sources.metadata"} {
		k := store.Key{BuildID: victim + "/" + part, BuildIDType: pb.BuildIDType_BUILD_ID_TYPE_GO, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED}
		if err := fs.Upload(context.Background(), k, obj, false, nil); err == nil || !strings.Contains(err.Error(), "the name of a store object") {
			t.Errorf("Go build ID %q: Upload = %v, want it refused", k.BuildID, err)
		}
	}
	k := store.Key{BuildID: victim, BuildIDType: pb.BuildIDType_BUILD_ID_TYPE_GNU, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED}
	if err := fs.Upload(context.Background(), k, obj, false, nil); err != nil {
		t.Fatalf("the victim's upload: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "debuginfo", victim, "metadata")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("victim's metadata: %v, %v", fi, err)
	}
}

// Two forced uploads of one build ID at once, with different bytes, leave
// the object and the hash its metadata announces from the same upload:
// renaming one's object and writing the other's metadata must not
// interleave (an independent review found 6 mismatches in 60 runs).
func TestFileStoreConcurrentUploadsKeepObjectAndHashTogether(t *testing.T) {
	a, _ := object(t, 64<<10)
	b, _ := object(t, 64<<10+1)
	dir := t.TempDir()
	fs, err := store.NewFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	key := store.Key{BuildID: "00112233445566778899aabbccddeeff"}
	objPath := filepath.Join(dir, "debuginfo", key.BuildID, "debuginfo")
	for i := range 200 {
		var wg sync.WaitGroup
		for _, o := range []store.Object{a, b} {
			wg.Go(func() {
				if err := fs.Upload(context.Background(), key, o, true, nil); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		fi, err := os.Stat(objPath)
		if err != nil {
			t.Fatal(err)
		}
		m := readMetadata(t, filepath.Join(dir, "debuginfo", key.BuildID, "metadata"))
		want := a.Hash
		if fi.Size() == b.Size {
			want = b.Hash
		}
		if m.GetUpload().GetState() != pb.DebuginfoUpload_STATE_UPLOADED || m.GetUpload().GetHash() != want {
			t.Fatalf("round %d: object of %d bytes, metadata %v: hash %s, want %s", i, fi.Size(), m.GetUpload().GetState(), m.GetUpload().GetHash(), want)
		}
	}
}

func readMetadata(t *testing.T, path string) *pb.Debuginfo {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &pb.Debuginfo{}
	if err := protojson.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	return m
}

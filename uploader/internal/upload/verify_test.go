package upload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/objhash"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// What is stored under a build ID must carry it: a file changed or replaced
// since its ID was read must still have that ID when the hash pass opens
// it, and must not change while the pass reads it; a chmod, a touch or a
// copy of the same program renamed over it are not changes that matter.
// Whatever is done to the path after the open, both passes read the file
// opened (a directory on the path swapped back and forth, found by an
// independent review, uploaded another program under the ID).
func TestHashPassNeedsTheFileAsSeen(t *testing.T) {
	a := testbin.C(t, "a", "program a", "-g")
	b := testbin.C(t, "b", "program b", "-g")
	idA, err := buildid.Read(a)
	if err != nil {
		t.Fatal(err)
	}
	copyTo := func(t *testing.T, src, dst string) {
		data, err := os.ReadFile(src)
		if err == nil {
			err = os.WriteFile(dst+".new", data, 0o755)
		}
		if err == nil {
			err = os.Rename(dst+".new", dst)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name   string
		change func(t *testing.T, path string)
		fails  bool
	}{
		{"another program renamed over it", func(t *testing.T, path string) { copyTo(t, b, path) }, true},
		{"rewritten in place with another program, mtime set back", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			data, _ := os.ReadFile(b)
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(data)
			f.Close()
			os.Chtimes(path, fi.ModTime(), fi.ModTime())
		}, true},
		{"chmod and touch", func(t *testing.T, path string) {
			os.Chmod(path, 0o700)
			os.Chtimes(path, time.Now(), time.Now())
		}, false},
		{"the same program renamed over it", func(t *testing.T, path string) { copyTo(t, a, path) }, false},
	} {
		for _, kind := range []string{"sent as it is", "extracted", "extracted and compressed"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				path := testbin.Copy(t, a, "in")
				old := time.Now().Add(-time.Hour)
				os.Chtimes(path, old, old)
				seen, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				c.change(t, path)
				comp := map[bool]elfdebug.Compression{false: elfdebug.None, true: elfdebug.Zlib}[kind == "extracted and compressed"]
				src := source{input: path, seen: seen, id: idA, asIs: kind == "sent as it is", extract: extractor(context.Background(), Options{Compress: comp}, "")}
				obj, release, err := src.measure("in")
				defer release()
				if c.fails {
					if !errors.Is(err, errChanged) {
						t.Fatalf("measure: %v, want %v", err, errChanged)
					}
					return
				}
				if err != nil {
					t.Fatalf("measure: %v", err)
				}
				// Both passes read the file opened, whatever the path names now.
				copyTo(t, b, path)
				r, err := obj.Open()
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				sent, err := io.ReadAll(r)
				if err != nil || int64(len(sent)) != obj.Size {
					t.Fatalf("send after the path was pointed elsewhere: %d bytes, %v", len(sent), err)
				}
				if got, err := buildid.FromReaderAt(bytes.NewReader(sent), int64(len(sent))); err != nil || got.Value != idA.Value {
					t.Errorf("sent bytes carry build ID %q (%v), want %s", got.Value, err, idA.Value)
				}
			})
		}
	}
}

// A send ends in io.EOF only after exactly the announced bytes, hashing to
// the announced hash; it never reads past them.
func TestVerify(t *testing.T) {
	data := []byte(strings.Repeat("debuginfo", 1000))
	h := objhash.New()
	h.Write(data)
	obj := store.Object{Size: int64(len(data)), Hash: objhash.Sum(h)}
	other := bytes.Clone(data)
	other[len(other)-1] ^= 1
	for _, c := range []struct {
		name string
		r    []byte
		want error
	}{
		{"the hashed bytes", data, nil},
		{"one byte differs", other, errChanged},
		{"one byte short", data[:len(data)-1], errChanged},
		{"empty", nil, errChanged},
		{"longer: the rest is not read", append(bytes.Clone(data), "more"...), nil},
	} {
		got, err := io.ReadAll(verify(io.NopCloser(bytes.NewReader(c.r)), obj, nil))
		if !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if len(got) > len(data) {
			t.Errorf("%s: read %d bytes of %d announced", c.name, len(got), len(data))
		}
	}
}

// A change that only a file's change time shows (same inode, size and mtime).
func TestUnchangedSeesTheChangeTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, []byte("abc"), 0o644)
	before, _ := os.Stat(path)
	time.Sleep(10 * time.Millisecond)
	os.Chmod(path, 0o600) // moves the change time only
	os.Chtimes(path, before.ModTime(), before.ModTime())
	now, _ := os.Stat(path)
	if !os.SameFile(before, now) || now.Size() != before.Size() || !now.ModTime().Equal(before.ModTime()) {
		t.Fatal("the change moved more than the change time")
	}
	if unchanged(before, now) {
		t.Error("unchanged says yes to a file whose change time moved")
	}
	if !unchanged(now, now) {
		t.Error("unchanged says no to the same stat")
	}
}

// TestRecheckStoppedIsNotAChange: a recheck that ends because the run was
// stopped (Ctrl-C during a dry run's or a send's read) ends the bytes with
// that, not with "changed while uploading" (a CI run reported a file of an
// interrupted dry run as changed).
func TestRecheckStoppedIsNotAChange(t *testing.T) {
	data := []byte("debuginfo")
	h := objhash.New()
	h.Write(data)
	obj := store.Object{Size: int64(len(data)), Hash: objhash.Sum(h)}
	for _, stop := range []error{context.Canceled, context.DeadlineExceeded} {
		r := verify(io.NopCloser(bytes.NewReader(data)), obj, func() error { return fmt.Errorf("checking DWARF: %w", stop) })
		_, err := io.Copy(io.Discard, r)
		if !errors.Is(err, stop) || errors.Is(err, errChanged) {
			t.Errorf("recheck ended by %v: read ends with %v, want it", stop, err)
		}
	}
}

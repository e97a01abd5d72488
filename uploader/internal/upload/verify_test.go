package upload

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/objhash"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// The file as it was when its build ID was read is what must be hashed: a
// file changed or replaced since then fails the hash pass, whether it is
// sent as it is or extracted, staged or not. Every change keeps the size and
// sets the mtime back; only the identity or the change time tells.
func TestHashPassNeedsTheFileAsSeen(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, path string)
	}{
		{"rewritten in place, mtime set back", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			time.Sleep(10 * time.Millisecond) // a change time of its own
			if err := os.WriteFile(path, []byte("THE CONTENT THE ID WAS READ"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(path, fi.ModTime(), fi.ModTime())
		}},
		{"another file renamed over it, same size and mtime", func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			tmp := path + ".new"
			if err := os.WriteFile(tmp, []byte("THE CONTENT THE ID WAS READ"), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(tmp, fi.ModTime(), fi.ModTime())
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		for _, kind := range []string{"sent as it is", "written", "staged"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "in")
				if err := os.WriteFile(path, []byte("the content the ID was read"), 0o644); err != nil {
					t.Fatal(err)
				}
				old := time.Now().Add(-time.Hour)
				os.Chtimes(path, old, old)
				seen, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				c.change(t, path)
				src := source{file: path, seen: seen}
				if kind != "sent as it is" {
					src = source{input: path, seen: seen, stage: kind == "staged", write: func(w io.Writer) error {
						b, err := os.ReadFile(path)
						w.Write(b)
						return err
					}}
				}
				_, release, err := src.measure("in")
				release()
				if !errors.Is(err, errChanged) {
					t.Fatalf("measure: %v, want %v", err, errChanged)
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
		got, err := io.ReadAll(verify(io.NopCloser(bytes.NewReader(c.r)), obj))
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

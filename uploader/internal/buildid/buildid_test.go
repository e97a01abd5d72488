package buildid

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// readelfNotes returns the hex GNU build ID and Go build ID readelf sees.
func readelfNotes(t *testing.T, path string) (gnu, gobid string) {
	t.Helper()
	out := testbin.Run(t, "", "readelf", "-n", path)
	if m := regexp.MustCompile(`Build ID: ([0-9a-f]+)`).FindStringSubmatch(out); m != nil {
		gnu = m[1]
	}
	return gnu, ""
}

func TestGNU(t *testing.T) {
	testbin.Need(t, "gcc", "readelf")
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g", "-Wl,--build-id=sha1")
	id, err := Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readelfNotes(t, bin)
	if id.Type != GNU || id.Value != want || len(want) != 40 || id.Redacted {
		t.Fatalf("got %+v, readelf says %s", id, want)
	}
	if id.Type.String() != "gnu" || id.Type.Proto() != debuginfopb.BuildIDType_BUILD_ID_TYPE_GNU {
		t.Fatal(id.Type.String(), id.Type.Proto())
	}
	if !strings.Contains(id.Source, ".note.gnu.build-id") {
		t.Fatal(id.Source)
	}

	// Without section headers the note is found through PT_NOTE.
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[40:], 0) // e_shoff
	binary.LittleEndian.PutUint16(b[60:], 0) // e_shnum
	binary.LittleEndian.PutUint16(b[62:], 0) // e_shstrndx
	id2, err := FromReaderAt(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if id2.Value != id.Value || id2.Type != GNU || !strings.Contains(id2.Source, "PT_NOTE") {
		t.Fatalf("no section headers: %+v", id2)
	}
}

func TestGoAndHash(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	gobin := testbin.GoBuild(t, dir, "gonognu", testbin.HelloGo("hi"), "-B=none -buildid=abc/def")
	id, err := Read(gobin)
	if err != nil {
		t.Fatal(err)
	}
	if id.Type != Go || id.Value != "abc/def" || id.Type.Proto() != debuginfopb.BuildIDType_BUILD_ID_TYPE_GO {
		t.Fatalf("go: %+v", id)
	}

	cbin := testbin.GCC(t, dir, "nobuildid", testbin.HelloC, "-Wl,--build-id=none")
	id, err = Read(cbin)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(cbin)
	if id.Type != Hash || id.Value != refHash(b) || len(id.Value) != 32 || id.Type.String() != "hash" {
		t.Fatalf("hash: %+v want %s", id, refHash(b))
	}
}

// refHash is libpf's FileID computed the obvious way, on the whole file in memory.
func refHash(b []byte) string {
	n := min(len(b), 4096)
	h := sha256.New()
	h.Write(b[:n])
	h.Write(b[len(b)-n:])
	binary.Write(h, binary.BigEndian, uint64(len(b)))
	s := h.Sum(nil)
	hi, lo := binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:16])
	return strings.ToLower(hex.EncodeToString(binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, hi), lo)))
}

func TestRedacted(t *testing.T) {
	dir := t.TempDir()
	var ids []ID
	for i, msg := range []string{"one", "two"} {
		bin := testbin.GoBuild(t, dir, "p"+string(rune('a'+i)), testbin.HelloGo(msg), "-buildid=redacted")
		id, err := Read(bin)
		if err != nil {
			t.Fatal(err)
		}
		if id.Type != GNU || !id.Redacted {
			t.Fatalf("%s: %+v", msg, id)
		}
		ids = append(ids, id)
	}
	if ids[0].Value != ids[1].Value {
		t.Fatalf("expected the same redacted ID, got %s and %s", ids[0].Value, ids[1].Value)
	}
	if !redactedIDs["498919aff001d8366249403a2544fba2d833084f"] {
		t.Fatal("Go 1.26 value from protocol notes not derived")
	}
	var go124 bool
	for v := range redactedIDs {
		go124 = go124 || strings.HasPrefix(v, "b78919af")
	}
	if !go124 {
		t.Fatal("Go 1.24 value not derived")
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	txt := filepath.Join(dir, "t.txt")
	os.WriteFile(txt, []byte("#!/bin/sh\necho hello, this is not an ELF file\n"), 0o644)
	if _, err := Read(txt); !errors.Is(err, ErrNotELF) {
		t.Fatalf("text file: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing file: no error")
	}
	if _, err := FromReaderAt(bytes.NewReader(nil), 0); !errors.Is(err, ErrNotELF) {
		t.Fatalf("empty: %v", err)
	}
	testbin.Need(t, "gcc")
	b, _ := os.ReadFile(testbin.GCC(t, dir, "hello", testbin.HelloC))
	for _, n := range []int{4, 20, 63, 64, 500, len(b) / 2, len(b) - 1} {
		// Truncated files must not panic; losing the section headers is an error.
		_, err := FromReaderAt(bytes.NewReader(b[:n]), int64(n))
		if n > 64 && err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	// A header claiming a million sections must fail without reading them.
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[60:], 0)
	shoff := binary.LittleEndian.Uint64(c[40:])
	binary.LittleEndian.PutUint64(c[shoff+32:], 1<<40) // section 0's sh_size = real shnum
	if _, err := FromReaderAt(bytes.NewReader(c), int64(len(c))); err == nil {
		t.Fatal("huge extended section count: no error")
	}
}

package sources

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestCheckArchive(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var empty, one bytes.Buffer
	var res Result
	if err := write(&empty, nil, &res, Options{}); err != nil {
		t.Fatal(err)
	}
	src := put("a.c", []byte("int a;\n"))
	if err := write(&one, []entry{{name: "a.c", disk: src, size: 7}}, &res, Options{}); err != nil {
		t.Fatal(err)
	}
	enc, _ := zstd.NewWriter(nil)
	notTar := enc.EncodeAll([]byte(strings.Repeat("not a tar header ", 64)), nil)
	for _, c := range []struct {
		name string
		data []byte
		want string // "" = accepted
	}{
		{"empty.tar.zst", empty.Bytes(), ""},
		{"one.tar.zst", one.Bytes(), ""},
		{"token", []byte("opaque-token-value-123456\n"), "no zstd magic"},
		{"short", []byte{0x28}, "no zstd magic"},
		{"notar.zst", notTar, "not a tar archive inside"},
	} {
		err := CheckArchive(put(c.name, c.data))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: CheckArchive = %v, want %q", c.name, err, c.want)
		}
	}
	if err := CheckArchive(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a directory: %v", err)
	}
}

// TestScanArchiveFindsTheRunsSecrets: an archive made where no
// credential was given (a Bazel extract action) holds an opaque token, which
// has no shape to be found by; the uploading run, which holds the token,
// refuses it. A bomb is refused after a bounded amount of work.
func TestScanArchiveFindsTheRunsSecrets(t *testing.T) {
	dir := t.TempDir()
	const secret = "my0paque+Tok/en=Value%x"
	src := filepath.Join(dir, "config.h")
	// The token at a chunk boundary of the scan, as well as in the middle.
	body := strings.Repeat("x", scanChunk-10) + secret + "\n"
	if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	var res Result
	if err := write(&buf, []entry{{name: "config.h", disk: src, size: int64(len(body))}}, &res, Options{}); err != nil {
		t.Fatal(err)
	}
	arch := filepath.Join(dir, "s.tar.zst")
	if err := os.WriteFile(arch, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ScanArchive(arch, nil); err != nil {
		t.Fatalf("without the secret: %v", err)
	}
	err := ScanArchive(arch, []string{"short", secret})
	if err == nil || !strings.Contains(err.Error(), "holds a credential given to this run") || !strings.Contains(err.Error(), "its entry config.h is not sent") || strings.Contains(err.Error(), secret) {
		t.Errorf("with the secret: %v", err)
	}

	defer func(old int64) { minScanLimit = old }(minScanLimit)
	minScanLimit = 1 << 20
	enc, _ := zstd.NewWriter(nil)
	zeros := make([]byte, 4<<20)
	var tarred bytes.Buffer
	tw := tar.NewWriter(&tarred)
	tw.WriteHeader(&tar.Header{Name: "big.c", Mode: 0o644, Size: int64(len(zeros))})
	tw.Write(zeros)
	tw.Close()
	bomb := filepath.Join(dir, "bomb.tar.zst")
	if err := os.WriteFile(bomb, enc.EncodeAll(tarred.Bytes(), nil), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ScanArchive(bomb, nil); err == nil || !strings.Contains(err.Error(), "expands to more than 1048576 bytes") {
		t.Errorf("bomb: %v", err)
	}
}

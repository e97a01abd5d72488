package sources

import (
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

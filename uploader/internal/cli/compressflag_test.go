package cli

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestCompressDebugSectionsFlag checks what each --compress-debug-sections
// value does to the file extract writes and to what upload stores.
func TestCompressDebugSectionsFlag(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	for _, tc := range []struct {
		args []string
		want elf.CompressionType // 0: not compressed
	}{
		{nil, elf.COMPRESS_ZLIB},
		{[]string{"--compress-debug-sections=zlib"}, elf.COMPRESS_ZLIB},
		{[]string{"--compress-debug-sections=zstd"}, elf.COMPRESS_ZSTD},
		{[]string{"--compress-debug-sections=none"}, 0},
	} {
		out := filepath.Join(dir, "out.debug")
		code, stdout, stderr := runCLI(t, append([]string{"extract", bin, "-o", out}, tc.args...)...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", tc.args, code, stdout, stderr)
		}
		if got := debugInfoCompression(t, out); got != tc.want {
			t.Errorf("extract %v: .debug_info compression %v, want %v", tc.args, got, tc.want)
		}
		store := filepath.Join(dir, "store"+strings.Join(tc.args, ""))
		code, stdout, stderr = runCLI(t, append([]string{"upload", "--store-address=file://" + store, bin}, tc.args...)...)
		if code != ExitOK {
			t.Fatalf("upload %v: exit %d\n%s%s", tc.args, code, stdout, stderr)
		}
		var stored []string
		filepath.Walk(store, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() && fi.Name() == "debuginfo" {
				stored = append(stored, p)
			}
			return nil
		})
		if len(stored) != 1 {
			t.Fatalf("upload %v: stored %v", tc.args, stored)
		}
		if got := debugInfoCompression(t, stored[0]); got != tc.want {
			t.Errorf("upload %v: stored .debug_info compression %v, want %v", tc.args, got, tc.want)
		}
	}
	code, _, stderr := runCLI(t, "extract", bin, "-o", filepath.Join(dir, "x"), "--compress-debug-sections=gzip")
	if code != ExitUsage || !strings.Contains(stderr, "none|zlib|zstd") {
		t.Errorf("bad value: exit %d, %s", code, stderr)
	}
}

func debugInfoCompression(t *testing.T, path string) elf.CompressionType {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := f.Section(".debug_info")
	if s == nil {
		t.Fatalf("%s: no .debug_info", path)
	}
	if s.Flags&elf.SHF_COMPRESSED == 0 {
		return 0
	}
	hdr := make([]byte, 4)
	raw, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ReadAt(hdr, int64(s.Offset)); err != nil {
		t.Fatal(err)
	}
	return elf.CompressionType(f.ByteOrder.Uint32(hdr))
}

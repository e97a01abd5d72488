package elfdebug

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// allocPerExtraction is the mean heap allocation of extracting b n times.
func allocPerExtraction(t *testing.T, b []byte, opts Options, n int) uint64 {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		if _, err := ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, opts); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}

// Reused compressors are what make many small extractions cheap: a zlib or
// zstd writer's tables (hundreds of KiB to MiBs) are allocated once, not
// per binary.
func TestReusedCompressorsAllocateOnce(t *testing.T) {
	b, err := os.ReadFile(testbin.C(t, "alloc", "alloc", "-g", "-O1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Compression{Zlib, Zstd} {
		reuse := &Compressors{}
		allocPerExtraction(t, b, Options{Compress: c, Reuse: reuse}, 1) // fill the pool
		fresh := allocPerExtraction(t, b, Options{Compress: c}, 20)
		reused := allocPerExtraction(t, b, Options{Compress: c, Reuse: reuse}, 20)
		t.Logf("%v: %d bytes per extraction fresh, %d reused (%d-byte binary)", c, fresh, reused, len(b))
		if reused*4 > fresh {
			t.Errorf("%v: %d bytes allocated per extraction with reused compressors, %d without: want at most a quarter", c, reused, fresh)
		}
	}
}

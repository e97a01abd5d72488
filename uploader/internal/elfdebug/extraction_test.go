package elfdebug

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestExtractionReadAtMatchesWriteTo: an upload hashes an extraction and
// then sends it through ReadAt, so every read, at any offset and length,
// must give the bytes one sequential write gives: small and large files,
// sorted line tables (c-O2, Go), compressed and copied sections.
func TestExtractionReadAtMatchesWriteTo(t *testing.T) {
	paths := []string{}
	for _, in := range inputs(t) {
		paths = append(paths, in.path)
	}
	dir := t.TempDir()
	paths = append(paths, MakeLarge(t, testbin.GCC(t, dir, "large", testbin.HelloC, "-g", "-O2"), 3<<20))
	rng := rand.New(rand.NewPCG(1, 2))
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		for _, c := range []Compression{None, Zlib, Zstd} {
			var want bytes.Buffer
			if _, err := ExtractWith(f, fi.Size(), &want, Options{Compress: c}); err != nil {
				t.Fatal(err)
			}
			x, err := Open(f, fi.Size(), Options{Compress: c})
			if err != nil {
				t.Fatal(err)
			}
			if x.Size() != int64(want.Len()) {
				t.Fatalf("%s %v: Size %d, WriteTo wrote %d", path, c, x.Size(), want.Len())
			}
			var sum int64
			for _, p := range x.Parts() {
				sum += p.N
			}
			if sum != x.Size() {
				t.Errorf("%s %v: parts add up to %d, Size %d", path, c, sum, x.Size())
			}
			// The whole through a SectionReader, as a send reads it.
			got, err := io.ReadAll(io.NewSectionReader(x, 0, x.Size()))
			if err != nil || !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("%s %v: sequential ReadAt differs from WriteTo (err %v)", path, c, err)
			}
			for range 200 {
				off := rng.Int64N(x.Size())
				n := rng.IntN(int(min(x.Size()-off, 3<<20))) + 1
				b := make([]byte, n)
				m, err := x.ReadAt(b, off)
				if err != nil || m != n || !bytes.Equal(b, want.Bytes()[off:off+int64(n)]) {
					t.Fatalf("%s %v: ReadAt(%d bytes at %d) = %d, %v, or other bytes", path, c, n, off, m, err)
				}
			}
			// Past the end: io.EOF with what there is.
			b := make([]byte, 10)
			if m, err := x.ReadAt(b, x.Size()-4); m != 4 || err != io.EOF {
				t.Errorf("%s %v: ReadAt over the end = %d, %v; want 4, io.EOF", path, c, m, err)
			}
			if err := x.Close(); err != nil {
				t.Error(err)
			}
			if _, err := x.ReadAt(b, 0); err == nil {
				t.Errorf("%s %v: ReadAt after Close succeeded", path, c)
			}
		}
		f.Close()
	}
}

// TestExtractionInputCutShort: an input that loses bytes after Open gives
// an error from ReadAt and WriteTo, never the laid-out size padded with
// zeros.
func TestExtractionInputCutShort(t *testing.T) {
	dir := t.TempDir()
	big := MakeLarge(t, testbin.GCC(t, dir, "large", testbin.HelloC, "-g"), 4<<20)
	f, err := os.OpenFile(big, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	x, err := Open(f, fi.Size(), Options{Compress: None})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if err := f.Truncate(fi.Size() / 2); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(io.NewSectionReader(x, 0, x.Size())); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading a cut-short extraction: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := x.WriteTo(io.Discard); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("writing a cut-short extraction: %v, want io.ErrUnexpectedEOF", err)
	}
}

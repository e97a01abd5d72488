package elfparse

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// TestWindowedReadsLikeTheFile checks every served range against the bytes.
func TestWindowedReadsLikeTheFile(t *testing.T) {
	for _, size := range []int{0, 100, 2 * windowSize, 2*windowSize + 1, 5 * windowSize} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 31)
		}
		w, release, err := Window(bytes.NewReader(data), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, uint64(size)))
		for range 2000 {
			off := rng.IntN(size + 10)
			n := rng.IntN(3 * windowSize / 2)
			got := make([]byte, n)
			gn, gerr := w.ReadAt(got, int64(off))
			want := make([]byte, n)
			wn, werr := bytes.NewReader(data).ReadAt(want, int64(off))
			if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) {
				t.Fatalf("size %d: ReadAt(%d, %d) = %d, %v; want %d, %v", size, n, off, gn, gerr, wn, werr)
			}
		}
		release()
	}
	var _ io.ReaderAt = (*window)(nil)
}

// A file shorter than the size it was opened with (cut since) is an error,
// not a window of zeros.
func TestWindowOfAFileCutShort(t *testing.T) {
	for _, size := range []int{100, 2 * windowSize, 5 * windowSize} {
		data := make([]byte, size-1)
		if _, _, err := Window(bytes.NewReader(data), int64(size)); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("size %d, one byte gone: err = %v, want io.ErrUnexpectedEOF", size, err)
		}
	}
}

// Window buffers are recycled: a window used after its release (or released
// twice) must still read its own file, never another file's bytes.
func TestWindowAfterRelease(t *testing.T) {
	for _, size := range []int{100, 5 * windowSize} {
		fill := func(b byte) []byte { return bytes.Repeat([]byte{b}, size) }
		a, releaseA, err := Window(bytes.NewReader(fill('a')), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		releaseA()
		releaseA()
		b, releaseB, err := Window(bytes.NewReader(fill('b')), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		c, releaseC, err := Window(bytes.NewReader(fill('c')), int64(size))
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			w    io.ReaderAt
			want byte
		}{{a, 'a'}, {b, 'b'}, {c, 'c'}} {
			for _, off := range []int64{0, int64(size) - 10} {
				p := make([]byte, 10)
				if _, err := tc.w.ReadAt(p, off); err != nil && err != io.EOF {
					t.Fatal(err)
				}
				if !bytes.Equal(p, bytes.Repeat([]byte{tc.want}, 10)) {
					t.Errorf("size %d: window of %q read %q at %d", size, tc.want, p, off)
				}
			}
		}
		releaseB()
		releaseC()
	}
}

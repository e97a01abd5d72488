package objhash

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// ErrShrank is File's and Range's error when the file holds fewer bytes
// than it was asked to hash: it was truncated or rewritten while being read.
var ErrShrank = errors.New("file shrank while it was being hashed")

// File returns the hash of f's first size bytes (size from a stat just
// before), reading from f's start whatever its offset. It is the upload's
// first pass over a file sent as it is, the time before its first byte is
// sent, so it reads ahead (see fileRange); the result is always Sum of those
// bytes.
func File(f *os.File, size int64) (string, error) {
	h := New()
	if err := Range(h, f, 0, size); err != nil {
		return "", err
	}
	if st, err := f.Stat(); err != nil || st.Size() < size {
		return "", fmt.Errorf("%w (%d bytes hashed)", ErrShrank, size)
	}
	return Sum(h), nil
}

// Range writes the n bytes of r at off to h: an extraction's hash pass
// hashes its parts this way. An *os.File's is read as File reads it.
func Range(h io.Writer, r io.ReaderAt, off, n int64) error {
	if f, ok := r.(*os.File); ok {
		return fileRange(h, f, off, n)
	}
	return readRange(h, r, off, n)
}

// ReadRange writes the n bytes of r at off to h through ReadAt and one
// small buffer, not Range's two chunks: for a pass that runs beside another
// (the input's recheck beside the send), where resident memory matters more
// than speed.
func ReadRange(h io.Writer, r io.ReaderAt, off, n int64) error {
	return readRange(h, r, off, n)
}

// readBufs hold readRange's buffers for large ranges: 128 KiB reads cost
// little more per byte than 1 MiB ones, and an extraction hashes many
// parts, each of which allocated its own buffer before.
const readBuf = 128 << 10

var readBufs = sync.Pool{New: func() any { return new([readBuf]byte) }}

// readRange hashes r's n bytes at off through ReadAt.
func readRange(h io.Writer, r io.ReaderAt, off, n int64) error {
	var buf []byte
	if n < readBuf {
		buf = make([]byte, max(n, 1)) // small files' parts: no 128 KiB each
	} else {
		b := readBufs.Get().(*[readBuf]byte)
		defer readBufs.Put(b)
		buf = b[:]
	}
	m, err := io.CopyBuffer(h, io.NewSectionReader(r, off, n), buf)
	if err != nil {
		return err
	}
	if m < n {
		return fmt.Errorf("%w (%d of %d bytes from byte %d)", ErrShrank, m, n, off)
	}
	return nil
}

// chunk is fileRange's read size: 1 MiB reads hashed while the next is made
// took 33-35 ms for 256 MiB in the page cache; 256 KiB ones 43-51 ms.
const chunk = 1 << 20

var chunkPairs = sync.Pool{New: func() any { return new([2][chunk]byte) }}

// fileRange hashes f's n bytes at off. A second goroutine reads the next
// chunk while the hash runs over the last, so that the copy out of the page
// cache and the hash use both cores.
//
// Not a memory mapping, as until 2026-12-02: mapping in a file whose page
// cache is in 4 KiB pages costs a fault per page, and files written in
// small pieces are cached that way (cp's copies, our own extract's output).
// Mapped, 256 MiB of such a file took 163 ms to hash, a gold or ld.bfd
// output 58-102 ms, and a file written in 64 MiB writes 42 ms; read here,
// 29-46 ms whatever wrote it (OBJHASH_BENCH_FILE, BenchmarkFile).
func fileRange(h io.Writer, f *os.File, off, n int64) error {
	if n < chunk {
		return readRange(h, f, off, n) // one read: nothing to overlap
	}
	bufs := chunkPairs.Get().(*[2][chunk]byte)
	type read struct {
		b   []byte
		err error
	}
	free := make(chan []byte, len(bufs))
	for i := range bufs {
		free <- bufs[i][:]
	}
	full := make(chan read, len(bufs))
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for at := off; at < off+n; {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			m, err := f.ReadAt(b[:min(chunk, off+n-at)], at)
			full <- read{b[:m], err}
			if err != nil {
				return
			}
			at += int64(m)
		}
	}()
	defer func() {
		close(stop)
		for range full { // the reader is done with the buffers once full is closed
		}
		chunkPairs.Put(bufs)
	}()
	var hashed int64
	for r := range full {
		h.Write(r.b)
		hashed += int64(len(r.b))
		if errors.Is(r.err, io.EOF) {
			return fmt.Errorf("%w (at byte %d of %d from byte %d)", ErrShrank, hashed, n, off)
		}
		if r.err != nil {
			return r.err
		}
		free <- r.b[:chunk]
	}
	return nil
}

package elfparse

import (
	"fmt"
	"io"
	"os"
	"sync"
)

// windowSize is how much of each end of a file is read up front. ELF and
// program headers and the build-ID notes sit at the start of a linked file,
// the section headers and their names at the end: two reads instead of a
// dozen small ones make many-file runs syscall-light.
const windowSize = 64 << 10

// window serves ReadAt from the first and last windowSize bytes of r,
// falling back to r for anything else.
type window struct {
	r          io.ReaderAt
	head, tail []byte
	tailOff    int64
}

// windowBufs recycles window buffers: a run over many small files would
// otherwise allocate (and collect) one per file.
var windowBufs = sync.Pool{New: func() any { b := make([]byte, 2*windowSize); return &b }}

// Window reads both ends of r (size bytes) and returns a reader that serves
// ReadAt from them where it can: parsing headers, notes and section tables
// through it costs two reads (one for a file up to 128 KiB). release gives
// the buffer back; the reader must not be used after it.
func Window(r io.ReaderAt, size int64) (w io.ReaderAt, release func(), err error) {
	buf := windowBufs.Get().(*[]byte)
	win := &window{r: r}
	release = func() {
		// A reader used after release reads the file itself, never a buffer
		// another file's window may now hold; a second release is a no-op.
		if win.head != nil {
			win.head, win.tail = nil, nil
			windowBufs.Put(buf)
		}
	}
	if size <= 2*windowSize {
		win.head = (*buf)[:size]
		err = readFull(r, win.head, 0)
	} else {
		win.head, win.tail = (*buf)[:windowSize], (*buf)[windowSize:]
		win.tailOff = size - windowSize
		if err = readFull(r, win.head, 0); err == nil {
			err = readFull(r, win.tail, win.tailOff)
		}
	}
	if err != nil {
		release()
		return nil, release, err
	}
	return win, release, nil
}

// readFull fills p from off. A ReaderAt may say io.EOF with a read that ends
// exactly at the end; fewer bytes than asked for (a file cut short since its
// size was taken) is an error, never bytes served as zeros.
func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (w *window) ReadAt(p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	switch {
	case off >= 0 && end <= int64(len(w.head)):
		return copy(p, w.head[off:end]), nil
	case w.tail != nil && off >= w.tailOff && end <= w.tailOff+int64(len(w.tail)):
		return copy(p, w.tail[off-w.tailOff:end-w.tailOff]), nil
	}
	return w.r.ReadAt(p, off)
}

// Holds says whether r is a window (see Window) that serves the n bytes at
// off from its buffers, without a read of the file.
func Holds(r io.ReaderAt, off, n int64) bool {
	w, ok := r.(*window)
	if !ok || off < 0 || n < 0 {
		return false
	}
	end := off + n
	return end <= int64(len(w.head)) || w.tail != nil && off >= w.tailOff && end <= w.tailOff+int64(len(w.tail))
}

// OpenWindow opens the regular file at path (see OpenRegular) and reads its
// two ends (see Window). st is the open file's stat, the state in which it
// was read. done closes the file and releases the window; it is a no-op
// after an error, which names path.
func OpenWindow(path string) (r io.ReaderAt, st os.FileInfo, done func(), err error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, nil, func() {}, err
	}
	w, release, err := Window(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, func() {}, fmt.Errorf("%s: %w", path, err)
	}
	return w, st, func() { release(); f.Close() }, nil
}

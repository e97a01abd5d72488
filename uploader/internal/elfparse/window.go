package elfparse

import "io"

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

// Window reads both ends of r (size bytes) and returns a reader that serves
// ReadAt from them where it can: parsing headers, notes and section tables
// through it costs two reads.
func Window(r io.ReaderAt, size int64) (io.ReaderAt, error) {
	w := &window{r: r}
	n := min(size, 2*windowSize)
	if size <= 2*windowSize {
		w.head = make([]byte, n)
		if _, err := r.ReadAt(w.head, 0); err != nil && err != io.EOF {
			return nil, err
		}
		return w, nil
	}
	w.head = make([]byte, windowSize)
	w.tail = make([]byte, windowSize)
	w.tailOff = size - windowSize
	if _, err := r.ReadAt(w.head, 0); err != nil {
		return nil, err
	}
	if _, err := r.ReadAt(w.tail, w.tailOff); err != nil && err != io.EOF {
		return nil, err
	}
	return w, nil
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

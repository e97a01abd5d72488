package elfdebug

import (
	"bytes"
	"fmt"
	"io"
	"sort"
)

// Extraction is the debug-only copy of one ELF file, laid out but not
// written: its bytes are read when asked for, from the input, from the
// headers it made and from the spools of the sections it rewrote (sorted or
// compressed, once, by Open). So it can be read twice, hashed and then
// sent, without extracting twice, and a send can read straight from the
// input into its own buffers. It holds no more memory than Open's spools.
// Reads may not run concurrently with Close.
type Extraction struct {
	Stats
	joined  // the parts, in output order
	closers []io.Closer
	log     *readLog     // what Open read from the input
	dwarf   func() error // checkDWARF of the input
}

// joined is the bytes of its parts laid end to end.
type joined struct {
	parts []Part // each starting where the one before ends
	size  int64
}

// Part is a run of an Extraction's bytes: N bytes of Src from Off, or N
// zeros when Src is nil. Src is the input given to Open (the same value)
// for bytes copied from it as they are.
type Part struct {
	Src    io.ReaderAt
	Off, N int64
	at     int64 // where it starts in the output
}

// Size is the number of bytes in the extraction.
func (x *Extraction) Size() int64 { return x.size }

// Parts returns the extraction's parts in order; they add up to Size bytes.
func (x *Extraction) Parts() []Part { return x.parts }

// InputUnchanged reads again every byte Open read from the input and
// returns ErrInputChanged unless all still read the same: what Open made of
// them (compressed or sorted sections, rewritten headers) is kept, so an
// input written while Open read it would otherwise go out as a mix of two
// versions. Call it after the last read of the extraction: an extraction is
// then one version of the input if its parts copied from the input (Src is
// the input; see Part) read the same each time they were read, which is
// the caller's to check (an upload hashes them, then hashes what it sends).
func (x *Extraction) InputUnchanged() error {
	if x.log == nil {
		return nil
	}
	return x.log.recheck()
}

// CheckDWARF tells whether the input's DWARF reads as DWARF: a
// *CorruptDWARF when it does not (see checkDWARF). It reads the input
// again, for as long as decompressing and walking its DWARF takes, so an
// upload runs it beside the send, before the store is told it finished.
func (x *Extraction) CheckDWARF() error {
	if x.dwarf == nil {
		return nil
	}
	return x.dwarf()
}

// Close releases the spools and buffers; reads fail after it.
func (x *Extraction) Close() error {
	var first error
	for i := len(x.closers) - 1; i >= 0; i-- {
		if err := x.closers[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	x.closers, x.parts = nil, nil
	return first
}

func (j *joined) add(p Part) {
	if p.N == 0 {
		return
	}
	p.at = j.size
	j.parts = append(j.parts, p)
	j.size += p.N
}

// padTo adds zeros up to off. A layout that went past off is a bug, caught
// by Open's check of the total size.
func (j *joined) padTo(off int64) {
	if off > j.size {
		j.add(Part{N: off - j.size})
	}
}

func bytesPart(b []byte) Part { return Part{Src: bytes.NewReader(b), N: int64(len(b))} }

// ReadAt reads the bytes at off (io.ReaderAt): an extraction's, or a
// compressed section's. A part whose source holds fewer bytes than laid out
// (an input cut short) is an error, never zeros.
func (j *joined) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("elfdebug: negative offset %d", off)
	}
	if j.parts == nil && j.size > 0 {
		return 0, fmt.Errorf("elfdebug: read of a closed extraction")
	}
	i := sort.Search(len(j.parts), func(i int) bool { return j.parts[i].at+j.parts[i].N > off })
	n := 0
	for ; n < len(p) && i < len(j.parts); i++ {
		pt := j.parts[i]
		skip := off + int64(n) - pt.at
		m := int(min(int64(len(p)-n), pt.N-skip))
		if err := pt.read(p[n:n+m], skip); err != nil {
			return n, err
		}
		n += m
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// read fills b with the part's bytes from skip on.
func (pt Part) read(b []byte, skip int64) error {
	if pt.Src == nil {
		clear(b)
		return nil
	}
	m, err := pt.Src.ReadAt(b, pt.Off+skip)
	if m == len(b) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF // padding would fill the gap with zeros
	}
	return fmt.Errorf("copying input bytes %#x-%#x: %w", pt.Off, pt.Off+pt.N, err)
}

// WriteTo writes the whole extraction to w in one sequential pass, through
// one buffer as large as the largest part up to 1 MiB: a 256 MiB section
// copied through 32 KiB took 8,192 reads and 54 ms, through 1 MiB 44 ms.
func (x *Extraction) WriteTo(w io.Writer) (int64, error) {
	var largest int64
	for _, pt := range x.parts {
		largest = max(largest, pt.N)
	}
	buf := make([]byte, max(1, min(largest, copyBufferMax)))
	var n int64
	for _, pt := range x.parts {
		for done := int64(0); done < pt.N; {
			b := buf[:min(int64(len(buf)), pt.N-done)]
			if err := pt.read(b, done); err != nil {
				return n, err
			}
			m, err := w.Write(b)
			n += int64(m)
			if err == nil && m < len(b) {
				err = io.ErrShortWrite
			}
			if err != nil {
				return n, err
			}
			done += int64(m)
		}
	}
	return n, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

package tombstone

import (
	"errors"
	"sort"
)

// A Sink takes a section's patches as Find makes them: each once, in no
// particular order, b valid only during the call. An error stops the walk
// (Find returns it).
type Sink interface {
	Add(off int64, b []byte) error
}

// List is a section's patches, a Sink kept in memory: 16 bytes a patch,
// their bytes end to end. A --gc-sections program may need one for each of
// hundreds of thousands of entries, and a slice each (32 bytes) took its
// extraction over 32 MB.
type List struct {
	ps   []patch
	data []byte
}

type patch struct {
	off   int64
	at, n uint32
}

var errFull = errors.New("over 4 GiB of patches")

// Add adds the patch that writes b at off.
func (l *List) Add(off int64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	at := len(l.data)
	if uint64(at)+uint64(len(b)) > 1<<32-1 {
		return errFull
	}
	l.ps = append(l.ps, patch{off: off, at: uint32(at), n: uint32(len(b))})
	l.data = append(l.data, b...)
	return nil
}

// Reset empties l, keeping its memory.
func (l *List) Reset() { l.ps, l.data = l.ps[:0], l.data[:0] }

// Len is how many patches l has.
func (l *List) Len() int { return len(l.ps) }

// At is patch i: the bytes it writes at off.
func (l *List) At(i int) (off int64, b []byte) {
	p := l.ps[i]
	return p.off, l.data[p.at : p.at+p.n : p.at+p.n]
}

// Sort puts the patches in offset order.
func (l *List) Sort() { sort.Slice(l.ps, func(i, j int) bool { return l.ps[i].off < l.ps[j].off }) }

// EndingPast is the index of the first patch, in a sorted list of patches
// that do not overlap, that ends past off.
func (l *List) EndingPast(off int64) int {
	return sort.Search(len(l.ps), func(i int) bool { return l.ps[i].off+int64(l.ps[i].n) > off })
}

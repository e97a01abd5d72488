package tombstone

import (
	"encoding/binary"
	"errors"
	"io"
)

// reader reads a section front to back through a window, remembering the
// first error; a value read past the end is 0.
type reader struct {
	r      io.ReaderAt
	size   int64
	bo     binary.ByteOrder
	window int64 // the most read at once
	buf    []byte
	bufAt  int64 // the section offset of buf[0]
	pos    int64
	err    error
}

var errShort = errors.New("section cut short")

func newReader(r io.ReaderAt, size int64, bo binary.ByteOrder) *reader {
	return &reader{r: r, size: size, bo: bo, window: 64 << 10}
}

func (d *reader) seek(pos int64) { d.pos = pos }

// bytes returns the next n (at most 8) bytes.
func (d *reader) bytes(n int) []byte {
	if d.err != nil {
		return make([]byte, n)
	}
	if d.pos < 0 || d.pos+int64(n) > d.size {
		d.err = errShort
		return make([]byte, n)
	}
	if d.pos < d.bufAt || d.pos+int64(n) > d.bufAt+int64(len(d.buf)) {
		if d.buf == nil {
			d.buf = make([]byte, 0, max(min(d.window, d.size), 16)) // a small section, a small buffer
		}
		// Windows start on 4 KiB bounds: one loaded again is the same
		// read, which the extraction's recheck of its input reads once.
		at := d.pos - d.pos%4096
		if int64(cap(d.buf)) < d.size && at+int64(cap(d.buf)) < d.pos+int64(n) {
			at = d.pos
		}
		m := min(int64(cap(d.buf)), d.size-at)
		d.buf = d.buf[:m]
		if k, err := d.r.ReadAt(d.buf, at); int64(k) < m {
			if err == nil || err == io.EOF {
				err = errShort
			}
			d.err = err
			return make([]byte, n)
		}
		d.bufAt = at
	}
	b := d.buf[d.pos-d.bufAt : d.pos-d.bufAt+int64(n)]
	d.pos += int64(n)
	return b
}

func (d *reader) u8() uint8   { return d.bytes(1)[0] }
func (d *reader) u16() uint16 { return d.bo.Uint16(d.bytes(2)) }
func (d *reader) u32() uint32 { return d.bo.Uint32(d.bytes(4)) }
func (d *reader) u64() uint64 { return d.bo.Uint64(d.bytes(8)) }

// uint reads an n-byte unsigned value (1, 2, 3, 4 or 8).
func (d *reader) uint(n int) uint64 {
	b := d.bytes(n)
	var v uint64
	for i := range n {
		k := i
		if d.bo == binary.BigEndian {
			k = n - 1 - i
		}
		v |= uint64(b[k]) << (8 * i)
	}
	return v
}

func (d *reader) uleb() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := d.u8()
		if d.err != nil {
			return 0
		}
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c < 0x80 {
			return v
		}
		if shift > 640 {
			d.err = errors.New("LEB128 value too long")
			return 0
		}
	}
}

func (d *reader) skip(n uint64) {
	if d.err == nil && n > uint64(d.size-d.pos) {
		d.err = errShort
		return
	}
	d.pos += int64(n)
}

func (d *reader) skipCString() {
	for d.err == nil && d.u8() != 0 {
	}
}

// length reads an initial length: the value and whether it is DWARF64.
func (d *reader) length() (uint64, bool) {
	l := uint64(d.u32())
	if l == 0xffffffff {
		return d.u64(), true
	}
	if l >= 0xfffffff0 {
		d.err = errors.New("reserved unit length")
	}
	return l, false
}

func (d *reader) offset(dwarf64 bool) uint64 {
	if dwarf64 {
		return d.u64()
	}
	return uint64(d.u32())
}

func (d *reader) sleb() int64 {
	var v int64
	shift := 0
	for {
		c := d.u8()
		if d.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c < 0x80 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
		if shift > 640 {
			d.err = errors.New("LEB128 value too long")
			return 0
		}
	}
}

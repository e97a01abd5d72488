package sources

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// section is one DWARF section, read at any offset: the file itself for
// an uncompressed section, an unlinked temporary file for a compressed one.
type section struct {
	name string
	r    io.ReaderAt
	size int64
}

// maxString bounds every string read from DWARF. Linux cannot open a
// longer path (PATH_MAX), so a longer name could never be archived.
const maxString = 4096

// cursor reads a section sequentially from any offset through a small
// window, so memory stays the window's size whatever the section's.
type cursor struct {
	s       *section
	order   binary.ByteOrder
	pos     int64  // section offset of the next byte
	end     int64  // reads past end fail
	win     []byte // bytes at winOff..winOff+len(win)
	winOff  int64
	buf     []byte
	dwarf64 bool
	err     error
}

func newCursor(s *section, order binary.ByteOrder, buf []byte) *cursor {
	return &cursor{s: s, order: order, buf: buf, end: s.size}
}

// seek moves to off and limits reads to end (at most the section's end).
func (c *cursor) seek(off, end int64) {
	c.pos, c.end, c.err = off, min(end, c.s.size), nil
}

func (c *cursor) fail(msg string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("%s at %#x: %s", c.s.name, c.pos, fmt.Sprintf(msg, args...))
	}
}

// avail returns the buffered bytes from pos on, reading at least one more
// when none are buffered; empty at the end or on error.
func (c *cursor) avail() []byte {
	if c.err != nil || c.pos >= c.end || c.pos < 0 {
		return nil
	}
	if c.pos >= c.winOff && c.pos < c.winOff+int64(len(c.win)) {
		return c.win[c.pos-c.winOff : min(int64(len(c.win)), c.end-c.winOff)]
	}
	n := min(int64(len(c.buf)), c.end-c.pos)
	got, err := c.s.r.ReadAt(c.buf[:n], c.pos)
	if got == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("section ends early")
		}
		c.fail("%v", err)
		return nil
	}
	c.win, c.winOff = c.buf[:got], c.pos
	return c.win
}

// bytes returns the next n bytes (n at most 16), or zeros after an error.
func (c *cursor) bytes(n int) []byte {
	b := c.avail()
	if len(b) < n && c.err == nil && c.pos+int64(n) <= c.end {
		c.win = nil // refill from pos
		b = c.avail()
	}
	if len(b) < n {
		c.fail("underflow")
		return make([]byte, 16)
	}
	c.pos += int64(n)
	return b[:n]
}

func (c *cursor) skip(n uint64) {
	if c.err != nil {
		return
	}
	if n > uint64(c.end-c.pos) {
		c.fail("underflow")
		return
	}
	c.pos += int64(n)
}

func (c *cursor) u8() uint8   { return c.bytes(1)[0] }
func (c *cursor) u16() uint16 { return c.order.Uint16(c.bytes(2)) }
func (c *cursor) u32() uint32 { return c.order.Uint32(c.bytes(4)) }
func (c *cursor) u64() uint64 { return c.order.Uint64(c.bytes(8)) }

func (c *cursor) u24() uint32 {
	b := c.bytes(3)
	if c.order == binary.BigEndian {
		return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
	}
	return uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
}

// offset reads a 4- or 8-byte section offset, as the unit's format says.
func (c *cursor) offset() uint64 {
	if c.dwarf64 {
		return c.u64()
	}
	return uint64(c.u32())
}

// unitLength reads an initial length and sets the format it implies.
func (c *cursor) unitLength() uint64 {
	n := uint64(c.u32())
	c.dwarf64 = false
	switch {
	case n == 0xffffffff:
		c.dwarf64 = true
		n = c.u64()
	case n >= 0xfffffff0:
		c.fail("unit length has reserved value")
	}
	return n
}

func (c *cursor) uleb() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		b := c.u8()
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 || c.err != nil {
			return v
		}
	}
}

func (c *cursor) sleb() int64 {
	var v int64
	shift := 0
	for {
		b := c.u8()
		if shift < 64 {
			v |= int64(b&0x7f) << shift
		}
		shift += 7
		if b&0x80 == 0 || c.err != nil {
			if shift < 64 && b&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
}

// cstring reads a NUL-terminated string of at most maxString bytes.
func (c *cursor) cstring() string {
	var sb strings.Builder
	for {
		b := c.avail()
		if len(b) == 0 {
			c.fail("underflow")
			return ""
		}
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			i = len(b)
		}
		if sb.Len()+i > maxString {
			c.fail("string longer than %d bytes", maxString)
			return ""
		}
		sb.Write(b[:i])
		c.pos += int64(i)
		if i < len(b) {
			c.pos++
			return sb.String()
		}
	}
}

// skipCString steps over a NUL-terminated string of any length.
func (c *cursor) skipCString() {
	for {
		b := c.avail()
		if len(b) == 0 {
			c.fail("underflow")
			return
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			c.pos += int64(i) + 1
			return
		}
		c.pos += int64(len(b))
	}
}

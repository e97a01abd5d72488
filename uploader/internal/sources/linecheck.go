package sources

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// checkLineHeader walks the DWARF 5 line-table header at off in the
// .debug_line data sec before debug/dwarf reads it: debug/dwarf sizes its
// directory and file slices from counts in the header without checking them,
// so one corrupt count is a fatal out-of-memory crash, not an error. Here a
// count may not exceed the header bytes left (every entry takes at least
// one). Versions 2 to 4 grow their tables entry by entry and need no check.
func checkLineHeader(sec []byte, off int64, order binary.ByteOrder) error {
	if off < 0 || off >= int64(len(sec)) {
		return fmt.Errorf("line table offset %#x is outside .debug_line (%d bytes)", off, len(sec))
	}
	r := &lineBuf{b: sec[off:], order: order}
	length := uint64(r.u32())
	if length == 0xffffffff {
		r.dwarf64 = true
		length = r.u64()
	}
	if r.err == nil && length > uint64(len(r.b)-r.pos) {
		return errors.New("line table longer than .debug_line")
	}
	if v := r.u16(); r.err != nil || v < 5 {
		return r.err
	}
	r.skip(2) // address_size, segment_selector_size
	hlen := r.offset()
	if r.err == nil && hlen > uint64(len(r.b)-r.pos) {
		return errors.New("line table header longer than .debug_line")
	}
	r.b = r.b[:r.pos+int(hlen)] // every read below stays inside the header
	r.skip(5)                   // min_inst_length .. line_range
	r.skip(int(r.u8()) - 1)     // standard_opcode_lengths
	for table := 0; table < 2 && r.err == nil; table++ {
		forms := make([]uint64, r.u8())
		for i := range forms {
			r.uleb() // content type
			forms[i] = r.uleb()
		}
		count := r.uleb()
		if r.err == nil && count > 0 && (len(forms) == 0 || count > uint64(len(r.b)-r.pos)) {
			return fmt.Errorf("line table header claims %d entries in %d bytes", count, len(r.b)-r.pos)
		}
		for i := uint64(0); i < count && r.err == nil; i++ {
			for _, f := range forms {
				r.skipForm(f)
			}
		}
	}
	return r.err
}

// lineBuf reads a byte slice, remembering the first overrun.
type lineBuf struct {
	b       []byte
	pos     int
	order   binary.ByteOrder
	dwarf64 bool
	err     error
}

var errShortHeader = errors.New("line table header is truncated")

func (r *lineBuf) take(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b)-r.pos {
		r.err = errShortHeader
		return make([]byte, 8)
	}
	r.pos += n
	return r.b[r.pos-n : r.pos]
}

func (r *lineBuf) skip(n int)  { r.take(n) }
func (r *lineBuf) u8() uint8   { return r.take(1)[0] }
func (r *lineBuf) u16() uint16 { return r.order.Uint16(r.take(2)) }
func (r *lineBuf) u32() uint32 { return r.order.Uint32(r.take(4)) }
func (r *lineBuf) u64() uint64 { return r.order.Uint64(r.take(8)) }
func (r *lineBuf) offset() uint64 {
	if r.dwarf64 {
		return r.u64()
	}
	return uint64(r.u32())
}

func (r *lineBuf) uleb() uint64 {
	var v uint64
	for shift := 0; r.err == nil; shift += 7 {
		c := r.u8()
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		if c&0x80 == 0 {
			break
		}
	}
	return v
}

// skipForm steps over one attribute value of a form DWARF 5 allows in
// line-table headers; any other form is malformed here.
func (r *lineBuf) skipForm(form uint64) {
	switch form {
	case 0x08: // string
		for r.err == nil && r.u8() != 0 {
		}
	case 0x0e, 0x1f, 0x17: // strp, line_strp, sec_offset
		r.offset()
	case 0x0f, 0x0d, 0x1a: // udata, sdata, strx
		r.uleb()
	case 0x0b, 0x0c, 0x25: // data1, flag, strx1
		r.skip(1)
	case 0x05, 0x26: // data2, strx2
		r.skip(2)
	case 0x27: // strx3
		r.skip(3)
	case 0x06, 0x28: // data4, strx4
		r.skip(4)
	case 0x07: // data8
		r.skip(8)
	case 0x1e: // data16
		r.skip(16)
	case 0x09: // block
		r.skip(int(min(r.uleb(), uint64(len(r.b)))))
	case 0x0a: // block1
		r.skip(int(r.u8()))
	default:
		if r.err == nil {
			r.err = fmt.Errorf("line table header uses form %#x", form)
		}
	}
}

// lineUnitLength is the size of the line table at off (header and
// program, as its initial length says), for bounding the work of reading
// tables; 0 when off is outside sec.
func lineUnitLength(sec []byte, off int64, order binary.ByteOrder) int64 {
	if off < 0 || off >= int64(len(sec)) {
		return 0
	}
	r := &lineBuf{b: sec[off:], order: order}
	length := uint64(r.u32())
	if length == 0xffffffff {
		length = r.u64()
	}
	return int64(min(length, uint64(len(sec))))
}

// Package lineorder puts the sequences of each unit of a .debug_line
// section in address order, without changing the section's size or any
// unit's offset.
//
// A compiler emits one sequence per output section a unit has code in:
// gcc -O2 puts main in .text.startup and cold paths in .text.unlikely, and
// -ffunction-sections gives each function its own section. The linker
// places those sections out of the unit's order, so its sequences are not
// sorted by address. DWARF gives sequence order no meaning, and gdb,
// addr2line and elfutils sort them, but Parca v0.28.0 binary-searches each
// unit's rows as they come: every function outside the first sorted run
// gets "?:0" instead of its file and line (docs/symbolization.md).
//
// Each sequence is self-contained (the state machine resets after
// DW_LNE_end_sequence), so moving whole sequences keeps every row.
package lineorder

import (
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"sort"
)

// maxSpans bounds the memory a section's new order takes (24 bytes a
// span), and maxUnit the bytes of one unit read at once. Units past
// either are left as they are.
const maxSpans = 1 << 16

var maxUnit int64 = 8 << 20 // a var for tests

// span is n bytes at in, which go to out (offsets in the section).
type span struct{ out, in, n int64 }

// Reordered is a section's bytes with its units' sequences sorted.
type Reordered struct {
	sec   io.ReaderAt
	spans []span // sorted by out; they tile the section
}

// Reorder reads the .debug_line section sec (size bytes, byte order bo)
// and returns it with each unit's sequences in address order, reading
// through to sec. ok is false when nothing moves. A unit it cannot parse,
// or whose program is not whole sequences each starting with
// DW_LNE_set_address, is left as it is: the section is never rejected.
func Reorder(sec io.ReaderAt, size int64, bo binary.ByteOrder) (r *Reordered, ok bool, err error) {
	var (
		spans []span
		buf   []byte
		moved bool
		hdr   [12]byte
		off   int64
	)
	for off < size {
		// The unit's length, then the whole unit.
		if size-off < 4 {
			break // the rest stays as it is
		}
		n, err := sec.ReadAt(hdr[:min(12, size-off)], off)
		if n < min(12, int(size-off)) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
		length, lenSize := uint64(bo.Uint32(hdr[:])), int64(4)
		if length == 0xffffffff && n == 12 {
			length, lenSize = bo.Uint64(hdr[4:]), 12
		}
		if length >= 0xfffffff0 && lenSize == 4 || length > uint64(size-off-lenSize) {
			break // the rest stays as it is
		}
		unitLen := lenSize + int64(length)
		if length > uint64(maxUnit) {
			// Too large to read at once: this unit stays, the next ones are sorted.
			spans = append(spans, span{out: off, in: off, n: unitLen})
			off += unitLen
			continue
		}
		// The rest of the unit after what hdr holds: read front to back,
		// a section is one run for elfdebug's input check.
		buf = slices.Grow(buf[:0], int(unitLen))[:unitLen]
		have := copy(buf, hdr[:n])
		if m, err := sec.ReadAt(buf[have:], off+int64(have)); m < len(buf)-have {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
		seqs, prog, perr := sequences(buf, lenSize, bo)
		if perr == nil && len(seqs) > 1 && !slices.IsSortedFunc(seqs, bySeqAddr) && len(spans)+len(seqs) < maxSpans {
			// The header, then the sequences in their new order.
			spans = append(spans, span{out: off, in: off, n: prog})
			slices.SortStableFunc(seqs, bySeqAddr)
			at := off + prog
			for _, s := range seqs {
				spans = append(spans, span{out: at, in: off + s.off, n: s.n})
				at += s.n
			}
			moved = true
		} else {
			spans = append(spans, span{out: off, in: off, n: unitLen})
		}
		off += unitLen
	}
	if !moved {
		return nil, false, nil
	}
	if off < size {
		spans = append(spans, span{out: off, in: off, n: size - off})
	}
	return &Reordered{sec: sec, spans: mergeSpans(spans)}, true, nil
}

// mergeSpans joins neighbours that are also neighbours in the input.
func mergeSpans(spans []span) []span {
	out := spans[:1]
	for _, s := range spans[1:] {
		if s.n == 0 {
			continue
		}
		l := &out[len(out)-1]
		if l.in+l.n == s.in && l.out+l.n == s.out {
			l.n += s.n
			continue
		}
		out = append(out, s)
	}
	return out
}

// ReadAt reads the reordered section.
func (r *Reordered) ReadAt(p []byte, off int64) (int, error) {
	i := sort.Search(len(r.spans), func(i int) bool { return r.spans[i].out+r.spans[i].n > off })
	n := 0
	for ; n < len(p) && i < len(r.spans); i++ {
		s := r.spans[i]
		skip := off + int64(n) - s.out
		want := min(int64(len(p)-n), s.n-skip)
		m, err := r.sec.ReadAt(p[n:n+int(want)], s.in+skip)
		n += m
		if err != nil && (err != io.EOF || int64(m) < want) {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// sequence is one sequence's bytes (offset in its unit, length) and its
// first DW_LNE_set_address.
type sequence struct {
	off, n int64
	addr   uint64
}

func bySeqAddr(a, b sequence) int {
	switch {
	case a.addr < b.addr:
		return -1
	case a.addr > b.addr:
		return 1
	}
	return 0
}

var errFormat = errors.New("not a line program this package understands")

// sequences parses the unit u (its unit_length field lenSize bytes) and
// returns its sequences and where its program starts.
func sequences(u []byte, lenSize int64, bo binary.ByteOrder) ([]sequence, int64, error) {
	offSize := 4
	if lenSize == 12 {
		offSize = 8
	}
	i := int(lenSize)
	if len(u) < i+2 {
		return nil, 0, errFormat
	}
	version := bo.Uint16(u[i:])
	i += 2
	if version < 2 || version > 5 {
		return nil, 0, errFormat
	}
	if version >= 5 {
		i += 2 // address_size, segment_selector_size
	}
	if len(u) < i+offSize {
		return nil, 0, errFormat
	}
	var hlen uint64
	if offSize == 8 {
		hlen = bo.Uint64(u[i:])
	} else {
		hlen = uint64(bo.Uint32(u[i:]))
	}
	i += offSize
	if hlen > uint64(len(u)-i) {
		return nil, 0, errFormat
	}
	prog := i + int(hlen)
	i += 4 // minimum_instruction_length, default_is_stmt, line_base, line_range
	if version >= 4 {
		i++ // maximum_operations_per_instruction
	}
	if i >= prog {
		return nil, 0, errFormat
	}
	opcodeBase := u[i]
	// standard_opcode_lengths must lie within the header, checked before
	// it is sliced: a hostile opcode_base runs past the unit.
	if opcodeBase == 0 || i+int(opcodeBase) > prog {
		return nil, 0, errFormat
	}
	argc := u[i+1 : i+int(opcodeBase)]
	seqs, err := walk(u[:len(u):len(u)], prog, opcodeBase, argc, bo)
	return seqs, int64(prog), err
}

// walk runs over the program u[i:], cutting it after each
// DW_LNE_end_sequence.
func walk(u []byte, i int, opcodeBase byte, argc []byte, bo binary.ByteOrder) ([]sequence, error) {
	var seqs []sequence
	// A row before the first DW_LNE_set_address would sit at an address
	// the sort key does not give.
	start, haveAddr, addr, row := i, false, uint64(0), false
	for i < len(u) {
		op := u[i]
		i++
		switch {
		case op >= opcodeBase: // special opcode: a row, no operands
			row = true
		case op == 1: // DW_LNS_copy: a row, no operands
			row = true
		case op == 0: // extended: a length, a sub-opcode, operands
			n, next, ok := uleb(u, i)
			if !ok || n == 0 || n > uint64(len(u)-next) {
				return nil, errFormat
			}
			sub, operands := u[next], u[next+1:next+int(n)]
			i = next + int(n)
			switch sub {
			case 1: // DW_LNE_end_sequence
				if len(operands) != 0 || !haveAddr {
					return nil, errFormat
				}
				seqs = append(seqs, sequence{off: int64(start), n: int64(i - start), addr: addr})
				start, haveAddr, row = i, false, false
			case 2: // DW_LNE_set_address
				if haveAddr {
					break
				}
				if row {
					return nil, errFormat
				}
				switch len(operands) {
				case 4:
					addr = uint64(bo.Uint32(operands))
				case 8:
					addr = bo.Uint64(operands)
				default:
					return nil, errFormat
				}
				haveAddr = true
			}
		case op == 9: // DW_LNS_fixed_advance_pc: a uhalf, not a LEB128
			i += 2
		default:
			for range argc[op-1] {
				_, next, ok := uleb(u, i)
				if !ok {
					return nil, errFormat
				}
				i = next
			}
		}
	}
	if i != len(u) || start != len(u) {
		return nil, errFormat // a program that does not end a sequence at its end
	}
	return seqs, nil
}

// uleb reads an unsigned LEB128 at u[i:] (also skips a signed one: same
// length) and returns it and the index after it.
func uleb(u []byte, i int) (v uint64, next int, ok bool) {
	for shift := 0; i < len(u); shift += 7 {
		b := u[i]
		i++
		if shift < 64 {
			v |= uint64(b&0x7f) << shift
		}
		if b&0x80 == 0 {
			return v, i, true
		}
	}
	return 0, i, false
}

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
//
// Parca also keeps a sequence's end row when the state it ends in is a
// statement, and takes the first row at or after a function's entry as
// the function's line: where one sequence ends at the very address the
// next one starts (a function ending in a noreturn call, then the next
// function, with no padding between), it shows the previous function's
// last line. Such neighbours are joined into one sequence, within the
// same bytes (see join): the end row goes, and every other row stays.
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

// span is n bytes at in, which go to out (offsets in the section), or
// the bytes lit when it is set.
type span struct {
	out, in, n int64
	lit        []byte
}

// Reordered is a section's bytes with its units' sequences sorted.
type Reordered struct {
	sec   io.ReaderAt
	spans []span // sorted by out; they tile the section
}

// Reorder reads the .debug_line section sec (size bytes, byte order bo)
// and returns it with each unit's sequences in address order, and
// neighbours joined (see join), reading through to sec. ok is false when
// nothing changes. With joinAlone false, joins alone are not a reason to
// change the section: a compressed one (Go's) is then passed through as
// it is unless a unit is out of order. A unit it cannot parse, or whose
// program is not whole sequences each starting with DW_LNE_set_address,
// is left as it is: the section is never rejected.
func Reorder(sec io.ReaderAt, size int64, bo binary.ByteOrder, joinAlone bool) (r *Reordered, ok bool, err error) {
	var (
		spans  []span
		buf    []byte
		sorted bool
		joined bool
		hdr    [12]byte
		off    int64
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
		seqs, h, perr := sequences(buf, lenSize, bo)
		unsorted := perr == nil && !slices.IsSortedFunc(seqs, bySeqAddr)
		if unsorted {
			slices.SortStableFunc(seqs, bySeqAddr)
		}
		var joins []int
		if perr == nil {
			joins = joinable(seqs, h)
		}
		if (unsorted || len(joins) > 0) && len(spans)+2*len(seqs) < maxSpans {
			// The header, then the sequences in their new order, each
			// joined to the next where it ends at that one's start.
			spans = append(spans, span{out: off, in: off, n: h.prog})
			at := off + h.prog
			add := func(sp span) {
				sp.out = at
				spans = append(spans, sp)
				at += sp.n
			}
			for i, s := range seqs {
				in, end := off+s.off, off+s.off+s.n
				if i > 0 && slices.Contains(joins, i-1) {
					// Its DW_LNE_set_address went into the join before it.
					add(span{in: in, n: s.setAt})
					in += s.setAt + s.setLen
				}
				if !slices.Contains(joins, i) {
					add(span{in: in, n: end - in})
					continue
				}
				// Its DW_LNE_end_sequence, and the next one's
				// DW_LNE_set_address, become join's bytes.
				add(span{in: in, n: end - endSeqLen - in})
				lit := join(s.end, h, endSeqLen+seqs[i+1].setLen)
				add(span{n: int64(len(lit)), lit: lit})
			}
			sorted = sorted || unsorted
			joined = joined || len(joins) > 0
		} else {
			spans = append(spans, span{out: off, in: off, n: unitLen})
		}
		off += unitLen
	}
	if !sorted && (!joined || !joinAlone) {
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
		if l.lit == nil && s.lit == nil && l.in+l.n == s.in && l.out+l.n == s.out {
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
		if s.lit != nil {
			n += copy(p[n:n+int(want)], s.lit[skip:])
			continue
		}
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
// first DW_LNE_set_address, and what join needs: where that opcode is in
// the sequence and its length, when nothing before it moves the address
// and the first row is at that address (setLen 0: not so), and the
// registers of its end row.
type sequence struct {
	off, n        int64
	addr          uint64
	setAt, setLen int64
	end           state
}

// state is the registers of the line-number state machine that carry
// from one row to the next.
type state struct {
	addr              uint64
	file, column, isa uint64
	line              int64
	stmt              bool
	flagged           bool // basic_block, prologue_end or epilogue_begin set since the last row
	known             bool // every opcode on the way was understood (join needs that)
	endLen            int64
}

// header is what walk and join need of a unit's header.
type header struct {
	prog        int64 // where the program starts in the unit
	minInst     uint64
	defaultStmt bool
	lineBase    int8
	lineRange   uint8
	opcodeBase  byte
	argc        []byte
	simulated   bool // the header lets walk follow addresses and lines
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

// standardArgs is the operand count of each standard opcode (1 to 12).
var standardArgs = []byte{0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1}

// sequences parses the unit u (its unit_length field lenSize bytes) and
// returns its sequences and header.
func sequences(u []byte, lenSize int64, bo binary.ByteOrder) ([]sequence, header, error) {
	var h header
	offSize := 4
	if lenSize == 12 {
		offSize = 8
	}
	i := int(lenSize)
	if len(u) < i+2 {
		return nil, h, errFormat
	}
	version := bo.Uint16(u[i:])
	i += 2
	if version < 2 || version > 5 {
		return nil, h, errFormat
	}
	if version >= 5 {
		i += 2 // address_size, segment_selector_size
	}
	if len(u) < i+offSize {
		return nil, h, errFormat
	}
	var hlen uint64
	if offSize == 8 {
		hlen = bo.Uint64(u[i:])
	} else {
		hlen = uint64(bo.Uint32(u[i:]))
	}
	i += offSize
	if hlen > uint64(len(u)-i) {
		return nil, h, errFormat
	}
	prog := i + int(hlen)
	h.prog = int64(prog)
	if i+2 >= prog {
		return nil, h, errFormat
	}
	h.minInst = uint64(u[i])
	i++
	maxOps := byte(1)
	if version >= 4 {
		maxOps = u[i]
		i++
	}
	if i+3 >= prog {
		return nil, h, errFormat
	}
	h.defaultStmt, h.lineBase, h.lineRange = u[i] != 0, int8(u[i+1]), u[i+2]
	i += 3
	if i >= prog {
		return nil, h, errFormat
	}
	h.opcodeBase = u[i]
	// standard_opcode_lengths must lie within the header, checked before
	// it is sliced: a hostile opcode_base runs past the unit.
	if h.opcodeBase == 0 || i+int(h.opcodeBase) > prog {
		return nil, h, errFormat
	}
	h.argc = u[i+1 : i+int(h.opcodeBase)]
	// Addresses and lines are followed only where every standard opcode
	// has its standard operands and one operation is one instruction.
	n := min(len(h.argc), len(standardArgs))
	h.simulated = maxOps == 1 && h.lineRange != 0 && slices.Equal(h.argc[:n], standardArgs[:n])
	seqs, err := walk(u[:len(u):len(u)], prog, h, bo)
	return seqs, h, err
}

// walk runs over the program u[i:], cutting it after each
// DW_LNE_end_sequence and following the registers (when h.simulated).
func walk(u []byte, i int, h header, bo binary.ByteOrder) ([]sequence, error) {
	var seqs []sequence
	reset := func() state { return state{file: 1, line: 1, stmt: h.defaultStmt, known: h.simulated} }
	st := reset()
	// A row before the first DW_LNE_set_address would sit at an address
	// the sort key does not give.
	start, haveAddr, addr, row := i, false, uint64(0), false
	moved, setAt, setLen := false, int64(0), int64(0)
	emit := func() {
		if !row && (!h.simulated || st.addr != addr) {
			setLen = 0 // the first row is not at the sequence's address
		}
		row, st.flagged = true, false
	}
	for i < len(u) {
		at := i
		op := u[i]
		i++
		switch {
		case op >= h.opcodeBase: // special opcode: a row, no operands
			if h.simulated {
				adj := uint64(op - h.opcodeBase)
				st.addr += adj / uint64(h.lineRange) * h.minInst
				st.line += int64(h.lineBase) + int64(adj%uint64(h.lineRange))
			}
			emit()
		case op == 1: // DW_LNS_copy: a row, no operands
			emit()
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
				end := st
				end.endLen = int64(i - at)
				seqs = append(seqs, sequence{off: int64(start), n: int64(i - start), addr: addr, setAt: setAt, setLen: setLen, end: end})
				start, haveAddr, row, moved, setLen = i, false, false, false, 0
				st = reset()
			case 2: // DW_LNE_set_address
				var a uint64
				switch len(operands) {
				case 4:
					a = uint64(bo.Uint32(operands))
				case 8:
					a = bo.Uint64(operands)
				default:
					return nil, errFormat
				}
				st.addr = a
				if haveAddr {
					break
				}
				if row {
					return nil, errFormat
				}
				addr, haveAddr = a, true
				if !moved {
					setAt, setLen = int64(at-start), int64(i-at)
				}
			case 3: // DW_LNE_define_file: the unit's file table, not a register
			case 4: // DW_LNE_set_discriminator: the next row's, like a flag
				st.flagged = true
			default: // a vendor's: nothing after it is joined
				st.known = false
			}
		case op == 9: // DW_LNS_fixed_advance_pc: a uhalf, not a LEB128
			if i+2 > len(u) {
				return nil, errFormat
			}
			st.addr += uint64(bo.Uint16(u[i:]))
			moved = true
			i += 2
		default:
			var arg uint64
			for k := range h.argc[op-1] {
				v, next, ok := uleb(u, i)
				if !ok {
					return nil, errFormat
				}
				if k == 0 {
					arg = v
					if op == 3 { // DW_LNS_advance_line: signed
						arg = uint64(sleb(u[i:next]))
					}
				}
				i = next
			}
			st.apply(op, arg, h)
			moved = moved || op == 2 || op == 8
		}
	}
	if i != len(u) || start != len(u) {
		return nil, errFormat // a program that does not end a sequence at its end
	}
	return seqs, nil
}

// apply runs the standard opcode op (operand arg) on s.
func (s *state) apply(op byte, arg uint64, h header) {
	switch op {
	case 2: // DW_LNS_advance_pc
		s.addr += arg * h.minInst
	case 3: // DW_LNS_advance_line
		s.line += int64(arg)
	case 4: // DW_LNS_set_file
		s.file = arg
	case 5: // DW_LNS_set_column
		s.column = arg
	case 6: // DW_LNS_negate_stmt
		s.stmt = !s.stmt
	case 7, 10, 11: // DW_LNS_set_basic_block, _prologue_end, _epilogue_begin
		s.flagged = true
	case 8: // DW_LNS_const_add_pc
		s.addr += uint64(255-h.opcodeBase) / uint64(h.lineRange) * h.minInst
	case 12: // DW_LNS_set_isa
		s.isa = arg
	default: // an opcode this package does not know: nothing after it is joined
		s.known = false
	}
}

// endSeqLen is DW_LNE_end_sequence's length in its shortest form, the only
// one join replaces.
const endSeqLen = 3

// joinable returns the i where seqs[i] (sorted) is to be joined to
// seqs[i+1]: it ends, in a state Parca keeps as a row (a statement), at
// the address where seqs[i+1] has its first row, and its
// DW_LNE_end_sequence and seqs[i+1]'s DW_LNE_set_address make room for
// join's bytes. gcc puts a DW_LNS_set_column before the latter: opcodes
// that move no address may come first, and stay.
func joinable(seqs []sequence, h header) []int {
	var out []int
	for i := 0; i+1 < len(seqs); i++ {
		a, b := seqs[i].end, seqs[i+1]
		if h.simulated && a.known && a.stmt && !a.flagged && a.endLen == endSeqLen &&
			b.setLen > 0 && a.addr == b.addr && join(a, h, endSeqLen+b.setLen) != nil {
			out = append(out, i)
		}
	}
	return out
}

// join returns size bytes of line program that take the registers from
// end (where a sequence would end) to the state a new sequence starts in,
// without a row: what replaces that sequence's DW_LNE_end_sequence and the
// next one's DW_LNE_set_address, whose address the registers already hold.
// Padding is DW_LNS_advance_pc 0. nil: it does not fit.
func join(end state, h header, size int64) []byte {
	var b []byte
	if end.file != 1 {
		b = append(b, 4) // DW_LNS_set_file
		b = binary.AppendUvarint(b, 1)
	}
	if end.line != 1 {
		b = append(b, 3) // DW_LNS_advance_line
		b = appendSleb(b, 1-end.line)
	}
	if end.column != 0 {
		b = append(b, 5, 0) // DW_LNS_set_column 0
	}
	if end.stmt != h.defaultStmt {
		b = append(b, 6) // DW_LNS_negate_stmt
	}
	if end.isa != 0 {
		if h.opcodeBase <= 12 {
			return nil
		}
		b = append(b, 12, 0) // DW_LNS_set_isa 0
	}
	pad := size - int64(len(b))
	switch {
	case pad < 0 || pad == 1:
		return nil
	case pad%2 == 1:
		b = append(b, 2, 0x80, 0) // DW_LNS_advance_pc 0, in a LEB128 one byte longer
		pad -= 3
	}
	for ; pad > 0; pad -= 2 {
		b = append(b, 2, 0) // DW_LNS_advance_pc 0
	}
	return b
}

// sleb decodes the signed LEB128 b (uleb found its end).
func sleb(b []byte) int64 {
	var v int64
	var shift uint
	for _, c := range b {
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
	}
	if shift < 64 && len(b) > 0 && b[len(b)-1]&0x40 != 0 {
		v |= -1 << shift
	}
	return v
}

// appendSleb appends v as a signed LEB128.
func appendSleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
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

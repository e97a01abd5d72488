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
	"context"
	"encoding/binary"
	"errors"
	"io"
	"slices"
)

// maxUnit is the most bytes of one unit read at once: a larger unit is
// left as it is.
var maxUnit int64 = 8 << 20 // a var for tests

// Reorder writes the .debug_line section sec (size bytes, byte order bo)
// to w with each unit's sequences in address order and neighbours joined
// (see join). It writes nothing and returns false when nothing would
// change; with joinAlone false, joins alone are not a reason to change the
// section: a compressed one (Go's) is then passed through as it is unless
// a unit is out of order. A unit it cannot parse, or whose program is not
// whole sequences each starting with DW_LNE_set_address, is copied as it
// is: the section is never rejected.
//
// It goes over the section twice, one unit in memory at a time: first to
// find the units that change, then to write. Memory is the largest unit
// and 24 bytes a sequence of it, whatever the section's size. When ctx is
// done it stops between units with ctx's error: a large section takes
// seconds.
func Reorder(ctx context.Context, sec io.ReaderAt, size int64, bo binary.ByteOrder, joinAlone bool, w io.Writer) (changed bool, err error) {
	changed, _, err = ReorderWith(ctx, sec, size, bo, Options{JoinAlone: joinAlone}, w)
	return changed, err
}

// Options tune ReorderWith.
type Options struct {
	// JoinAlone: joins alone are a reason to change the section (Reorder).
	JoinAlone bool
	// Dead, when set, says whether a sequence that starts at addr is of
	// code the linker discarded: GNU ld and gold leave the line table of a
	// function that --gc-sections dropped with its addresses counted from
	// 0, where in a PIE or a shared library they cover real code, and
	// Parca then gives that code the dropped function's lines. Such a
	// sequence is dropped: its bytes become opcodes that emit no row
	// (DW_LNS_advance_pc 0), at the start of its unit's program, so that
	// no size or offset changes.
	Dead func(addr uint64) bool
}

// minUnit is the least unit_length of a line-table unit: a version, a
// header_length and the header's fixed fields.
const minUnit = 2 + 4 + 4

// ReorderWith is Reorder with options; it also returns how many sequences
// it dropped as dead.
func ReorderWith(ctx context.Context, sec io.ReaderAt, size int64, bo binary.ByteOrder, opts Options, w io.Writer) (changed bool, dropped int, err error) {
	var (
		u              unitReader
		changes        []int64 // offsets of the units that change
		sorted, joined bool
	)
	for off := int64(0); off < size; {
		if err := ctx.Err(); err != nil {
			return false, 0, err
		}
		n, seqs, h, err := u.read(sec, off, size, bo)
		if err != nil {
			return false, 0, err
		}
		if n == 0 {
			break // the rest stays as it is
		}
		if seqs != nil {
			unsorted := !slices.IsSortedFunc(seqs, bySeqAddr)
			dead := arrange(seqs, h, opts.Dead)
			unsorted = unsorted || dead > 0
			// A unit sorted anyway is written with its joins: only a sorted
			// one needs looking for one.
			joins := !unsorted && anyJoin(u.buf, seqs, h, bo)
			if unsorted || joins {
				changes = append(changes, off)
			}
			sorted, joined, dropped = sorted || unsorted, joined || joins, dropped+dead
		}
		off += n
	}
	if !sorted && (!joined || !opts.JoinAlone) {
		return false, 0, nil
	}
	u.sized = true // the second pass reads units the first has seen
	copyBuf := make([]byte, 32<<10)
	at := int64(0)
	for _, off := range changes {
		if err := ctx.Err(); err != nil {
			return false, 0, err
		}
		if _, err := io.CopyBuffer(w, io.NewSectionReader(sec, at, off-at), copyBuf); err != nil {
			return false, 0, err
		}
		n, seqs, h, err := u.read(sec, off, size, bo)
		if err != nil {
			return false, 0, err
		}
		if seqs == nil {
			return false, 0, errors.New("a .debug_line unit changed between two reads")
		}
		dead := arrange(seqs, h, opts.Dead)
		if err := writeUnit(w, u.buf, seqs, dead, h, bo); err != nil {
			return false, 0, err
		}
		at = off + n
	}
	if _, err := io.CopyBuffer(w, io.NewSectionReader(sec, at, size-at), copyBuf); err != nil {
		return false, 0, err
	}
	return true, dropped, nil
}

// arrange sorts seqs by address, with the dead ones (see Options.Dead)
// first, and returns how many are dead. Only a unit whose opcodes are all
// standard has dead sequences: the filler that replaces them is a
// standard opcode.
func arrange(seqs []sequence, h header, dead func(uint64) bool) int {
	n := 0
	if dead != nil && h.simulated && h.opcodeBase > 2 {
		for i := range seqs {
			seqs[i].dead = dead(seqs[i].addr)
			if seqs[i].dead {
				n++
			}
		}
	}
	slices.SortStableFunc(seqs, func(a, b sequence) int {
		switch {
		case a.dead != b.dead:
			if a.dead {
				return -1
			}
			return 1
		}
		return bySeqAddr(a, b)
	})
	return n
}

// unitReader reads units into one buffer, and their sequences into one
// slice, both reused from unit to unit.
type unitReader struct {
	buf   []byte
	seqs  []sequence
	sized bool // seqs has room for the largest unit to come
}

// read reads the unit at off and returns its length (0: the section's
// rest is not units) and its sequences (nil: it is to stay as it is).
func (ur *unitReader) read(sec io.ReaderAt, off, size int64, bo binary.ByteOrder) (int64, []sequence, header, error) {
	var hdr [12]byte
	if size-off < 4 {
		return 0, nil, header{}, nil
	}
	n, err := sec.ReadAt(hdr[:min(12, size-off)], off)
	if n < min(12, int(size-off)) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, header{}, err
	}
	length, lenSize := uint64(bo.Uint32(hdr[:])), int64(4)
	if length == 0xffffffff && n == 12 {
		length, lenSize = bo.Uint64(hdr[4:]), 12
	}
	// A unit too short for a line-table header is not one: the rest
	// stays as it is (a section of zeros would otherwise be walked 4 bytes
	// at a time, minutes for 200 MiB, review s15-r2, finding 3).
	if length >= 0xfffffff0 && lenSize == 4 || length > uint64(size-off-lenSize) || length < minUnit {
		return 0, nil, header{}, nil
	}
	unitLen := lenSize + int64(length)
	if length > uint64(maxUnit) {
		return unitLen, nil, header{}, nil // too large to read at once: it stays
	}
	// Read front to back: a section is one run for elfdebug's input check.
	ur.buf = slices.Grow(ur.buf[:0], int(unitLen))[:unitLen]
	have := copy(ur.buf, hdr[:n])
	if m, err := sec.ReadAt(ur.buf[have:], off+int64(have)); m < len(ur.buf)-have {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, header{}, err
	}
	if unitLen > 1<<20 && !ur.sized {
		// A large unit may hold hundreds of thousands of sequences:
		// counted first, so the slice is allocated once, not grown by a
		// quarter at a time (five times its size allocated in all).
		n := 0
		if _, _, err := sequences(ur.buf, lenSize, bo, nil, func() { n++ }); err == nil && n > cap(ur.seqs) {
			ur.seqs = make([]sequence, 0, n)
		}
	}
	seqs, h, err := sequences(ur.buf, lenSize, bo, ur.seqs[:0], nil)
	ur.seqs = seqs[:0]
	// One sequence is in order already, but may be a dead one (a unit
	// whose every function the linker discarded).
	if err != nil || len(seqs) == 0 {
		return unitLen, nil, h, nil
	}
	return unitLen, seqs, h, nil
}

// writeUnit writes the unit u (its sequences seqs, arranged: the first
// dead of them dead) to w: its header, filler for the dead sequences, then
// the others, joined where joinOf says.
func writeUnit(w io.Writer, u []byte, seqs []sequence, dead int, h header, bo binary.ByteOrder) error {
	if _, err := w.Write(u[:h.prog]); err != nil {
		return err
	}
	for _, s := range seqs[:dead] {
		if _, err := w.Write(filler(int(s.n))); err != nil {
			return err
		}
	}
	seqs = seqs[dead:]
	var (
		next join // what the previous sequence's join left for this one
		lit  [maxLit]byte
	)
	for i, s := range seqs {
		b := u[s.off : s.off+s.n]
		var parts [3][]byte
		if next.setLen > 0 {
			// Its DW_LNE_set_address went into the join before it.
			parts[0], b = b[:next.setAt], b[next.setAt+next.setLen:]
		}
		next = join{}
		if i+1 < len(seqs) {
			next = joinOf(u, s, seqs[i+1], h, bo, lit[:0])
		}
		if next.lit != nil {
			// Its DW_LNE_end_sequence, and the next one's
			// DW_LNE_set_address, become the join's bytes.
			b, parts[2] = b[:len(b)-endSeqLen], next.lit
		}
		parts[1] = b
		for _, p := range parts {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// sequence is one sequence of a unit: where its bytes are in the unit,
// its first DW_LNE_set_address, and the address its DW_LNE_end_sequence
// is at (0 when the unit's addresses cannot be followed). 24 bytes: a unit
// may have hundreds of thousands.
type sequence struct {
	addr, end uint64
	off, n    uint32
	dead      bool // fits in the padding: still 24 bytes
}

// filler is n (at least 2) bytes of line program that emit no row and
// change no register: DW_LNS_advance_pc 0, with a 2-byte LEB128 0 for an
// odd n.
func filler(n int) []byte {
	b := make([]byte, 0, n)
	if n%2 == 1 {
		b = append(b, 2, 0x80, 0)
	}
	for len(b) < n {
		b = append(b, 2, 0)
	}
	return b
}

// seqInfo is what join needs of one sequence, found by walking it again:
// where its first DW_LNE_set_address is and its length, when nothing
// before it moves the address and the first row is at that address
// (setLen 0: not so), the file of its first row, and the registers of its
// end row.
type seqInfo struct {
	setAt, setLen int
	firstFile     uint64
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
// returns its sequences (appended to seqs) and header; with count set, it
// calls count for each sequence instead of keeping them.
func sequences(u []byte, lenSize int64, bo binary.ByteOrder, seqs []sequence, count func()) ([]sequence, header, error) {
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
	each := func(s sequence, _ seqInfo) { seqs = append(seqs, s) }
	if count != nil {
		each = func(sequence, seqInfo) { count() }
	}
	err := walk(u[:len(u):len(u)], prog, h, bo, each)
	return seqs, h, err
}

// walk runs over the program u[i:], cutting it after each
// DW_LNE_end_sequence and following the registers (when h.simulated), and
// calls each with every sequence.
func walk(u []byte, i int, h header, bo binary.ByteOrder, each func(sequence, seqInfo)) error {
	reset := func() state { return state{file: 1, line: 1, stmt: h.defaultStmt, known: h.simulated} }
	st := reset()
	// A row before the first DW_LNE_set_address would sit at an address
	// the sort key does not give.
	start, haveAddr, addr, row := i, false, uint64(0), false
	moved, setAt, setLen, firstFile := false, 0, 0, uint64(0)
	emit := func() {
		if !row {
			firstFile = st.file
			if !h.simulated || st.addr != addr {
				setLen = 0 // the first row is not at the sequence's address
			}
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
				return errFormat
			}
			sub, operands := u[next], u[next+1:next+int(n)]
			i = next + int(n)
			switch sub {
			case 1: // DW_LNE_end_sequence
				if len(operands) != 0 || !haveAddr {
					return errFormat
				}
				end := st
				end.endLen = int64(i - at)
				sq := sequence{addr: addr, off: uint32(start), n: uint32(i - start)}
				if h.simulated {
					sq.end = st.addr
				}
				each(sq, seqInfo{setAt: setAt, setLen: setLen, firstFile: firstFile, end: end})
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
					return errFormat
				}
				st.addr = a
				if haveAddr {
					break
				}
				if row {
					return errFormat
				}
				addr, haveAddr = a, true
				if !moved {
					setAt, setLen = at-start, i-at
				}
			case 3: // DW_LNE_define_file: the unit's file table, not a register
			case 4: // DW_LNE_set_discriminator: the next row's, like a flag
				st.flagged = true
			default: // a vendor's: nothing after it is joined
				st.known = false
			}
		case op == 9: // DW_LNS_fixed_advance_pc: a uhalf, not a LEB128
			if i+2 > len(u) {
				return errFormat
			}
			st.addr += uint64(bo.Uint16(u[i:]))
			moved = true
			i += 2
		default:
			var arg uint64
			for k := range h.argc[op-1] {
				v, next, ok := uleb(u, i)
				if !ok {
					return errFormat
				}
				if k == 0 {
					arg = v
					if op == 3 { // DW_LNS_advance_line: signed
						arg = uint64(sleb(u[i:next]))
					}
				}
				i = next
			}
			if h.simulated { // line_range may be 0 in a hostile header: const_add_pc divides by it
				st.apply(op, arg, h)
			}
			moved = moved || op == 2 || op == 8
		}
	}
	if i != len(u) || start != len(u) {
		return errFormat // a program that does not end a sequence at its end
	}
	return nil
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

// anyJoin says whether one of the sorted seqs is to be joined to the next
// (joinOf).
func anyJoin(u []byte, seqs []sequence, h header, bo binary.ByteOrder) bool {
	var lit [maxLit]byte
	for i := 0; i+1 < len(seqs); i++ {
		if joinOf(u, seqs[i], seqs[i+1], h, bo, lit[:0]).lit != nil {
			return true
		}
	}
	return false
}

// maxLit is the most bytes a join writes: a DW_LNE_end_sequence and a
// DW_LNE_set_address of an 8-byte address.
const maxLit = endSeqLen + 11

// join is how sequence a of a unit is joined to the next, b: lit replaces
// a's DW_LNE_end_sequence, and b's DW_LNE_set_address (setAt, setLen bytes
// into b) goes. lit nil: no join.
type join struct {
	lit           []byte
	setAt, setLen int
}

// joinOf says whether a is to be joined to b: a ends, in a state Parca
// keeps as a row (a statement), at the address where b has its first row,
// in the same file, and a's DW_LNE_end_sequence and b's
// DW_LNE_set_address make room for resetLit's bytes. gcc puts a
// DW_LNS_set_column before the latter: opcodes that move no address may
// come first, and stay. In another file, gdb would take a's last line to
// run on to that file's next row, past b (its ranges end at a sequence's
// end or the next row of the same file; review s12-r2, finding 3).
// lit is appended to dst.
func joinOf(u []byte, a, b sequence, h header, bo binary.ByteOrder, dst []byte) join {
	if !h.simulated || a.end == 0 || a.end != b.addr {
		return join{}
	}
	ai, bi := inspect(u, a, h, bo), inspect(u, b, h, bo)
	end := ai.end
	if !end.known || !end.stmt || end.flagged || end.endLen != endSeqLen || bi.setLen == 0 || bi.firstFile != end.file {
		return join{}
	}
	lit := resetLit(dst, end, h, int64(endSeqLen+bi.setLen))
	if lit == nil {
		return join{}
	}
	return join{lit: lit, setAt: bi.setAt, setLen: bi.setLen}
}

// inspect walks the sequence s of the unit u alone (a sequence starts
// from the state machine's initial state) for what join needs of it.
func inspect(u []byte, s sequence, h header, bo binary.ByteOrder) seqInfo {
	var info seqInfo
	if walk(u[:s.off+s.n:s.off+s.n], int(s.off), h, bo, func(_ sequence, i seqInfo) { info = i }) != nil {
		return seqInfo{}
	}
	return info
}

// resetLit returns size bytes of line program that take the registers from
// end (where a sequence would end) to the state a new sequence starts in,
// without a row: what replaces a sequence's DW_LNE_end_sequence and the
// next one's DW_LNE_set_address, whose address the registers already hold.
// Padding is DW_LNS_advance_pc 0. They are appended to b; nil: they do
// not fit.
func resetLit(b []byte, end state, h header, size int64) []byte {
	start := len(b)
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
	pad := size - int64(len(b)-start)
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

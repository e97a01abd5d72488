// Package tombstone finds the DWARF a linker left behind for code it
// discarded, and the patches that leave it describing no address.
//
// GNU ld and gold keep the debug info of a function that --gc-sections
// (Bazel's -c opt, many release builds) threw away, with its addresses
// relocated to 0. In a PIE or a shared library, whose code starts a page
// or so above 0, such a function then covers main, _start and whatever
// else comes first, and Parca v0.28.0, which takes the first unit and the
// first function whose range holds an address, shows the discarded
// function's name there. lld writes -1 instead (DWARF 6's tombstone),
// which describes no code, and DWARF 4 .debug_ranges already get the empty
// range (1, 1) from GNU ld.
//
// Each patch makes a range empty in place, without changing a size or an
// offset: a subprogram's (or unit's) DW_AT_high_pc is set to its low_pc,
// a range-list entry ends where it starts. Line tables are the package
// lineorder's.
package tombstone

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// Section is one DWARF section's bytes (uncompressed); a nil R is absent.
type Section struct {
	R    io.ReaderAt
	Size int64
	// Sink, when set, takes the section's patches instead of Find's
	// Patches (Info, Rnglists, Ranges and Aranges only).
	Sink Sink
}

// Sections are what Find reads and patches.
type Sections struct {
	Info, Abbrev, Addr, Rnglists, Ranges, Aranges Section
}

// Patches are the patches of each section without a Sink, in offset order.
type Patches struct {
	Info, Rnglists, Ranges, Aranges List
}

// Len is how many patches there are.
func (p *Patches) Len() int {
	return p.Info.Len() + p.Rnglists.Len() + p.Ranges.Len() + p.Aranges.Len()
}

// Corrupt is DWARF that is not DWARF: a unit or table cut short, an entry
// whose abbreviation is not in its table. (A version or form this package
// does not know is not corrupt: it is left to its readers.)
type Corrupt struct{ Err error }

func (c *Corrupt) Error() string { return c.Err.Error() }

func corrupt(format string, args ...any) error { return &Corrupt{fmt.Errorf(format, args...)} }

// Check walks every entry of every unit of s.Info, as Find does, and
// returns a *Corrupt when the DWARF is corrupt, or ctx's error.
func Check(ctx context.Context, s Sections, bo binary.ByteOrder) error {
	if s.Info.R == nil || s.Abbrev.R == nil {
		return nil
	}
	w := &walker{s: s, bo: bo, budget: 4*s.Abbrev.Size + 1<<20}
	err := w.units(ctx)
	var c *Corrupt
	if ctx.Err() != nil || errors.As(err, &c) {
		return err
	}
	return nil
}

// Coverage returns the address ranges the units of s.Info claim (their
// first entries' DW_AT_low_pc and DW_AT_high_pc, or DW_AT_ranges): what a
// symbolizer that finds a unit by address can find.
func Coverage(ctx context.Context, s Sections, bo binary.ByteOrder) ([][2]uint64, error) {
	if s.Info.R == nil || s.Abbrev.R == nil {
		return nil, nil
	}
	var cover [][2]uint64
	w := &walker{s: s, bo: bo, cover: &cover,
		budget: 4*(s.Abbrev.Size+s.Rnglists.Size+s.Ranges.Size) + 1<<20}
	if err := w.units(ctx); err != nil {
		return nil, err
	}
	return cover, nil
}

// Find walks every unit of s.Info and returns the patches that empty the
// ranges dead says start in discarded code. An error means the DWARF could
// not be followed (patches are then not to be applied).
func Find(ctx context.Context, s Sections, bo binary.ByteOrder, dead func(uint64) bool) (Patches, error) {
	if s.Info.R == nil || s.Abbrev.R == nil {
		return Patches{}, nil
	}
	w := &walker{s: s, bo: bo, dead: dead,
		budget: 4*(s.Abbrev.Size+s.Rnglists.Size+s.Ranges.Size) + 1<<20}
	for k, x := range []struct {
		sec  Section
		list *List
	}{{s.Info, &w.p.Info}, {s.Rnglists, &w.p.Rnglists}, {s.Ranges, &w.p.Ranges}, {s.Aranges, &w.p.Aranges}} {
		w.out[k] = x.sec.Sink
		if w.out[k] == nil {
			w.out[k] = x.list
		}
	}
	err := w.units(ctx)
	if err == nil {
		err = w.aranges()
	}
	if err == nil {
		err = w.sinkErr
	}
	if err != nil {
		return Patches{}, err
	}
	for _, l := range []*List{&w.p.Info, &w.p.Rnglists, &w.p.Ranges, &w.p.Aranges} {
		l.Sort()
	}
	return w.p, nil
}

// The sections patches are made for, as indexes of walker.out.
const (
	secInfo = iota
	secRnglists
	secRanges
	secAranges
)

type walker struct {
	s    Sections
	bo   binary.ByteOrder
	dead func(uint64) bool
	p    Patches
	// The range lists already looked at (units share them), by section,
	// and those of them whose every range was of discarded code.
	rnglistsSeen, rangesSeen, rnglistsDead, rangesDead offsets

	abbrevs map[uint64]*abbrev           // the current unit's table
	tables  map[int64]map[uint64]*abbrev // tables read, by offset

	// budget bounds the bytes read again and again (abbreviation tables,
	// range lists): a hostile file could have every unit re-read a large
	// table, or every entry a long list.
	budget int64

	// cover, when set, collects each unit's ranges (Coverage), and the
	// walk reads units' first entries only.
	cover *[][2]uint64

	// One reader each for the sections read a few bytes at a time, mostly
	// forward: a reader per range list or .debug_addr entry filled a
	// 64 KiB window each time (review s15-r2: 2.5 to 4.9 GB allocated,
	// 10 s, on a 28 MB program).
	addrR, rnglistsR, rangesR, abbrevR *reader
	scratch                            []byte // a patch's bytes being made (see alloc)

	out     [4]Sink // by section: info, rnglists, ranges, aranges
	sinkErr error   // the first error of one
}

// offsets is a set of offsets in a section, a bit each: a range list takes
// a few bytes, and a map of them took 4.5 MB for the 400,000 lists of a
// 28 MB --gc-sections program; the bits of its 1.6 MB section, 200 KB.
type offsets struct{ bits []uint64 }

// add adds off, in a section of size bytes, and says whether it is new.
// One outside the section is always new: its walk fails.
func (o *offsets) add(off, size int64) bool {
	if off < 0 || off >= size {
		return true
	}
	if o.bits == nil {
		o.bits = make([]uint64, (size+63)/64)
	}
	i, m := off/64, uint64(1)<<(off%64)
	if o.bits[i]&m != 0 {
		return false
	}
	o.bits[i] |= m
	return true
}

// has says whether off is in o.
func (o *offsets) has(off int64) bool {
	return off >= 0 && off/64 < int64(len(o.bits)) && o.bits[off/64]&(uint64(1)<<(off%64)) != 0
}

// shared is the walk's reader of sec in *keep, at pos, its error cleared.
func (w *walker) shared(sec Section, keep **reader, pos int64) *reader {
	if *keep == nil {
		// Up to 1 MiB at once: most programs' lists and tables whole.
		*keep = newReader(sec.R, sec.Size, w.bo)
		(*keep).window = 1 << 20
	}
	d := *keep
	d.pos, d.err = pos, nil
	return d
}

// isDead is dead, for a walk that looks for no discarded code too.
func (w *walker) isDead(a uint64) bool { return w.dead != nil && w.dead(a) }

// covers adds [lo, hi) to the coverage, when it is collected.
func (w *walker) covers(lo, hi uint64) {
	if w.cover != nil && lo < hi {
		*w.cover = append(*w.cover, [2]uint64{lo, hi})
	}
}

// spend charges n bytes read to the budget.
func (w *walker) spend(n int64) error {
	if w.budget -= n; w.budget < 0 {
		return errors.New("DWARF tables read over and over: not followed")
	}
	return nil
}

// abbrev is an abbreviation's attributes (its tag and children flag are
// not needed: entries are read in order, the ends of child lists included).
type abbrev struct {
	specs    []spec
	children bool
}

type spec struct {
	attr, form uint64
	implicit   int64
}

// unit is what a unit's DIEs need of it.
type unit struct {
	version  int
	asize    int
	dwarf64  bool
	base     uint64 // the unit's base address: its DW_AT_low_pc
	addrBase int64  // DW_AT_addr_base: where its .debug_addr entries start
	rngBase  int64  // DW_AT_rnglists_base
	hasAddrB bool
	hasRngB  bool
}

// value is one attribute's form and where its value is in .debug_info.
type value struct {
	form uint64
	at   int64
	n    int    // its size in bytes
	v    uint64 // its value (an address, a constant, an index or offset)
	set  bool
}

func (w *walker) units(ctx context.Context) error {
	d := newReader(w.s.Info.R, w.s.Info.Size, w.bo)
	for d.pos < d.size {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := d.pos
		length, dwarf64 := d.length()
		if d.err != nil {
			return corrupt(".debug_info at %#x: %v", start, d.err)
		}
		end := d.pos + int64(length)
		if length > uint64(d.size-d.pos) {
			return corrupt(".debug_info at %#x: a unit of %d bytes, past the section's end", start, length)
		}
		u := unit{dwarf64: dwarf64, version: int(d.u16())}
		if u.version < 2 || u.version > 5 {
			// Go's debug/dwarf (Parca's) refuses the whole file then.
			return corrupt(".debug_info at %#x: DWARF version %d", start, u.version)
		}
		utype := uint8(1)
		if u.version >= 5 {
			utype, u.asize = d.u8(), int(d.u8())
		}
		abbrevOff := int64(d.offset(dwarf64))
		if u.version < 5 {
			u.asize = int(d.u8())
		}
		switch utype {
		case 4, 5: // skeleton, split_compile: a unit ID
			d.skip(8)
		case 2, 6: // type, split_type: a signature, a type offset
			d.skip(8)
			d.offset(dwarf64)
		}
		if u.asize != 4 && u.asize != 8 {
			return fmt.Errorf(".debug_info at %#x: address size %d", start, u.asize)
		}
		if err := w.loadAbbrevs(abbrevOff); err != nil {
			return fmt.Errorf(".debug_info unit at %#x: %w", start, err)
		}
		if err := w.dies(d, &u, end); err != nil {
			var c *Corrupt
			if errors.As(err, &c) {
				return corrupt(".debug_info unit at %#x: %v", start, c.Err)
			}
			return fmt.Errorf(".debug_info unit at %#x: %w", start, err)
		}
		d.seek(end)
	}
	return d.err
}

// dies walks one unit's entries, up to end.
//
// An entry inside a discarded one (a function's lexical blocks and inlined
// calls) is discarded too, whatever its addresses say: gold relocates an
// address in discarded code to 0 plus its offset in the function, not 0,
// so a block's range starts past 0, and over live code when the function
// was larger than what precedes .text; Parca v0.28.0 (delve's tree) adds
// a function's children's ranges to its own, and named main after the
// dropped function (review s18-r1, finding 1).
func (w *walker) dies(d *reader, u *unit, end int64) error {
	first := true
	depth, deadAt := 0, -1 // deadAt: the depth of the discarded entry whose children these are
	for n := 0; d.pos < end; n++ {
		at := d.pos
		code := d.uleb()
		if d.err != nil {
			return corrupt("entry at %#x: %v", at, d.err)
		}
		if code == 0 { // the end of a list of children
			depth = max(0, depth-1)
			if depth <= deadAt {
				deadAt = -1
			}
			continue
		}
		ab := w.abbrevs[code]
		if ab == nil {
			return corrupt("entry at %#x: abbreviation %d is not in the unit's table", at, code)
		}
		var low, high, ranges value
		for _, sp := range ab.specs {
			v, err := w.attr(d, u, sp)
			if d.err != nil {
				return corrupt("entry at %#x: %v", at, d.err)
			}
			if err != nil {
				return err // a form this package does not know
			}
			switch sp.attr {
			case atLowPC:
				low = v
			case atHighPC:
				high = v
			case atRanges:
				ranges = v
			case atAddrBase:
				if first {
					u.addrBase, u.hasAddrB = int64(v.v), true
				}
			case atRnglistsBase:
				if first {
					u.rngBase, u.hasRngB = int64(v.v), true
				}
			}
		}
		if d.err != nil || d.pos > end {
			return corrupt("entry at %#x runs past its unit's end", at)
		}
		inDead := deadAt >= 0
		if ab.children {
			depth++
		}
		if w.dead == nil && w.cover == nil {
			continue // Check: only whether it reads
		}
		lowAddr, lowOK := w.address(u, low)
		if first {
			// The unit's base address is its own low_pc (0 when it has
			// ranges instead): range lists count from it.
			first = false
			u.base = lowAddr
			if w.cover != nil {
				if ranges.set {
					_, err := w.rangeList(u, ranges, false)
					return err
				}
				if lowOK && high.set {
					hi := high.v
					if high.form != dwarfform.Addr {
						hi = lowAddr + high.v
					}
					w.covers(lowAddr, hi)
				}
				return nil // Coverage: the unit's ranges are its first entry's
			}
		}
		dead := inDead
		switch {
		case ranges.set:
			allDead, err := w.rangeList(u, ranges, inDead)
			if err != nil {
				return err
			}
			dead = dead || allDead
		case lowOK && high.set && (inDead || w.dead(lowAddr)):
			w.emptyHigh(u, low, high)
			dead = true
		}
		if dead && ab.children && deadAt < 0 {
			deadAt = depth - 1
		}
	}
	return nil
}

// address resolves a DW_AT_low_pc value: false when there is none, or it
// cannot be read.
func (w *walker) address(u *unit, v value) (uint64, bool) {
	switch {
	case !v.set:
		return 0, false
	case v.form == dwarfform.Addr:
		return v.v, true
	case isAddrx(v.form):
		return w.addrx(u, v.v)
	}
	return 0, false
}

// addrx reads entry i of the unit's .debug_addr contribution.
func (w *walker) addrx(u *unit, i uint64) (uint64, bool) {
	if w.s.Addr.R == nil || !u.hasAddrB {
		return 0, false
	}
	if i > uint64(w.s.Addr.Size)/uint64(u.asize) {
		return 0, false
	}
	d := w.shared(w.s.Addr, &w.addrR, u.addrBase+int64(i)*int64(u.asize))
	a := d.uint(u.asize)
	return a, d.err == nil
}

// emptyHigh sets high to low: the entry then covers no address.
func (w *walker) emptyHigh(u *unit, low, high value) {
	var b []byte // nil: no patch
	switch {
	case high.form == dwarfform.Addr && low.form == dwarfform.Addr:
		b = w.putAddr(u.asize, low.v)
	case high.form == dwarfform.Data1 || high.form == dwarfform.Data2 || high.form == dwarfform.Data4 || high.form == dwarfform.Data8:
		b = w.alloc(high.n) // the length: 0
	case high.form == dwarfform.Udata || high.form == dwarfform.Sdata:
		b = w.paddedLEB(0, high.n)
	default:
		return // an index or an implicit constant: cannot be changed in place
	}
	w.add(secInfo, high.at, b)
}

// add gives section sec's sink the patch writing b at off.
func (w *walker) add(sec int, off int64, b []byte) {
	if len(b) == 0 || w.sinkErr != nil {
		return
	}
	w.sinkErr = w.out[sec].Add(off, b)
}

// pair is a and b, each size bytes, in one patch.
func (w *walker) pair(size int, a, b uint64) []byte {
	p := w.alloc(2 * size)
	w.put(p[:size], a)
	w.put(p[size:], b)
	return p
}

func (w *walker) put(p []byte, a uint64) {
	if len(p) == 4 {
		w.bo.PutUint32(p, uint32(a))
	} else {
		w.bo.PutUint64(p, a)
	}
}

func (w *walker) putAddr(size int, a uint64) []byte {
	b := w.alloc(size)
	w.put(b, a)
	return b
}

// alloc is n zero bytes for a patch's bytes, valid until the next call:
// add copies them. (An allocation per patch cost 17 MB on a 28 MB
// program, review s15-r2.)
func (w *walker) alloc(n int) []byte {
	if cap(w.scratch) < n {
		w.scratch = make([]byte, n)
	}
	w.scratch = w.scratch[:n]
	clear(w.scratch)
	return w.scratch
}

// paddedLEB is v as a LEB128 of exactly n bytes (continuation bytes pad
// it), or nil when it needs more. Zero pads the same signed or not.
func (w *walker) paddedLEB(v uint64, n int) []byte {
	if n <= 0 || n < 10 && v>>(7*n) != 0 {
		return nil
	}
	b := w.alloc(n)
	for i := range n {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
	b[n-1] &^= 0x80
	return b
}

// rangeList empties the entries of the range list v names that start in
// discarded code, or all of them when force (the list of an entry inside
// discarded code). allDead says whether every range it has is of
// discarded code (at least one), now or when it was first looked at.
func (w *walker) rangeList(u *unit, v value, force bool) (allDead bool, err error) {
	off := int64(v.v)
	var (
		sec        Section
		seen, dead *offsets
		walk       func() (int64, bool, error)
	)
	if u.version >= 5 {
		sec, seen, dead = w.s.Rnglists, &w.rnglistsSeen, &w.rnglistsDead
		if sec.R == nil {
			return false, nil
		}
		if v.form == dwarfform.Rnglistx {
			if !u.hasRngB {
				return false, nil
			}
			size := int64(4)
			if u.dwarf64 {
				size = 8
			}
			d := w.shared(sec, &w.rnglistsR, u.rngBase+int64(v.v)*size)
			off = u.rngBase + int64(d.offset(u.dwarf64))
			if d.err != nil {
				return false, d.err
			}
		}
		walk = func() (int64, bool, error) { return w.rnglist(u, sec, off, force) }
	} else {
		sec, seen, dead = w.s.Ranges, &w.rangesSeen, &w.rangesDead
		if sec.R == nil {
			return false, nil
		}
		walk = func() (int64, bool, error) { return w.ranges(u, sec, off, force) }
	}
	if !seen.add(off, sec.Size) {
		return dead.has(off), nil
	}
	end, allDead, err := walk()
	if err != nil {
		return false, err
	}
	if allDead {
		dead.add(off, sec.Size)
	}
	return allDead, w.spend(end - off)
}

// rnglist: a DWARF 5 range list at off (see rangeList); it returns where
// the list ends.
func (w *walker) rnglist(u *unit, sec Section, off int64, force bool) (_ int64, allDead bool, _ error) {
	d := w.shared(sec, &w.rnglistsR, off)
	base, baseDead := u.base, false
	var dead, live int
	// empty counts a range [lo, hi) as emptied or kept.
	empty := func(lo, hi uint64, emptied bool) {
		switch {
		case emptied:
			dead++
		case hi > lo:
			live++
		}
	}
	for n := 0; ; n++ {
		if n > 1<<20 {
			return 0, false, errors.New(".debug_rnglists: a list without end")
		}
		kind := d.u8()
		if d.err != nil {
			return 0, false, d.err
		}
		switch kind {
		case 0: // DW_RLE_end_of_list
			return d.pos, dead > 0 && live == 0, nil
		case 1: // DW_RLE_base_addressx
			a, ok := w.addrx(u, d.uleb())
			base, baseDead = a, ok && w.isDead(a)
		case 2: // DW_RLE_startx_endx
			i := d.uleb()
			at := d.pos
			j := d.uleb()
			a, ok := w.addrx(u, i)
			e, eok := w.addrx(u, j)
			kill := force || ok && w.isDead(a)
			if kill {
				kill = w.patchLEB(secRnglists, at, d.pos, i)
			}
			if ok && eok {
				w.covers(a, e)
				empty(a, e, kill)
			}
		case 3: // DW_RLE_startx_length
			a, ok := w.addrx(u, d.uleb())
			at := d.pos
			n := d.uleb()
			kill := force || ok && w.isDead(a)
			if kill {
				kill = w.patchLEB(secRnglists, at, d.pos, 0)
			}
			if ok {
				w.covers(a, a+n)
				empty(a, a+n, kill)
			}
		case 4: // DW_RLE_offset_pair
			s := d.uleb()
			at := d.pos
			e := d.uleb()
			kill := force || baseDead || w.isDead(base+s)
			if kill {
				kill = w.patchLEB(secRnglists, at, d.pos, s)
			}
			w.covers(base+s, base+e)
			empty(base+s, base+e, kill)
		case 5: // DW_RLE_base_address
			base = d.uint(u.asize)
			baseDead = w.isDead(base)
		case 6: // DW_RLE_start_end
			s := d.uint(u.asize)
			at := d.pos
			e := d.uint(u.asize)
			kill := force || w.isDead(s)
			if kill {
				w.add(secRnglists, at, w.putAddr(u.asize, s))
			}
			w.covers(s, e)
			empty(s, e, kill)
		case 7: // DW_RLE_start_length
			s := d.uint(u.asize)
			at := d.pos
			n := d.uleb()
			kill := force || w.isDead(s)
			if kill {
				kill = w.patchLEB(secRnglists, at, d.pos, 0)
			}
			w.covers(s, s+n)
			empty(s, s+n, kill)
		default:
			return 0, false, fmt.Errorf(".debug_rnglists at %#x: entry kind %d", d.pos-1, kind)
		}
		if d.err != nil {
			return 0, false, d.err
		}
	}
}

// patchLEB rewrites the LEB128 at [at, end) as v, padded to its length.
// It says whether it could (v fits).
func (w *walker) patchLEB(sec int, at, end int64, v uint64) bool {
	b := w.paddedLEB(v, int(end-at))
	w.add(sec, at, b)
	return b != nil
}

// ranges: a DWARF 2-4 .debug_ranges list at off; it returns where the list
// ends. A dead pair becomes
// (1, 1), empty, as GNU ld writes it ((0, 0) would end the list).
func (w *walker) ranges(u *unit, sec Section, off int64, force bool) (_ int64, allDead bool, _ error) {
	d := w.shared(sec, &w.rangesR, off)
	maxAddr := uint64(1)<<(8*u.asize) - 1
	if u.asize == 8 {
		maxAddr = ^uint64(0)
	}
	base := u.base
	var dead, live int
	for n := 0; ; n++ {
		if n > 1<<20 {
			return 0, false, errors.New(".debug_ranges: a list without end")
		}
		at := d.pos
		b, e := d.uint(u.asize), d.uint(u.asize)
		if d.err != nil {
			return 0, false, d.err
		}
		switch {
		case b == 0 && e == 0:
			return d.pos, dead > 0 && live == 0, nil
		case b == maxAddr:
			base = e
		case b != e && (force || w.isDead(base+b)):
			w.add(secRanges, at, w.pair(u.asize, 1, 1))
			dead++
		default:
			w.covers(base+b, base+e)
			if e > b {
				live++
			}
		}
	}
}

// aranges empties the address ranges of .debug_aranges that start in
// discarded code (gdb finds a unit by them): (1, 0), since (0, 0) ends a set.
func (w *walker) aranges() error {
	sec := w.s.Aranges
	if sec.R == nil {
		return nil
	}
	d := newReader(sec.R, sec.Size, w.bo)
	for d.pos < d.size {
		start := d.pos
		length, dwarf64 := d.length()
		end := d.pos + int64(length)
		if d.err != nil || length > uint64(d.size-d.pos) {
			return errors.New(".debug_aranges: a set past the section's end")
		}
		d.u16() // version
		d.offset(dwarf64)
		asize, segSize := int(d.u8()), int(d.u8())
		if asize != 4 && asize != 8 || segSize != 0 {
			d.seek(end) // not one this package patches
			continue
		}
		// Tuples start at a multiple of twice the address size from the set.
		if r := (d.pos - start) % int64(2*asize); r != 0 {
			d.skip(uint64(int64(2*asize) - r))
		}
		for d.err == nil && d.pos+int64(2*asize) <= end {
			at := d.pos
			a, n := d.uint(asize), d.uint(asize)
			if a == 0 && n == 0 {
				break
			}
			if n != 0 && w.dead(a) {
				w.add(secAranges, at, w.pair(asize, 1, 0))
			}
		}
		if d.err != nil {
			return d.err
		}
		d.seek(end)
	}
	return nil
}

package tombstone

import "fmt"

// Attributes this package reads.
const (
	atLowPC        = 0x11
	atHighPC       = 0x12
	atRanges       = 0x55
	atAddrBase     = 0x73
	atRnglistsBase = 0x74
)

// Forms (DWARF 5, section 7.5.6, and the GNU ones debug/dwarf knows).
const (
	fAddr          = 0x01
	fBlock2        = 0x03
	fBlock4        = 0x04
	fData2         = 0x05
	fData4         = 0x06
	fData8         = 0x07
	fString        = 0x08
	fBlock         = 0x09
	fBlock1        = 0x0a
	fData1         = 0x0b
	fFlag          = 0x0c
	fSdata         = 0x0d
	fStrp          = 0x0e
	fUdata         = 0x0f
	fRefAddr       = 0x10
	fRef1          = 0x11
	fRef2          = 0x12
	fRef4          = 0x13
	fRef8          = 0x14
	fRefUdata      = 0x15
	fIndirect      = 0x16
	fSecOffset     = 0x17
	fExprloc       = 0x18
	fFlagPresent   = 0x19
	fStrx          = 0x1a
	fAddrx         = 0x1b
	fRefSup4       = 0x1c
	fStrpSup       = 0x1d
	fData16        = 0x1e
	fLineStrp      = 0x1f
	fRefSig8       = 0x20
	fImplicitConst = 0x21
	fLoclistx      = 0x22
	fRnglistx      = 0x23
	fRefSup8       = 0x24
	fStrx1         = 0x25
	fStrx2         = 0x26
	fStrx3         = 0x27
	fStrx4         = 0x28
	fAddrx1        = 0x29
	fAddrx2        = 0x2a
	fAddrx3        = 0x2b
	fAddrx4        = 0x2c
	fGNUAddrIndex  = 0x1f01
	fGNUStrIndex   = 0x1f02
	fGNURefAlt     = 0x1f20
	fGNUStrpAlt    = 0x1f21
)

func isAddrx(form uint64) bool {
	switch form {
	case fAddrx, fAddrx1, fAddrx2, fAddrx3, fAddrx4:
		return true
	}
	return false
}

// attr reads one attribute of spec sp: its value when it is an address,
// a constant, an index or a section offset, and where it is.
func (w *walker) attr(d *reader, u *unit, sp spec) (value, error) {
	form := sp.form
	if form == fIndirect {
		form = d.uleb()
	}
	v := value{form: form, at: d.pos, set: true}
	switch form {
	case fAddr:
		v.v = d.uint(u.asize)
	case fAddrx, fUdata, fRnglistx, fLoclistx, fRefUdata, fStrx, fGNUAddrIndex, fGNUStrIndex:
		v.v = d.uleb()
	case fSdata:
		d.uleb() // the value is not needed, only its length
	case fAddrx1, fData1, fRef1, fFlag, fStrx1:
		v.v = d.uint(1)
	case fAddrx2, fData2, fRef2, fStrx2:
		v.v = d.uint(2)
	case fAddrx3, fStrx3:
		v.v = d.uint(3)
	case fAddrx4, fData4, fRef4, fRefSup4, fStrx4:
		v.v = d.uint(4)
	case fData8, fRef8, fRefSig8, fRefSup8:
		v.v = d.u64()
	case fData16:
		d.skip(16)
	case fBlock1:
		d.skip(uint64(d.u8()))
	case fBlock2:
		d.skip(uint64(d.u16()))
	case fBlock4:
		d.skip(uint64(d.u32()))
	case fBlock, fExprloc:
		d.skip(d.uleb())
	case fString:
		d.skipCString()
	case fImplicitConst:
		v.v = uint64(sp.implicit)
	case fFlagPresent:
	case fRefAddr:
		if u.version == 2 {
			v.v = d.uint(u.asize)
		} else {
			v.v = d.offset(u.dwarf64)
		}
	case fSecOffset, fStrp, fLineStrp, fStrpSup, fGNURefAlt, fGNUStrpAlt:
		v.v = d.offset(u.dwarf64)
	default:
		return v, fmt.Errorf("unknown attribute form %#x", form)
	}
	v.n = int(d.pos - v.at)
	return v, d.err
}

// loadAbbrevs makes the abbreviation table at off the current one, read
// once (units often share one, not always in a row). A table cut short is
// corrupt; one read too often (see budget) is not followed.
func (w *walker) loadAbbrevs(off int64) error {
	if m, ok := w.tables[off]; ok {
		w.abbrevs = m
		return nil
	}
	if w.tables == nil || len(w.tables) >= maxTables {
		w.tables = map[int64]map[uint64]*abbrev{}
	}
	d := w.shared(w.s.Abbrev, &w.abbrevR, off)
	m := map[uint64]*abbrev{}
	for {
		code := d.uleb()
		if d.err != nil {
			return &Corrupt{fmt.Errorf(".debug_abbrev at %#x: %w", off, d.err)}
		}
		if code == 0 {
			break
		}
		d.uleb() // the tag
		// Children: the walk reads entries in order, nulls included, and
		// counts the depth to know which are inside discarded code.
		ab := &abbrev{children: d.u8() != 0}
		for {
			a, f := d.uleb(), d.uleb()
			if d.err != nil {
				return &Corrupt{fmt.Errorf(".debug_abbrev at %#x: %w", off, d.err)}
			}
			if a == 0 && f == 0 {
				break
			}
			sp := spec{attr: a, form: f}
			if f == fImplicitConst {
				sp.implicit = d.sleb()
			}
			ab.specs = append(ab.specs, sp)
		}
		m[code] = ab
	}
	w.abbrevs, w.tables[off] = m, m
	return w.spend(d.pos - off)
}

// maxTables bounds the tables kept: a table is a few KB.
const maxTables = 256

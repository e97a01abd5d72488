package tombstone

import (
	"fmt"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// Attributes this package reads.
const (
	atLowPC        = 0x11
	atHighPC       = 0x12
	atRanges       = 0x55
	atAddrBase     = 0x73
	atRnglistsBase = 0x74
)

func isAddrx(form uint64) bool {
	switch form {
	case dwarfform.Addrx, dwarfform.Addrx1, dwarfform.Addrx2, dwarfform.Addrx3, dwarfform.Addrx4:
		return true
	}
	return false
}

// attr reads one attribute of spec sp: its value when it is an address,
// a constant, an index or a section offset, and where it is.
func (w *walker) attr(d *reader, u *unit, sp spec) (value, error) {
	form := sp.form
	if form == dwarfform.Indirect {
		form = d.uleb()
	}
	v := value{form: form, at: d.pos, set: true}
	switch form {
	case dwarfform.Addr:
		v.v = d.uint(u.asize)
	case dwarfform.Addrx, dwarfform.Udata, dwarfform.Rnglistx, dwarfform.Loclistx, dwarfform.RefUdata, dwarfform.Strx, dwarfform.GNUAddrIndex, dwarfform.GNUStrIndex:
		v.v = d.uleb()
	case dwarfform.Sdata:
		d.uleb() // the value is not needed, only its length
	case dwarfform.Addrx1, dwarfform.Data1, dwarfform.Ref1, dwarfform.Flag, dwarfform.Strx1:
		v.v = d.uint(1)
	case dwarfform.Addrx2, dwarfform.Data2, dwarfform.Ref2, dwarfform.Strx2:
		v.v = d.uint(2)
	case dwarfform.Addrx3, dwarfform.Strx3:
		v.v = d.uint(3)
	case dwarfform.Addrx4, dwarfform.Data4, dwarfform.Ref4, dwarfform.RefSup4, dwarfform.Strx4:
		v.v = d.uint(4)
	case dwarfform.Data8, dwarfform.Ref8, dwarfform.RefSig8, dwarfform.RefSup8:
		v.v = d.u64()
	case dwarfform.Data16:
		d.skip(16)
	case dwarfform.Block1:
		d.skip(uint64(d.u8()))
	case dwarfform.Block2:
		d.skip(uint64(d.u16()))
	case dwarfform.Block4:
		d.skip(uint64(d.u32()))
	case dwarfform.Block, dwarfform.Exprloc:
		d.skip(d.uleb())
	case dwarfform.String:
		d.skipCString()
	case dwarfform.ImplicitConst:
		v.v = uint64(sp.implicit)
	case dwarfform.FlagPresent:
	case dwarfform.RefAddr:
		if u.version == 2 {
			v.v = d.uint(u.asize)
		} else {
			v.v = d.offset(u.dwarf64)
		}
	case dwarfform.SecOffset, dwarfform.Strp, dwarfform.LineStrp, dwarfform.StrpSup, dwarfform.GNURefAlt, dwarfform.GNUStrpAlt:
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
			if f == dwarfform.ImplicitConst {
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

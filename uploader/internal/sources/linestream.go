package sources

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/scratch"
)

// The streaming reader lists the same files as debug/dwarf's
// LineReader.Files (see lineTableFilesDWARF, the reference the tests
// compare against) while reading only the bytes it needs: each unit's
// header and first entry from .debug_info, the abbreviation that entry
// uses, each line table's header, and the strings these name. Memory
// stays a few small buffers plus the list it returns, whatever the size
// of the sections.

// Limits on what the list may hold, so that crafted DWARF naming millions
// of distinct files is an error rather than unbounded memory. A real
// program of 100,000 source files uses about a third of maxHeld.
const (
	maxHeld       = 32 << 20 // bytes of names, keys and their overhead
	maxDirBytes   = 1 << 20  // one line table's directory names
	maxDirs       = 1 << 16  // one line table's directories
	maxAbbrevAttr = 1 << 12  // attributes of one abbreviation
	maxStrCache   = 1 << 16  // strings remembered by offset
)

// DWARF constants used below.
const (
	tagCompileUnit = 0x11
	tagPartialUnit = 0x3c

	atStmtList       = 0x10
	atCompDir        = 0x1b
	atStrOffsetsBase = 0x72

	lnctPath     = 1
	lnctDirIndex = 2
)

// dwarfStream holds the open sections and the state of one listing.
type dwarfStream struct {
	info, abbrev, line, str, lineStr, strOffsets *section
	order                                        binary.ByteOrder

	// cursors, each with its own small window
	ci, ca, cl, cs *cursor

	strCache map[strKey]string
	interned map[string]string
	held     int64 // bytes charged against maxHeld
	work     int64 // bytes of reading left (see streamLineFiles)

	// the last abbreviation looked up (Go's linker shares one table)
	abbrevKey  [2]uint64
	abbrevAttr []attrSpec
	abbrevTag  uint64
}

type strKey struct {
	sec *section
	off uint64
}

type attrSpec struct {
	attr, form uint64
	implicit   int64
}

// openDWARF opens the sections the listing needs. Compressed ones are
// decompressed once into unlinked temporary files (disk, not memory),
// their declared sizes together within dwarfBudget. The caller closes
// what closers lists.
func openDWARF(f *elf.File, size int64) (d *dwarfStream, closers []io.Closer, err error) {
	d = &dwarfStream{order: f.ByteOrder}
	budget := dwarfBudget(size)
	slots := map[string]**section{
		"info": &d.info, "abbrev": &d.abbrev, "line": &d.line, "str": &d.str,
		"line_str": &d.lineStr, "str_offsets": &d.strOffsets,
	}
	for _, s := range f.Sections {
		slot := slots[dwarfName(s.Name)]
		if slot == nil || *slot != nil {
			continue
		}
		sec, c, err := openSection(s, &budget, size)
		if c != nil {
			closers = append(closers, c)
		}
		if err != nil {
			return nil, closers, err
		}
		*slot = sec
	}
	for _, slot := range slots {
		if *slot == nil {
			*slot = &section{name: "missing section", r: eofReader{}}
		}
	}
	return d, closers, nil
}

type eofReader struct{}

func (eofReader) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }

// openSection makes s readable at any offset, charging its decompressed
// size to budget before anything is decompressed.
func openSection(s *elf.Section, budget *int64, size int64) (*section, io.Closer, error) {
	if s.Type == elf.SHT_NOBITS {
		return &section{name: s.Name, r: eofReader{}}, nil, nil
	}
	if s.Flags&elf.SHF_COMPRESSED == 0 && !strings.HasPrefix(s.Name, ".zdebug") {
		return &section{name: s.Name, r: s, size: int64(s.Size)}, nil, nil
	}
	// Open decompresses SHF_COMPRESSED and legacy ".zdebug_" sections and
	// sets Size to the declared decompressed size.
	r := s.Open()
	want := s.Size
	if want > uint64(*budget) {
		return nil, nil, tooBig(s.Name, want, size)
	}
	*budget -= int64(want)
	tmp, err := scratch.File("debuginfo-dwarf-*")
	if err != nil {
		return nil, nil, err
	}
	n, err := io.Copy(tmp, io.LimitReader(r, int64(want)))
	if err == nil && n < int64(want) {
		err = errors.New("data ends before the size its header declares")
	}
	if err != nil {
		return nil, tmp, fmt.Errorf("section %s: %w", s.Name, err)
	}
	return &section{name: s.Name, r: tmp, size: int64(want)}, tmp, nil
}

// streamLineFiles lists the line-table files of every compile unit, in
// the order debug/dwarf gives them, deduplicated.
func streamLineFiles(f *elf.File, size int64) ([]dwarfFile, error) {
	d, closers, err := openDWARF(f, size)
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	newC := func(s *section) *cursor { return newCursor(s, d.order, make([]byte, 4096)) }
	d.ci, d.ca, d.cl, d.cs = newC(d.info), newC(d.abbrev), newC(d.line), newC(d.str)
	d.strCache = map[strKey]string{}
	d.interned = map[string]string{}
	// Compile units may share a line table (or, crafted, point into the
	// middle of one), abbreviation tables and strings: the reading over
	// all units is bounded by a multiple of the sections' sizes, so many
	// units cannot make the walk quadratic.
	d.work = 4*(d.line.size+d.abbrev.size+d.str.size+d.lineStr.size) + 1<<20
	return d.units()
}

func (d *dwarfStream) charge(n int64) error {
	if d.work -= n; d.work < 0 {
		return errors.New("compile units read the same line tables, abbreviations or strings over and over")
	}
	return nil
}

func (d *dwarfStream) hold(n int64) error {
	if d.held += n; d.held > maxHeld {
		return fmt.Errorf("the line tables name more distinct files than fit in %d MiB", maxHeld>>20)
	}
	return nil
}

// cu is what the first entry of a unit says.
type cu struct {
	version    int
	tag        uint64
	stmtList   int64
	hasStmt    bool
	compDir    string
	strx       uint64 // comp_dir as a string index, when hasStrx
	hasStrx    bool
	strOffBase uint64
}

func (d *dwarfStream) units() ([]dwarfFile, error) {
	type table struct {
		off     int64
		compDir string
	}
	read := map[table]bool{}
	seen := map[dwarfFile]bool{}
	var files []dwarfFile
	c := d.ci
	for off := int64(0); off < d.info.size; {
		c.seek(off, d.info.size)
		n := c.unitLength()
		if c.err != nil {
			return nil, c.err
		}
		if n == 0 {
			off = c.pos
			continue
		}
		if n > 0xffffffff || n > uint64(d.info.size-c.pos) {
			return nil, fmt.Errorf(".debug_info at %#x: unit length %d past the section's end", off, n)
		}
		end := c.pos + int64(n)
		c.end = end
		u, err := d.firstEntry(c)
		if err != nil {
			return nil, err
		}
		off = end
		if u.tag != tagCompileUnit && u.tag != tagPartialUnit {
			continue
		}
		if u.hasStrx {
			if u.compDir, err = d.strx(u, c.dwarf64); err != nil {
				return nil, err
			}
		}
		if !u.hasStmt {
			continue
		}
		k := table{u.stmtList, d.intern(u.compDir)}
		if read[k] {
			continue
		}
		read[k] = true
		if err := d.hold(int64(len(k.compDir)) + 64); err != nil {
			return nil, err
		}
		err = d.lineTable(u.stmtList, k.compDir, func(name string) error {
			if err := d.charge(1); err != nil {
				return err
			}
			if pseudoFile(name) {
				return nil
			}
			df := dwarfFile{name, k.compDir}
			if seen[df] {
				return nil
			}
			if err := d.hold(int64(len(name)) + 96); err != nil {
				return err
			}
			seen[df] = true
			files = append(files, df)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func (d *dwarfStream) intern(s string) string {
	if v, ok := d.interned[s]; ok {
		return v
	}
	if d.hold(int64(len(s))+48) == nil {
		d.interned[s] = s
	}
	return s
}

// firstEntry reads a unit's header and first entry; c is at the header,
// limited to the unit.
func (d *dwarfStream) firstEntry(c *cursor) (cu, error) {
	var u cu
	unitOff := c.pos
	u.version = int(c.u16())
	if c.err == nil && (u.version < 2 || u.version > 5) {
		return u, fmt.Errorf(".debug_info at %#x: unsupported DWARF version %d", unitOff, u.version)
	}
	var utype uint8
	var asize int
	if u.version >= 5 {
		utype = c.u8()
		asize = int(c.u8())
	}
	abbrevOff := c.offset()
	if u.version < 5 {
		asize = int(c.u8())
	}
	switch utype {
	case 4, 5: // skeleton, split_compile: unit ID
		c.skip(8)
	case 2, 6: // type, split_type: signature, type offset
		c.skip(8)
		c.offset()
	}
	if c.err != nil {
		return u, c.err
	}
	code := c.uleb()
	if c.err != nil {
		// An empty unit: debug/dwarf skips it.
		return u, nil
	}
	if code == 0 {
		return u, nil
	}
	tag, specs, err := d.abbreviation(abbrevOff, code)
	if err != nil {
		return u, err
	}
	u.tag = tag
	seen := map[uint64]bool{}
	for _, sp := range specs {
		form := sp.form
		if form == dwarfform.Indirect {
			form = c.uleb()
		}
		first := !seen[sp.attr]
		seen[sp.attr] = true
		var ival int64
		isInt := false
		var sval string
		switch form {
		case dwarfform.Addr:
			if asize != 1 && asize != 2 && asize != 4 && asize != 8 {
				return u, fmt.Errorf(".debug_info at %#x: unknown address size %d", unitOff, asize)
			}
			c.skip(uint64(asize))
		case dwarfform.Addrx, dwarfform.Loclistx, dwarfform.Rnglistx, dwarfform.RefUdata:
			c.uleb()
		case dwarfform.Addrx1, dwarfform.Ref1, dwarfform.Flag:
			c.skip(1)
		case dwarfform.Addrx2, dwarfform.Ref2:
			c.skip(2)
		case dwarfform.Addrx3:
			c.skip(3)
		case dwarfform.Addrx4, dwarfform.Ref4, dwarfform.RefSup4:
			c.skip(4)
		case dwarfform.Ref8, dwarfform.RefSig8, dwarfform.RefSup8:
			c.skip(8)
		case dwarfform.Block1:
			c.skip(uint64(c.u8()))
		case dwarfform.Block2:
			c.skip(uint64(c.u16()))
		case dwarfform.Block4:
			c.skip(uint64(c.u32()))
		case dwarfform.Block, dwarfform.Exprloc:
			c.skip(c.uleb())
		case dwarfform.Data1:
			ival, isInt = int64(c.u8()), true
		case dwarfform.Data2:
			ival, isInt = int64(c.u16()), true
		case dwarfform.Data4:
			ival, isInt = int64(c.u32()), true
		case dwarfform.Data8:
			ival, isInt = int64(c.u64()), true
		case dwarfform.Data16:
			c.skip(16)
		case dwarfform.Sdata:
			ival, isInt = c.sleb(), true
		case dwarfform.Udata:
			ival, isInt = int64(c.uleb()), true
		case dwarfform.ImplicitConst:
			ival, isInt = sp.implicit, true
		case dwarfform.FlagPresent:
		case dwarfform.RefAddr:
			if u.version == 2 {
				c.skip(uint64(asize))
			} else {
				c.offset()
			}
		case dwarfform.SecOffset, dwarfform.GNURefAlt, dwarfform.GNUStrpAlt:
			ival, isInt = int64(c.offset()), true
		case dwarfform.StrpSup:
			c.offset()
		case dwarfform.String:
			if first && sp.attr == atCompDir {
				sval = c.cstring()
			} else {
				c.skipCString()
			}
		case dwarfform.Strp, dwarfform.LineStrp:
			o := c.offset()
			if first && sp.attr == atCompDir && c.err == nil {
				s := d.str
				if form == dwarfform.LineStrp {
					s = d.lineStr
				}
				if sval, err = d.stringAt(s, o); err != nil {
					return u, err
				}
			}
		case dwarfform.Strx, dwarfform.Strx1, dwarfform.Strx2, dwarfform.Strx3, dwarfform.Strx4:
			var x uint64
			switch form {
			case dwarfform.Strx:
				x = c.uleb()
			case dwarfform.Strx1:
				x = uint64(c.u8())
			case dwarfform.Strx2:
				x = uint64(c.u16())
			case dwarfform.Strx3:
				x = uint64(c.u24())
			case dwarfform.Strx4:
				x = uint64(c.u32())
			}
			if d.strOffsets.size == 0 {
				return u, fmt.Errorf(".debug_info at %#x: DW_FORM_strx with no .debug_str_offsets section", unitOff)
			}
			if first && sp.attr == atCompDir {
				u.strx, u.hasStrx = x, true
			}
		default:
			return u, fmt.Errorf(".debug_info at %#x: unknown attribute form %#x", unitOff, form)
		}
		if c.err != nil {
			return u, c.err
		}
		if !first {
			continue
		}
		switch sp.attr {
		case atStmtList:
			u.stmtList, u.hasStmt = ival, isInt
		case atCompDir:
			u.compDir = sval
		case atStrOffsetsBase:
			if isInt && u.version >= 5 {
				u.strOffBase = uint64(ival)
			}
		}
	}
	return u, nil
}

// abbreviation finds code in the abbreviation table at off.
func (d *dwarfStream) abbreviation(off, code uint64) (uint64, []attrSpec, error) {
	if d.abbrevAttr != nil && d.abbrevKey == [2]uint64{off, code} {
		return d.abbrevTag, d.abbrevAttr, nil
	}
	c := d.ca
	if off >= uint64(d.abbrev.size) {
		return 0, nil, fmt.Errorf(".debug_abbrev: table offset %#x past the section's end", off)
	}
	c.seek(int64(off), d.abbrev.size)
	for {
		start := c.pos
		id := c.uleb()
		if c.err != nil {
			return 0, nil, c.err
		}
		if id == 0 {
			return 0, nil, fmt.Errorf(".debug_abbrev at %#x: no abbreviation %d", off, code)
		}
		tag := c.uleb()
		c.u8() // children
		var specs []attrSpec
		for {
			a, f := c.uleb(), c.uleb()
			if c.err != nil {
				return 0, nil, c.err
			}
			if a == 0 && f == 0 {
				break
			}
			var v int64
			if f == dwarfform.ImplicitConst {
				v = c.sleb()
			}
			if id == code {
				if len(specs) == maxAbbrevAttr {
					return 0, nil, fmt.Errorf(".debug_abbrev at %#x: abbreviation %d has over %d attributes", off, code, maxAbbrevAttr)
				}
				specs = append(specs, attrSpec{a, f, v})
			}
		}
		if err := d.charge(c.pos - start); err != nil {
			return 0, nil, err
		}
		if id == code {
			if specs == nil {
				specs = []attrSpec{}
			}
			d.abbrevKey, d.abbrevTag, d.abbrevAttr = [2]uint64{off, code}, tag, specs
			return tag, specs, nil
		}
	}
}

// strx resolves a unit's comp_dir given as a string index.
func (d *dwarfStream) strx(u cu, dwarf64 bool) (string, error) {
	width := uint64(4)
	if dwarf64 {
		width = 8
	}
	c := newCursor(d.strOffsets, d.order, make([]byte, 16))
	c.dwarf64 = dwarf64
	c.seek(int64(min(u.strOffBase+u.strx*width, 1<<62)), d.strOffsets.size)
	o := c.offset()
	if c.err != nil {
		return "", c.err
	}
	return d.stringAt(d.str, o)
}

// stringAt reads the NUL-terminated string at off in s, remembering
// recent ones (line tables of many units name the same directories).
func (d *dwarfStream) stringAt(s *section, off uint64) (string, error) {
	k := strKey{s, off}
	if v, ok := d.strCache[k]; ok {
		return v, nil
	}
	if off >= uint64(s.size) {
		return "", fmt.Errorf("%s: string offset %#x past the section's end", s.name, off)
	}
	c := d.cs
	if c.s != s {
		c.s, c.win = s, nil // the window holds the other section's bytes
	}
	c.seek(int64(off), s.size)
	v := c.cstring()
	if c.err != nil {
		return "", c.err
	}
	if err := d.charge(int64(len(v)) + 1); err != nil {
		return "", err
	}
	if len(d.strCache) >= maxStrCache {
		clear(d.strCache)
	}
	d.strCache[k] = v
	return v, nil
}

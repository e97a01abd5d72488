package sources

import (
	"fmt"
	"path"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// Line-table headers (DWARF 2 to 5), read as debug/dwarf's LineReader
// reads them, with bounded buffers.

// knownOpcodeLengths are the argument counts of the standard opcodes
// whose count is fixed (as debug/dwarf checks them).
var knownOpcodeLengths = map[int]uint8{1: 0, 2: 1, 3: 1, 4: 1, 6: 0, 7: 0, 8: 0, 10: 0, 11: 0, 12: 1}

// lineTable reads the header of the line table at off and calls emit
// with each file name, joined as debug/dwarf joins it.
func (d *dwarfStream) lineTable(off int64, compDir string, emit func(string) error) error {
	c := d.cl
	if off < 0 || off >= d.line.size {
		return fmt.Errorf("line table offset %#x is outside .debug_line (%d bytes)", off, d.line.size)
	}
	c.seek(off, d.line.size)
	length := c.unitLength()
	if c.err != nil {
		return c.err
	}
	if length > uint64(d.line.size-c.pos) {
		return fmt.Errorf(".debug_line at %#x: line table longer than .debug_line", off)
	}
	if err := d.charge(int64(length)); err != nil {
		return err
	}
	endOff := c.pos + int64(length)
	version := c.u16()
	if c.err == nil && (version < 2 || version > 5) {
		return fmt.Errorf(".debug_line at %#x: unknown line table version %d", off, version)
	}
	if version >= 5 {
		c.skip(2) // address_size, segment_selector_size
	}
	hlen := c.offset()
	if c.err == nil && hlen > uint64(endOff-c.pos) {
		return fmt.Errorf(".debug_line at %#x: program offset past the table's end", off)
	}
	progOff := c.pos + int64(hlen)
	c.skip(1) // minimum_instruction_length
	maxOps := uint8(1)
	if version >= 4 {
		maxOps = c.u8()
	}
	c.skip(2) // default_is_stmt, line_base
	lineRange := c.u8()
	if c.err != nil {
		return c.err
	}
	if maxOps == 0 {
		return fmt.Errorf(".debug_line at %#x: invalid maximum operations per instruction: 0", off)
	}
	if lineRange == 0 {
		return fmt.Errorf(".debug_line at %#x: invalid line range: 0", off)
	}
	opcodeBase := int(c.u8())
	for i := 1; i < opcodeBase; i++ {
		n := c.u8()
		if want, ok := knownOpcodeLengths[i]; ok && c.err == nil && n != want {
			return fmt.Errorf(".debug_line at %#x: opcode %d expected to have length %d, but has length %d", off, i, want, n)
		}
	}
	if c.err != nil {
		return c.err
	}
	if version < 5 {
		return d.tableV4(c, compDir, emit)
	}
	c.end = progOff // every read below stays inside the header
	return d.tableV5(c, off, emit)
}

// tableV4 reads the include_directories and file_names of DWARF 2-4.
func (d *dwarfStream) tableV4(c *cursor, compDir string, emit func(string) error) error {
	dirs := []string{compDir}
	dirBytes := 0
	for {
		dir := c.cstring()
		if c.err != nil {
			return c.err
		}
		if dir == "" {
			break
		}
		if !pathIsAbs(dir) {
			dir = pathJoin(compDir, dir)
		}
		// Names here are not empty (an empty one ends the list), so the
		// byte limit also keeps the count under maxDirs.
		if dirBytes += len(dir) + 16; dirBytes > maxDirBytes {
			return fmt.Errorf("%s: a line table's directories take over %d bytes", d.line.name, maxDirBytes)
		}
		dirs = append(dirs, dir)
	}
	for {
		name := c.cstring()
		if c.err != nil {
			return c.err
		}
		if name == "" {
			return nil
		}
		at := c.pos
		dir := c.uleb()
		if !pathIsAbs(name) {
			if dir >= uint64(len(dirs)) {
				return fmt.Errorf("%s at %#x: directory index too large", d.line.name, at)
			}
			name = pathJoin(dirs[dir], name)
		}
		c.uleb() // mtime
		c.uleb() // length
		if err := emit(name); err != nil {
			return err
		}
	}
}

type lnctForm struct{ lnct, form uint64 }

// tableV5 reads the directory and file name tables of DWARF 5.
func (d *dwarfStream) tableV5(c *cursor, off int64, emit func(string) error) error {
	var dirs []string
	dirBytes := 0
	for table := 0; table < 2; table++ {
		formats := make([]lnctForm, c.u8())
		for i := range formats {
			formats[i] = lnctForm{c.uleb(), c.uleb()}
		}
		count := c.uleb()
		if c.err != nil {
			return c.err
		}
		if count > 0 && (len(formats) == 0 || count > uint64(c.end-c.pos)) {
			return fmt.Errorf(".debug_line at %#x: line table header claims %d entries in %d bytes", off, count, c.end-c.pos)
		}
		if count > 0 {
			for _, f := range formats {
				switch f.form {
				case dwarfform.String, dwarfform.Strp, dwarfform.LineStrp, dwarfform.Strx, dwarfform.Strx1, dwarfform.Strx2, dwarfform.Strx3, dwarfform.Strx4,
					dwarfform.Data1, dwarfform.Data2, dwarfform.Data4, dwarfform.Data8, dwarfform.Data16, dwarfform.Block, dwarfform.Udata,
					dwarfform.SecOffset, dwarfform.Sdata, dwarfform.Flag, dwarfform.Block1: // the last four: read as debug/dwarf does, as nothing
				default:
					return fmt.Errorf(".debug_line at %#x: line table header uses form %#x", off, f.form)
				}
			}
		}
		if table == 0 {
			if count > maxDirs {
				return fmt.Errorf(".debug_line at %#x: a line table's directories take over %d entries", off, maxDirs)
			}
			dirs = make([]string, count)
		}
		for i := uint64(0); i < count; i++ {
			name, err := d.lnct(c, off, formats, dirs)
			if err != nil {
				return err
			}
			if table == 0 {
				if dirBytes += len(name) + 16; dirBytes > maxDirBytes {
					return fmt.Errorf(".debug_line at %#x: a line table's directories take over %d bytes", off, maxDirBytes)
				}
				dirs[i] = name
			} else if err := emit(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// lnct reads one directory or file entry of a DWARF 5 header.
func (d *dwarfStream) lnct(c *cursor, off int64, formats []lnctForm, dirs []string) (string, error) {
	var name, dir string
	for _, f := range formats {
		var str string
		var val uint64
		switch f.form {
		case dwarfform.String:
			str = c.cstring()
		case dwarfform.Strp, dwarfform.LineStrp:
			o := c.offset()
			if c.err != nil {
				return "", c.err
			}
			s := d.str
			if f.form == dwarfform.LineStrp {
				s = d.lineStr
			}
			var err error
			if str, err = d.stringAt(s, o); err != nil {
				return "", err
			}
		case dwarfform.Strx:
			c.uleb() // .debug_line.dwo only; debug/dwarf leaves it empty too
		case dwarfform.Strx1:
			c.skip(1)
		case dwarfform.Strx2:
			c.skip(2)
		case dwarfform.Strx3:
			c.skip(3)
		case dwarfform.Strx4:
			c.skip(4)
		case dwarfform.Data1:
			val = uint64(c.u8())
		case dwarfform.Data2:
			val = uint64(c.u16())
		case dwarfform.Data4:
			val = uint64(c.u32())
		case dwarfform.Data8:
			val = c.u64()
		case dwarfform.Data16:
			c.skip(16)
		case dwarfform.Block:
			c.skip(c.uleb())
		case dwarfform.Udata:
			val = c.uleb()
		}
		if c.err != nil {
			return "", c.err
		}
		switch f.lnct {
		case lnctPath:
			name = str
		case lnctDirIndex:
			if val >= uint64(len(dirs)) {
				return "", fmt.Errorf(".debug_line at %#x: directory index out of range", off)
			}
			dir = dirs[val]
		}
	}
	if dir != "" && name != "" {
		name = pathJoin(dir, name)
	}
	return name, nil
}

// pathIsAbs and pathJoin are debug/dwarf's rules for line-table paths,
// which may be Unix or DOS style.
func pathIsAbs(p string) bool {
	_, p = splitDrive(p)
	return len(p) > 0 && (p[0] == '/' || p[0] == '\\')
}

func pathJoin(dirname, filename string) string {
	if len(dirname) == 0 {
		return filename
	}
	drive, dirname := splitDrive(dirname)
	if drive == "" {
		return path.Join(dirname, filename)
	}
	drive2, filename := splitDrive(filename)
	if drive2 != "" {
		if !strings.EqualFold(drive, drive2) {
			return drive2 + filename
		}
	}
	if !strings.HasSuffix(dirname, "/") && !strings.HasSuffix(dirname, `\`) && dirname != "" {
		sep := `\`
		if strings.HasPrefix(dirname, "/") {
			sep = "/"
		}
		dirname += sep
	}
	return drive + dirname + filename
}

// splitDrive splits a DOS drive letter or UNC share from p.
func splitDrive(p string) (drive, rest string) {
	if len(p) >= 2 && p[1] == ':' {
		if c := p[0]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return p[:2], p[2:]
		}
	}
	if len(p) > 3 && (p[0] == '\\' || p[0] == '/') && (p[1] == '\\' || p[1] == '/') {
		np := strings.ReplaceAll(p, "/", `\`)
		slash1 := strings.IndexByte(np[2:], '\\') + 2
		if slash1 > 2 {
			slash2 := strings.IndexByte(np[slash1+1:], '\\') + slash1 + 1
			if slash2 > slash1 {
				return p[:slash2], p[slash2:]
			}
		}
	}
	return "", p
}

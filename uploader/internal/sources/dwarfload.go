package sources

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Memory bounds for reading DWARF. debug/elf's File.DWARF inflates every
// .debug_* section in full, used or not, and trusts the sizes compressed
// sections declare: a 1 MB file with a zlib bomb in an unused section took
// gigabytes. Here only the sections line tables need are read, and all of
// them together may take at most maxInflation times the file's size
// (at least minDWARFBudget, at most maxDWARFBudget) once decompressed.
const (
	maxInflation   = 20
	minDWARFBudget = 32 << 20
	maxDWARFBudget = 4 << 30
	// Object files are read whole by debug/elf (relocations applied in
	// memory), so their DWARF and its relocations may take this much.
	maxObjectDWARF = 24 << 20
)

// lineSections are the DWARF sections that compile units and their line
// tables are read from (string forms need str, line_str, str_offsets;
// addrx forms in a unit's entries need addr, rnglistx forms rnglists).
var lineSections = []string{"abbrev", "info", "str", "line", "line_str", "str_offsets", "addr", "rnglists"}

// dwarfBudget is how many bytes of DWARF a file of size bytes may expand to.
func dwarfBudget(size int64) int64 {
	return min(max(maxInflation*size, minDWARFBudget), maxDWARFBudget)
}

// loadDWARF reads the line-table sections of f (a file of size bytes) within
// the budget, and returns the DWARF data and the .debug_line bytes.
func loadDWARF(f *elf.File, size int64) (*dwarf.Data, []byte, error) {
	budget := dwarfBudget(size)
	if f.Type == elf.ET_REL {
		// Object files need relocations, which only debug/elf applies, and
		// it reads every DWARF section: check what they all declare first.
		if err := checkAllDebugSizes(f, min(budget, maxObjectDWARF), size); err != nil {
			return nil, nil, err
		}
		d, err := f.DWARF()
		if err != nil {
			return nil, nil, err
		}
		var line []byte
		if s := f.Section(".debug_line"); s != nil {
			line, _ = s.Data()
		}
		return d, line, nil
	}
	data := map[string][]byte{}
	for _, s := range f.Sections {
		name := dwarfName(s.Name)
		if name == "" || data[name] != nil {
			continue
		}
		wanted := false
		for _, n := range lineSections {
			wanted = wanted || n == name
		}
		if !wanted {
			continue
		}
		b, err := readSection(s, &budget, size)
		if err != nil {
			return nil, nil, err
		}
		data[name] = b
	}
	d, err := dwarf.New(data["abbrev"], nil, nil, data["info"], data["line"], nil, nil, data["str"])
	if err != nil {
		return nil, nil, err
	}
	for _, n := range []string{"line_str", "str_offsets", "addr", "rnglists"} {
		if b := data[n]; b != nil {
			if err := d.AddSection(".debug_"+n, b); err != nil {
				return nil, nil, err
			}
		}
	}
	return d, data["line"], nil
}

// dwarfName is "info" for .debug_info and .zdebug_info, else "".
func dwarfName(section string) string {
	if n, ok := strings.CutPrefix(section, ".debug_"); ok {
		return n
	}
	if n, ok := strings.CutPrefix(section, ".zdebug_"); ok {
		return n
	}
	return ""
}

func tooBig(name string, n uint64, size int64) error {
	return fmt.Errorf("section %s takes %d bytes decompressed: over the limit for DWARF read from a %d-byte file (%d bytes: %dx the file, at least %d MiB, at most %d GiB); a compression bomb?",
		name, n, size, dwarfBudget(size), maxInflation, minDWARFBudget>>20, maxDWARFBudget>>30)
}

// readSection reads one section, decompressed, charging its size to
// budget before anything is allocated. A compressed section whose data
// ends before its declared size is an error; data past it is never read.
func readSection(s *elf.Section, budget *int64, size int64) ([]byte, error) {
	if s.Type == elf.SHT_NOBITS {
		return nil, nil
	}
	// Open decompresses SHF_COMPRESSED and legacy ".zdebug_" sections
	// ("ZLIB" and a big-endian size before the zlib data), and sets Size
	// to the declared decompressed size.
	r := s.Open()
	want := s.Size
	if want > uint64(*budget) {
		return nil, tooBig(s.Name, want, size)
	}
	*budget -= int64(want)
	buf := make([]byte, want)
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errors.New("data ends before the size its header declares")
		}
		return nil, fmt.Errorf("section %s: %w", s.Name, err)
	}
	return buf, nil
}

// checkAllDebugSizes checks the declared decompressed size of every DWARF
// section, and of their relocations, against budget.
func checkAllDebugSizes(f *elf.File, budget, size int64) error {
	left := budget
	for _, s := range f.Sections {
		rel := strings.HasPrefix(s.Name, ".rela.debug_") || strings.HasPrefix(s.Name, ".rel.debug_")
		if (dwarfName(s.Name) == "" && !rel) || s.Type == elf.SHT_NOBITS {
			continue
		}
		s.Open() // sets Size of legacy .zdebug_ sections
		if s.Size > uint64(left) {
			if budget == maxObjectDWARF {
				return fmt.Errorf("object file: its DWARF and relocations take over %d MiB (at %s), the limit for object files, which are read whole; archive the sources of the linked program instead", maxObjectDWARF>>20, s.Name)
			}
			return tooBig(s.Name, s.Size, size)
		}
		left -= int64(s.Size)
	}
	return nil
}

// lineTableFilesDWARF lists the files with debug/dwarf, which holds the
// sections in memory: used for object files (which need relocations), and
// by the tests as the reference the streaming reader must match.
func lineTableFilesDWARF(f *elf.File, size int64) (files []dwarfFile, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed DWARF: %v", p)
		}
	}()
	d, lineSec, err := loadDWARF(f, size)
	if err != nil {
		return nil, err
	}
	// Compile units may share a line table (or, crafted, point into the
	// middle of one): each table is read once per comp_dir, and the work
	// over all units is bounded by a multiple of .debug_line's size, so
	// many units cannot make the walk quadratic.
	workLeft := 4*int64(len(lineSec)) + 1<<16
	type table struct {
		off     int64
		compDir string
	}
	read := map[table]bool{}
	seen := map[dwarfFile]bool{}
	rd := d.Reader()
	last := dwarf.Offset(0)
	for first := true; ; first = false {
		e, err := rd.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		// A sibling attribute pointing backwards makes debug/dwarf revisit
		// the same entries forever; sane DWARF only moves forward.
		if !first && e.Offset <= last {
			return nil, fmt.Errorf("malformed DWARF: entry at %#x follows %#x (a sibling link points backwards)", e.Offset, last)
		}
		last = e.Offset
		if e.Tag != dwarf.TagCompileUnit && e.Tag != dwarf.TagPartialUnit {
			rd.SkipChildren()
			continue
		}
		compDir, _ := e.Val(dwarf.AttrCompDir).(string)
		off, ok := e.Val(dwarf.AttrStmtList).(int64)
		rd.SkipChildren()
		if !ok {
			continue
		}
		if read[table{off, compDir}] {
			continue
		}
		read[table{off, compDir}] = true
		if err := checkLineHeader(lineSec, off, f.ByteOrder); err != nil {
			return nil, fmt.Errorf("malformed DWARF: %w", err)
		}
		if workLeft -= lineUnitLength(lineSec, off, f.ByteOrder); workLeft < 0 {
			return nil, errors.New("malformed DWARF: compile units read the same line tables over and over")
		}
		lr, err := d.LineReader(e)
		if err != nil {
			return nil, err
		}
		if lr == nil {
			continue
		}
		lfs := lr.Files()
		if workLeft -= int64(len(lfs)); workLeft < 0 {
			return nil, errors.New("malformed DWARF: compile units read the same line tables over and over")
		}
		for _, lf := range lfs {
			if lf == nil || pseudoFile(lf.Name) {
				continue
			}
			df := dwarfFile{lf.Name, compDir}
			if !seen[df] {
				seen[df] = true
				files = append(files, df)
			}
		}
	}
	return files, nil
}

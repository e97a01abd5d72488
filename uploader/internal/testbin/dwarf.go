package testbin

import (
	"cmp"
	"debug/dwarf"
	"debug/elf"
	"io"
	"slices"
	"testing"
)

// LineFile is one file of a compile unit's line table, named as Go's
// debug/dwarf reports it: the name Parca's symbolizer looks sources up by.
type LineFile struct{ Name, CompDir string }

// LineTableFiles lists the line-table files of every compile unit of bin,
// read independently of the code under test.
func LineTableFiles(t testing.TB, bin string) []LineFile {
	t.Helper()
	var out []LineFile
	eachUnit(t, bin, func(e *dwarf.Entry, lr *dwarf.LineReader) {
		compDir, _ := e.Val(dwarf.AttrCompDir).(string)
		for _, lf := range lr.Files() {
			if lf != nil {
				out = append(out, LineFile{Name: lf.Name, CompDir: compDir})
			}
		}
	})
	return out
}

// eachUnit calls f with every compile unit of bin that has a line table,
// in order.
func eachUnit(t testing.TB, bin string, f func(*dwarf.Entry, *dwarf.LineReader)) {
	t.Helper()
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	d, err := ef.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			return
		}
		r.SkipChildren()
		if e.Tag != dwarf.TagCompileUnit {
			continue
		}
		if lr, err := d.LineReader(e); err == nil && lr != nil {
			f(e, lr)
		}
	}
}

// LineRow is one line-table row, as Go's debug/dwarf reads it.
type LineRow struct {
	Unit         dwarf.Offset
	Addr         uint64
	File         string
	Line, Column int
	Stmt, End    bool
}

// LineRows reads every compile unit's line-table rows of bin, sorted (so
// the same rows in another order compare equal), and each unit's sequence
// start addresses in the order the sequences come.
func LineRows(t testing.TB, bin string) (rows []LineRow, starts [][]uint64) {
	t.Helper()
	eachUnit(t, bin, func(e *dwarf.Entry, lr *dwarf.LineReader) {
		var s []uint64
		first := true
		for {
			var le dwarf.LineEntry
			if err := lr.Next(&le); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if first {
				s = append(s, le.Address)
			}
			first = le.EndSequence
			rows = append(rows, LineRow{e.Offset, le.Address, le.File.Name, le.Line, le.Column, le.IsStmt, le.EndSequence})
		}
		starts = append(starts, s)
	})
	slices.SortFunc(rows, func(a, b LineRow) int {
		return cmp.Or(cmp.Compare(a.Unit, b.Unit), cmp.Compare(a.Addr, b.Addr), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column), cmp.Compare(a.File, b.File), boolCmp(a.Stmt, b.Stmt), boolCmp(a.End, b.End))
	})
	return rows, starts
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// ParcaFunction is the function Parca v0.28.0 names addr after from d: the
// first unit whose ranges hold it (debug/dwarf's SeekPC, as
// pkg/symbol/elfutils uses it), then that unit's first subprogram whose
// ranges do; "" when there is none.
func ParcaFunction(d *dwarf.Data, addr uint64) string {
	r := d.Reader()
	cu, err := r.SeekPC(addr)
	if err != nil {
		return ""
	}
	r.Seek(cu.Offset)
	r.Next()
	for {
		e, err := r.Next()
		if err != nil || e == nil || e.Tag == dwarf.TagCompileUnit {
			return ""
		}
		if e.Tag != dwarf.TagSubprogram {
			continue
		}
		rs, _ := d.Ranges(e)
		for _, rg := range rs {
			if rg[0] <= addr && addr < rg[1] {
				name, _ := e.Val(dwarf.AttrName).(string)
				return name
			}
		}
	}
}

package testbin

import (
	"debug/dwarf"
	"debug/elf"
	"testing"
)

// LineFile is one file of a compile unit's line table, named as Go's
// debug/dwarf reports it: the name Parca's symbolizer looks sources up by.
type LineFile struct{ Name, CompDir string }

// LineTableFiles lists the line-table files of every compile unit of bin,
// read independently of the code under test.
func LineTableFiles(t testing.TB, bin string) []LineFile {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	var out []LineFile
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			return out
		}
		r.SkipChildren()
		if e.Tag != dwarf.TagCompileUnit {
			continue
		}
		lr, err := d.LineReader(e)
		if err != nil || lr == nil {
			continue
		}
		compDir, _ := e.Val(dwarf.AttrCompDir).(string)
		for _, lf := range lr.Files() {
			if lf != nil {
				out = append(out, LineFile{Name: lf.Name, CompDir: compDir})
			}
		}
	}
}

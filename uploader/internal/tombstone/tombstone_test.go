package tombstone

import (
	"bytes"
	"context"
	"debug/dwarf"
	"debug/elf"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func TestGCSectionsTombstones(t *testing.T) {
	testbin.Need(t, "gcc")
	for _, c := range []struct {
		name    string
		oneUnit bool
		flags   []string
		wrong   bool // names are wrong before patching (else only lines are)
	}{
		{"dwarf5", false, []string{"-gdwarf-5"}, true},
		// GNU ld gives .debug_ranges (1, 1) for discarded code: units are
		// found right, a discarded function's lines are the line table's.
		{"dwarf4", false, []string{"-gdwarf-4"}, false},
		{"dwarf5-one-unit", true, []string{"-gdwarf-5"}, false}, // its lines are wrong: see lineorder
		{"dwarf4-one-unit", true, []string{"-gdwarf-4"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			srcs := testbin.GCSources(t, dir, c.oneUnit)
			bin := filepath.Join(dir, "gc")
			args := append(append([]string{"-O2", "-g", "-ffunction-sections", "-Wl,--gc-sections", "-o", bin}, c.flags...), srcs...)
			testbin.Run(t, dir, "gcc", args...)
			data, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			f, err := elf.NewFile(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			syms, _ := f.Symbols()
			addrs := map[string]uint64{}
			for _, s := range syms {
				addrs[s.Name] = s.Value
			}
			if _, ok := addrs["unused_big"]; ok {
				t.Fatal("unused_big was linked in: the fixture needs it dropped")
			}
			d, err := f.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			var fns []string
			for _, fn := range []string{"main", "used_small", "used_lib"} {
				if addrs[fn] != 0 { // used_lib is inlined into main in one unit
					fns = append(fns, fn)
				}
			}
			wrong := 0
			for _, fn := range fns {
				if got := testbin.ParcaFunction(d, addrs[fn]); got != fn {
					t.Logf("before patching, %s at %#x is named %q", fn, addrs[fn], got)
					wrong++
				}
			}
			if wrong == 0 && c.wrong {
				t.Fatal("Parca's lookup finds every function before patching: the fixture no longer shows the problem")
			}

			s := Sections{}
			for _, p := range []struct {
				name string
				sec  *Section
			}{{".debug_info", &s.Info}, {".debug_abbrev", &s.Abbrev}, {".debug_addr", &s.Addr},
				{".debug_rnglists", &s.Rnglists}, {".debug_ranges", &s.Ranges}, {".debug_aranges", &s.Aranges}} {
				if sec := f.Section(p.name); sec != nil {
					*p.sec = Section{bytes.NewReader(data[sec.Offset : sec.Offset+sec.Size]), int64(sec.Size)}
				}
			}
			patches, err := Find(context.Background(), s, f.ByteOrder, func(a uint64) bool { return a == 0 })
			if err != nil {
				t.Fatal(err)
			}
			if patches.Len() == 0 {
				t.Fatal("no patches")
			}
			patched := bytes.Clone(data)
			for _, p := range []struct {
				name string
				ps   []Patch
			}{{".debug_info", patches.Info}, {".debug_rnglists", patches.Rnglists}, {".debug_ranges", patches.Ranges}, {".debug_aranges", patches.Aranges}} {
				for _, pt := range p.ps {
					copy(patched[int64(f.Section(p.name).Offset)+pt.Off:], pt.Data)
				}
			}
			pf, err := elf.NewFile(bytes.NewReader(patched))
			if err != nil {
				t.Fatal(err)
			}
			pd, err := pf.DWARF()
			if err != nil {
				t.Fatal(err)
			}
			for _, fn := range fns {
				if got := testbin.ParcaFunction(pd, addrs[fn]); got != fn {
					t.Errorf("after patching, %s at %#x is named %q", fn, addrs[fn], got)
				}
			}
			// Nothing else changed: every unit still reads, with its name.
			r := pd.Reader()
			units := 0
			for {
				e, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if e == nil {
					break
				}
				if e.Tag == dwarf.TagCompileUnit {
					units++
				}
			}
			if units < len(srcs) {
				t.Errorf("%d units after patching, want %d", units, len(srcs))
			}
		})
	}
}

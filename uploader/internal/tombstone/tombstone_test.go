package tombstone

import (
	"bytes"
	"context"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
			data, f := readELF(t, bin)
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

			s, _ := sectionsOf(f, data, func(r io.ReaderAt) io.ReaderAt { return r })
			patches, err := Find(context.Background(), s, f.ByteOrder, func(a uint64) bool { return a == 0 })
			if err != nil {
				t.Fatal(err)
			}
			if patches.Len() == 0 {
				t.Fatal("no patches")
			}
			patched := applied(data, f, &patches)
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

// applied is data, the ELF file f, with patches applied.
func applied(data []byte, f *elf.File, patches *Patches) []byte {
	out := bytes.Clone(data)
	for _, p := range []struct {
		name string
		l    *List
	}{{".debug_info", &patches.Info}, {".debug_rnglists", &patches.Rnglists}, {".debug_ranges", &patches.Ranges}, {".debug_aranges", &patches.Aranges}} {
		for i := range p.l.Len() {
			off, b := p.l.At(i)
			copy(out[int64(f.Section(p.name).Offset)+off:], b)
		}
	}
	return out
}

// readELF reads the ELF file at path whole.
func readELF(t *testing.T, path string) ([]byte, *elf.File) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return data, f
}

// sectionsOf is what Find reads of the ELF file f (its bytes data), each
// section read through wrap, and their total size.
func sectionsOf(f *elf.File, data []byte, wrap func(io.ReaderAt) io.ReaderAt) (s Sections, size int64) {
	for _, p := range []struct {
		name string
		sec  *Section
	}{{".debug_info", &s.Info}, {".debug_abbrev", &s.Abbrev}, {".debug_addr", &s.Addr},
		{".debug_rnglists", &s.Rnglists}, {".debug_ranges", &s.Ranges}, {".debug_aranges", &s.Aranges}} {
		if sec := f.Section(p.name); sec != nil {
			*p.sec = Section{R: wrap(bytes.NewReader(data[sec.Offset : sec.Offset+sec.Size])), Size: int64(sec.Size)}
			size += int64(sec.Size)
		}
	}
	return s, size
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.ReaderAt
	n *int64
}

func (c countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	*c.n += int64(n)
	return n, err
}

// TestFindReadsEachSectionOnce: a program with many dropped functions
// (many range lists, many patches) has each section read about once, and
// a few hundred bytes allocated per patch, not a window per range list
// (review s15-r2: a 64 KiB window was filled for each list, 2.5 GB
// allocated and 10 s on a 28 MB program).
func TestFindReadsEachSectionOnce(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	// Inlined helpers get range lists of their own: many lists.
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n")
	for i := range 300 {
		fmt.Fprintf(&src, "static inline int h%[1]d(int *p, int x) { int r = x; for (int k = 0; k < x; k++) { r += p[0] * k; if (r & 1) r ^= p[1]; } return r; }\n", i)
		fmt.Fprintf(&src, "__attribute__((noinline)) int f%[1]d(int x) { int v[2] = {x, x / 2}; int q = h%[1]d(v, x); for (int j = 0; j < %[2]d; j++) q += h%[1]d(v, q + j); return q; }\n", i, i%7+2)
	}
	src.WriteString("int main(int argc, char **argv) { int s = 0;\n")
	for i := 0; i < 300; i += 2 { // the odd ones are dropped
		fmt.Fprintf(&src, "  s += f%d(argc + s);\n", i)
	}
	src.WriteString("  printf(\"%d\\n\", s); return 0; }\n")
	if err := os.WriteFile(filepath.Join(dir, "many.c"), []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "many")
	testbin.Run(t, dir, "gcc", "-O1", "-g", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections", "-o", bin, "many.c")
	data, f := readELF(t, bin)
	var read int64
	s, size := sectionsOf(f, data, func(r io.ReaderAt) io.ReaderAt { return countingReader{r, &read} })
	var patches Patches
	allocated := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			read = 0
			var err error
			if patches, err = Find(context.Background(), s, f.ByteOrder, func(a uint64) bool { return a == 0 }); err != nil {
				b.Fatal(err)
			}
		}
	}).AllocedBytesPerOp()
	if patches.Len() < 200 {
		t.Fatalf("%d patches: the fixture no longer drops 200 functions", patches.Len())
	}
	if read > 2*size {
		t.Errorf("Find read %d bytes of %d bytes of sections", read, size)
	}
	// The windows (each section's size here) and the walk's tables, then a
	// few hundred bytes per patch.
	if limit := 2*size + 400*int64(patches.Len()); allocated > limit {
		t.Errorf("Find allocates %d bytes for %d patches, want under %d", allocated, patches.Len(), limit)
	}
	t.Logf("read %d bytes of %d, allocated %d bytes for %d patches", read, size, allocated, patches.Len())
}

// TestMixedVersionsListsAtOneOffset links a DWARF 4 unit before a DWARF 5
// one, each with many range lists of discarded code. Their lists are in two
// sections, so one offset can name a list in each: the walk used to keep
// one set of offsets seen for both, and skipped a DWARF 5 list whose offset
// a DWARF 4 list had (which GNU ld had emptied already), leaving its
// discarded code over the program's.
func TestMixedVersionsListsAtOneOffset(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	var objs []string
	// At -O2 the DWARF 5 lists differ in length, so their offsets are
	// not all 12 past a multiple of 16, as the DWARF 4 ones are 0 past.
	for i, v := range [][]string{{"-gdwarf-4", "-O1"}, {"-gdwarf-5", "-O2"}} {
		var src strings.Builder
		for j := range 150 {
			// A static inline helper called in a loop: its inlined
			// copies make range lists.
			fmt.Fprintf(&src, "static inline int h%d_%d(int *p, int x) { int r = x; for (int k = 0; k < x; k++) { r += p[k & 3] * k; if (r & 1) r ^= p[1]; } return r; }\n", i, j)
			fmt.Fprintf(&src, "__attribute__((noinline)) int f%d_%d(int x) { int v[4] = {x, x, x, x}; int q = h%d_%d(v, x); for (int j = 0; j < %d; j++) q += h%d_%d(v, q + j); return q; }\n", i, j, i, j, j%5+2, i, j)
		}
		fmt.Fprintf(&src, "int unit%d(int x) { int s = 0;\n", i)
		for j := 0; j < 150; j += 2 { // the odd ones are dropped
			fmt.Fprintf(&src, "  s += f%d_%d(x + s);\n", i, j)
		}
		src.WriteString("  return s; }\n")
		c := filepath.Join(dir, fmt.Sprintf("u%d.c", i))
		if err := os.WriteFile(c, []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, c+".o")
		testbin.Run(t, dir, "gcc", append(append([]string{"-c", "-g", "-ffunction-sections", "-o", c + ".o"}, v...), c)...)
	}
	mainC := filepath.Join(dir, "main.c")
	if err := os.WriteFile(mainC, []byte("int unit0(int), unit1(int);\nint main(int c, char **v) { return unit0(c) + unit1(c); }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "gc")
	testbin.Run(t, dir, "gcc", append([]string{"-g", "-Wl,--gc-sections", "-o", bin}, append(objs, mainC)...)...)
	data, f := readELF(t, bin)
	text := f.Section(".text")
	s, _ := sectionsOf(f, data, func(r io.ReaderAt) io.ReaderAt { return r })
	if s.Ranges.R == nil || s.Rnglists.R == nil {
		t.Fatal("the fixture needs both .debug_ranges and .debug_rnglists")
	}
	dead := func(a uint64) bool { return a < text.Addr }
	patches, err := Find(context.Background(), s, f.ByteOrder, dead)
	if err != nil {
		t.Fatal(err)
	}
	patched := applied(data, f, &patches)
	for _, c := range []struct {
		what string
		data []byte
	}{{"before", data}, {"after", patched}} {
		pf, err := elf.NewFile(bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		d, err := pf.DWARF()
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for r := d.Reader(); ; {
			e, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			if e == nil {
				break
			}
			if e.Tag == dwarf.TagCompileUnit || e.AttrField(dwarf.AttrRanges) == nil {
				continue
			}
			rs, err := d.Ranges(e)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range rs {
				if x[1] > x[0] && dead(x[0]) {
					left++
				}
			}
		}
		switch {
		case c.what == "before" && left == 0:
			t.Fatal("no range of discarded code before patching: the fixture no longer shows the problem")
		case c.what == "after" && left > 0:
			t.Errorf("%d ranges of discarded code are left after patching", left)
		}
		t.Logf("%s patching: %d ranges of discarded code", c.what, left)
	}
}

// gold relocates an address in discarded code to 0 plus its offset in the
// function: a dropped function's lexical blocks and inlined calls start
// past 0, over live code, and Parca adds them to the function's ranges.
// Every range inside a discarded entry must be emptied, whatever its
// address (review s18-r1, finding 1).
func TestGoldDiscardedChildren(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	var body strings.Builder
	for j := range 300 {
		fmt.Fprintf(&body, "    if (sink == %d) acc += v * %d;\n", j, j+1)
	}
	src := "volatile int sink;\n" +
		"__attribute__((noinline)) int live(int x) { return x * 3 + sink; }\n" +
		"int main(int argc, char **argv) { return live(argc); }\n" +
		"__attribute__((noinline)) int dead_block(int x) {\n  int acc = x;\n  { int v = x + sink;\n" + body.String() + "  }\n  return acc;\n}\n" +
		"static inline __attribute__((always_inline)) int big(int v) {\n  int acc = v;\n" + body.String() + "  return acc;\n}\n" +
		"__attribute__((noinline)) int dead_inline(int x) { return big(x) + 1; }\n"
	c := filepath.Join(dir, "blk.c")
	if err := os.WriteFile(c, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"-gdwarf-4", "-gdwarf-5"} {
		bin := filepath.Join(dir, "blk"+v)
		testbin.Run(t, dir, "gcc", "-O0", "-g", v, "-fuse-ld=gold", "-pie", "-ffunction-sections", "-Wl,--gc-sections", "-o", bin, c)
		data, f := readELF(t, bin)
		s, _ := sectionsOf(f, data, func(r io.ReaderAt) io.ReaderAt { return r })
		// Discarded code starts at 0, as the extraction tells it (a child
		// at 0xd is not, by its address).
		patches, err := Find(context.Background(), s, f.ByteOrder, func(a uint64) bool { return a == 0 })
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			what string
			data []byte
		}{{"before", data}, {"after", applied(data, f, &patches)}} {
			left := childRangesOfDead(t, c.data)
			switch {
			case c.what == "before" && left == 0:
				t.Fatalf("%s: no range inside a dropped function before patching: the fixture no longer shows the problem", v)
			case c.what == "after" && left > 0:
				t.Errorf("%s: %d ranges inside dropped functions are left after patching", v, left)
			}
		}
	}
}

// childRangesOfDead counts the non-empty ranges of entries inside the
// functions named dead_* in the ELF file data.
func childRangesOfDead(t *testing.T, data []byte) int {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	n, depth, deadAt := 0, 0, -1
	for r := d.Reader(); ; {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			return n
		}
		if e.Tag == 0 {
			if depth--; depth <= deadAt {
				deadAt = -1
			}
			continue
		}
		if deadAt >= 0 {
			rs, err := d.Ranges(e)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range rs {
				if x[1] > x[0] {
					n++
				}
			}
		} else if name, _ := e.Val(dwarf.AttrName).(string); e.Tag == dwarf.TagSubprogram && strings.HasPrefix(name, "dead_") && e.Children {
			deadAt = depth
		}
		if e.Children {
			depth++
		}
	}
}

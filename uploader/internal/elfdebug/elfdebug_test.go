package elfdebug

import (
	"bytes"
	"crypto/sha256"
	"debug/dwarf"
	"debug/elf"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func extractFile(t *testing.T, in string) (string, Stats) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	out := in + ".debug"
	var buf bytes.Buffer
	st, err := Extract(f, fi.Size(), &buf)
	if err != nil {
		t.Fatalf("Extract(%s): %v", in, err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, buf.Len())
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out, st
}

// funcAddrs returns the addresses nm gives for the named functions.
func funcAddrs(t *testing.T, bin string, names ...string) []uint64 {
	t.Helper()
	out := testbin.Run(t, "", "nm", bin)
	var addrs []uint64
	for _, name := range names {
		m := regexp.MustCompile(`(?m)^([0-9a-f]+) [Tt] ` + regexp.QuoteMeta(name) + `$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("nm %s: no %s", bin, name)
		}
		a, _ := strconv.ParseUint(m[1], 16, 64)
		addrs = append(addrs, a, a+4)
	}
	return addrs
}

func addr2line(t *testing.T, bin string, addrs []uint64) string {
	t.Helper()
	args := []string{"-f", "-e", bin}
	for _, a := range addrs {
		args = append(args, "0x"+strconv.FormatUint(a, 16))
	}
	return testbin.Run(t, "", "addr2line", args...)
}

// checkDebugFile checks that out symbolizes like in and opens cleanly.
func checkDebugFile(t *testing.T, in, out string, funcs ...string) {
	t.Helper()
	addrs := funcAddrs(t, in, funcs...)
	want, got := addr2line(t, in, addrs), addr2line(t, out, addrs)
	if want != got {
		t.Errorf("addr2line differs\noriginal:\n%s\nextracted:\n%s", want, got)
	}
	if strings.Contains(want, "??:") {
		t.Errorf("original has no line info:\n%s", want)
	}
	for _, fn := range funcs {
		if !strings.Contains(got, fn+"\n") {
			t.Errorf("addr2line on extracted file lacks %s:\n%s", fn, got)
		}
	}
	testbin.Run(t, "", "readelf", "-S", "-l", "-n", "-W", out)
	ef, err := elf.Open(out)
	if err != nil {
		t.Fatalf("debug/elf: %v", err)
	}
	defer ef.Close()
	if text := ef.Section(".text"); text == nil || text.Type != elf.SHT_NOBITS {
		t.Errorf(".text not kept as NOBITS: %+v", text)
	}
	if ef.Section(".debug_info") != nil {
		if _, err := ef.DWARF(); err != nil {
			t.Errorf("DWARF of extracted file: %v", err)
		}
	}
	orig, _ := elf.Open(in)
	defer orig.Close()
	if len(orig.Sections) != len(ef.Sections) {
		t.Fatalf("section count %d -> %d", len(orig.Sections), len(ef.Sections))
	}
	named := hasSymbolsUnit(t, out)
	for i, s := range orig.Sections {
		o := ef.Sections[i]
		// Extract may compress DWARF; debug/elf reports the uncompressed
		// size. The sections a unit of symbols is added to grow.
		sizeOK := s.Size == o.Size || named && symbolsUnitSections[s.Name] && o.Size > s.Size
		if s.Name != o.Name || s.Addr != o.Addr || !sizeOK || s.Flags|elf.SHF_COMPRESSED != o.Flags|elf.SHF_COMPRESSED || s.Link != o.Link || s.Info != o.Info {
			t.Errorf("section %d changed: %+v -> %+v", i, s.SectionHeader, o.SectionHeader)
		}
	}
	idIn, err1 := buildid.Read(in)
	idOut, err2 := buildid.Read(out)
	if err1 != nil || err2 != nil || idIn != idOut {
		t.Errorf("build ID %+v (%v) -> %+v (%v)", idIn, err1, idOut, err2)
	}
}

func TestExtractC(t *testing.T) {
	testbin.Need(t, "gcc", "nm", "addr2line", "readelf")
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"plain", []string{"-g", "-O1"}},
		{"zlib", []string{"-g", "-O1", "-gz=zlib"}},
		{"pie-dwarf4", []string{"-g", "-gdwarf-4", "-fPIE", "-pie"}},
		{"m32", []string{"-g", "-m32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.name == "m32" {
				// Multilib is often missing; ELF32 is still covered when it is there.
				c := filepath.Join(dir, "probe.c")
				os.WriteFile(c, []byte("int main(){return 0;}"), 0o644)
				if err := runQuiet(dir, "gcc", "-m32", "-o", filepath.Join(dir, "probe"), c); err != nil {
					t.Skip("gcc -m32 not available")
				}
			}
			bin := testbin.GCC(t, dir, "hello", testbin.HelloC, tc.flags...)
			out, st := extractFile(t, bin)
			if !st.HasDWARF || !st.HasSymtab || !st.HasDynsym || st.Kept == 0 || st.Dropped == 0 {
				t.Errorf("stats: %+v", st)
			}
			checkDebugFile(t, bin, out, "square", "sum_squares", "main")
			if tc.name == "zlib" {
				ef, _ := elf.Open(out)
				defer ef.Close()
				if s := ef.Section(".debug_info"); s == nil || s.Flags&elf.SHF_COMPRESSED == 0 {
					t.Errorf(".debug_info not compressed in output: %+v", s)
				}
			}
		})
	}
}

func TestExtractGo(t *testing.T) {
	testbin.Need(t, "nm", "addr2line", "readelf")
	dir := t.TempDir()
	bin := testbin.GoBuild(t, dir, "hello", testbin.HelloGo("hi"), "")
	out, st := extractFile(t, bin)
	if !st.HasDWARF || !st.HasSymtab || !st.HasGoPclntab {
		t.Errorf("stats: %+v", st)
	}
	checkDebugFile(t, bin, out, "main.main", "fmt.Fprintln", "runtime.main")
	ef, _ := elf.Open(out)
	defer ef.Close()
	for _, name := range []string{".gopclntab", ".note.go.buildid", ".note.gnu.build-id"} {
		s := ef.Section(name)
		if s == nil || s.Type == elf.SHT_NOBITS {
			t.Errorf("%s not kept: %+v", name, s)
		}
	}
	// PT_NOTE still points at the notes.
	for _, p := range ef.Progs {
		if p.Type == elf.PT_NOTE && p.Filesz == 0 {
			t.Errorf("PT_NOTE lost its data: %+v", p.ProgHeader)
		}
	}
}

func TestExtractStripped(t *testing.T) {
	testbin.Need(t, "gcc", "strip", "readelf")
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	testbin.Run(t, dir, "strip", bin)
	out, st := extractFile(t, bin)
	if st.HasDWARF || st.HasSymtab || !st.HasDynsym {
		t.Errorf("stats: %+v", st)
	}
	testbin.Run(t, "", "readelf", "-S", "-n", out)
	a, _ := buildid.Read(bin)
	b, _ := buildid.Read(out)
	if a != b || a.Type != buildid.GNU {
		t.Errorf("build ID %+v -> %+v", a, b)
	}
}

func TestExtractErrors(t *testing.T) {
	var w bytes.Buffer
	if _, err := Extract(bytes.NewReader([]byte("hello world, not ELF")), 20, &w); !errors.Is(err, ErrNotELF) || !errors.Is(err, buildid.ErrNotELF) {
		t.Fatalf("non-ELF: %v", err)
	}
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	b, _ := os.ReadFile(testbin.GCC(t, dir, "hello", testbin.HelloC, "-g"))
	for _, n := range []int{0, 10, 64, 100, 1000, len(b) / 2, len(b) - 100, len(b) - 1} {
		if _, err := Extract(bytes.NewReader(b[:n]), int64(n), &w); err == nil {
			t.Errorf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	// A kept section pointing past the end of the file is an error, not a panic.
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	shoff := int(le64(b[40:]))
	for i, s := range ef.Sections {
		if s.Name == ".debug_info" {
			c := bytes.Clone(b)
			put64(c[shoff+i*64+24:], uint64(len(b))-10) // sh_offset
			if _, err := Extract(bytes.NewReader(c), int64(len(c)), &w); err == nil {
				t.Error("section past EOF: no error")
			}
		}
	}
	// A failing writer's error comes back.
	if _, err := Extract(bytes.NewReader(b), int64(len(b)), failWriter{}); err == nil {
		t.Error("failing writer: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func put64(b []byte, v uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

// TestExtractLargeMemory extracts a 300 MB input (a gcc binary whose
// .comment section is grown into a sparse hole) and checks that allocation
// does not grow with the size of the data copied.
func TestExtractLargeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	dir := t.TempDir()
	big := MakeLarge(t, testbin.GCC(t, dir, "hello", testbin.HelloC, "-g"), 300<<20)
	f, err := os.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	h := sha256.New() // a plain writer: no ReaderFrom shortcut
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// The default compresses DWARF: its compressor's buffers are a fixed cost.
	st, err := Extract(f, fi.Size(), struct{ hashWriter }{h})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bytes < 300<<20 {
		t.Fatalf("only %d bytes written", st.Bytes)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("extracted %d MB with %d KB allocated in %d allocations", st.Bytes>>20, alloc>>10, after.Mallocs-before.Mallocs)
	if alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a %d byte input", alloc, fi.Size())
	}
}

type hashWriter interface{ Write([]byte) (int, error) }

// MakeLarge writes a copy of the ELF64 little-endian file bin whose .comment
// section is n bytes of sparse zeros placed before the section headers.
func MakeLarge(t testing.TB, bin string, n int64) string {
	t.Helper()
	return makeLarge(t, bin, ".comment", n)
}

// makeLarge is MakeLarge for any section name.
func makeLarge(t testing.TB, bin, name string, n int64) string {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	shoff := le64(b[40:])
	shdrs := bytes.Clone(b[shoff:])
	idx := -1
	for i, s := range ef.Sections {
		if s.Name == name {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatal("no " + name)
	}
	put64(shdrs[idx*64+24:], shoff)     // sh_offset: where the old headers were
	put64(shdrs[idx*64+32:], uint64(n)) // sh_size
	newShoff := (shoff + uint64(n) + 7) &^ 7
	hdr := bytes.Clone(b[:shoff])
	put64(hdr[40:], newShoff)
	out := bin + ".large"
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(shdrs, int64(newShoff)); err != nil {
		t.Fatal(err)
	}
	return out
}

func runQuiet(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	return cmd.Run()
}

// symbolsUnitSections are the sections symbolsUnit adds to.
var symbolsUnitSections = map[string]bool{".debug_info": true, ".debug_abbrev": true, ".debug_line": true}

// hasSymbolsUnit says whether the DWARF of the file at path ends with
// symbolsUnit's unit. (A file of its own: debug/elf's DWARF sets the sizes
// of the .zdebug_ sections it reads to their uncompressed ones.)
func hasSymbolsUnit(t *testing.T, path string) bool {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		return false
	}
	r := d.Reader()
	last := ""
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			break
		}
		if e.Tag == dwarf.TagCompileUnit {
			last, _ = e.Val(dwarf.AttrName).(string)
		}
		r.SkipChildren()
	}
	return last == symbolsUnitName
}

package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// gccBytes builds a small gcc -g binary and returns its bytes.
func gccBytes(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g", "-O1"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A symbol table's string table is kept because the symbol table links to
// it, whatever it is called: names come from it.
func TestStringTableKeptByLinkNotName(t *testing.T) {
	b := gccBytes(t)
	i := bytes.Index(b, []byte("\x00.strtab\x00"))
	if i < 0 {
		t.Fatal("no .strtab name")
	}
	copy(b[i+1:], ".names\x00\x00") // same length: the name table keeps its size
	j := bytes.Index(b, []byte("\x00.dynstr\x00"))
	if j < 0 {
		t.Fatal("no .dynstr name")
	}
	copy(b[j+1:], ".dnames\x00")
	out := extractBytes(t, b)
	f, err := elf.NewFile(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	has := func(what string, syms []elf.Symbol, err error, name string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for _, s := range syms {
			if s.Name == name {
				return
			}
		}
		t.Errorf("%s is not among the %d %s of the extracted file: its string table was dropped", name, len(syms), what)
	}
	syms, err := f.Symbols()
	has("symbols", syms, err, "sum_squares")
	dyn, err := f.DynamicSymbols()
	has("dynamic symbols", dyn, err, "printf")
}

// A symbol table linking to a section that does not exist is extracted
// without keeping anything for that link, not a crash.
func TestSymbolTableLinkOutOfRange(t *testing.T) {
	b := gccBytes(t)
	f, _ := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	h := testbin.SectionHeader(t, b, ".symtab")
	binary.LittleEndian.PutUint32(h[40:], uint32(len(f.Sections))) // sh_link: one past the last
	out, err := elf.NewFile(bytes.NewReader(extractBytes(t, b)))
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Section(".symtab"); s == nil || s.Type != elf.SHT_SYMTAB {
		t.Errorf(".symtab not kept: %+v", s)
	}
}

// A hostile alignment (2^40) is not honoured with terabytes of padding: the
// output stays the size of the ordinary one.
func TestHugeAlignmentIsNotPadded(t *testing.T) {
	b := gccBytes(t)
	normal := len(extractBytes(t, b))
	binary.LittleEndian.PutUint64(testbin.SectionHeader(t, b, ".comment")[48:], 1<<40) // sh_addralign
	var out countingWriter
	done := make(chan error, 1)
	go func() {
		_, err := Extract(bytes.NewReader(b), int64(len(b)), &capped{&out, 64 << 20})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || out.n > 2*normal {
			t.Errorf("extraction wrote %d bytes (%v); the same file aligned normally gives %d", out.n, err, normal)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("extraction did not end")
	}
}

// capped fails writes past limit bytes, so a runaway output ends the test.
type capped struct {
	w     *countingWriter
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.w.n+len(p) > c.limit {
		return 0, errors.New("output past the test's cap")
	}
	return c.w.Write(p)
}

// A file cut short while it is being extracted (its headers were read, its
// DWARF is gone) is an error, not a hang or a file of zeros.
func TestFileTruncatedDuringExtraction(t *testing.T) {
	b, err := os.ReadFile(makeLarge(t, testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"), ".debug_str", 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := elfparse.Parse(bytes.NewReader(b), int64(len(b)))
	var cut int64
	var span string // the bytes a plain copy names when they run out
	for _, s := range f.Sections {
		if s.Name == ".debug_str" {
			cut = int64(s.Off) + 100
			span = fmt.Sprintf("copying input bytes %#x-%#x: ", s.Off, s.Off+s.Size)
		}
	}
	for _, c := range []Compression{None, Zlib} {
		done := make(chan error, 1)
		go func() {
			_, err := ExtractWith(truncatedAt{b, cut, new(int)}, int64(len(b)), io.Discard, Options{Compress: c})
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "EOF") {
				t.Errorf("%v: err = %v, want the short read named", c, err)
			} else if c == None && !strings.Contains(err.Error(), span) {
				t.Errorf("%v: err = %v, want it to name the bytes (%q)", c, err, span)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%v: extraction of a truncated file did not end", c)
		}
	}
}

// truncatedAt reads like a file cut at cut after its first two reads (the
// window over its two ends): from then on, bytes from cut on are gone.
type truncatedAt struct {
	b     []byte
	cut   int64
	reads *int
}

func (r truncatedAt) ReadAt(p []byte, off int64) (int, error) {
	*r.reads++
	end := int64(len(r.b))
	if *r.reads > 2 {
		end = r.cut
	}
	if off >= end {
		return 0, io.EOF
	}
	n := copy(p, r.b[off:end])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func extractBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := Extract(bytes.NewReader(b), int64(len(b)), &out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Stats count the sections whose data was kept and dropped (the CLI prints
// them): every section with file bytes is one or the other.
func TestStatsCountKeptAndDropped(t *testing.T) {
	b := gccBytes(t)
	out := extractBytes(t, b)
	st, err := Extract(bytes.NewReader(b), int64(len(b)), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	withData := func(b []byte) int {
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, s := range f.Sections {
			if s.Type != elf.SHT_NULL && s.Type != elf.SHT_NOBITS && s.Size > 0 {
				n++
			}
		}
		return n
	}
	in, kept := withData(b), withData(out)
	if st.Kept != kept || st.Dropped != in-kept || kept == 0 || in == kept {
		t.Errorf("stats say %d kept, %d dropped; the files say %d of %d kept", st.Kept, st.Dropped, kept, in)
	}
}

// elf32Sized is a Go 386 program whose .debug_info claims size bytes from
// 4 KiB on, which a sparse file of 4 GiB really holds.
func elf32Sized(t *testing.T, size uint32) string {
	t.Helper()
	testbin.Need(t, "go")
	dir := t.TempDir()
	os.WriteFile(dir+"/main.go", []byte(testbin.HelloGo("386")), 0o644)
	os.WriteFile(dir+"/go.mod", []byte("module x\n\ngo 1.24\n"), 0o644)
	cmd := exec.Command("go", "build", "-ldflags=-compressdwarf=false", "-o", "hello", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=386", "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	b, err := os.ReadFile(dir + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	h := testbin.SectionHeader(t, b, ".debug_info")
	binary.LittleEndian.PutUint32(h[16:], 0x1000) // sh_offset
	binary.LittleEndian.PutUint32(h[20:], size)   // sh_size
	path := dir + "/huge"
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 1<<32); err != nil {
		t.Fatal(err)
	}
	return path
}

func extractTo(t *testing.T, path string, w io.Writer) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ExtractWith(f, 1<<32, w, Options{Compress: None})
	var c *CorruptDWARF
	if errors.As(err, &c) {
		return nil // the sized .debug_info is the file's code: checked after it is written
	}
	return err
}

// An ELF32 file whose debug-only copy would be 4 GiB or more (offsets are
// 32-bit) is refused before a byte is written; just under is written.
func TestELF32OutputOver4GiB(t *testing.T) {
	var out countingWriter
	if err := extractTo(t, elf32Sized(t, 0xffffffff-0xfff), &out); err == nil || !strings.Contains(err.Error(), "too large") || out.n != 0 {
		t.Errorf("err = %v after %d bytes written, want 'too large' before any", err, out.n)
	}

	// Exactly 4 GiB: the output's size moves with .debug_info's (sizes in
	// steps of 8 keep every later section's alignment).
	const small = 1 << 20
	out = countingWriter{}
	if err := extractTo(t, elf32Sized(t, small), &out); err != nil {
		t.Fatal(err)
	}
	exact := small + (1<<32 - out.n)
	out = countingWriter{}
	if err := extractTo(t, elf32Sized(t, uint32(exact)), &out); err == nil || !strings.Contains(err.Error(), "would be 4294967296 bytes") || out.n != 0 {
		t.Errorf("err = %v after %d bytes written, want a 4 GiB output refused before any byte", err, out.n)
	}
}

type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

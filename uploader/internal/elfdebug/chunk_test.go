package elfdebug

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"hash/adler32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// chunked makes every compressible section of more than n bytes be cut
// into chunks of n, in temp-file spools, until the returned func runs.
func chunked(n uint64) func() {
	oldChunk, oldMem := chunkSize, memSpoolMax
	chunkSize, memSpoolMax = n, 0
	return func() { chunkSize, memSpoolMax = oldChunk, oldMem }
}

// chunkInputs are programs with DWARF of tens to hundreds of KiB: gcc -O2
// (line tables to sort), the same with -gz (its sorted .debug_line is
// compressed again), g++, and Go without its own DWARF compression.
func chunkInputs(t *testing.T) []input {
	testbin.Need(t, "gcc", "g++", "go")
	dir := t.TempDir()
	var c, cc strings.Builder
	c.WriteString("#include <stdio.h>\n")
	cc.WriteString("#include <map>\n#include <string>\n#include <vector>\n")
	for i := range 600 {
		fmt.Fprintf(&c, "struct s%d { int a; double b[4]; const char *name; struct s%d *next; };\n", i, i)
		fmt.Fprintf(&c, "__attribute__((noinline)) double f%d(struct s%d *p, int n) { double t = 0; for (int k = 0; k < n; k++) t += p->b[k %% 4] * k; if (n > 1000) puts(p->name); return t; }\n", i, i)
		if i >= 150 {
			continue
		}
		fmt.Fprintf(&cc, "namespace n%d { template <typename T> struct box { std::vector<T> v; std::map<std::string, T> m; T sum() const { T s{}; for (auto& x : v) s += x; return s; } }; }\n", i)
		fmt.Fprintf(&cc, "__attribute__((noinline)) int g%d(int n) { n%d::box<int> b; for (int k = 0; k < n; k++) { b.v.push_back(k); b.m[std::to_string(k)] = k; } return b.sum(); }\n", i, i)
	}
	c.WriteString("int main(int argc, char **argv) { double t = 0; struct s0 x = {0}; x.name = argv[0];\n")
	cc.WriteString("int main(int argc, char**) { int t = 0;\n")
	for i := range 600 {
		fmt.Fprintf(&c, "t += f%d((void *)&x, argc);\n", i)
	}
	for i := range 150 {
		fmt.Fprintf(&cc, "t += g%d(argc);\n", i)
	}
	c.WriteString("printf(\"%f\\n\", t); return 0; }\n")
	cc.WriteString("return t == 42; }\n")
	cSrc, ccSrc := filepath.Join(dir, "many.c"), filepath.Join(dir, "many.cc")
	os.WriteFile(cSrc, []byte(c.String()), 0o644)
	os.WriteFile(ccSrc, []byte(cc.String()), 0o644)
	cBin, czBin, ccBin := filepath.Join(dir, "many"), filepath.Join(dir, "many-gz"), filepath.Join(dir, "manycc")
	testbin.Run(t, dir, "gcc", "-g", "-O2", "-o", cBin, cSrc)
	testbin.Run(t, dir, "gcc", "-g", "-O2", "-gz", "-o", czBin, cSrc)
	testbin.Run(t, dir, "g++", "-g", "-O1", "-o", ccBin, ccSrc)
	cFuncs := []string{"f3", "main"}
	return []input{
		{name: "c-O2", path: cBin, funcs: cFuncs, gdbFunc: "f3"},
		{name: "c-O2-gz", path: czBin, funcs: cFuncs, gdbFunc: "f3"},
		{name: "c++", path: ccBin, funcs: []string{"_Z2g3i", "main"}, gdbFunc: "g3"},
		{name: "go", path: testbin.GoBuild(t, dir, "hellogo", testbin.HelloGo("hi"), "-compressdwarf=false"),
			funcs: []string{"main.main", "runtime.main"}, gdbFunc: "main.main", goBin: true},
	}
}

// TestChunkedSections: with chunks of 16 KiB (64 KiB for zstd), sections of some size are
// compressed in pieces by the workers side by side and joined. The outputs
// must read as the uncompressed one does, in Go's debug/elf and debug/dwarf
// (Parca's readers), binutils, elfutils and gdb, and be the same bytes
// every time.
func TestChunkedSections(t *testing.T) {
	defer chunked(16 << 10)()
	for _, in := range chunkInputs(t) {
		t.Run(in.name, func(t *testing.T) {
			fi := testbin.OpenELF(t, in.path)
			plain, _ := extractWith(t, in.path, ".none", None)
			want := lineTables(t, plain)
			needTools(t)
			for _, c := range []Compression{Zlib, Zstd} {
				out, _ := extractWith(t, in.path, ".chunked."+c.String(), c)
				fo := testbin.OpenELF(t, out)
				cut := false
				for i, s := range fo.Sections {
					if !strings.HasPrefix(s.Name, ".debug_") || s.Type == elf.SHT_NOBITS {
						continue
					}
					// Compressed here, not passed through (a sorted line table is made again).
					made := fi.Sections[i].Flags&elf.SHF_COMPRESSED == 0 || s.Name == ".debug_line"
					cut = cut || s.Flags&elf.SHF_COMPRESSED != 0 && made && s.Size > c.chunk()
					if c == Zlib && s.Flags&elf.SHF_COMPRESSED != 0 && made {
						// Read to the end: Go's debug/elf stops at the size and
						// never checks the Adler-32 that binutils check.
						z, err := zlib.NewReader(bytes.NewReader(raw(t, out, s)[24:]))
						if err == nil {
							_, err = io.Copy(io.Discard, z)
						}
						if err != nil {
							t.Errorf("%s: %s is not a whole zlib stream: %v", c, s.Name, err)
						}
					}
					want, err1 := testbin.OpenELF(t, plain).Sections[i].Data()
					got, err2 := s.Data()
					if err1 != nil || err2 != nil || !bytes.Equal(got, want) {
						t.Errorf("%s: %s reads back different (%v, %v)", c, s.Name, err1, err2)
					}
				}
				if !cut {
					t.Errorf("%s: no section of two chunks or more was compressed: the test cuts nothing", c)
				}
				if got := lineTables(t, out); got != want {
					t.Errorf("%s: line tables differ from the uncompressed output", c)
				}
				checkDebugFile(t, in.path, out, in.funcs...)
				for _, p := range toolProblems(t, in, out) {
					t.Errorf("%s: %s", c, p)
				}
				again, _ := extractWith(t, in.path, ".again", c)
				if fileHash(t, out) != fileHash(t, again) {
					t.Errorf("%s: two extractions differ", c)
				}
			}
		})
	}
}

// A large section that shrinks is cut into chunks, and one that does not is
// given up on after its first chunk, as a whole section is; one random
// chunk inside text does not give the section up.
func TestChunkedLargeSection(t *testing.T) {
	defer chunked(1 << 20)()
	const n = 10 << 20
	old, off := largeDWARF(t, n) // zeros
	text := bytes.Clone(old)
	r := rand.New(rand.NewPCG(5, 6))
	for i := off; i < off+n; i++ {
		text[i] = "abcdefgh\n"[r.IntN(9)]
	}
	random := bytes.Clone(old)
	for i := off; i < off+n; i++ {
		random[i] = byte(r.Uint32())
	}
	// Text with a random chunk inside: judged on the whole, compressed
	// (only the first chunk may give a section up).
	mixed := bytes.Clone(text)
	copy(mixed[off+4<<20:off+5<<20], random[off+4<<20:off+5<<20])
	for _, c := range []Compression{Zlib, Zstd} {
		for _, tc := range []struct {
			name       string
			b          []byte
			compressed bool
		}{{"text", text, true}, {"random", random, false}, {"text with a random chunk", mixed, true}} {
			var out bytes.Buffer
			st, err := ExtractWith(bytes.NewReader(tc.b), int64(len(tc.b)), &out, Options{Compress: c})
			if err != nil {
				t.Fatal(err)
			}
			if got := debugStr(t, out.Bytes()); !bytes.Equal(got, tc.b[off:off+n]) {
				t.Errorf("%s, %s: .debug_str reads back different", c, tc.name)
			}
			fo, _ := elf.NewFile(bytes.NewReader(out.Bytes()))
			s := fo.Section(".debug_str")
			if (s.Flags&elf.SHF_COMPRESSED != 0) != tc.compressed {
				t.Errorf("%s, %s: compressed %v, want %v (%+v)", c, tc.name, !tc.compressed, tc.compressed, st)
			}
		}
	}
}

// adler32Combine gives what one checksum over both runs gives, for any cut.
func TestAdler32Combine(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	b := make([]byte, 300000)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	// The cuts include the empty runs and runs longer than 65521 (the modulus).
	for _, cut := range []int{0, 1, 65521, 65522, 131042, 150000, len(b) - 1, len(b)} {
		got := adler32Combine(adler32.Checksum(b[:cut]), adler32.Checksum(b[cut:]), uint64(len(b)-cut))
		if want := adler32.Checksum(b); got != want {
			t.Errorf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
	for range 200 {
		cut := r.IntN(len(b) + 1)
		if got, want := adler32Combine(adler32.Checksum(b[:cut]), adler32.Checksum(b[cut:]), uint64(len(b)-cut)), adler32.Checksum(b); got != want {
			t.Fatalf("cut at %d: %08x, want %08x", cut, got, want)
		}
	}
	// All 0xff bytes push both sums to their largest values.
	ff := bytes.Repeat([]byte{0xff}, 200000)
	for _, cut := range []int{5552, 100000, 199999} {
		if got, want := adler32Combine(adler32.Checksum(ff[:cut]), adler32.Checksum(ff[cut:]), uint64(len(ff)-cut)), adler32.Checksum(ff); got != want {
			t.Errorf("0xff, cut at %d: %08x, want %08x", cut, got, want)
		}
	}
}

// A temp dir that cannot take the spools fails a chunked extraction with
// the error, without a worker left waiting for a first chunk never done.
func TestChunkedSpoolFailure(t *testing.T) {
	defer chunked(1 << 20)()
	b, _ := largeDWARF(t, 10<<20)
	r := rand.New(rand.NewPCG(9, 10))
	for i := len(b) / 4; i < len(b)/2; i++ {
		b[i] = "abcdefgh\n"[r.IntN(9)]
	}
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "missing"))
	done := make(chan error, 1)
	go func() {
		_, err := ExtractWith(bytes.NewReader(b), int64(len(b)), io.Discard, Options{Compress: Zlib})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "TMPDIR") {
			t.Errorf("err %v, want one naming TMPDIR", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the extraction hangs")
	}
}

// A context done mid-compression stops it within a piece: Open fails with
// the context's error having read a fraction of the section, and leaves no
// temp file.
func TestOpenStopsWhenContextDone(t *testing.T) {
	const n = 64 << 20
	b, off := largeDWARF(t, n)
	r := rand.New(rand.NewPCG(11, 12))
	for i := off; i < off+n; i++ {
		b[i] = "abcdefgh\n"[r.IntN(9)]
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	in := &cancelAfter{r: bytes.NewReader(b), after: 8 << 20, cancel: cancel}
	x, err := Open(in, int64(len(b)), Options{Compress: Zlib, Context: ctx})
	if err == nil {
		x.Close()
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Open after cancel = %v, want context.Canceled", err)
	}
	// Each worker finishes the piece it is in (incompressibleAfter bytes).
	if limit := int64(8<<20 + maxWorkers*incompressibleAfter + 1<<20); in.n.Load() > limit {
		t.Errorf("read %d bytes of a %d-byte section after the cancel at 8 MiB; want at most %d", in.n.Load(), n, limit)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Errorf("left %v in TMPDIR", ents)
	}
}

// cancelAfter reads r and calls cancel once after bytes have been read.
type cancelAfter struct {
	r      io.ReaderAt
	n      atomic.Int64
	after  int64
	cancel func()
}

func (c *cancelAfter) ReadAt(p []byte, off int64) (int, error) {
	m, err := c.r.ReadAt(p, off)
	if c.n.Add(int64(m)) >= c.after {
		c.cancel()
	}
	return m, err
}

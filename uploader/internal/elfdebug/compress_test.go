package elfdebug

import (
	"bytes"
	"crypto/sha256"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func extractWith(t *testing.T, in, suffix string, c Compression) (string, Stats) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	var buf bytes.Buffer
	st, err := ExtractWith(f, fi.Size(), &buf, Options{Compress: c})
	if err != nil {
		t.Fatalf("ExtractWith(%s, %v): %v", in, c, err)
	}
	if st.Bytes != int64(buf.Len()) {
		t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, buf.Len())
	}
	out := in + suffix
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out, st
}

// lineTables dumps every line-table row of every compile unit as Go's
// debug/dwarf (Parca's DWARF reader) reads it.
func lineTables(t *testing.T, path string) string {
	t.Helper()
	f := testbin.OpenELF(t, path)
	d, err := f.DWARF()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var b strings.Builder
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(e)
		if err != nil || lr == nil {
			continue
		}
		var le dwarf.LineEntry
		for lr.Next(&le) == nil {
			fmt.Fprintf(&b, "%#x %s:%d:%d %v\n", le.Address, le.File.Name, le.Line, le.Column, le.IsStmt)
		}
	}
	if b.Len() == 0 {
		t.Fatalf("%s: empty line tables", path)
	}
	return b.String()
}

// checkCompression extracts in with each compression and checks that Go's
// DWARF reader (Parca's) sees the same line tables in every output.
func checkCompression(t *testing.T, in input) {
	plain, stPlain := extractWith(t, in.path, ".none", None)
	want := lineTables(t, plain)
	if stPlain.Compressed != 0 {
		t.Errorf("none: %d sections compressed", stPlain.Compressed)
	}
	for _, c := range []Compression{Zlib, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			out, st := extractWith(t, in.path, "."+c.String(), c)
			if got := lineTables(t, out); got != want {
				t.Errorf("line tables differ from the uncompressed output")
			}
			fi, fo := testbin.OpenELF(t, in.path), testbin.OpenELF(t, out)
			for _, p := range append(append(progProblems(fi, fo), alignProblems(fo)...), append(append(chdrProblems(t, in.path, out), gapProblems(t, in.path, out)...), headProblems(t, in.path, out)...)...) {
				t.Error(p)
			}
			for i, s := range fo.Sections {
				orig := fi.Sections[i]
				if !strings.HasPrefix(s.Name, ".debug_") || s.Type == elf.SHT_NOBITS {
					continue
				}
				if orig.Flags&elf.SHF_COMPRESSED != 0 {
					// Go's: passed through byte for byte.
					if !bytes.Equal(raw(t, in.path, orig), raw(t, out, s)) {
						t.Errorf("%s: already compressed, but its bytes changed", s.Name)
					}
					continue
				}
				// Every DWARF section of some size shrinks (objcopy compresses them all).
				grown := s.Size != orig.Size && !(symbolsUnitSections[s.Name] && st.SymbolsNamed > 0)
				if (s.Name == ".debug_info" || orig.Size >= 4096) && (s.Flags&elf.SHF_COMPRESSED == 0 || s.FileSize >= orig.FileSize || grown) {
					t.Errorf("%s (%d bytes) not compressed: %+v", s.Name, orig.Size, s.SectionHeader)
				}
				if s.Flags&elf.SHF_COMPRESSED != 0 {
					if typ := chdrType(t, out, fo, s); typ != c.chType() {
						t.Errorf("%s compressed with %v, want %v", s.Name, typ, c.chType())
					}
				}
			}
			if !in.goBin && st.Compressed == 0 {
				t.Errorf("stats: %+v", st)
			}
			if in.goBin && st.Compressed != 0 {
				t.Errorf("Go's DWARF is compressed already, yet %d sections recompressed", st.Compressed)
			}
			checkDebugFile(t, in.path, out, in.funcs...)
			// The same bytes every time: uploads hash one pass and send another.
			again, _ := extractWith(t, in.path, ".again", c)
			if a, b := fileHash(t, out), fileHash(t, again); a != b {
				t.Error("two extractions differ")
			}
		})
	}
}

// TestZdebugPassedThrough checks that gcc's legacy .zdebug_* sections are
// kept as they are (they are compressed already) whatever the option.
func TestZdebugPassedThrough(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "zdebug", testbin.HelloC, "-g", "-gz=zlib-gnu")
	fi := testbin.OpenELF(t, bin)
	if fi.Section(".zdebug_info") == nil {
		t.Skip("gcc/ld made no .zdebug_info")
	}
	for _, c := range []Compression{None, Zlib, Zstd} {
		out, _ := extractWith(t, bin, "."+c.String(), c)
		fo := testbin.OpenELF(t, out)
		for i, s := range fi.Sections {
			if strings.HasPrefix(s.Name, ".zdebug_") {
				o := fo.Sections[i]
				if o.Type == elf.SHT_NOBITS || o.Flags != s.Flags || !bytes.Equal(raw(t, bin, s), raw(t, out, o)) {
					t.Errorf("%v: %s not passed through: %+v", c, s.Name, o.SectionHeader)
				}
			}
		}
		checkDebugFile(t, bin, out, "square", "sum_squares", "main")
	}
}

// TestCompressLargeMemory compresses a 64 MB .debug_str and checks that
// allocation stays bounded (the compressed bytes go through a temp file).
func TestCompressLargeMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large input")
	}
	big := makeLarge(t, testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC, "-g"), ".debug_str", 64<<20)
	f, err := os.Open(big)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	for _, c := range []Compression{Zlib, Zstd} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		st, err := ExtractWith(f, fi.Size(), struct{ hashWriter }{sha256.New()}, Options{Compress: c})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%v: %d MB in, %d KB out, %d KB allocated", c, fi.Size()>>20, st.Bytes>>10, alloc>>10)
		if st.Compressed == 0 || st.Bytes > 4<<20 {
			t.Errorf("%v: not compressed: %+v", c, st)
		}
		if alloc > 8<<20 {
			t.Errorf("%v: allocated %d bytes", c, alloc)
		}
	}
}

// raw reads a section's bytes from the file at path, as stored (compressed or not).
func raw(t *testing.T, path string, s *elf.Section) []byte {
	t.Helper()
	if s.Type == elf.SHT_NOBITS {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, s.FileSize)
	if _, err := f.ReadAt(b, int64(s.Offset)); err != nil {
		t.Fatal(err)
	}
	return b
}

func chdrType(t *testing.T, path string, f *elf.File, s *elf.Section) elf.CompressionType {
	t.Helper()
	b := raw(t, path, s)
	if len(b) < 4 {
		t.Fatalf("%s: %d bytes", s.Name, len(b))
	}
	return elf.CompressionType(f.ByteOrder.Uint32(b))
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// TestReusedCompressors: compressors kept between extractions (as a run of
// many uploads does) give the same bytes as fresh ones, in memory-spooled
// (small DWARF) and file-spooled (large) extractions alike.
func TestReusedCompressors(t *testing.T) {
	reuse := &Compressors{}
	for _, in := range inputs(t) {
		f, err := os.Open(in.path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		for _, c := range []Compression{Zlib, Zstd} {
			var fresh bytes.Buffer
			if _, err := ExtractWith(f, fi.Size(), &fresh, Options{Compress: c}); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				var again bytes.Buffer
				if _, err := ExtractWith(f, fi.Size(), &again, Options{Compress: c, Reuse: reuse}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(fresh.Bytes(), again.Bytes()) {
					t.Errorf("%s %v: extraction %d with reused compressors differs from a fresh one", in.name, c, i)
				}
			}
		}
		f.Close()
	}
}

func TestMemSpoolDropsLastWrite(t *testing.T) {
	m := &memSpool{}
	m.Write([]byte("keep"))
	m.Write([]byte("drop"))
	if err := m.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Seek(4, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	m.Write([]byte("!"))
	got := make([]byte, 5)
	if n, err := m.ReadAt(got, 0); n != 5 || (err != nil && err != io.EOF) || string(got) != "keep!" {
		t.Fatalf("ReadAt = %d, %v, %q; want 5, keep!", n, err, got)
	}
	if _, err := m.Seek(2, io.SeekStart); err == nil {
		t.Error("Seek into the middle was accepted")
	}
}

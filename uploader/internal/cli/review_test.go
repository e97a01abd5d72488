package cli

// Findings of an independent review of extraction (issues 13 and 19): each
// test asserts what a user sees, and failed when it was written.

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

const reviewProg = `#include <stdio.h>
#include "hdr.h"
__attribute__((noinline)) int work(int n) { int s = 0; for (int i = 0; i < n; i++) s += hsq(i) ^ (s >> 3); return s; }
int main(void) { printf("%d\n", work(1000)); return 0; }
`

// reviewBuild compiles reviewProg (which includes hdr.h) with gcc and flags.
func reviewBuild(t *testing.T, flags ...string) (dir, bin string) {
	t.Helper()
	testbin.Need(t, "gcc")
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hdr.h"), []byte("static inline int hsq(int x) { return x * x + 1; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, testbin.GCC(t, dir, "prog", reviewProg, flags...)
}

// reviewPatch returns a copy of bin (64-bit little-endian) after f edits it.
func reviewPatch(t *testing.T, bin string, f func(b []byte, ef *elf.File, shdr func(name string) int) []byte) string {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	shoff := int(binary.LittleEndian.Uint64(data[0x28:]))
	shdr := func(name string) int {
		for i, s := range ef.Sections {
			if s.Name == name {
				return shoff + i*64
			}
		}
		t.Fatalf("no section %s", name)
		return 0
	}
	return testbin.File(t, "patched", f(data, ef, shdr))
}

// reviewChild runs the CLI in a child process (this test binary) and returns
// its exit code, output and peak RSS in KiB.
func reviewChild(t *testing.T, name string, args ...string) (int, string, int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$")
	cmd.Env = append(os.Environ(), "REVIEW_CHILD_ARGS="+strings.Join(args, "\x1f"))
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

func reviewChildMain() {
	if a := os.Getenv("REVIEW_CHILD_ARGS"); a != "" {
		os.Exit(Main(&Env{Stdin: strings.NewReader(""), Stdout: os.Stdout, Stderr: os.Stderr, Getenv: func(string) string { return "" }}, strings.Split(a, "\x1f")))
	}
}

// A 1 MB binary whose .debug_line is a zlib bomb (SHF_COMPRESSED, 1 GiB
// honestly declared in ch_size; 1 GiB in the first try) makes `debuginfo sources` (and so `upload
// --include-sources` and `extract --sources-out`, the Bazel aspect's
// extraction) take 4.3 GB of RSS for a 1 GiB bomb, about 4x the declared size, before it fails. extract itself stays at 13 MB.
func TestReviewSourcesZlibBombMemory(t *testing.T) {
	reviewChildMain()
	_, bin := reviewBuild(t, "-g")
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zero := make([]byte, 1<<20)
	for range 256 {
		zw.Write(zero)
	}
	zw.Close()
	bomb := reviewPatch(t, bin, func(b []byte, _ *elf.File, shdr func(string) int) []byte {
		o := shdr(".debug_line")
		off := len(b)
		chdr := make([]byte, 24)
		binary.LittleEndian.PutUint32(chdr[0:], uint32(elf.COMPRESS_ZLIB))
		binary.LittleEndian.PutUint64(chdr[8:], 256<<20)
		binary.LittleEndian.PutUint64(chdr[16:], 1)
		b = append(append(b, chdr...), z.Bytes()...)
		binary.LittleEndian.PutUint64(b[o+8:], binary.LittleEndian.Uint64(b[o+8:])|uint64(elf.SHF_COMPRESSED))
		binary.LittleEndian.PutUint64(b[o+24:], uint64(off))
		binary.LittleEndian.PutUint64(b[o+32:], uint64(24+z.Len()))
		return b
	})
	code, out, rss := reviewChild(t, t.Name(), "sources", bomb, "-o", filepath.Join(t.TempDir(), "s.tar.zst"))
	if strings.Contains(out, "panic") || code > 1 {
		t.Errorf("exit %d:\n%s", code, out)
	}
	if rss > 100<<10 {
		t.Errorf("sources on a zlib bomb declaring 256 MiB: peak RSS %d MiB (want < 100 MiB); exit %d: %s", rss>>10, code, out)
	}
}

// e_phnum = 0xffff (PN_XNUM: the count is in section 0's sh_info, here 0).
// Passes since the elfdebug fix for files without program headers.
// extract answers "internal error: output at 64, past the planned offset 0"
// (upload likewise): not a message a user can act on.
func TestReviewExtractPNXnum(t *testing.T) {
	_, bin := reviewBuild(t, "-g")
	p := reviewPatch(t, bin, func(b []byte, _ *elf.File, _ func(string) int) []byte {
		binary.LittleEndian.PutUint16(b[0x38:], 0xffff)
		return b
	})
	code, stdout, stderr := runCLI(t, "extract", p, "-o", filepath.Join(t.TempDir(), "out"))
	if strings.Contains(stdout+stderr, "internal error") || code > 1 {
		t.Errorf("exit %d, an internal error for bad input:\n%s%s", code, stdout, stderr)
	}
}

// docs/symbolization.md: "No DWARF: the upload goes ahead with one warning
// line". With --include-sources (what the Make include, CMake and the Bazel
// aspect pass) a binary built without -g, or after `strip -g`, fails instead:
//
//	gcc -O2 -o nog prog.c && debuginfo upload --include-sources --store-address=file:///tmp/s nog
//	-> failed sources ... decoding dwarf section info at offset 0x0: too short; exit 1
func TestReviewNoDwarfIncludeSources(t *testing.T) {
	_, bin := reviewBuild(t, "-O2")
	store := "file://" + t.TempDir()
	code, stdout, stderr := runCLI(t, "upload", "--include-sources", "--store-address="+store, bin)
	if code != 0 || strings.Contains(stdout+stderr, "too short") {
		t.Errorf("exit %d (want 0, the symbols-only warning and no sources):\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "symbols only") {
		t.Errorf("no symbols-only warning:\n%s", stderr)
	}
	// The Bazel aspect's extract action writes a source archive beside the
	// debuginfo: it must succeed (an empty archive, named in no record).
	out := t.TempDir()
	code, stdout, stderr = runCLI(t, "extract", bin, "-o", filepath.Join(out, "b.debuginfo"),
		"--sources-out", filepath.Join(out, "b.tar.zst"), "--record", filepath.Join(out, "b.json"))
	if code != 0 || strings.Contains(stdout+stderr, "too short") {
		t.Errorf("extract --sources-out: exit %d:\n%s%s", code, stdout, stderr)
	}
	if rec, err := os.ReadFile(filepath.Join(out, "b.json")); err != nil || strings.Contains(string(rec), `"sources"`) {
		t.Errorf("record %s (%v): want no sources named", rec, err)
	}
}

// `debuginfo upload ./out/` (the README's example) on a build directory that
// holds object files: every .o and .dwo (ET_REL, no program headers) failed
// with "internal error: output at 64, past the planned offset 0", exit 1.
// Fixed in elfdebug (no padding to program headers that do not exist).
func TestReviewBuildDirWithObjects(t *testing.T) {
	dir, bin := reviewBuild(t, "-g")
	testbin.Run(t, dir, "gcc", "-g", "-c", "prog.c", "-o", "prog.o")
	testbin.Run(t, dir, "gcc", "-g", "-gsplit-dwarf", "-c", "prog.c", "-o", "split.o")
	_ = bin
	code, stdout, stderr := runCLI(t, "upload", "--dry-run", dir)
	if code != 0 || strings.Contains(stdout+stderr, "internal error") {
		t.Errorf("exit %d:\n%s%s", code, stdout, stderr)
	}
	for _, o := range []string{"prog.o", "split.dwo"} {
		out := filepath.Join(t.TempDir(), "out")
		code, stdout, stderr := runCLI(t, "extract", filepath.Join(dir, o), "-o", out)
		if code != 0 {
			t.Errorf("extract %s: exit %d:\n%s%s", o, code, stdout, stderr)
			continue
		}
		if _, err := exec.LookPath("readelf"); err == nil {
			re, _ := exec.Command("readelf", "-aW", out).CombinedOutput()
			if strings.Contains(string(re), "readelf: Error") {
				t.Errorf("readelf -a on the extract of %s:\n%s", o, re)
			}
		}
	}
}

// `debuginfo sources` (and `upload --include-sources`, the Bazel aspect's and
// the Make include's default) held whole DWARF sections in memory: a gcc -g
// binary whose .debug_str is 218 MB took 815 MB RSS in `sources` and 940 MB in
// `upload --include-sources`, while `extract` of it stays at 14 MB; 129 MiB
// for the 128 MiB below. Large C++ binaries carry GBs of DWARF. Reproduce:
//
//	objcopy --update-section .debug_str=BIG(128 MiB of NUL-terminated names) prog big
//	/usr/bin/time -f %M debuginfo sources big -o s.tar.zst
//
// The same binary with its DWARF zlib-compressed (objcopy
// --compress-debug-sections=zlib) must stay as small: compressed sections
// are decompressed to a temporary file, not to memory.
func TestReviewSourcesLargeDwarfMemory(t *testing.T) {
	reviewChildMain()
	testbin.Need(t, "objcopy")
	dir, bin := reviewBuild(t, "-g")
	// The original strings first (DW_FORM_strp offsets stay valid), then
	// 128 MiB more: names that compress about as real ones do.
	ef, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := ef.Section(".debug_str").Data()
	ef.Close()
	if err != nil {
		t.Fatal(err)
	}
	strs := filepath.Join(dir, "big.str")
	f, err := os.Create(strs)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.Write(orig)
	rnd := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 128<<20; n += 33 {
		fmt.Fprintf(w, "id_%016x_%08x\x00", rnd.Uint64(), rnd.Uint32())
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	testbin.Run(t, dir, "objcopy", "--update-section", ".debug_str="+strs, bin, big)
	os.Remove(strs)
	bigz := filepath.Join(dir, "bigz")
	testbin.Run(t, dir, "objcopy", "--compress-debug-sections=zlib", big, bigz)
	for _, in := range []string{big, bigz} {
		t.Run(filepath.Base(in), func(t *testing.T) {
			code, out, rss := reviewChild(t, "TestReviewSourcesLargeDwarfMemory", "sources", in, "-o", filepath.Join(t.TempDir(), "s.tar.zst"), "--source-root", dir)
			t.Logf("peak RSS %d MiB\n%s", rss>>10, out)
			if code != 0 || !strings.Contains(out, ": 2 files") {
				t.Fatalf("exit %d, want 2 files (prog.c, hdr.h):\n%s", code, out)
			}
			if rss > 100<<10 {
				t.Errorf("sources on a binary with 128 MiB more .debug_str: peak RSS %d MiB (want < 100 MiB, as extract)", rss>>10)
			}
		})
	}
}

// A -gsplit-dwarf binary uploads as dwarf=true without a warning, yet a real
// Parca v0.28.0 shows NO function names at all for it (not even the symbol
// table's): "liner pctolines: failed to find entry for compile unit" at debug
// level. The same happens with --no-extract. The user must be told, as for
// binaries without DWARF (fixed: split DWARF is left out, with a warning):
//
//	gcc -O2 -g -gsplit-dwarf -o prog prog.c && debuginfo extract prog -o prog.debug
func TestReviewSplitDwarfWarns(t *testing.T) {
	_, bin := reviewBuild(t, "-O2", "-g", "-gsplit-dwarf")
	code, stdout, stderr := runCLI(t, "extract", bin, "-o", filepath.Join(t.TempDir(), "out"))
	if !strings.Contains(stdout+stderr, ".dwo") {
		t.Errorf("exit %d; no warning that the DWARF is in .dwo files (not uploaded; Parca shows nothing):\n%s%s", code, stdout, stderr)
	}
}

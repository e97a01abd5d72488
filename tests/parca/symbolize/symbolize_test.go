package symbolize

import (
	"bufio"
	"context"
	"crypto/sha1"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// want is one address to profile, found by the marker comment "@NAME" on
// its line, and the functions and files Parca must show for it, in Parca's
// order: outermost first, inlined calls after their caller. (Parca v0.28.0's
// DWARF liner also gives each frame the first line of that function's or
// inlined call's range rather than the sampled line, and a C++ method its
// bare DW_AT_name; lines are checked against the same binary uploaded whole.)
type want struct {
	at        string // "file:marker"
	functions []string
	files     []string // base names
	line      string   // "file:marker": the outermost frame's line, when checked
}

// fixture is one binary: how it is built and uploaded, and what Parca must
// show for it.
type fixture struct {
	name   string
	src    string                                        // testdata directory
	build  func(t *testing.T, env *env, dir, out string) // dir: a copy of src
	upload func(t *testing.T, env *env, dir, bin string) (uploaded string, flags []string)
	wants  []want
	stored string // if set: how the stored .debug_info must be compressed (none, zlib, zstd)
	// unsorted: the binary's line tables are out of address order, so
	// Parca v0.28.0 shows "?:0" for some wants from the whole binary;
	// the upload, with its line tables sorted, must show every line.
	unsorted bool
	// endRow: a sequence ends where the next function starts, so Parca
	// v0.28.0 shows that end row's line (the previous function's) from
	// the whole binary; the upload, with the two joined, must show each
	// want's line.
	endRow bool
	// discarded: --gc-sections dropped a function whose debug info the
	// linker left at address 0, over the program's first functions, so
	// Parca v0.28.0 shows that function's name or lines for some wants
	// from the whole binary; the upload, with those ranges emptied, must
	// show each want.
	discarded bool
	// debugFile: what is uploaded is a debug file whose program headers
	// objcopy rewrote, from which Parca v0.28.0 shows nothing for runtime
	// addresses; the upload, with its program's segments, must show each
	// want in both forms.
	debugFile bool
	// symbols: functions without DWARF in the binary (libc's, linked in
	// statically), which Parca v0.28.0 shows no frame for from the whole
	// binary (it looks addresses up in the DWARF alone); the upload must
	// show each by its name, without a line.
	symbols []string
	// namesOnly: split DWARF, which Parca v0.28.0 shows no frame at all
	// from (the whole binary's, as uploads kept it before). The upload,
	// without it, must show each want's outermost function from the
	// symbol table, with no line.
	namesOnly bool
}

type env struct {
	debuginfo string
	tmp       string
}

func run(t *testing.T, dir string, extraEnv []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func gcc(compiler string, flags ...string) func(t *testing.T, e *env, dir, out string) {
	return func(t *testing.T, e *env, dir, out string) {
		srcs, _ := filepath.Glob(filepath.Join(dir, "*.c*"))
		for i := range srcs {
			srcs[i] = filepath.Base(srcs[i])
		}
		run(t, dir, nil, compiler, append(append(flags, "-o", out), srcs...)...)
	}
}

// withLargeStrings is build, then .debug_str grown past 32 MiB by strings
// nothing refers to: the extraction compresses such a section in chunks,
// side by side, and joins them. Parca decompresses the whole section to
// read any name, and checks the stream's checksum (zlib) or frames (zstd):
// a wrong join shows no name at all.
func withLargeStrings(build func(t *testing.T, e *env, dir, out string)) func(t *testing.T, e *env, dir, out string) {
	return func(t *testing.T, e *env, dir, out string) {
		build(t, e, dir, out)
		str := out + ".debug_str"
		run(t, dir, nil, "objcopy", "--dump-section", ".debug_str="+str, out)
		f, err := os.OpenFile(str, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriter(f)
		for i := range 1200000 { // about 37 MB: zlib cuts it in 4 MiB chunks, zstd in 16 MiB ones
			fmt.Fprintf(w, "unreferenced_name_%d_%x\x00", i, i*2654435761)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		run(t, dir, nil, "objcopy", "--update-section", ".debug_str="+str, out)
	}
}

func goBuild(flags ...string) func(t *testing.T, e *env, dir, out string) {
	return func(t *testing.T, e *env, dir, out string) {
		run(t, dir, []string{"GOWORK=off", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0"}, "go",
			append(append([]string{"build"}, flags...), "-o", out, ".")...)
	}
}

// cgoBuild builds a Go program with C code (cgo's default CFLAGS: -g -O2).
func cgoBuild(flags ...string) func(t *testing.T, e *env, dir, out string) {
	return func(t *testing.T, e *env, dir, out string) {
		run(t, dir, []string{"GOWORK=off", "GOFLAGS=-buildvcs=false", "CGO_ENABLED=1"}, "go",
			append(append([]string{"build"}, flags...), "-o", out, ".")...)
	}
}

// plain uploads the binary as linked.
func plain(t *testing.T, e *env, dir, bin string) (string, []string) { return bin, nil }

// stamped uploads a `debuginfo stamp` copy (rules_go's -buildid=redacted
// binaries all share one GNU build ID).
func stamped(t *testing.T, e *env, dir, bin string) (string, []string) {
	out := bin + ".stamped"
	run(t, dir, nil, e.debuginfo, "stamp", bin, "-o", out)
	return out, nil
}

// compressed uploads with --compress-debug-sections=kind (none, zlib, zstd).
func compressed(kind string) func(t *testing.T, e *env, dir, bin string) (string, []string) {
	return func(t *testing.T, e *env, dir, bin string) (string, []string) {
		return bin, []string{"--compress-debug-sections=" + kind}
	}
}

// debugPair uploads a stripped program and its own debug file (objcopy
// --only-keep-debug, the Debian -dbgsym layout) in one run: the debug
// file is sent, with the program's segments.
func debugPair(t *testing.T, e *env, dir, bin string) (string, []string) {
	dbg, stripped := bin+".debug", bin+".stripped"
	run(t, dir, nil, "objcopy", "--only-keep-debug", bin, dbg)
	run(t, dir, nil, "strip", "--strip-all", "-o", stripped, bin)
	run(t, dir, nil, "objcopy", "--add-gnu-debuglink="+dbg, stripped)
	return dbg, []string{stripped}
}

// dbgsym uploads the debug file alone, made as Debian's dh_strip makes
// -dbgsym files: objcopy --only-keep-debug --compress-debug-sections.
func dbgsym(t *testing.T, e *env, dir, bin string) (string, []string) {
	dbg := bin + ".debug"
	run(t, dir, nil, "objcopy", "--only-keep-debug", "--compress-debug-sections", bin, dbg)
	return dbg, nil
}

// trimmed maps -trimpath's module-relative names back to the sources.
func trimmed(t *testing.T, e *env, dir, bin string) (string, []string) {
	return bin, []string{"--prefix-map", "example.com/symgo=" + dir}
}

var cWants = []want{
	{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
	{at: "util.h:square", functions: []string{"compute", "square"}, files: []string{"main.c", "main.c"}},
	{at: "util.h:header_fn", functions: []string{"header_fn"}, files: []string{"util.h"}},
}

var goWants = []want{
	{at: "main.go:main", functions: []string{"main.main"}, files: []string{"main.go"}},
	{at: "main.go:add", functions: []string{"main.work", "main.add"}, files: []string{"main.go", "main.go"}},
}

// o2Wants are in code gcc -O2 moves out of its unit's order: main to
// .text.startup, a cold path to .text.unlikely.
var o2Wants = []want{
	{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
	{at: "main.c:hot", functions: []string{"checked_sum"}, files: []string{"main.c"}},
	{at: "main.c:cold", functions: []string{"checked_sum"}, files: []string{"main.c"}},
	{at: "twice.c:twice", functions: []string{"twice"}, files: []string{"twice.c"}},
}

// o2SectionWants are o2Wants with -ffunction-sections, where checked_sum's
// cold part lies below its entry: Parca v0.28.0 gives its frames the cold
// part's first line (a known limit, docs/symbolization.md), which is still
// a line of checked_sum.
var o2SectionWants = []want{
	{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
	{at: "main.c:hot", functions: []string{"checked_sum"}, files: []string{"main.c"}, line: "main.c:cold"},
	{at: "main.c:cold", functions: []string{"checked_sum"}, files: []string{"main.c"}, line: "main.c:cold"},
	{at: "twice.c:twice", functions: []string{"twice"}, files: []string{"twice.c"}},
}

var gcWants = []want{
	{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
	{at: "main.c:used_small", functions: []string{"used_small"}, files: []string{"main.c"}},
	{at: "lib.c:used_lib", functions: []string{"used_lib"}, files: []string{"lib.c"}},
}

var fixtures = []fixture{
	{name: "c-dwarf5-pie", src: "c", build: gcc("gcc", "-g", "-O1", "-gdwarf-5", "-pie", "-fPIE"), upload: plain, wants: cWants},
	{name: "c-dwarf4-nopie", src: "c", build: gcc("gcc", "-g", "-O1", "-gdwarf-4", "-no-pie"), upload: plain, wants: cWants},
	{name: "cxx", src: "cc", build: gcc("g++", "-g", "-O1"), upload: plain, wants: []want{
		{at: "main.cc:area", functions: []string{"Area"}, files: []string{"main.cc"}},
		{at: "main.cc:main", functions: []string{"main"}, files: []string{"main.cc"}},
	}},
	{name: "c-O2", src: "o2", build: gcc("gcc", "-g", "-O2"), upload: plain, wants: o2Wants, unsorted: true},
	// -gz: the input's .debug_line is compressed; it is sorted all the same.
	{name: "c-O2-gz", src: "o2", build: gcc("gcc", "-g", "-O2", "-gz"), upload: plain, wants: o2Wants, unsorted: true},
	// bad ends in abort and checked_sum's cold part follows it: from the
	// whole binary Parca showed bad's abort line for checked_sum.
	{name: "c-O2-function-sections", src: "o2", build: gcc("gcc", "-g", "-O2", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: compressed("zstd"), wants: o2SectionWants, endRow: true},
	// GNU ld leaves a dropped function's ranges at 0: in DWARF 5 its unit's
	// and its own range lists, in both versions its line table.
	{name: "c-gc-sections-dwarf5", src: "gc", build: gcc("gcc", "-g", "-O2", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: plain, wants: gcWants, discarded: true},
	// The only code dropped is a whole unit's: its one sequence and its
	// unit's range were left at 0 (review s14-r4, finding 1).
	{name: "c-gc-sections-whole-unit", src: "gc2", build: gcc("gcc", "-g", "-O2", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: plain, discarded: true, wants: []want{
			{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
			{at: "main.c:used_small", functions: []string{"used_small"}, files: []string{"main.c"}},
		}},
	// gold and GNU ld's -z noseparate-code start the first executable
	// segment at 0 (review s14-r5, finding 2).
	{name: "c-gc-sections-noseparate-code", src: "gc", build: gcc("gcc", "-g", "-O2", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections", "-Wl,-z,noseparate-code"),
		upload: plain, wants: gcWants, discarded: true},
	// DWARF compressed in the input: gcc -gz, and a Debian-style -dbgsym
	// file (objcopy --only-keep-debug --compress-debug-sections) uploaded
	// alone, whose program headers objcopy rewrote too.
	{name: "c-gc-sections-gz", src: "gc", build: gcc("gcc", "-g", "-O2", "-gdwarf-5", "-gz", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: plain, wants: gcWants, discarded: true},
	{name: "c-gc-sections-dbgsym", src: "gc", build: gcc("gcc", "-g", "-O2", "-gdwarf-5", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: dbgsym, wants: gcWants, discarded: true, debugFile: true},
	// gold: a dropped function's inlined call starts at its offset, past
	// 0, over main (review s18-r1, finding 1).
	{name: "c-gc-sections-gold", src: "gcgold", build: gcc("gcc", "-g", "-O0", "-fuse-ld=gold", "-pie", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: plain, discarded: true, wants: []want{
			{at: "blk.c:main", functions: []string{"main"}, files: []string{"blk.c"}},
			{at: "blk.c:live_helper", functions: []string{"live_helper"}, files: []string{"blk.c"}},
		}},
	{name: "c-gc-sections-one-unit", src: "gc1", build: gcc("gcc", "-g", "-O2", "-gdwarf-4", "-ffunction-sections", "-Wl,--gc-sections"),
		upload: compressed("zlib"), discarded: true, wants: []want{
			{at: "one.c:main", functions: []string{"main"}, files: []string{"one.c"}, line: "one.c:main-entry"},
			{at: "one.c:used_small", functions: []string{"used_small"}, files: []string{"one.c"}},
		}},
	{name: "c-debug-file-pair", src: "c", build: gcc("gcc", "-g", "-O1"), upload: debugPair, wants: cWants, debugFile: true},
	{name: "c-static", src: "c", build: gcc("gcc", "-g", "-O1", "-static"), upload: plain, wants: cWants, symbols: []string{"_start", "exit", "__libc_start_main"}},
	// Compressed in the input: the unit of symbols goes into the
	// decompressed DWARF (review s15-r1, finding 6).
	{name: "c-static-gz", src: "c", build: gcc("gcc", "-g", "-O1", "-static", "-gz"), upload: plain, wants: cWants, symbols: []string{"_start", "exit", "__libc_start_main"}},
	{name: "c-static-none", src: "c", build: gcc("gcc", "-g", "-O1", "-static"), upload: compressed("none"), wants: cWants, stored: "none", symbols: []string{"_start", "exit"}},
	{name: "go", src: "go", build: goBuild(), upload: plain, wants: goWants},
	{name: "go-debug-file-pair", src: "go", build: goBuild(), upload: debugPair, wants: goWants, debugFile: true},
	{name: "go-redacted-stamped", src: "go", build: goBuild("-ldflags=-buildid=redacted"), upload: stamped, wants: goWants},
	{name: "go-trimpath", src: "go", build: goBuild("-trimpath"), upload: trimmed, wants: goWants},
	// Both: main (in .text.startup) comes before die in the line table.
	{name: "c-Os-noreturn", src: "noret", build: gcc("gcc", "-g", "-Os", "-ffunction-sections"), upload: plain, unsorted: true, endRow: true, wants: []want{
		{at: "main.c:check", functions: []string{"check"}, files: []string{"main.c"}, line: "main.c:check-entry"},
		{at: "main.c:die", functions: []string{"die"}, files: []string{"main.c"}},
		{at: "main.c:main", functions: []string{"main"}, files: []string{"main.c"}},
	}},
	// The C units of a cgo program are gcc -O2 output, out of order.
	{name: "cgo-O2", src: "cgo", build: cgoBuild(), upload: plain, unsorted: true, wants: []want{
		{at: "sum.c:hot", functions: []string{"checked_sum"}, files: []string{"sum.c"}},
		{at: "sum.c:cold", functions: []string{"checked_sum"}, files: []string{"sum.c"}},
		{at: "sum.c:scaled", functions: []string{"scaled"}, files: []string{"sum.c"}},
		{at: "main.go:main", functions: []string{"main.main"}, files: []string{"main.go"}},
	}},
	// The same from compressed and uncompressed DWARF (each is checked
	// against the whole binary, uploaded uncompressed).
	{name: "c-none", src: "c", build: gcc("gcc", "-g", "-O1"), upload: compressed("none"), wants: cWants, stored: "none"},
	{name: "c-zlib", src: "c", build: gcc("gcc", "-g", "-O1"), upload: compressed("zlib"), wants: cWants, stored: "zlib"},
	{name: "c-zstd", src: "c", build: gcc("gcc", "-g", "-O1"), upload: compressed("zstd"), wants: cWants, stored: "zstd"},
	// A .debug_str past 8 MiB is compressed in chunks side by side and joined.
	{name: "c-zlib-chunked", src: "c", build: withLargeStrings(gcc("gcc", "-g", "-O1")), upload: compressed("zlib"), wants: cWants, stored: "zlib"},
	{name: "c-zstd-chunked", src: "c", build: withLargeStrings(gcc("gcc", "-g", "-O1")), upload: compressed("zstd"), wants: cWants, stored: "zstd"},
	// Go's linker compresses DWARF with zlib itself (kept as it is); without that, zstd.
	{name: "go-zstd", src: "go", build: goBuild("-ldflags=-compressdwarf=false"), upload: compressed("zstd"), wants: goWants, stored: "zstd"},
	// -gsplit-dwarf (Bazel --fission): DWARF 5 skeleton units, and DWARF 4
	// ones with DW_AT_GNU_dwo_name; -gz: their headers, left without bytes,
	// must not keep SHF_COMPRESSED (Parca could not open the file).
	{name: "c-split-dwarf5", src: "c", build: gcc("gcc", "-g", "-O1", "-gsplit-dwarf"), upload: plain, wants: cWants, namesOnly: true},
	{name: "c-split-dwarf4", src: "c", build: gcc("gcc", "-g", "-O1", "-gdwarf-4", "-gsplit-dwarf"), upload: plain, wants: cWants, namesOnly: true},
	{name: "c-split-dwarf5-gz", src: "c", build: gcc("gcc", "-g", "-O1", "-gsplit-dwarf", "-gz"), upload: plain, wants: cWants, namesOnly: true},
}

// startParca starts a Parca server for the test (stopped at its end) and
// returns a temp dir, the debuginfo CLI to upload with ($DEBUGINFO, else
// built from this checkout), the server and clients of its query API.
func startParca(t *testing.T) (string, *env, *Server, Clients) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := ParcaBinary(root)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	e := &env{debuginfo: os.Getenv("DEBUGINFO"), tmp: tmp}
	if e.debuginfo == "" {
		e.debuginfo = filepath.Join(tmp, "debuginfo")
		run(t, root, []string{"GOWORK=off"}, "go", "build", "-o", e.debuginfo, "./uploader/cmd/debuginfo")
	}
	srv, err := Start(bin, filepath.Join(tmp, "parca"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return tmp, e, srv, NewClients(conn)
}

func TestSymbolize(t *testing.T) {
	tmp, e, srv, c := startParca(t)
	// Extra upload flags, e.g. SYMBOLIZE_UPLOAD_FLAGS=--no-extract to check
	// the harness against whole binaries.
	extra := strings.Fields(os.Getenv("SYMBOLIZE_UPLOAD_FLAGS"))
	// Build IDs Parca is expected to fail for (and say so in its log).
	failing := map[string]bool{}

	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir := filepath.Join(tmp, fx.name)
			copyDir(t, filepath.Join("testdata", fx.src), dir)
			out := filepath.Join(tmp, fx.name+".bin")
			fx.build(t, e, dir, out)
			uploaded, flags := fx.upload(t, e, dir, out)
			buildID, err := GNUBuildID(uploaded)
			if err != nil {
				t.Fatal(err)
			}
			args := append([]string{"upload", "--store-address=" + srv.Addr, "--insecure", "--include-sources"}, flags...)
			run(t, dir, nil, e.debuginfo, append(append(args, extra...), uploaded)...)
			if fx.stored != "" {
				if got := debugInfoCompression(t, filepath.Join(tmp, "parca", "bucket", "debuginfo", buildID, "debuginfo")); got != fx.stored {
					t.Fatalf("Parca stored .debug_info compressed with %s, want %s", got, fx.stored)
				}
			}
			// The reference: the same file uploaded whole under another build
			// ID. Parca must show the same from both.
			refID := fmt.Sprintf("%x", sha1.Sum([]byte("reference:"+buildID)))
			failing[refID] = fx.namesOnly || fx.debugFile || len(fx.symbols) > 0
			run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--no-extract",
				"--build-id="+refID, uploaded)

			for _, form := range Forms {
				t.Run(string(form), func(t *testing.T) {
					checkFixture(t, c, fx, dir, out, buildID, refID, form)
				})
			}
		})
	}
	srv.Stop()
	fails, err := SymbolizeFailuresExcept(srv.Log, 0, failing)
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) > 0 {
		t.Errorf("Parca's log says it failed to symbolize:\n%s", strings.Join(fails, "\n"))
	}
}

func checkFixture(t *testing.T, c Clients, fx fixture, dir, bin, buildID, refID string, form Form) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var elfAddrs []uint64
	for _, w := range fx.wants {
		file, line := marker(t, dir, w.at)
		a, err := AddrOfLine(bin, file, line)
		if err != nil {
			t.Fatal(err)
		}
		elfAddrs = append(elfAddrs, a)
	}
	now := time.Now()
	// query writes a profile of elfAddrs for build ID id and returns what
	// Parca shows for each, in the order of fx.wants.
	query := func(series, id string) [][]Frame {
		t.Helper()
		m, err := MappingFor(bin, id, form)
		if err != nil {
			t.Fatal(err)
		}
		var addrs []uint64
		for _, a := range elfAddrs {
			addrs = append(addrs, m.Address(a))
		}
		if err := Write(ctx, c, series, m, addrs, now); err != nil {
			t.Fatal(err)
		}
		got, err := Query(ctx, c, series, now)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]Frame
		for _, a := range addrs {
			out = append(out, got[a])
		}
		return out
	}
	series := fx.name + "-" + string(form)
	got := query(series, buildID)
	ref := query(series+"-reference", refID)
	files := map[string]bool{}
	wholeLacks, wholeWrong, wholeMisnames := false, false, false
	for i, w := range fx.wants {
		wantLine := 0
		if w.line != "" {
			_, wantLine = marker(t, dir, w.line)
		}
		switch {
		case wantLine > 0 && (len(got[i]) == 0 || got[i][0].Line != int64(wantLine)):
			t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nwant line %d (%s) in the outermost frame",
				w.at, elfAddrs[i], form, fmtFrames(got[i]), wantLine, w.line)
		case framesMatch(got[i], w, fx.namesOnly):
		case fx.namesOnly:
			t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nwant function %q (from the symbol table: no line)",
				w.at, elfAddrs[i], form, fmtFrames(got[i]), w.functions[0])
		default:
			t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nwant functions %q in files %q",
				w.at, elfAddrs[i], form, fmtFrames(got[i]), w.functions, w.files)
		}
		switch {
		case fx.namesOnly:
			if len(ref[i]) > 0 {
				t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nfrom the whole binary: does it read split DWARF now?",
					w.at, elfAddrs[i], form, fmtFrames(ref[i]))
			}
		case fx.debugFile && form == RuntimeAddresses:
			wholeMisnames = wholeMisnames || !framesMatch(ref[i], w, false)
		case fx.discarded:
			wholeMisnames = wholeMisnames || !framesMatch(ref[i], w, false) ||
				wantLine > 0 && (len(ref[i]) == 0 || ref[i][0].Line != int64(wantLine))
		case fx.unsorted || fx.endRow && wantLine > 0:
			// The whole binary shows "?:0" or a neighbour's line here: the
			// upload is checked against the wants alone.
			wholeLacks = wholeLacks || slices.ContainsFunc(ref[i], func(f Frame) bool { return f.Line <= 0 })
			wholeWrong = wholeWrong || wantLine > 0 && (len(ref[i]) == 0 || ref[i][0].Line != int64(wantLine))
		case !slices.Equal(got[i], ref[i]):
			t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nfrom the upload, but from the whole binary\n  %s",
				w.at, elfAddrs[i], form, fmtFrames(got[i]), fmtFrames(ref[i]))
		}
		for _, f := range got[i] {
			files[f.File] = true
		}
	}
	if fx.endRow && !wholeWrong {
		t.Errorf("Parca shows every line right from the whole binary too: the fixture no longer ends a sequence at a function's start (or Parca drops such rows now)")
	}
	checkSymbols(t, c, fx, bin, buildID, refID, form, now, series)
	if fx.debugFile && form == RuntimeAddresses && !wholeMisnames {
		t.Errorf("Parca shows every want from the debug file as it is: objcopy no longer rewrites its program headers (or Parca does not use them)")
	}
	if fx.discarded && !wholeMisnames {
		t.Errorf("Parca shows every want right from the whole binary too: the linker no longer leaves the dropped function at 0 (or Parca skips it now)")
	}
	if fx.unsorted && !wholeLacks {
		t.Errorf("Parca shows every line from the whole binary too: the fixture no longer has line tables out of order (or Parca sorts them now)")
	}
	// Every file Parca names has its source, byte for byte, under that name.
	for name := range files {
		if name == "" || name == "?" {
			continue
		}
		src, err := Source(ctx, c, series, now, buildID, name)
		if err != nil {
			t.Errorf("source of %s: %v", name, err)
			continue
		}
		local, err := os.ReadFile(filepath.Join(dir, filepath.Base(name)))
		if err != nil {
			t.Fatal(err)
		}
		if src != string(local) {
			t.Errorf("SOURCE report for %q (%d bytes) differs from the file (%d bytes)", name, len(src), len(local))
		}
	}
}

// checkSymbols profiles fx.symbols (by their symbol-table address) and
// wants each shown by its name from the upload, and not from the whole
// binary (else the fixture no longer shows what it is for).
func checkSymbols(t *testing.T, c Clients, fx fixture, bin, buildID, refID string, form Form, now time.Time, series string) {
	if len(fx.symbols) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []uint64
	for _, name := range fx.symbols {
		i := slices.IndexFunc(syms, func(s elf.Symbol) bool { return s.Name == name && s.Value != 0 })
		if i < 0 {
			t.Fatalf("%s is not in the binary's symbol table", name)
		}
		addrs = append(addrs, syms[i].Value)
	}
	shown := func(series, id string) [][]Frame {
		m, err := MappingFor(bin, id, form)
		if err != nil {
			t.Fatal(err)
		}
		var at []uint64
		for _, a := range addrs {
			at = append(at, m.Address(a))
		}
		if err := Write(ctx, c, series, m, at, now); err != nil {
			t.Fatal(err)
		}
		got, err := Query(ctx, c, series, now)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]Frame
		for _, a := range at {
			out = append(out, got[a])
		}
		return out
	}
	got, ref := shown(series+"-symbols", buildID), shown(series+"-symbols-reference", refID)
	wholeShows := false
	for i, name := range fx.symbols {
		// Any name the symbol table gives that address (aliases).
		alias := func(fn string) bool {
			return slices.ContainsFunc(syms, func(s elf.Symbol) bool { return s.Name == fn && s.Value == addrs[i] })
		}
		if len(got[i]) != 1 || !alias(got[i][0].Function) {
			t.Errorf("%s at %#x (%s addresses): Parca shows\n  %s\nwant the function by its symbol's name", name, addrs[i], form, fmtFrames(got[i]))
		}
		wholeShows = wholeShows || len(ref[i]) > 0
	}
	if !wholeShows {
		return
	}
	t.Errorf("Parca names functions without DWARF from the whole binary too: it no longer looks addresses up in the DWARF alone")
}

// framesMatch checks function names exactly, files by base name (Parca shows
// DWARF names: absolute, relative or trimmed) and that every line is known;
// namesOnly, that the one frame is the outermost function, with no line.
func framesMatch(got []Frame, w want, namesOnly bool) bool {
	if namesOnly {
		return len(got) == 1 && got[0].Function == w.functions[0] && got[0].Line <= 0
	}
	if len(got) != len(w.functions) {
		return false
	}
	for i, f := range got {
		if f.Function != w.functions[i] || filepath.Base(f.File) != w.files[i] || f.Line <= 0 {
			return false
		}
	}
	return true
}

func fmtFrames(fs []Frame) string {
	if len(fs) == 0 {
		return "(no frames)"
	}
	var s []string
	for _, f := range fs {
		s = append(s, f.String())
	}
	return strings.Join(s, "\n  ")
}

// marker finds "file:name": the line of file (in dir) holding "@name".
func marker(t *testing.T, dir, at string) (string, int) {
	t.Helper()
	file, name, _ := strings.Cut(at, ":")
	f, err := os.Open(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		if strings.Contains(s.Text(), "@"+name+" ") || strings.HasSuffix(s.Text(), "@"+name) {
			return file, n
		}
	}
	t.Fatalf("no marker @%s in %s", name, file)
	return "", 0
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.CopyFS(to, os.DirFS(from)); err != nil {
		t.Fatal(fmt.Errorf("copying %s: %w", from, err))
	}
}

// debugInfoCompression says how .debug_info of the ELF file at path is
// compressed: none, zlib or zstd (its ELF compression header's type).
func debugInfoCompression(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ef, err := elf.NewFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s := ef.Section(".debug_info")
	if s == nil {
		t.Fatalf("%s: no .debug_info", path)
	}
	if s.Flags&elf.SHF_COMPRESSED == 0 {
		return "none"
	}
	var typ [4]byte
	if _, err := f.ReadAt(typ[:], int64(s.Offset)); err != nil {
		t.Fatal(err)
	}
	switch elf.CompressionType(ef.ByteOrder.Uint32(typ[:])) {
	case elf.COMPRESS_ZLIB:
		return "zlib"
	case elf.COMPRESS_ZSTD:
		return "zstd"
	}
	return fmt.Sprintf("type %d", ef.ByteOrder.Uint32(typ[:]))
}

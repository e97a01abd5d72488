package upload_test

import (
	"bytes"
	"debug/elf"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// splitProgram builds a program, splits it the usual way (objcopy
// --only-keep-debug, strip, --add-gnu-debuglink) and returns the stripped
// program, its debug file (in its own directory: move it where a test
// needs it), the whole program and its build ID.
func splitProgram(t *testing.T, stripFlag string) (stripped, debug, whole, id string) {
	t.Helper()
	testbin.Need(t, "objcopy", "strip")
	whole = testbin.C(t, "app", "split", "-g", "-O1")
	dir := t.TempDir()
	stripped, debug = filepath.Join(dir, "app"), filepath.Join(t.TempDir(), "app.debug")
	testbin.Run(t, "", "objcopy", "--only-keep-debug", whole, debug)
	testbin.Run(t, "", "strip", stripFlag, "-o", stripped, whole)
	// --add-gnu-debuglink reads the debug file for its CRC: from beside it.
	testbin.Run(t, filepath.Dir(debug), "objcopy", "--add-gnu-debuglink=app.debug", stripped)
	b, err := buildid.Read(whole)
	if err != nil {
		t.Fatal(err)
	}
	return stripped, debug, whole, b.Value
}

func move(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func loadOffsets(t *testing.T, b []byte) []uint64 {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var offs []uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			offs = append(offs, p.Off)
		}
	}
	if f.Section(".debug_info") == nil {
		t.Error("no .debug_info in what was stored")
	}
	return offs
}

func fileOffsets(t *testing.T, path string) []uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return loadOffsets(t, b)
}

// `debuginfo upload app`, app stripped with its debug file where gdb finds
// it (beside it, in .debug/, under the debug directory by build ID or by
// path): the debug file is sent, with the program's segment offsets, and
// the program is reported as served by it. Without it the program alone
// sends symbols only (strip -g) or fails (strip --strip-all).
func TestStrippedProgramFindsItsDebugFile(t *testing.T) {
	for _, stripFlag := range []string{"-g", "--strip-all"} {
		places := map[string]func(stripped, id, debugDir string) string{
			"beside it": func(s, _, _ string) string { return filepath.Join(filepath.Dir(s), "app.debug") },
			".debug":    func(s, _, _ string) string { return filepath.Join(filepath.Dir(s), ".debug", "app.debug") },
			"by build ID": func(_, id, d string) string {
				return filepath.Join(d, ".build-id", id[:2], id[2:]+".debug")
			},
			"by path": func(s, _, d string) string { return filepath.Join(d, filepath.Dir(s), "app.debug") },
		}
		for place, where := range places {
			t.Run(stripFlag+"/"+place, func(t *testing.T) {
				stripped, debug, whole, id := splitProgram(t, stripFlag)
				debugDir := t.TempDir()
				found := where(stripped, id, debugDir)
				move(t, debug, found)
				servedByFound(t, stripped, found, whole, id, []string{debugDir})
			})
		}
	}
}

// A debug file of another build where the debuglink points (a stale one
// from an older build) is not used, and the report says so; none at all
// says where it was looked for. Either way the program is not sent with
// symbols only, which would keep its DWARF out of the store for good
// (review s16-r3, finding 1). The run naming it already pairs them as
// before; --no-extract sends the program as it is.
func TestDebugFileLookupLimits(t *testing.T) {
	stripped, debug, _, _ := splitProgram(t, "-g")
	beside := filepath.Join(filepath.Dir(stripped), "app.debug")

	got, failed := run(t, nil, []string{stripped}, upload.Options{DryRun: true})
	if r := got[stripped+"#debuginfo"]; failed != 1 || r.Action != upload.Failed || r.Warning != "" ||
		!strings.Contains(r.Reason, `.gnu_debuglink names "app.debug", not found`) || !strings.Contains(r.Reason, "not sent with symbols only") {
		t.Errorf("no debug file anywhere: failed %d, %+v", failed, r)
	}

	other := testbin.C(t, "app", "another build", "-g", "-O2")
	testbin.Run(t, "", "objcopy", "--only-keep-debug", other, beside)
	got, failed = run(t, nil, []string{stripped}, upload.Options{DryRun: true})
	if r := got[stripped+"#debuginfo"]; failed != 1 || r.Action != upload.Failed || len(got) != 1 ||
		!strings.Contains(r.Reason, beside+", found as its separate debug file, is not this build's: not used") {
		t.Errorf("a stale debug file beside it: failed %d, %v", failed, got)
	}

	move(t, debug, beside)
	got, failed = run(t, nil, []string{stripped, beside}, upload.Options{DryRun: true})
	if failed != 0 || len(got) != 2 || got[beside+"#debuginfo"].Action != upload.DryRun {
		t.Errorf("both named: failed %d, %v", failed, got)
	}
	got, failed = run(t, nil, []string{stripped}, upload.Options{DryRun: true, NoExtract: true})
	if r := got[stripped+"#debuginfo"]; failed != 0 || len(got) != 1 || r.Action != upload.DryRun {
		t.Errorf("--no-extract: failed %d, %v", failed, got)
	}
}

// A .gnu_debuglink holding a path, not a file name, is not followed: a
// hostile program must not make the upload read (and send, with its
// sources) a file of its choosing.
func TestDebugLinkWithAPathNotFollowed(t *testing.T) {
	stripped, debug, _, _ := splitProgram(t, "-g")
	f, err := elf.Open(stripped)
	if err != nil {
		t.Fatal(err)
	}
	sec := f.Section(".gnu_debuglink")
	f.Close()
	b, err := os.ReadFile(stripped)
	if err != nil || sec == nil {
		t.Fatal(err, sec)
	}
	copy(b[sec.Offset:], "../pp.debug\x00") // as long as "app.debug" and its padding
	if err := os.WriteFile(stripped, b, 0o755); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(filepath.Dir(filepath.Dir(stripped)), "pp.debug")
	move(t, debug, planted)
	got, failed := run(t, nil, []string{stripped}, upload.Options{DryRun: true})
	if r := got[stripped+"#debuginfo"]; failed != 1 || len(got) != 1 || r.Action != upload.Failed ||
		!strings.Contains(r.Reason, `names "../pp.debug", not a file name: not looked for`) {
		t.Errorf("a debuglink holding a path: failed %d, %v", failed, got)
	}
}

// A program without a build ID cannot be matched to its debug file: the
// report says why, not that the file is another build's (review s15-r1,
// finding 4).
func TestDebugFileOfProgramWithoutBuildID(t *testing.T) {
	testbin.Need(t, "objcopy", "strip")
	whole := testbin.C(t, "app", "no id", "-g", "-Wl,--build-id=none")
	dir := t.TempDir()
	stripped := filepath.Join(dir, "app")
	testbin.Run(t, "", "objcopy", "--only-keep-debug", whole, filepath.Join(dir, "app.debug"))
	testbin.Run(t, "", "strip", "-g", "-o", stripped, whole)
	testbin.Run(t, dir, "objcopy", "--add-gnu-debuglink=app.debug", stripped)
	got, failed := run(t, nil, []string{stripped}, upload.Options{DryRun: true})
	if r := got[stripped+"#debuginfo"]; failed != 1 || len(got) != 1 || !strings.Contains(r.Reason, "the program has no build ID") {
		t.Errorf("failed %d, %v", failed, got)
	}
}

// A debug file whose program headers objcopy damaged (llvm-bolt's added
// code segment moved to an address none of its sections is at) is sent
// with a warning saying to send its program with it; an intact one, or
// one sent with its program, gets none (review s15-r1, finding 2).
func TestDamagedProgramHeadersWarned(t *testing.T) {
	stripped, debug, _, _ := splitProgram(t, "-g")
	got, _ := run(t, nil, []string{debug}, upload.Options{DryRun: true})
	if r := got[debug+"#debuginfo"]; r.Action != upload.DryRun || r.Warning != "" {
		t.Fatalf("an intact debug file: %+v", r)
	}
	orig, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	// Where objcopy leaves BOLT's segment (0x674: below the others, over
	// the first one), and an address no section is at.
	for _, vaddr := range []uint64{0x674, 0x7fff0000} {
		if err := os.WriteFile(debug, orig, 0o644); err != nil {
			t.Fatal(err)
		}
		testbin.MoveCodeSegment(t, debug, vaddr, 0)
		got, _ = run(t, nil, []string{debug}, upload.Options{DryRun: true})
		if r := got[debug+"#debuginfo"]; r.Action != upload.DryRun || !strings.Contains(r.Warning, "program headers do not match its sections") {
			t.Errorf("a damaged debug file alone (code segment at %#x): %+v", vaddr, r)
		}
	}
	got, _ = run(t, nil, []string{stripped, debug}, upload.Options{DryRun: true})
	if r := got[debug+"#debuginfo"]; r.Action != upload.DryRun || r.Warning != "" {
		t.Errorf("a damaged debug file with its program: %+v", r)
	}
}

// The unstripped program kept as the debug file (cp app app.debug; strip
// -g app; --add-gnu-debuglink), which gdb reads, is sent for the stripped
// program (review s16-r1, finding 2: it was refused as "a program", and
// Parca showed no file:line).
func TestUnstrippedCopyServesAsDebugFile(t *testing.T) {
	stripped, _, whole, id := splitProgram(t, "-g")
	found := filepath.Join(filepath.Dir(stripped), "app.debug")
	testbin.Run(t, "", "cp", whole, found)
	servedByFound(t, stripped, found, whole, id, nil)
}

// servedByFound uploads the stripped program alone (debug directories
// dirs) and checks that found was sent for it, with whole's segment
// offsets, and the program reported as served by it.
func servedByFound(t *testing.T, stripped, found, whole, id string, dirs []string) {
	t.Helper()
	srv := teststore.Start(t, teststore.Options{})
	got, failed := run(t, grpcStore(t, srv), []string{stripped}, upload.Options{DebugDirs: dirs})
	p, d := got[stripped+"#debuginfo"], got[found+"#debuginfo"]
	if failed != 0 || d.Action != upload.Uploaded || d.SymbolsOnly || p.Action != upload.Skipped ||
		!strings.Contains(p.Reason, "found where gdb looks") {
		t.Fatalf("failed %d; program %+v; debug file %+v", failed, p, d)
	}
	stored, ok := srv.Uploaded(id, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED)
	if !ok {
		t.Fatal("nothing stored")
	}
	if got, want := loadOffsets(t, stored), fileOffsets(t, whole); !slices.Equal(got, want) {
		t.Errorf("stored PT_LOAD offsets %#x, the program's %#x", got, want)
	}
}

// One program, whatever copies of it a run holds (review s16-r2): the
// unstripped copy kept as the debug file beside the program, in a
// directory walk or named; a strip -g copy with the unstripped program;
// the same under --allow-shared-build-id (which sent the stripped copy).
// Each time the file with DWARF is the one sent.
func TestStrippedAndUnstrippedCopiesAreOneProgram(t *testing.T) {
	stripped, _, whole, _ := splitProgram(t, "-g")
	dir := filepath.Dir(stripped)
	debug := filepath.Join(dir, "app.debug")
	testbin.Run(t, "", "cp", whole, debug)
	for name, tc := range map[string]struct {
		paths []string
		opts  upload.Options
	}{
		"directory":             {[]string{dir}, upload.Options{}},
		"both named":            {[]string{stripped, debug}, upload.Options{}},
		"debug file first":      {[]string{debug, stripped}, upload.Options{}},
		"allow-shared-build-id": {[]string{stripped, debug}, upload.Options{AllowSharedBuildID: true}},
	} {
		t.Run(name, func(t *testing.T) {
			tc.opts.DryRun = true
			got, failed := run(t, nil, tc.paths, tc.opts)
			p, d := got[stripped+"#debuginfo"], got[debug+"#debuginfo"]
			if failed != 0 || d.Action != upload.DryRun || d.SymbolsOnly || p.Action != upload.Skipped {
				t.Errorf("failed %d; program %+v; its unstripped copy %+v", failed, p, d)
			}
		})
	}
}

// Two programs that share a forced build ID and every section's size but
// not their code are two programs, stripped or not: refused.
func TestSameLayoutOtherCodeIsNotOneProgram(t *testing.T) {
	testbin.Need(t, "strip")
	dir := t.TempDir()
	one, two := testbin.SameIDTwins(t, dir, "ab")
	testbin.Run(t, "", "strip", "-g", two)
	got, failed := run(t, nil, []string{one, two}, upload.Options{DryRun: true})
	if r := got[one+"#debuginfo"]; failed != 2 || !strings.Contains(r.Reason, "shared by different files") {
		t.Errorf("failed %d; %+v", failed, r)
	}
}

// A debug file candidate the run names but that is not this program's
// does not end the search: the right one further on is found, and a wrong
// one alone is named in the warning (review s16-r2, finding 4).
func TestNamedStaleDebugFileDoesNotEndTheSearch(t *testing.T) {
	stripped, debug, _, _ := splitProgram(t, "-g")
	dir := filepath.Dir(stripped)
	stale := filepath.Join(dir, "app.debug")
	staleSrc := testbin.GCC(t, t.TempDir(), "app", "int main(void) { return 7; }\n", "-g")
	testbin.Run(t, "", "objcopy", "--only-keep-debug", staleSrc, stale)
	got, _ := run(t, nil, []string{stripped, stale}, upload.Options{DryRun: true})
	if r := got[stripped+"#debuginfo"]; !strings.Contains(r.Reason, stale+", found as its separate debug file, is not this build's") {
		t.Errorf("a stale debug file named in the run: %+v", r)
	}
	found := filepath.Join(dir, ".debug", "app.debug")
	move(t, debug, found)
	got, _ = run(t, nil, []string{stripped, stale}, upload.Options{DryRun: true})
	if p, d := got[stripped+"#debuginfo"], got[found+"#debuginfo"]; p.Action != upload.Skipped || d.Action != upload.DryRun || d.SymbolsOnly {
		t.Errorf("the right one in .debug/: program %+v; found %+v", p, d)
	}
}

package symbolize

// Separate debug files, the way distributions and CMake or Make recipes
// make them (objcopy --only-keep-debug, strip, --add-gnu-debuglink), each
// uploaded alone: the debug file by itself, or the stripped program with
// its debug file beside it. The reference is always the whole unstripped
// program, uploaded with --no-extract under another build ID. Both failed
// when an independent review wrote them (s13): the debug file alone kept
// the offsets objcopy rewrote, and the stripped program sent symbols only.

import (
	"crypto/sha1"
	"fmt"
	"path/filepath"
	"testing"
)

type splitFixture struct {
	name, src string
	build     func(t *testing.T, e *env, dir, out string)
	wants     []want
	// prepare turns the linked binary into what the user uploads.
	prepare func(t *testing.T, dir, bin string) string
	// extract: `debuginfo extract --record` (a build step), then `upload
	// --record` (later, where the credentials are), instead of one upload.
	extract bool
}

// splitDebug makes the usual separate debug file and a stripped binary
// pointing at it (distributions, CMake and Make recipes do this).
func splitDebug(t *testing.T, dir, bin string) (stripped, debug string) {
	debug = bin + ".debug"
	stripped = bin + ".stripped"
	run(t, dir, nil, "objcopy", "--only-keep-debug", bin, debug)
	run(t, dir, nil, "strip", "-g", "-o", stripped, bin)
	run(t, dir, nil, "objcopy", "--add-gnu-debuglink="+debug, stripped)
	return stripped, debug
}

// unstrippedCopy keeps the unstripped program as the debug file (cp app
// app.debug; strip -g app; --add-gnu-debuglink), which gdb reads too.
func unstrippedCopy(t *testing.T, dir, bin string) string {
	debug, stripped := bin+".debug", bin+".stripped"
	run(t, dir, nil, "cp", bin, debug)
	run(t, dir, nil, "strip", "-g", "-o", stripped, bin)
	run(t, dir, nil, "objcopy", "--add-gnu-debuglink="+debug, stripped)
	return stripped
}

func debugAlone(t *testing.T, dir, bin string) string    { _, d := splitDebug(t, dir, bin); return d }
func strippedAlone(t *testing.T, dir, bin string) string { s, _ := splitDebug(t, dir, bin); return s }

var splitFixtures = []splitFixture{
	// `debuginfo upload app.debug`: objcopy rewrote its PT_LOAD offsets
	// (the executable segment's to 0), which runtime addresses are mapped
	// through ("liner pctolines: seek to PC: ErrUnknownPC" before).
	{name: "c-only-keep-debug", src: "c", build: gcc("gcc", "-g", "-O1"), wants: cWants, prepare: debugAlone},
	{name: "go-only-keep-debug", src: "go", build: goBuild(), wants: goWants, prepare: debugAlone},
	// `debuginfo upload app` (stripped, .gnu_debuglink to app.debug beside
	// it): symbols only, no file:line, no sources, before.
	{name: "c-debuglink-stripped", src: "c", build: gcc("gcc", "-g", "-O1"), wants: cWants, prepare: strippedAlone},
	{name: "go-debuglink-stripped", src: "go", build: goBuild(), wants: goWants, prepare: strippedAlone},
	// The unstripped copy as the debug file: refused as "a program" before
	// session 16 (review s16-r1, finding 2).
	{name: "c-unstripped-copy", src: "c", build: gcc("gcc", "-g", "-O1"), wants: cWants, prepare: unstrippedCopy},
	{name: "c-unstripped-copy-extract", src: "c", build: gcc("gcc", "-g", "-O1"), wants: cWants, prepare: unstrippedCopy, extract: true},
	// `debuginfo extract app` of the same: symbols only before session 16.
	{name: "c-debuglink-stripped-extract", src: "c", build: gcc("gcc", "-g", "-O1"), wants: cWants, prepare: strippedAlone, extract: true},
	{name: "go-debuglink-stripped-extract", src: "go", build: goBuild(), wants: goWants, prepare: strippedAlone, extract: true},
}

func TestSplitDebugFiles(t *testing.T) {
	tmp, e, srv, c := startParca(t)

	for _, fx := range splitFixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir := filepath.Join(tmp, fx.name)
			copyDir(t, filepath.Join("testdata", fx.src), dir)
			out := filepath.Join(dir, "app")
			fx.build(t, e, dir, out)
			uploaded := fx.prepare(t, dir, out)
			buildID, err := GNUBuildID(uploaded)
			if err != nil {
				t.Fatal(err)
			}
			if fx.extract {
				run(t, dir, nil, e.debuginfo, "extract", uploaded, "-o", out+".debuginfo",
					"--record", out+".record.json", "--sources-out", out+".sources.tar.zst")
				run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--record", out+".record.json")
			} else {
				run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--include-sources", uploaded)
			}
			refID := fmt.Sprintf("%x", sha1.Sum([]byte("reference:"+buildID)))
			run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--no-extract",
				"--build-id="+refID, out)
			for _, form := range Forms {
				t.Run(string(form), func(t *testing.T) {
					checkFixture(t, c, fixture{name: fx.name, wants: fx.wants}, dir, out, buildID, refID, form)
				})
			}
		})
	}
}

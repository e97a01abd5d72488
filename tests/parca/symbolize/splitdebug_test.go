//go:build knownlimits

package symbolize

// Findings of an independent review (issues 13 and 19) against a real Parca:
// inputs users have that the suite above does not build. Each failed when
// written; the reference is always the whole unstripped binary, uploaded
// with --no-extract under another build ID.

import (
	"crypto/sha1"
	"fmt"
	"path/filepath"
	"testing"
)

type reviewFixture struct {
	name  string
	flags []string
	// prepare turns the linked binary into what the user uploads.
	prepare func(t *testing.T, dir, bin string) string
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

var reviewFixtures = []reviewFixture{
	// `debuginfo upload app.debug` (from objcopy --only-keep-debug): its
	// PT_LOAD offsets were rewritten by objcopy, so runtime addresses get no
	// names ("liner pctolines: seek to PC: ErrUnknownPC").
	{name: "c-only-keep-debug", flags: []string{"-g", "-O1"},
		prepare: func(t *testing.T, dir, bin string) string { _, d := splitDebug(t, dir, bin); return d }},
	// `debuginfo upload app` (stripped, .gnu_debuglink to app.debug beside
	// it): symbols only, no file:line, no sources.
	{name: "c-debuglink-stripped", flags: []string{"-g", "-O1"},
		prepare: func(t *testing.T, dir, bin string) string { s, _ := splitDebug(t, dir, bin); return s }},
}

func TestReviewSymbolize(t *testing.T) {
	tmp, e, srv, c := startParca(t)

	for _, fx := range reviewFixtures {
		t.Run(fx.name, func(t *testing.T) {
			dir := filepath.Join(tmp, fx.name)
			copyDir(t, filepath.Join("testdata", "c"), dir)
			out := filepath.Join(dir, "app")
			gcc("gcc", fx.flags...)(t, e, dir, out)
			uploaded := fx.prepare(t, dir, out)
			buildID, err := GNUBuildID(uploaded)
			if err != nil {
				t.Fatal(err)
			}
			run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--include-sources", uploaded)
			refID := fmt.Sprintf("%x", sha1.Sum([]byte("reference:"+buildID)))
			run(t, dir, nil, e.debuginfo, "upload", "--store-address="+srv.Addr, "--insecure", "--no-extract",
				"--build-id="+refID, out)
			for _, form := range Forms {
				t.Run(string(form), func(t *testing.T) {
					checkFixture(t, c, fixture{name: fx.name, wants: cWants}, dir, out, buildID, refID, form)
				})
			}
		})
	}
}

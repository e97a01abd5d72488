package cli

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
)

// TestNoSourcesSaysWhy: an empty archive is explained by what happened
// (a review got "no source file found on disk (0 missing; --prefix-map may
// help)" when every file was on disk and left out by the policy, and a
// --prefix-map hint that dropped the directory it named).
func TestNoSourcesSaysWhy(t *testing.T) {
	for _, c := range []struct {
		res  sources.Result
		want string
	}{
		{sources.Result{Skipped: []string{"../src/a.c: unsafe name"}}, "every source file of app found on disk was left out (1;"},
		{sources.Result{Missing: []string{"/build/ci/src/a.c", "/build/ci/src/b.c"}}, "(2 missing; most are under /build/ci: --prefix-map=/build/ci=/where/they/are/now)"},
		// Both (review s14-r3, left by its CMake fix): the files left out
		// come first; "found on disk" is not claimed of none.
		{sources.Result{Skipped: []string{"/z/lib/a.c: outside the source roots", "/z/lib/b.c: outside the source roots"}, Missing: []string{"/z/cmake/gone.c"}},
			"no source file of app archived: 2 found on disk were left out (the line above says why), 1 not found ("},
		{sources.Result{Missing: []string{"include/h.h", "src/m.c"}}, "the names are relative to where the build ran"},
		{sources.Result{Missing: []string{"runtime/proc.go", "example.com/m/main.go"}}, "Go -trimpath names are import paths"},
	} {
		if got := noSources("app", c.res); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q, want %q", c.res, got, c.want)
		}
	}
}

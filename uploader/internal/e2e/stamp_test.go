package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Issue 8: two rules_go-style binaries (-buildid=redacted) share one GNU
// build ID; the uploader refuses them; after `debuginfo stamp` each has its
// own ID, still runs, and Parca stores them under separate keys.
func TestStampedRedactedBinariesAreKeyedSeparately(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	a := testbin.Go(t, "svc-a", "service a", "-ldflags=-buildid=redacted")
	b := testbin.Go(t, "svc-b", "service b", "-ldflags=-buildid=redacted")
	idA, _ := gnuBuildID(t, a)
	idB, _ := gnuBuildID(t, b)
	if idA != idB {
		t.Fatalf("redacted builds did not collide (%s, %s): the premise changed", idA, idB)
	}
	res := cli(t, "upload", "--store-address="+p.Addr, "--insecure", "--json", a, b)
	if res.code != 1 || !strings.Contains(res.stdout, "redacted") {
		t.Fatalf("colliding upload: %v", res)
	}
	if _, ok := p.Object(idA, "debuginfo"); ok {
		t.Fatal("a colliding build ID was stored")
	}

	dir := t.TempDir()
	var stamped []string
	for i, in := range []string{a, b} {
		out := filepath.Join(dir, filepath.Base(in))
		if r := cli(t, "stamp", in, "-o", out); r.code != 0 {
			t.Fatalf("stamp: %v", r)
		}
		got, err := exec.Command(out).Output()
		if err != nil || strings.TrimSpace(string(got)) != []string{"service a", "service b"}[i] {
			t.Fatalf("stamped program: %q, %v", got, err)
		}
		stamped = append(stamped, out)
	}
	reps := mustUpload(t, p, stamped...)
	ids := map[string]bool{}
	for _, r := range reps {
		if r.Action != upload.Uploaded {
			t.Fatalf("stamped upload: %+v", r)
		}
		ids[r.BuildID] = true
	}
	if len(ids) != 2 || ids[idA] {
		t.Fatalf("stamped IDs %v, want two new distinct ones", ids)
	}
	for i, path := range stamped {
		id, _ := gnuBuildID(t, path)
		stored, ok := p.Object(id, "debuginfo")
		want, _ := os.ReadFile(extract(t, path))
		if !ok || string(stored) != string(want) {
			t.Errorf("binary %d: Parca's %s/debuginfo is not its extracted file", i, id)
		}
	}
}

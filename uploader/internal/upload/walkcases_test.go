package upload_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Paths users really pass, found by an independent review.

// A directory named through a symlink (bazel-bin, bazel-out) is searched.
func TestDirectoryNamedThroughALink(t *testing.T) {
	real := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(real, "prog")
	if err := os.Rename(testbin.C(t, "prog", "p", "-g"), bin); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "bazel-bin")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	got, failed := run(t, nil, []string{link}, upload.Options{DryRun: true})
	if r := got[filepath.Join(link, "prog")+"#debuginfo"]; failed != 0 || r.Action != upload.DryRun {
		t.Errorf("reports %v; want %s/prog found", got, link)
	}
}

// A named directory with nothing to upload fails: an upload that silently
// sends nothing is how a misconfigured build loses its debuginfo.
func TestDirectoryWithNothingToUploadFails(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README"), []byte("text"), 0o644)
	got, failed := run(t, nil, []string{dir}, upload.Options{DryRun: true})
	if r := got[dir+"#debuginfo"]; failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "nothing to upload") {
		t.Errorf("reports %v, %d failed; want the directory failed with 'nothing to upload'", got, failed)
	}
}

// A core dump in a build directory is passed over like an object file,
// not failed for lacking symbols.
func TestCoreDumpInDirectoryPassedOver(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "prog")
	if err := os.Rename(testbin.C(t, "prog", "p", "-g"), bin); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	data[16], data[17] = 4, 0 // e_type ET_CORE
	if err := os.WriteFile(filepath.Join(dir, "core.1234"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, failed := run(t, nil, []string{dir}, upload.Options{DryRun: true})
	if r := got[filepath.Join(dir, "core.1234")+"#debuginfo"]; failed != 0 || r.Action != upload.PassedOver || !strings.Contains(r.Reason, "core dump") {
		t.Errorf("core dump: %+v (%d failed)", r, failed)
	}
	// Named, it fails, saying what it is (not "build with -g").
	core := filepath.Join(dir, "core.1234")
	got, failed = run(t, nil, []string{core}, upload.Options{DryRun: true})
	if r := got[core+"#debuginfo"]; failed != 1 || !strings.Contains(r.Reason, "a core dump (ET_CORE), not a program") {
		t.Errorf("named core dump: %+v", r)
	}
}

// A program and its own debug file (objcopy --only-keep-debug next to it,
// or an earlier upload's stored copy inside the directory) share a build
// ID but are not a collision: one upload serves both, the one with DWARF.
func TestProgramAndItsDebugFile(t *testing.T) {
	testbin.Need(t, "objcopy", "strip")
	st, err := store.NewFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, stripped := range []bool{false, true} {
		dir := t.TempDir()
		bin := filepath.Join(dir, "prog")
		if err := os.Rename(testbin.C(t, "prog", "p", "-g"), bin); err != nil {
			t.Fatal(err)
		}
		dbg := bin + ".debug"
		for _, args := range [][]string{{"--only-keep-debug", bin, dbg}} {
			if out, err := exec.Command("objcopy", args...).CombinedOutput(); err != nil {
				t.Fatalf("objcopy: %v\n%s", err, out)
			}
		}
		if stripped {
			if out, err := exec.Command("strip", bin).CombinedOutput(); err != nil {
				t.Fatalf("strip: %v\n%s", err, out)
			}
		}
		got, failed := run(t, nil, []string{dir}, upload.Options{DryRun: true})
		b, d := got[bin+"#debuginfo"], got[dbg+"#debuginfo"]
		sent := b
		if stripped {
			sent = d // the stripped program gives names only: its debug file is sent
		}
		if failed != 0 || sent.Action != upload.DryRun || b.Action == d.Action {
			t.Errorf("stripped=%v: program %+v, debug file %+v; want one sent, the other skipped", stripped, b, d)
		}
		for _, r := range []upload.Report{b, d} {
			if r.Action == upload.Skipped && (r.Warning != "" || !strings.Contains(r.Reason, "debug file")) {
				t.Errorf("stripped=%v: skip %+v; want the reason said, no warning", stripped, r)
			}
		}
	}
	// Two programs with one build ID are still refused.
	dir := t.TempDir()
	a := testbin.C(t, "a", "x", "-g", "-Wl,--build-id=0x1234567890abcdef1234")
	bb := testbin.C(t, "b", "y", "-g", "-Wl,--build-id=0x1234567890abcdef1234")
	for name, p := range map[string]string{"a": a, "b": bb} {
		if err := os.Rename(p, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	_, failed := run(t, st, []string{dir}, upload.Options{DryRun: true})
	if failed != 2 {
		t.Errorf("two programs sharing a build ID: %d failed, want 2", failed)
	}
}

// Copies of one binary (hard links in /usr/bin) are skipped as the same file,
// without repeating the first copy's warning.
func TestCopiesSkippedWithoutWarning(t *testing.T) {
	testbin.Need(t, "strip")
	bin := testbin.C(t, "prog", "p", "-g")
	if out, err := exec.Command("strip", "-g", bin).CombinedOutput(); err != nil { // symbols only
		t.Fatalf("strip: %v\n%s", err, out)
	}
	cp := testbin.Copy(t, bin, "again")
	got, _ := run(t, nil, []string{bin, cp}, upload.Options{DryRun: true})
	if r := got[cp+"#debuginfo"]; r.Action != upload.Skipped || r.Warning != "" || r.SymbolsOnly {
		t.Errorf("copy: %+v; want a skip without the symbols-only warning", r)
	}
	if r := got[bin+"#debuginfo"]; r.Warning == "" {
		t.Errorf("first copy: %+v; want the symbols-only warning", r)
	}
}

// The debug file of one program next to another program with the same
// build ID is a collision, not a companion: its allocated sections (which a
// debug file keeps from its program) differ. Nothing is sent, and the
// message names two files that really differ.
func TestAnotherProgramsDebugFileIsACollision(t *testing.T) {
	testbin.Need(t, "objcopy", "strip")
	const id = "-Wl,--build-id=0x1234567890abcdef1234"
	for _, tc := range []struct {
		name            string
		withA, stripped bool
	}{{"debug file of A, program B", false, false}, {"debug file of A, stripped B", false, true}, {"A, its debug file, and B", true, false}} {
		dir := t.TempDir()
		a, b := filepath.Join(dir, "A"), filepath.Join(dir, "B")
		if err := os.Rename(testbin.C(t, "alpha_only", "a", "-g", id), a); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(testbin.C(t, "beta_other", "b", "-g", "-O2", id), b); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("objcopy", "--only-keep-debug", a, a+".debug").CombinedOutput(); err != nil {
			t.Fatalf("objcopy: %v\n%s", err, out)
		}
		if !tc.withA {
			os.Remove(a)
		}
		if tc.stripped {
			if out, err := exec.Command("strip", b).CombinedOutput(); err != nil {
				t.Fatalf("strip: %v\n%s", err, out)
			}
		}
		got, failed := run(t, nil, []string{dir}, upload.Options{DryRun: true})
		for p, r := range got {
			if r.Action == upload.DryRun || r.Action == upload.Skipped {
				t.Errorf("%s: %s would be sent or skipped as served: %+v", tc.name, p, r)
			}
		}
		if failed != len(got) {
			t.Errorf("%s: %d of %d failed", tc.name, failed, len(got))
		}
		if tc.withA {
			for p, r := range got {
				if strings.Contains(r.Reason, "("+a+" and "+a+".debug)") {
					t.Errorf("%s: %s names the program and its own debug file as the collision: %s", tc.name, p, r.Reason)
				}
			}
		}
	}
}

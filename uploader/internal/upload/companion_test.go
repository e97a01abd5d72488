package upload_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Files that share a build ID, named in an order that puts the debug file
// first: a program and its own debug file are one upload and the program
// (as much DWARF, and its code too) is the one sent; plain copies are
// skipped as copies; another program under the same ID is a collision
// whose message names it and one of the files it differs from.
func TestSharedBuildIDChoices(t *testing.T) {
	testbin.Need(t, "objcopy")
	const id = "0x99887766554433221100"
	prog := testbin.C(t, "prog", "p", "-g", "-Wl,--build-id="+id)
	dbg := prog + ".debug"
	if out, err := exec.Command("objcopy", "--only-keep-debug", prog, dbg).CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, out)
	}
	got, failed := run(t, nil, []string{dbg, prog}, upload.Options{DryRun: true})
	if p, d := got[prog+"#debuginfo"], got[dbg+"#debuginfo"]; failed != 0 || p.Action != upload.DryRun || d.Action != upload.Skipped ||
		d.Reason != "same build ID as "+prog+" in this run (a program and its debug file: one upload serves both)" {
		t.Errorf("debug file named first: program %+v, debug file %+v; want the program sent", p, d)
	}

	for _, orig := range []string{prog, dbg} {
		cp := testbin.Copy(t, orig, "copy")
		got, failed = run(t, nil, []string{orig, cp}, upload.Options{DryRun: true})
		if c := got[cp+"#debuginfo"]; failed != 0 || c.Action != upload.Skipped || c.Reason != "same build ID as "+orig+" in this run" {
			t.Errorf("a plain copy of %s: %+v", orig, c)
		}
	}

	other := testbin.C(t, "other", "a different program", "-g", "-Wl,--build-id="+id)
	got, failed = run(t, nil, []string{prog, dbg, other}, upload.Options{DryRun: true})
	r := got[prog+"#debuginfo"]
	if failed != 3 || !strings.Contains(r.Reason, "shared by different files") || !strings.Contains(r.Reason, other) {
		t.Errorf("another program under the same build ID: failed %d, %+v; want the collision to name %s", failed, r, other)
	}
}

// A journal holds its directory open until Close (a long-lived process, the
// persistent worker, opens one per store); without a journal (nil) Close is
// a no-op.
func TestJournalCloseReleasesItsDirectory(t *testing.T) {
	before := testbin.OpenFiles(t)
	j, err := upload.OpenJournal(filepath.Join(t.TempDir(), "journal"), "store:443")
	if err != nil {
		t.Fatal(err)
	}
	if testbin.OpenFiles(t) <= before {
		t.Fatal("an open journal holds no file open: nothing to test")
	}
	if err := j.Close(); err != nil || testbin.OpenFiles(t) > before {
		t.Errorf("Close: %v, %d files open, %d before", err, testbin.OpenFiles(t), before)
	}
	var none *upload.Journal
	if err := none.Close(); err != nil {
		t.Errorf("nil journal: %v", err)
	}
}

// A file whose upload (not its question) runs out of --timeout says so,
// with the limit, and the next file goes on.
func TestUploadRunsOutOfTimeout(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.C(t, "slow", "s", "-g")
	srv.HangNext("InitiateUpload", 1)
	got, failed := run(t, grpcStoreTries(t, srv, 1), []string{bin}, upload.Options{Timeout: 300 * time.Millisecond})
	if r := got[bin+"#debuginfo"]; failed != 1 || !strings.HasPrefix(r.Reason, "timed out after 300ms (--timeout): ") {
		t.Errorf("failed %d, %+v", failed, r)
	}
}

// What a report says follows the object: --type names the type of a file
// sent as it is; a prepared debuginfo file without DWARF is flagged as
// symbols only, with the warning, and one with DWARF is not; a prepared
// file that is missing fails with the reason.
func TestReportTypesAndPreparedQuality(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.C(t, "exe", "e", "-g")
	got, failed := run(t, grpcStore(t, srv), []string{bin}, upload.Options{Type: pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE, DryRun: true})
	if r, ok := got[bin+"#executable"]; failed != 0 || !ok || r.Action != upload.DryRun {
		t.Errorf("--type=executable: %v", got)
	}

	noDWARF := testbin.C(t, "nodwarf", "n", "-O1")
	for _, tc := range []struct {
		path        string
		symbolsOnly bool
		fail        string
	}{{bin, false, ""}, {noDWARF, true, ""}, {filepath.Join(t.TempDir(), "missing"), false, "no such file"}} {
		id := fmt.Sprintf("%040x", len(tc.path))
		files := []upload.PreparedFile{{Path: tc.path, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED}}
		if tc.fail != "" { // its source archive is not sent without it
			files = append(files, upload.PreparedFile{Path: testbin.File(t, "p.tar.zst", []byte("src")), Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES})
		}
		started := srv.Calls("InitiateUpload")
		var reps []upload.Report
		failed := upload.Run(context.Background(), grpcStore(t, srv), nil, []upload.Prepared{{Label: "p", BuildID: id, BuildIDType: buildid.GNU, Files: files}},
			upload.Options{Force: true}, func(r upload.Report) { reps = append(reps, r) })
		if len(reps) != 1 || tc.fail != "" && srv.Calls("InitiateUpload") != started {
			t.Fatalf("%s: %+v", tc.path, reps)
		}
		r := reps[0]
		switch {
		case tc.fail != "":
			if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, tc.fail) {
				t.Errorf("missing prepared file: %+v", r)
			}
		case r.Action != upload.Uploaded || r.SymbolsOnly != tc.symbolsOnly || (r.Warning != "") != tc.symbolsOnly:
			t.Errorf("%s: %+v; want symbols only %v, with a warning then", tc.path, r, tc.symbolsOnly)
		}
	}
}

// A stripped program (nothing to give) and another program under its build
// ID: a collision, unless --allow-shared-build-id says the ID is shared on
// purpose, and then the other program is sent.
func TestStrippedProgramAndAnotherUnderItsID(t *testing.T) {
	testbin.Need(t, "strip")
	const id = "0x5566778899aabbccddeeff"
	stripped := testbin.C(t, "stripped", "s", "-g", "-Wl,--build-id="+id)
	if out, err := exec.Command("strip", stripped).CombinedOutput(); err != nil {
		t.Fatalf("strip: %v\n%s", err, out)
	}
	other := testbin.C(t, "other", "another program", "-g", "-Wl,--build-id="+id)
	for _, allow := range []bool{false, true} {
		got, _ := run(t, nil, []string{stripped, other}, upload.Options{DryRun: true, AllowSharedBuildID: allow})
		o := got[other+"#debuginfo"]
		if collided := strings.Contains(o.Reason, "shared by different files"); collided == allow || allow && o.Action != upload.DryRun {
			t.Errorf("allowed %v: the other program %+v", allow, o)
		}
	}
}

// A program stripped in place after its upload (an install step; strip
// keeps the build ID) is a skip when the store has its build ID: it failed
// every later run (and every CI build) with nothing missing from the store.
// A stripped program the store lacks still fails.
func TestStrippedAfterUploadIsSkipped(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "installed", "i", "-g")
	if _, failed := run(t, st, []string{bin}, upload.Options{}); failed != 0 {
		t.Fatal("first upload failed")
	}
	testbin.Run(t, filepath.Dir(bin), "strip", "--strip-all", bin)
	got, failed := run(t, st, []string{bin}, upload.Options{})
	if r := got[bin+"#debuginfo"]; failed != 0 || r.Action != upload.Skipped || !strings.Contains(r.Reason, "already has this build ID") {
		t.Fatalf("stripped after upload: failed=%d %+v, want skipped", failed, r)
	}

	other := testbin.C(t, "neverup", "n", "-g")
	testbin.Run(t, filepath.Dir(other), "strip", "--strip-all", other)
	got, failed = run(t, st, []string{other}, upload.Options{})
	if r := got[other+"#debuginfo"]; failed != 1 || r.Action != upload.Failed {
		t.Fatalf("stripped, never uploaded: failed=%d %+v, want failed", failed, r)
	}
}

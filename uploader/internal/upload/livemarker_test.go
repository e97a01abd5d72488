package upload_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// An in-progress upload whose journal marker names a process that is still
// running (another uploader on this machine) must be left alone: skipped
// with the --force advice, never restarted over the live one.
func TestLiveUploadersMarkerIsRespected(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "busy", "b", "-g")
	id, _ := buildid.Read(bin)
	journal, err := upload.OpenJournal(t.TempDir()+"/journal", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { journal.Close() })

	// Leave an in-progress upload on the store and our marker in the journal.
	srv.CutStreamAfter(1)
	if _, failed := run(t, st, []string{bin}, upload.Options{Journal: journal}); failed != 1 {
		t.Fatal("first attempt did not fail")
	}

	// The marker now names a live process other than this one.
	live := exec.Command("sleep", "60")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Process.Kill(); live.Wait() })
	rewriteMarkerPID(t, journal.Dir, live.Process.Pid)

	uploadsBefore := srv.Calls("InitiateUpload")
	got, failed := run(t, st, []string{bin}, upload.Options{Journal: journal})
	r := got[bin+"#debuginfo"]
	if failed != 0 || r.Action != upload.Skipped || !strings.Contains(r.Reason, "--force") {
		t.Fatalf("live uploader's marker: failed=%d %+v", failed, r)
	}
	if n := srv.Calls("InitiateUpload"); n != uploadsBefore {
		t.Errorf("InitiateUpload called %d more times over a live upload", n-uploadsBefore)
	}
	if _, ok := srv.Uploaded(id.Value, 0); ok {
		t.Error("stored over a live upload")
	}
	if entries, _ := journalMarkers(journal.Dir); len(entries) != 1 {
		t.Errorf("the live uploader's marker was removed (%d markers)", len(entries))
	}
}

// A marker naming no process (pid 0 or negative: hand-edited, or written
// by something else) is an orphan, never "alive" through kill(0, 0) or
// kill(-1, 0), which ask about a whole process group: the re-run takes the
// upload over with force instead of skipping it with the --force advice.
func TestMarkerWithoutProcessIsOrphaned(t *testing.T) {
	bin := testbin.C(t, "nopid", "n", "-g")
	id, _ := buildid.Read(bin)
	for _, pid := range []int{0, -1} {
		srv := teststore.Start(t, teststore.Options{})
		st := grpcStoreTries(t, srv, 1)
		journal := openJournal(t, t.TempDir(), srv.Addr())
		srv.CutStreamAfter(1)
		if _, failed := run(t, st, []string{bin}, upload.Options{Journal: journal}); failed != 1 {
			t.Fatal("first attempt did not fail")
		}
		rewriteMarkerPID(t, journal.Dir, pid)
		got, failed := run(t, st, []string{bin}, upload.Options{Journal: journal})
		if r := got[bin+"#debuginfo"]; failed != 0 || r.Action != upload.Uploaded {
			t.Errorf("pid %d: re-run %+v, want the orphaned upload taken over", pid, r)
		}
		if _, ok := srv.Uploaded(id.Value, 0); !ok {
			t.Errorf("pid %d: not stored", pid)
		}
	}
}

// A process that outlives its failed upload (Bazel's persistent worker
// serves the next build's request) takes the upload over on its next run:
// the store still calls it in progress, and skipping it with the --force
// advice left the debuginfo missing behind a green, cached build.
func TestFailedUploadIsTakenOverBySameProcess(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "worker", "w", "-g")
	id, _ := buildid.Read(bin)
	journal := openJournal(t, t.TempDir(), srv.Addr())
	srv.CutStreamAfter(1)
	if _, failed := run(t, st, []string{bin}, upload.Options{Journal: journal}); failed != 1 {
		t.Fatal("first attempt did not fail")
	}
	got, failed := run(t, st, []string{bin}, upload.Options{Journal: journal})
	if r := got[bin+"#debuginfo"]; failed != 0 || r.Action != upload.Uploaded {
		t.Fatalf("same process, next run: %+v, want the failed upload taken over", r)
	}
	if _, ok := srv.Uploaded(id.Value, 0); !ok {
		t.Error("the store has no finished debuginfo")
	}
	if entries, _ := journalMarkers(journal.Dir); len(entries) != 0 {
		t.Errorf("%d markers left after the upload finished", len(entries))
	}
}

package upload_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// victim is another user's file that a planted symlink points at.
func victim(t *testing.T) (path string, unchanged func(t *testing.T)) {
	dir := t.TempDir()
	path = filepath.Join(dir, "precious")
	if err := os.WriteFile(path, []byte("precious data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, func(t *testing.T) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil || string(b) != "precious data\n" {
			t.Errorf("the symlink's target was written: %q, %v", b, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Errorf("files appeared beside the target: %v", ents)
		}
	}
}

// TestJournalRefusesUnsafeDirs: the journal directory must be ours, not a
// symlink and writable by no one else; otherwise there is no journal.
func TestJournalRefusesUnsafeDirs(t *testing.T) {
	t.Run("symlink", func(t *testing.T) {
		target, unchanged := victim(t)
		dir := filepath.Join(t.TempDir(), "journal")
		if err := os.Symlink(filepath.Dir(target), dir); err != nil {
			t.Fatal(err)
		}
		if j, err := upload.OpenJournal(dir, "s"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			j.Close()
			t.Errorf("err = %v", err)
		}
		unchanged(t)
	})
	t.Run("world-writable", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "journal")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if j, err := upload.OpenJournal(dir, "s"); err == nil || !strings.Contains(err.Error(), "mode 0777") {
			j.Close()
			t.Errorf("err = %v", err)
		}
	})
	t.Run("other-owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give a directory to another user")
		}
		dir := filepath.Join(t.TempDir(), "journal")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if j, err := upload.OpenJournal(dir, "s"); err == nil || !strings.Contains(err.Error(), "belongs to user 65534") {
			j.Close()
			t.Errorf("err = %v", err)
		}
	})
	t.Run("created-private", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "journal")
		j, err := upload.OpenJournal(dir, "s")
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
		if fi, err := os.Lstat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("journal dir %v %v, want mode 0700", fi.Mode(), err)
		}
	})
}

// TestJournalDefaultIsPerUser: with no HOME and no XDG_CACHE_HOME the
// journal is not under a name every user shares.
func TestJournalDefaultIsPerUser(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("TMPDIR", tmp)
	d := upload.DefaultJournalDir()
	if filepath.Dir(d) != tmp || !strings.Contains(filepath.Base(d), "-") {
		t.Errorf("DefaultJournalDir() = %s, want a per-user directory in %s", d, tmp)
	}
}

// TestJournalMarkerSymlinkIsNotFollowed: a symlink planted at a marker's
// name inside the journal is replaced, not written through.
func TestJournalMarkerSymlinkIsNotFollowed(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "marker", "m", "-g")
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	j := openJournal(t, dir, srv.Addr())

	// Find the marker's name from a failed attempt, then plant a symlink there.
	srv.CutStreamAfter(1)
	if _, failed := run(t, st, []string{bin}, upload.Options{Journal: j, Force: true}); failed != 1 {
		t.Fatal("first attempt did not fail")
	}
	ents, err := journalMarkers(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("journal holds %v (%v), want one marker", ents, err)
	}
	marker := filepath.Join(dir, ents[0].Name())
	target, unchanged := victim(t)
	if err := os.Remove(marker); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, marker); err != nil {
		t.Fatal(err)
	}
	got, failed := run(t, st, []string{bin}, upload.Options{Journal: j, Force: true})
	if id, _ := buildid.Read(bin); failed != 0 {
		t.Fatalf("rerun of %s: %v", id.Value, got)
	}
	unchanged(t)
}

// TestJournalWriteFailureIsReported: a journal whose markers cannot be
// written (its cache dir on a full disk) says so once, and a rerun that
// finds the killed upload still in progress does not blame "a run on
// another machine": it may have been this machine's (review s14-r2,
// finding 2).
func TestJournalWriteFailureIsReported(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "fulldisk", "f", "-g")
	dir := filepath.Join(t.TempDir(), "journal")
	upload.FailMarkerWrites(t, syscall.ENOSPC)
	open := func() (*upload.Journal, *[]error) {
		var notices []error
		j := openJournal(t, dir, srv.Addr())
		j.OnWriteError = func(err error) { notices = append(notices, err) }
		return j, &notices
	}

	j, notices := open()
	srv.CutStreamAfter(1)
	if _, failed := run(t, st, []string{bin}, upload.Options{Journal: j}); failed != 1 {
		t.Fatal("first attempt did not fail")
	}
	if len(*notices) != 1 || !strings.Contains((*notices)[0].Error(), dir+": no space left on device") {
		t.Errorf("first run's notices: %v, want one naming %s and the error", *notices, dir)
	}

	j, notices = open() // the rerun, as a new process opens it
	got, failed := run(t, st, []string{bin}, upload.Options{Journal: j})
	r := got[bin+"#debuginfo"]
	if failed != 0 || r.Action != upload.Skipped || !strings.Contains(r.Warning, "--force") {
		t.Fatalf("rerun: failed=%d %+v", failed, r)
	}
	if strings.Contains(r.Warning, "on another machine)") || !strings.Contains(r.Warning, "this machine's in-flight journal cannot record uploads") {
		t.Errorf("rerun's warning: %s", r.Warning)
	}
	if len(*notices) != 1 {
		t.Errorf("rerun's notices: %v, want one", *notices)
	}
}

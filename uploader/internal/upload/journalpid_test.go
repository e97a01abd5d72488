package upload

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// A marker with this process's PID is this process's own upload only if it
// also has this process's start time: in a container the uploader is PID 1
// run after run, and a killed run's upload was never taken over (review
// s18-r2, finding 1).
func TestJournalSamePIDEarlierProcessIsOrphaned(t *testing.T) {
	if selfStart == 0 {
		t.Skip("no /proc: start times are not known")
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal"), "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	k := store.Key{BuildID: "cc33"}
	j.write(k, marker{PID: os.Getpid(), Started: time.Now(), Boot: selfStart})
	if j.orphaned(k) {
		t.Error("this process's own live upload is called orphaned")
	}
	j.write(k, marker{PID: os.Getpid(), Started: time.Now(), Boot: selfStart - 1})
	if !j.orphaned(k) {
		t.Error("an earlier process's upload, under this process's PID, is not taken over")
	}
}

// A killed run's temp marker file must not stop a later run with the same
// PID from recording (review s18-r2, finding 2: its name was PID and count,
// and O_EXCL failed on it for good).
func TestJournalStaleTempFileOfSamePID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j, err := OpenJournal(dir, "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	k := store.Key{BuildID: "dd44"}
	// What the killed run left, under every name the old scheme would try
	// next in this process.
	for i := uint64(1); i <= 3; i++ {
		stale := ".tmp-" + j.name(k) + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(tmpSeq.Load()+i, 10)
		if err := os.WriteFile(filepath.Join(dir, stale), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var failed error
	j.OnWriteError = func(err error) { failed = err }
	j.begin(k)
	if failed != nil {
		t.Fatalf("the marker was not written: %v", failed)
	}
	if _, err := os.Stat(filepath.Join(dir, j.name(k))); err != nil {
		t.Fatal(err)
	}
}

// Lock files older than a marker's life go when nobody holds them; a held
// one stays.
func TestJournalPrunesOldLockFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j, err := OpenJournal(dir, "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	old := time.Now().Add(-3 * markerLife)
	for _, name := range []string{"free.lock", "held.lock", prunedStamp} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	h, err := os.OpenFile(filepath.Join(dir, "held.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := syscall.Flock(int(h.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	j2, err := OpenJournal(dir, "store") // prunes: the stamp is old
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if _, err := os.Stat(filepath.Join(dir, "free.lock")); !os.IsNotExist(err) {
		t.Errorf("an old lock file nobody holds is kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "held.lock")); err != nil {
		t.Errorf("a held lock file was removed: %v", err)
	}
}

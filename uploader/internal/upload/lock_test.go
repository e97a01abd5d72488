package upload

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// TestLockWaitsForTheHolder: a second uploader of the same key waits until
// the first is done, and is told it waited; another key does not wait; no
// lock file is left behind.
func TestLockWaitsForTheHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j1, err := OpenJournal(dir, "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j1.Close()
	j2, err := OpenJournal(dir, "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	key := store.Key{BuildID: "aa11"}
	ctx := context.Background()

	unlock1, waited, err := j1.lock(ctx, key, nil)
	if err != nil || waited {
		t.Fatalf("first lock: waited %v, %v", waited, err)
	}
	other, waited, err := j2.lock(ctx, store.Key{BuildID: "bb22"}, nil)
	if err != nil || waited {
		t.Fatalf("another key: waited %v, %v", waited, err)
	}
	other()

	got := make(chan bool)
	go func() {
		unlock2, waited, err := j2.lock(ctx, key, nil)
		if err != nil {
			t.Error(err)
		}
		unlock2()
		got <- waited
	}()
	select {
	case <-got:
		t.Fatal("the second lock did not wait for the first")
	case <-time.After(10 * lockPoll):
	}
	unlock1()
	if !<-got {
		t.Error("the second lock says it did not wait")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != prunedStamp {
		t.Errorf("left in the journal: %v", ents)
	}
}

// TestLockWaitEndsWithTheContext: an interrupt or --timeout ends the wait.
func TestLockWaitEndsWithTheContext(t *testing.T) {
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal"), "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	key := store.Key{BuildID: "aa11"}
	unlock, _, err := j.lock(context.Background(), key, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*lockPoll)
	defer cancel()
	if _, waited, err := j.lock(ctx, key, nil); !errors.Is(err, context.DeadlineExceeded) || !waited {
		t.Errorf("waited %v, err %v; want the deadline", waited, err)
	}
}

// TestLockWithoutJournal locks nothing.
func TestLockWithoutJournal(t *testing.T) {
	var j *Journal
	unlock, waited, err := j.lock(context.Background(), store.Key{BuildID: "aa11"}, nil)
	if err != nil || waited {
		t.Fatalf("waited %v, %v", waited, err)
	}
	unlock()
}

// TestOpenJournalPrunesOldMarkers: markers older than a day go, as do a
// crashed writer's temp files and lock files nobody holds; fresh markers stay.
func TestOpenJournalPrunesOldMarkers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	j, err := OpenJournal(dir, "store")
	if err != nil {
		t.Fatal(err)
	}
	j.Close()
	old := time.Now().Add(-markerLife - time.Hour)
	files := map[string]bool{ // name: kept
		"0123456789abcdef0123456789abcdef":      false,
		".tmp-0123456789abcdef0123456789abcdef": false,
		"fedcba9876543210fedcba9876543210":      true,
		"0123456789abcdef0123456789abcdef.lock": false, // nobody holds it (TestJournalPrunesOldLockFiles: a held one stays)
	}
	for name, kept := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
		if !kept {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Within pruneEvery of the last prune nothing is listed or removed;
	// after it, the old markers go.
	for _, since := range []time.Duration{pruneEvery - time.Minute, pruneEvery + time.Minute} {
		then := time.Now().Add(-since)
		if err := os.Chtimes(filepath.Join(dir, prunedStamp), then, then); err != nil {
			t.Fatal(err)
		}
		j, err = OpenJournal(dir, "store")
		if err != nil {
			t.Fatal(err)
		}
		j.Close()
		for name, kept := range files {
			_, err := os.Stat(filepath.Join(dir, name))
			if got, want := err == nil, kept || since < pruneEvery; got != want {
				t.Errorf("last pruned %v ago: %s kept %v, want %v", since, name, got, want)
			}
		}
	}
}

// TestZombieUploaderIsGone: a killed uploader whose parent died too stays a
// zombie under a PID 1 that reaps nothing (a container without an init), and
// kill(pid, 0) still finds it; its marker must count as orphaned, or every
// rerun skips the upload as "in progress" (review s13-r4, finding 1). A live
// process that took the PID later is not the uploader either.
func TestZombieUploaderIsGone(t *testing.T) {
	if _, _, ok := procStat(os.Getpid()); !ok {
		t.Skip("no /proc")
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), "journal"), "store")
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	pid := child.Process.Pid
	_, start, _ := procStat(pid)
	key := store.Key{BuildID: "aa11"}
	j.write(key, marker{PID: pid, Started: time.Now(), Boot: start})
	if j.orphaned(key) {
		t.Fatal("a running uploader's marker is orphaned")
	}
	j.write(key, marker{PID: pid, Started: time.Now(), Boot: start + 1})
	if !j.orphaned(key) {
		t.Error("the PID of another, later process counts as the uploader")
	}
	j.write(key, marker{PID: pid, Started: time.Now()}) // an older marker: no start time
	if j.orphaned(key) {
		t.Fatal("a running uploader's old-style marker is orphaned")
	}
	child.Process.Kill()
	for i := 0; i < 200; i++ { // killed, not reaped: a zombie
		if state, _, _ := procStat(pid); state == 'Z' {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !j.orphaned(key) {
		t.Error("a zombie uploader's marker is not orphaned")
	}
	child.Wait()
}

// TestWaitingIsTold: an upload queued behind another of its build ID says
// so after a while instead of staying silent for up to --timeout (review
// s13-r4, finding 2), then goes on once the other is done.
func TestWaitingIsTold(t *testing.T) {
	old := waitNotice
	waitNotice = 50 * time.Millisecond
	t.Cleanup(func() { waitNotice = old })
	srv := teststore.Start(t, teststore.Options{})
	st, err := store.Open(srv.Addr(), store.Config{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bin := testbin.C(t, "wait", "wait", "-g")
	id, err := buildid.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "journal")
	holder, err := OpenJournal(dir, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	unlock, _, err := holder.lock(context.Background(), store.Key{BuildID: id.Value}, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(dir, srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	told := make(chan string, 1)
	go func() {
		<-told
		unlock() // the other upload ends once the waiter has been told
	}()
	var reports []Report
	failed := Run(context.Background(), st, []string{bin}, nil, Options{Journal: j, Waiting: func(path, buildID string) {
		told <- path + " " + buildID
	}}, func(r Report) { reports = append(reports, r) })
	if failed != 0 || len(reports) != 1 || reports[0].Action != Uploaded {
		t.Fatalf("failed %d, %+v", failed, reports)
	}
	select {
	case got := <-told:
		t.Errorf("told twice: %s", got)
	default:
	}
}

// TestOneStoreSpelledTwoWays: the lock (and the markers) of a store are
// found whichever documented spelling of its address a run was given.
func TestOneStoreSpelledTwoWays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	key := store.Key{BuildID: "aa11"}
	a, err := OpenJournal(dir, "127.0.0.1:7070")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, other := range []string{"dns:///127.0.0.1:7070", "localhost:7070", "LOCALHOST:7070"} {
		b, err := OpenJournal(dir, other)
		if err != nil {
			t.Fatal(err)
		}
		if a.name(key) != b.name(key) {
			t.Errorf("%s and 127.0.0.1:7070 are two stores to the journal", other)
		}
		b.Close()
	}
}

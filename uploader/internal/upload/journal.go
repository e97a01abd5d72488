package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// Journal remembers, on this machine, which uploads are in flight. A store
// like Parca keeps an interrupted upload "in progress" (blocking everyone
// but a forced request) for its whole max duration plus two minutes. When
// the uploader that started it is gone (killed, machine rebooted), or it
// failed and stopped sending, a rerun finds its marker with a dead PID or
// marked ended and may safely restart with force; an upload by a live
// process, here or elsewhere, is still respected. (Ended matters for a
// process that outlives its failed upload: Bazel's persistent worker.)
//
// Markers live in a private directory (ours, writable by no one else, not
// a symlink; created 0700) and
// are reached only through an os.Root on it, so nobody else can plant a
// symlink that makes our writes land on their target.
type Journal struct {
	Dir   string // one marker file per in-flight object
	store string // the store address, so two stores do not share markers
	root  *os.Root
	// OnWriteError, when set, is told the first time a marker cannot be
	// written (a full disk): a killed upload then leaves nothing for a
	// rerun to take over, which the user would otherwise never learn.
	OnWriteError func(error)

	mu       sync.Mutex
	writeErr error // the first failed write, reported once
}

type marker struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Boot is the process's start time in clock ticks since boot (Linux):
	// a later process given the same PID is not the uploader.
	Boot uint64 `json:"boot,omitempty"`
	// Ended: the upload failed and its process sends nothing more, though
	// the store may still call it in progress.
	Ended bool `json:"ended,omitempty"`
}

// DefaultJournalDir is under the user's cache directory or, without one
// (no HOME, no XDG_CACHE_HOME), a directory of this user's own in the temp
// directory: never a name shared by every user.
func DefaultJournalDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(os.TempDir(), fmt.Sprintf("rules_debuginfo-%d", os.Geteuid()))
	}
	return filepath.Join(d, "rules_debuginfo", "inflight")
}

// OpenJournal opens (creating it if needed) the journal in dir for markers
// of store. It refuses a dir that is a symlink, not owned by this user or
// writable by others: the caller then runs without a journal.
func OpenJournal(dir, store string) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if fi, err := os.Lstat(dir); err != nil {
		return nil, err
	} else if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	// Checked on the open directory itself, so a swap after the Lstat
	// above cannot slip another directory in.
	fi, err := root.Stat(".")
	if err == nil {
		err = private(dir, fi)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	j := &Journal{Dir: dir, store: storeKey(store), root: root}
	j.prune()
	return j, nil
}

// storeKey spells a store address one way for markers and locks, so that
// a rerun given dns:///127.0.0.1:7070 or localhost:7070 finds what a run
// given 127.0.0.1:7070 left (review s13-r5, finding 5). Other names for one
// store (a DNS alias) still count as other stores.
func storeKey(address string) string {
	a := strings.ToLower(strings.TrimPrefix(address, "dns:///"))
	if rest, ok := strings.CutPrefix(a, "localhost:"); ok {
		a = "127.0.0.1:" + rest
	}
	return a
}

// markerLife is how long a marker is kept. A failed upload's marker matters
// while the store still calls that upload in progress (Parca: 17 minutes);
// without pruning, every failed upload on a CI machine would leave one
// forever.
const markerLife = 24 * time.Hour

// prunedStamp's time is the last prune's; pruneEvery spaces them.
const (
	prunedStamp = ".pruned"
	pruneEvery  = time.Hour
)

// prune removes markers (and a crashed writer's temp files) older than
// markerLife, and lock files as old that nobody holds (a killed run leaves
// its lock file; the next taker of that key removes it, but a key never
// uploaded again kept it for good). It runs at most once per pruneEvery: a Bazel worker or a make -j opens the
// journal for every file, and the directory's listing is not free.
func (j *Journal) prune() {
	if fi, err := j.root.Stat(prunedStamp); err == nil && time.Since(fi.ModTime()) < pruneEvery {
		return
	}
	if f, err := j.root.OpenFile(prunedStamp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600); err == nil {
		f.Close()
	}
	ents, err := fs.ReadDir(j.root.FS(), ".")
	if err != nil {
		return
	}
	for _, e := range ents {
		if e.Name() == prunedStamp || !e.Type().IsRegular() {
			continue
		}
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) <= markerLife {
			continue
		}
		if strings.HasSuffix(e.Name(), ".lock") {
			j.pruneLock(e.Name())
		} else {
			_ = j.root.Remove(e.Name())
		}
	}
}

// pruneLock removes the lock file name if nobody holds it, as an unlock
// does: taken first, so that a run waiting on it tries again (see lock).
func (j *Journal) pruneLock(name string) {
	f, err := j.root.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return
	}
	held, err1 := f.Stat()
	now, err2 := j.root.Lstat(name)
	if err1 == nil && err2 == nil && os.SameFile(held, now) {
		_ = j.root.Remove(name)
	}
}

func private(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case !ok:
		return fmt.Errorf("%s: cannot tell its owner", dir)
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%s belongs to user %d, not to this user (%d)", dir, st.Uid, os.Geteuid())
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("%s has mode %04o: others may write to it (want 0700)", dir, fi.Mode().Perm())
	}
	return nil
}

// Close releases the journal's directory.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	return j.root.Close()
}

func (j *Journal) name(k store.Key) string {
	sum := sha256.Sum256([]byte(j.store + "\x00" + k.BuildID + "\x00" + store.TypeName(k.Type)))
	return hex.EncodeToString(sum[:16])
}

// begin records that this process is uploading k; end removes the record.
// A marker is written under a fresh name (O_EXCL) and renamed into place:
// a rename replaces whatever is at the name, never writes through it.
func (j *Journal) begin(k store.Key) {
	j.write(k, marker{PID: os.Getpid(), Started: time.Now(), Boot: selfStart})
}

// failed records that this process's upload of k is over although the
// store may not know it: any run may take it over, this process's next
// one included.
func (j *Journal) failed(k store.Key) {
	j.write(k, marker{PID: os.Getpid(), Started: time.Now(), Boot: selfStart, Ended: true})
}

func (j *Journal) write(k store.Key, m marker) {
	if j == nil {
		return
	}
	b, _ := json.Marshal(m)
	j.writeFile(j.name(k), b)
}

// writeFile writes b to name through a fresh temp file and a rename,
// reporting a failure (ENOSPC on a full cache dir used to pass unseen).
func (j *Journal) writeFile(name string, b []byte) error {
	// A random part too: a killed run's temp file keeps its name, and the
	// next run may have the same PID and count (a container's PID 1), so
	// O_EXCL failed on it for good (review s18-r2, finding 2).
	tmp := ".tmp-" + name + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatUint(tmpSeq.Add(1), 10) + "-" + strconv.FormatUint(rand.Uint64(), 36)
	f, err := j.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = writeMarker(f, b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && name != "" {
			err = j.root.Rename(tmp, name)
		}
		if err != nil || name == "" {
			_ = j.root.Remove(tmp) // a half-written or unrenamed marker
		}
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		err = fmt.Errorf("cannot write to %s: %w", j.Dir, err)
		j.mu.Lock()
		first := j.writeErr == nil
		if first {
			j.writeErr = err
		}
		j.mu.Unlock()
		if first && j.OnWriteError != nil {
			j.OnWriteError(err)
		}
	}
	return err
}

// tmpSeq tells apart the temp files of one process (probes run at once).
var tmpSeq atomic.Uint64

// writeMarker is f.Write; tests make it fail.
var writeMarker = (*os.File).Write

// records says whether this journal records uploads: when it does not, a
// run of this machine killed mid-upload left no marker, so an upload the
// store calls in progress may be ours, not another machine's. A probe of
// a marker's size is written (and removed) to find out: a previous run may
// have failed to write where this one has not tried yet.
func (j *Journal) records() bool {
	if j == nil {
		return false
	}
	j.mu.Lock()
	failed := j.writeErr != nil
	j.mu.Unlock()
	if failed {
		return false
	}
	b, _ := json.Marshal(marker{PID: os.Getpid(), Started: time.Now(), Boot: selfStart, Ended: true})
	return j.writeFile("", b) == nil
}

func (j *Journal) end(k store.Key) {
	if j != nil {
		_ = j.root.Remove(j.name(k))
	}
}

// orphaned says whether k's in-progress state was left by a process of
// this machine that is no longer running.
func (j *Journal) orphaned(k store.Key) bool {
	if j == nil {
		return false
	}
	if fi, err := j.root.Lstat(j.name(k)); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := j.root.Open(j.name(k))
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return false
	}
	var m marker
	if json.Unmarshal(b, &m) != nil || m.PID <= 0 {
		return true // a torn marker: its writer died mid-write
	}
	if m.Ended {
		return true
	}
	if m.PID == os.Getpid() {
		// This process's own upload, unless an earlier process had the
		// same PID: in a container the uploader is PID 1 run after run,
		// and a killed run's upload was never taken over (review s18-r2,
		// finding 1).
		return m.Boot != 0 && selfStart != 0 && m.Boot != selfStart
	}
	return !alive(m.PID, m.Boot)
}

// alive says whether the uploader pid (started at boot ticks, 0 when not
// known) is still running. A zombie is not: under a PID 1 that reaps
// nothing (a container without an init, this project's CI machines), a
// killed uploader stays one for good, and kill(pid, 0) still finds it; that
// made every rerun skip a killed make's upload as "in progress".
func alive(pid int, boot uint64) bool {
	if state, start, ok := procStat(pid); ok {
		return state != 'Z' && state != 'X' && (boot == 0 || start == boot)
	}
	err := syscall.Kill(pid, 0) // no /proc: not Linux
	return err == nil || err == syscall.EPERM
}

// selfStart is this process's start time, as procStat reads it (0 without /proc).
var selfStart = func() uint64 {
	_, start, _ := procStat(os.Getpid())
	return start
}()

// procStat reads a process's state and start time (clock ticks since boot)
// from /proc/PID/stat; ok is false when there is no such file.
func procStat(pid int) (state byte, start uint64, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) state ppid ...": comm may hold spaces and parentheses;
	// the state is the first field after the last ')', the start time the
	// 20th.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return 0, 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err == nil
}

// lockPoll is how often a waiting uploader tries the lock again: flock
// cannot wait and also watch a context.
const lockPoll = 20 * time.Millisecond

// lock takes this machine's lock on uploading k, waiting while another
// process holds it (make -j or Bazel's workers sending one binary twice, two
// jobs of one CI runner). Without it both would send the whole object, and
// Parca, whose filesystem bucket rewrites an object in place, can be left with
// two metadata writes torn into each other: every later call for that build
// ID then fails. waited says another process held it: what the store said
// before may be stale. Without a journal, or when the lock file cannot be
// made, it locks nothing, as before locks existed. unlock removes the file
// before releasing it, so the directory does not fill up; whoever then holds
// a lock on the removed file tries again (the usual flock pattern).
//
// onWait, when not nil, is called once the wait has lasted waitNotice.
func (j *Journal) lock(ctx context.Context, k store.Key, onWait func()) (unlock func(), waited bool, err error) {
	none := func() {}
	if j == nil {
		return none, false, nil
	}
	name := j.name(k) + ".lock"
	start := time.Now()
	for {
		f, err := j.root.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return none, waited, nil
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
				break
			}
			waited = true
			if onWait != nil && time.Since(start) >= waitNotice {
				onWait()
				onWait = nil
			}
			select {
			case <-ctx.Done():
				f.Close()
				return none, waited, ctx.Err()
			case <-time.After(lockPoll):
			}
		}
		if err != nil {
			f.Close()
			return none, waited, nil
		}
		held, err1 := f.Stat()
		now, err2 := j.root.Lstat(name)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() {
				_ = j.root.Remove(name)
				f.Close()
			}, waited, nil
		}
		f.Close() // its holder removed it: take the new one
	}
}

// inProgress recognises the store's "someone is uploading this" answer
// (Parca's reason text: "A previous upload is still in-progress ...").
func inProgress(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "in-progress") || strings.Contains(r, "in progress")
}

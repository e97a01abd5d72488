package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// Journal remembers, on this machine, which uploads are in flight. A store
// like Parca keeps an interrupted upload "in progress" (blocking everyone
// but a forced request) for its whole max duration plus two minutes. When
// the uploader that started it is gone (killed, machine rebooted), a rerun
// finds its marker with a dead PID and may safely restart with force; an
// upload by a live process, here or elsewhere, is still respected.
type Journal struct {
	Dir   string // one marker file per in-flight object
	Store string // the store address, so two stores do not share markers
}

type marker struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// DefaultJournalDir is under the user's cache directory.
func DefaultJournalDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "rules_debuginfo", "inflight")
}

func (j *Journal) path(k store.Key) string {
	sum := sha256.Sum256([]byte(j.Store + "\x00" + k.BuildID + "\x00" + store.TypeName(k.Type)))
	return filepath.Join(j.Dir, hex.EncodeToString(sum[:16]))
}

// begin records that this process is uploading k; end removes the record.
func (j *Journal) begin(k store.Key) {
	if j == nil {
		return
	}
	b, _ := json.Marshal(marker{PID: os.Getpid(), Started: time.Now()})
	if os.MkdirAll(j.Dir, 0o700) == nil {
		_ = os.WriteFile(j.path(k), b, 0o600)
	}
}

func (j *Journal) end(k store.Key) {
	if j != nil {
		_ = os.Remove(j.path(k))
	}
}

// orphaned says whether k's in-progress state was left by a process of
// this machine that is no longer running.
func (j *Journal) orphaned(k store.Key) bool {
	if j == nil {
		return false
	}
	b, err := os.ReadFile(j.path(k))
	if err != nil {
		return false
	}
	var m marker
	if json.Unmarshal(b, &m) != nil || m.PID <= 0 {
		return true // a torn marker: its writer died mid-write
	}
	return m.PID != os.Getpid() && !alive(m.PID)
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// inProgress recognises the store's "someone is uploading this" answer
// (Parca's reason text: "A previous upload is still in-progress ...").
func inProgress(reason string) bool {
	r := strings.ToLower(reason)
	return strings.Contains(r, "in-progress") || strings.Contains(r, "in progress")
}

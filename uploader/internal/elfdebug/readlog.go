package elfdebug

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/objhash"
)

// ErrInputChanged is InputUnchanged's error when bytes the extraction read
// from the input read differently now.
var ErrInputChanged = errors.New("the file changed while it was being extracted; run again")

// readLog is the input as Open reads it: it remembers the hash of every run
// of bytes read, so that they can be read again once the extraction has
// been used (see InputUnchanged). What Open makes of those bytes (sections
// it compressed or sorted, headers it rewrote) is kept, not read again, so
// an input written while Open read it (through a shared mapping, which on
// tmpfs moves neither size nor times) would otherwise go out as a mix of
// two versions that no second read ever compared.
//
// Reads that continue a run extend it (compression and the line-table sort
// read sections front to back), so the log holds a few runs per section,
// not one per read.
type readLog struct {
	r    io.ReaderAt
	stop atomic.Bool // set by seal: reads after Open are the caller's to check

	mu    sync.Mutex
	runs  []*run
	byEnd map[int64]*run // runs a read may continue
}

type run struct {
	off, n int64
	h      *xxhash.Digest
}

func newReadLog(r io.ReaderAt) *readLog { return &readLog{r: r, byEnd: map[int64]*run{}} }

func (l *readLog) ReadAt(p []byte, off int64) (int, error) {
	n, err := l.r.ReadAt(p, off)
	if n > 0 && !l.stop.Load() {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byEnd == nil { // sealed meanwhile
			return n, err
		}
		rn := l.byEnd[off]
		if rn == nil {
			rn = &run{off: off, h: xxhash.New()}
			l.runs = append(l.runs, rn)
		} else {
			delete(l.byEnd, off)
		}
		rn.h.Write(p[:n])
		rn.n += int64(n)
		l.byEnd[rn.off+rn.n] = rn
	}
	return n, err
}

// seal ends the log: later reads are not recorded.
func (l *readLog) seal() {
	l.stop.Store(true)
	l.mu.Lock()
	l.byEnd = nil
	l.mu.Unlock()
}

// recheck reads every logged run again and compares. It reads through a
// small buffer (objhash.ReadRange): it runs beside an upload's send, whose
// buffers already hold the process's peak (docs/performance.md).
func (l *readLog) recheck() error {
	// A run read twice (a window the DWARF walk loaded again) is read
	// again once; its two hashes must agree.
	seen := map[[2]int64]uint64{}
	for _, rn := range l.runs {
		k, sum := [2]int64{rn.off, rn.n}, rn.h.Sum64()
		if prev, ok := seen[k]; ok {
			if prev != sum {
				return ErrInputChanged
			}
			continue
		}
		seen[k] = sum
		h := xxhash.New()
		if err := objhash.ReadRange(h, l.r, rn.off, rn.n); err != nil {
			return err
		}
		if h.Sum64() != rn.h.Sum64() {
			return ErrInputChanged
		}
	}
	return nil
}

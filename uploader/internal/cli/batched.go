package cli

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// batchDelay is how late a report line may reach stdout.
const batchDelay = 100 * time.Millisecond

// batched writes report lines in batches: a run over a thousand skipped
// files would otherwise make a thousand writes. A line is written at most
// batchDelay late, so a CI log still shows progress, and Flush is called
// before anything goes to stderr, so a log that holds both keeps its order.
// Not used under a progress bar, which shares the terminal line by line.
type batched struct {
	mu    sync.Mutex
	w     *bufio.Writer
	timer *time.Timer
}

func newBatched(w io.Writer) *batched {
	return &batched{w: bufio.NewWriterSize(w, 32<<10)}
}

func (b *batched) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer == nil {
		b.timer = time.AfterFunc(batchDelay, b.Flush)
	}
	return b.w.Write(p)
}

// Flush writes what is buffered now.
func (b *batched) Flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	b.w.Flush()
}

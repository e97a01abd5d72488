package cli

import (
	"io"
	"sync"

	"github.com/schollz/progressbar/v3"
)

// progressMin is the smallest file worth a progress bar.
const progressMin = 16 << 20

// progress is one bar over all bytes in flight, drawn on a terminal only.
// One bar (not one per file) stays readable with -j uploads at once.
type progress struct {
	w     io.Writer
	mu    sync.Mutex
	bar   *progressbar.ProgressBar
	total int64
}

func (p *progress) starting(path string, size int64) {
	if size < progressMin {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += size
	if p.bar == nil {
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("uploading"),
			progressbar.OptionThrottle(100_000_000),
			progressbar.OptionClearOnFinish(),
		)
		return
	}
	p.bar.ChangeMax64(p.total)
}

func (p *progress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Add64(n)
	}
}

func (p *progress) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}

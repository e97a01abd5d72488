package upload

import (
	"context"
	"fmt"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// A cancelled run (Ctrl-C, SIGTERM) starts nothing new: objects not yet
// started are reported once each as interrupted, not processed.
func TestCancelledRunStartsNothingNew(t *testing.T) {
	bin := testbin.C(t, "prog", "hi", "-g")
	var paths []string
	for i := range 6 {
		paths = append(paths, testbin.Copy(t, bin, fmt.Sprintf("p%d", i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	actions := map[string]int{}
	failed := Run(ctx, nil, paths, nil, Options{Concurrency: 1, DryRun: true}, func(r Report) {
		actions[r.Action]++
		if r.Action == Interrupted && r.Reason != NotStarted {
			t.Errorf("%s: reason %q, want %q", r.Path, r.Reason, NotStarted)
		}
		cancel() // after the first report
	})
	if actions[DryRun] != 1 || actions[Interrupted] != 5 || failed != 5 {
		t.Errorf("actions %v, %d failed; want 1 dry-run and 5 interrupted", actions, failed)
	}
}

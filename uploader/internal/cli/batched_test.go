package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Report lines are written in batches, yet a log that takes stdout and
// stderr (2>&1) keeps their order: a failure printed to stderr comes after
// the lines of the files before it.
func TestReportOrderInACombinedLog(t *testing.T) {
	good := testbin.C(t, "good", "hello", "-g")
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("\x7fELF is all this has"), 0o644); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &log, Stderr: &log, Getenv: func(string) string { return "" }}
	if code := Main(env, []string{"upload", "--dry-run", "-j", "1", good, bad}); code != ExitFailed {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitFailed, log.String())
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "dry-run ") || !strings.HasPrefix(lines[1], "failed ") ||
		!strings.HasPrefix(lines[2], "debuginfo: 0 uploaded, 1 dry-run, 1 failed") {
		t.Errorf("combined log out of order:\n%s", log.String())
	}
}

// A batched line is not held back until the next one: it reaches the
// writer on its own, batchDelay later.
func TestBatchedLineIsNotHeldBack(t *testing.T) {
	var out syncBuffer
	b := newBatched(&out)
	b.Write([]byte("skipped one\n"))
	deadline := time.Now().Add(20 * batchDelay)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(batchDelay / 10)
	}
	if out.String() != "skipped one\n" {
		t.Errorf("after %s the writer holds %q", 20*batchDelay, out.String())
	}
	b.Write([]byte("skipped two\n"))
	b.Flush()
	if out.String() != "skipped one\nskipped two\n" {
		t.Errorf("after Flush the writer holds %q", out.String())
	}
}

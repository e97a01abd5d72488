package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestTokenGivenAsAnotherValueIsNotPrinted: a token put where a project ID
// or a file belongs (swapped CI secrets, a mis-quoted command line) is
// hidden in the credentials line, the per-file lines, --json and the
// --record error, as it is in errors (review s13-r1, findings 1 and 2).
func TestTokenGivenAsAnotherValueIsNotPrinted(t *testing.T) {
	w := newIAMWorld(t, nil)
	tok := w.writer
	hexPart := strings.TrimPrefix(tok, "psc_v1_")
	bin := testbin.C(t, "echo", "echo", "-g")
	store := "--store-address=" + w.srv.Addr()
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"project id from the environment", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": tok}, []string{"upload", store, "--insecure", bin}},
		{"project id in --grpc-headers", map[string]string{"POLARSIGNALS_TOKEN": tok}, []string{"upload", store, "--insecure", "--grpc-headers=projectID=" + tok, bin}},
		{"token among the files", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", tok, bin}},
		{"its hex digits among the files", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", hexPart, bin}},
		{"--json", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--json", tok, bin}},
		{"--dry-run --json", map[string]string{"POLARSIGNALS_TOKEN": tok}, []string{"upload", "--dry-run", "--json", tok, bin}},
		{"--record", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--record=" + filepath.Join(t.TempDir(), tok)}},
		{"token file, among the files", map[string]string{"DEBUGINFO_TOKEN_FILE": tokenFile(t, tok+"\n"), "POLARSIGNALS_PROJECT_ID": "proj-a"}, []string{"upload", store, "--insecure", "--dry-run", tok}},
	} {
		code, stdout, stderr := authRun(t, c.env, "", c.args...)
		out := stdout + stderr
		if strings.Contains(out, hexPart) || strings.Contains(strings.ToLower(out), strings.ToLower(hexPart[:24])) {
			t.Errorf("%s: the token is printed (exit %d):\n%s", c.name, code, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("%s: nothing says a value was hidden (exit %d):\n%s", c.name, code, out)
		}
	}
}

// tokenFile writes content to a private token file.
func tokenFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTokenFileThatBlocksStopsOnSignal: a token file nobody writes (a FIFO
// without a writer) kept upload waiting through Ctrl-C and SIGTERM (review
// s13-r1, finding 4); it now exits 130 at once.
func TestTokenFileThatBlocksStopsOnSignal(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	fifo := filepath.Join(dir, "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  []string
		args []string
		sig  syscall.Signal
	}{
		{"--bearer-token-file, SIGTERM", nil, []string{"--bearer-token-file=" + fifo}, syscall.SIGTERM},
		{"DEBUGINFO_TOKEN_FILE, SIGINT", []string{"DEBUGINFO_TOKEN_FILE=" + fifo}, nil, syscall.SIGINT},
	} {
		cmd := childCLI(c.env, append(append([]string{"upload", "--store-address=127.0.0.1:1", "--insecure", "--project-id=p"}, c.args...), bin)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Signal once the upload is waiting on the FIFO (a fixed sleep
		// signalled a child still starting on a loaded machine): a
		// writer's non-blocking open succeeds only once a reader has it
		// open. The writer stays open and writes nothing.
		var w *os.File
		for deadline := time.Now().Add(10 * time.Second); w == nil && time.Now().Before(deadline); {
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w = f
			} else {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if w == nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: the upload never opened the token file", c.name)
		}
		time.Sleep(50 * time.Millisecond)
		cmd.Process.Signal(c.sig)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: still running 5 s after the signal", c.name)
		}
		w.Close()
		if code := cmd.ProcessState.ExitCode(); code != ExitInterrupted || !strings.Contains(stderr.String(), "stopped waiting for") {
			t.Errorf("%s: exit %d, stderr %q; want %d, saying it stopped waiting", c.name, code, stderr.String(), ExitInterrupted)
		}
	}
}

// TestAuthCheckTimeoutCoversATokenFileThatBlocks: --timeout bounds auth
// check's wait for a FIFO token file too (review s13-r4, finding 3).
func TestAuthCheckTimeoutCoversATokenFileThatBlocks(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "token")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, stdout, _ := authRun(t, nil, "", "auth", "check", "--store-address=127.0.0.1:1", "--insecure", "--timeout=300ms", "--bearer-token-file="+fifo, "--project-id=p")
	if took := time.Since(start); code != ExitFailed || took > 5*time.Second || !strings.Contains(stdout, "stopped waiting for") {
		t.Errorf("exit %d after %v, stdout %q; want 1 after about 300ms, saying it stopped waiting", code, took.Round(time.Millisecond), stdout)
	}
}

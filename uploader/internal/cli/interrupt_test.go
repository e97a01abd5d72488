package cli

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Ctrl-C during a long upload run: the run stops starting files, says how
// many it left, and exits 130, not 1 (which means a file failed).
func TestInterruptedRunExits130(t *testing.T) {
	// Enough files that the run outlasts its first report line (lines
	// reach stdout in batches, up to 0.1 s late) many times over: 400 took
	// 0.1 s in all and sometimes ended before the signal came.
	const files = 3000
	bin := testbin.C(t, "prog", "hi", "-g")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	note := f.Section(".note.gnu.build-id").Offset + 16 // past the note's header and "GNU\0"
	f.Close()
	dir := t.TempDir()
	args := []string{"upload", "--dry-run", "-j", "1", dir}
	for i := range files { // copies with build IDs of their own
		binary.LittleEndian.PutUint32(data[note:], uint32(i))
		p := filepath.Join(dir, fmt.Sprint("p", i))
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := childCLI(nil, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("no report line before the end: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	n := 1
	for lines.Scan() {
		n++
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 30 s after SIGINT")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != ExitInterrupted {
		t.Errorf("exit: %v, want %d; stderr:\n%s", err, ExitInterrupted, stderr.String())
	}
	if n >= files || !strings.Contains(stderr.String(), fmt.Sprintf("%d interrupted", files-n)) {
		t.Errorf("%d dry-run lines of %d; stderr:\n%s", n, files, stderr.String())
	}
}

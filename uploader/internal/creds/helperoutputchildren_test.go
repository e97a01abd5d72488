package creds

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A helper cut off for printing too much takes its children with it (the
// whole process group), as a timed-out one does.
func TestHelperOverOutputCapKillsItsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	h := script(t, "cat >/dev/null\nsleep 300 >/dev/null 2>&1 &\necho $! > "+pidFile+"\nexec yes\n")
	_, err := Resolve(&Options{CredentialHelpers: []string{h}, CredentialHelperTimeout: 20 * time.Second}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes of output") {
		t.Fatalf("err = %v, want the output cap", err)
	}
	waitGone(t, pidFile, "was cut off")
}

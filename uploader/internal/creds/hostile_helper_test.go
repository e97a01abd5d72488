package creds

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHelperPrintingForeverStaysSmall: a helper that never stops printing
// (on stdout or stderr) fails at once, and memory does not grow with what
// it prints.
func TestHelperPrintingForeverStaysSmall(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"stdout", "exec yes"},
		{"stderr", "exec yes >&2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := script(t, "cat >/dev/null\n"+tc.body+"\n")
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			// Before the cap was real, this grew by up to 1 GiB a second until the
			// timeout; now the run ends once 1 MiB has come.
			_, err := Resolve(&Options{CredentialHelpers: []string{h}, CredentialHelperTimeout: 5 * time.Second}, "h:443", true, env())
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes of output") {
				t.Errorf("err = %v, want the output cap", err)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
				t.Errorf("allocated %d MiB reading the helper's output; the cap is 1 MiB", grown>>20)
			}
			t.Logf("took %v, allocated %d KiB", time.Since(start), (after.TotalAlloc-before.TotalAlloc)>>10)
		})
	}
}

// TestHelperTimeoutKillsItsChildren: a hung helper's own children die with
// it (the whole process group is killed).
func TestHelperTimeoutKillsItsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	h := script(t, "cat >/dev/null\nsleep 300 &\necho $! > "+pidFile+"\nwait\n")
	start := time.Now()
	_, err := Resolve(&Options{CredentialHelpers: []string{h}, CredentialHelperTimeout: 500 * time.Millisecond}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "timed out after 500ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	waitGone(t, pidFile, "timed out")
}

// waitGone fails unless the process whose PID is in pidFile is gone within
// 2 s (it is killed then); what says why it should be.
func waitGone(t *testing.T, pidFile, what string) {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for running(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the helper's child %d is still running after the helper %s", pid, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// running says whether pid is a live process (a zombie waiting for a
// parent that does not reap it counts as gone).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestHelperStderrHidesEveryHeaderValue: a failing helper's stderr is
// shown without any header value the flags or its own earlier answer gave,
// whatever the header is called and whatever the value looks like.
func TestHelperStderrHidesEveryHeaderValue(t *testing.T) {
	h := script(t, "cat >/dev/null\necho 'cannot log in; had x-tenant=tenant-opaque-77' >&2; exit 2\n")
	_, err := Resolve(&Options{CredentialHelpers: []string{h}, GRPCHeaders: []string{"x-tenant=tenant-opaque-77"}}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "failed (exit status 2)") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "tenant-opaque-77") {
		t.Errorf("a header value from the flags is shown: %v", err)
	}

	// A value from the helper's own earlier answer, on a failed refresh.
	p, err := Resolve(&Options{CredentialHelpers: []string{script(t, `cat >/dev/null
echo '{"headers": {"x-session": ["sess-0123-opaque"]}, "expires": "2030-01-01T00:10:00Z"}'
`)}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.helper.spec.path, []byte("#!/bin/sh\necho 'session sess-0123-opaque was revoked' >&2; exit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.now = func() time.Time { return time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC) }
	p.mu.Unlock()
	_, err = p.GetRequestMetadata(t.Context())
	if err == nil || !strings.Contains(err.Error(), "was revoked") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "sess-0123-opaque") {
		t.Errorf("the helper's earlier header value is shown: %v", err)
	}
}

// TestTokenFileWithoutEnd: a token file that never ends (/dev/zero) fails
// at once instead of being read into memory.
func TestTokenFileWithoutEnd(t *testing.T) {
	_, err := Resolve(&Options{BearerTokenFile: "/dev/zero"}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "more than 65536 bytes") {
		t.Errorf("err = %v", err)
	}
}

// TestHelperBackgroundChildHoldingStdout: a helper that answers, exits 0
// and leaves a child holding its stdout open is a success: its process
// group is killed once it exits (the child with it), and the answer read so
// far is used. A child that left the group (setsid) cannot be killed but no
// longer delays the answer.
func TestHelperBackgroundChildHoldingStdout(t *testing.T) {
	const answer = `echo '{"headers": {"Authorization": ["Bearer opaque-helper-tok-998877"]}}'`
	for _, tc := range []struct {
		name, spawn string
		killed      bool
	}{
		{"same group", "(sleep 299 & echo $! > PIDFILE)", true},
		{"own session", "setsid sleep 299 & echo $! > PIDFILE", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			h := script(t, "cat >/dev/null\n"+strings.ReplaceAll(tc.spawn, "PIDFILE", pidFile)+"\n"+answer+"\n")
			start := time.Now()
			p, err := Resolve(&Options{CredentialHelpers: []string{h}, CredentialHelperTimeout: 10 * time.Second}, "h:443", true, env())
			took := time.Since(start)
			b, rerr := os.ReadFile(pidFile)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			t.Cleanup(func() {
				if pid > 0 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			if err != nil {
				t.Fatalf("Resolve = %v, want the helper's answer used", err)
			}
			if md, err := p.GetRequestMetadata(t.Context()); err != nil || md["authorization"] != "Bearer opaque-helper-tok-998877" {
				t.Errorf("metadata = %v, %v", md, err)
			}
			if took > 4*time.Second {
				t.Errorf("took %v: the run waited for the child", took)
			}
			if rerr != nil || pid == 0 {
				t.Fatalf("no child pid: %v", rerr)
			}
			if !tc.killed {
				return
			}
			for deadline := time.Now().Add(2 * time.Second); running(pid); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the helper's child %d still runs after the helper exited", pid)
				}
			}
		})
	}
}

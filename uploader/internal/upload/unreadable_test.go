package upload_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// asNobody runs f on a thread whose file-system user is nobody (65534), so
// that as root, too, a mode-000 file cannot be read. The thread is thrown
// away afterwards (the goroutine ends locked to it).
func asNobody(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if os.Geteuid() == 0 {
			syscall.Setfsuid(65534)
		}
		f()
	}()
	<-done
}

// TestUnreadableELFInDirectoryFails: inside a directory, a file that cannot
// be read may be an ELF file: it is reported as failed, not passed over.
// A file with the ELF magic that does not parse fails too; other files are
// passed over.
func TestUnreadableELFInDirectoryFails(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Dir(base), base} {
		os.Chmod(d, 0o755) // let nobody walk in
	}
	bin := testbin.C(t, "readable", "r", "-g")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"good": data, "noread": data, "broken": data[:200], "notes.txt": []byte("text")} {
		mode := os.FileMode(0o644)
		if name == "noread" {
			mode = 0
		}
		if err := os.WriteFile(filepath.Join(dir, name), content, mode); err != nil {
			t.Fatal(err)
		}
	}
	var got map[string]upload.Report
	var failed int
	asNobody(t, func() { got, failed = run(t, nil, []string{dir}, upload.Options{DryRun: true, Concurrency: 1}) })
	for path, r := range got {
		t.Logf("%s: %s %s", path, r.Action, r.Reason)
	}
	if failed != 2 {
		t.Errorf("%d failed, want 2 (the unreadable file and the broken ELF file)", failed)
	}
	if r := got[filepath.Join(dir, "noread")+"#debuginfo"]; r.Action != upload.Failed || !strings.Contains(r.Reason, "permission denied") {
		t.Errorf("unreadable file: %+v", r)
	}
	if r := got[filepath.Join(dir, "good")+"#debuginfo"]; r.Action != upload.DryRun {
		t.Errorf("good file: %+v", r)
	}
}

package upload_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// TestBrokenELFInDirectoryFails: inside a directory, a file with the ELF
// magic that does not parse fails; other files are passed over. (A file
// that cannot be read fails too: files are opened on worker threads, so a
// per-thread file-system user cannot show it here; the CLI's bad-input row
// unreadable-elf-in-dir runs the CLI as a process of user nobody.)
func TestBrokenELFInDirectoryFails(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "tree")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := testbin.C(t, "readable", "r", "-g")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"good": data, "broken": data[:200], "notes.txt": []byte("text")} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, failed := run(t, nil, []string{dir}, upload.Options{DryRun: true, Concurrency: 1})
	for path, r := range got {
		t.Logf("%s: %s %s", path, r.Action, r.Reason)
	}
	if failed != 1 || len(got) != 2 {
		t.Errorf("%d failed of %d reported, want the broken ELF file failed and the good one", failed, len(got))
	}
	if r := got[filepath.Join(dir, "broken")+"#debuginfo"]; r.Action != upload.Failed || !strings.Contains(r.Reason, "past end of file") {
		t.Errorf("broken ELF file: %+v", r)
	}
	if r := got[filepath.Join(dir, "good")+"#debuginfo"]; r.Action != upload.DryRun {
		t.Errorf("good file: %+v", r)
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/record"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func TestExtractCommand(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o755)
	out := filepath.Join(outDir, "hello.debuginfo")
	rec := filepath.Join(outDir, "hello.json")

	code, stdout, stderr := runCLI(t, "extract", bin, "-o", out, "--record", rec)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "dwarf=true") {
		t.Errorf("stdout: %s", stdout)
	}
	id, _ := buildid.Read(bin)
	outID, err := buildid.Read(out)
	if err != nil || outID.Value != id.Value {
		t.Fatalf("output build ID %+v %v", outID, err)
	}
	r, rdir, err := record.Read(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := record.Record{Version: 1, Binary: "hello", BuildID: id.Value, BuildIDType: "gnu", Debuginfo: "hello.debuginfo"}
	if r != want || rdir != outDir {
		t.Fatalf("record %+v in %s, want %+v", r, rdir, want)
	}
	raw, _ := os.ReadFile(rec)
	if strings.Contains(string(raw), "sources") || !strings.Contains(string(raw), `"build_id_type":"gnu"`) {
		t.Errorf("record JSON: %s", raw)
	}
	entries, _ := os.ReadDir(outDir)
	if len(entries) != 2 {
		t.Errorf("temp files left behind: %v", entries)
	}

	// Usage errors.
	for _, args := range [][]string{
		{"extract", bin},
		{"extract", "-o", out},
		{"extract", bin, bin, "-o", out},
		{"extract", bin, "-o", out, "--record", filepath.Join(dir, "elsewhere.json")},
		{"extract", bin, "-o", bin},
	} {
		if code, _, _ := runCLI(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, stdout, _ := runCLI(t, "extract", "--help"); code != ExitOK || !strings.Contains(stdout, "--record") {
		t.Errorf("--help: %d %s", code, stdout)
	}

	// A failed extraction leaves no OUT behind.
	txt := filepath.Join(dir, "x.txt")
	os.WriteFile(txt, []byte("plain text"), 0o644)
	bad := filepath.Join(outDir, "bad.debuginfo")
	if code, _, stderr := runCLI(t, "extract", txt, "-o", bad); code != ExitFailed || !strings.Contains(stderr, "not an ELF") {
		t.Errorf("non-ELF: exit %d %s", code, stderr)
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 2 {
		t.Errorf("failed extract left files: %v", entries)
	}
}

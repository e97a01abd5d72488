package cli

import (
	"fmt"
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

// Without DWARF: one warning line that says what is lost and how to fix it,
// in extract's output, upload's output, --json and the receipt. Without any
// symbol information: refused, nothing written, nothing sent.
func TestSymbolsOnlyWarning(t *testing.T) {
	dir := t.TempDir()
	noG := testbin.GCC(t, dir, "nog", testbin.HelloC, "-O1")
	stripped := filepath.Join(dir, "stripped")
	testbin.Run(t, dir, "strip", "--strip-all", "-o", stripped, noG)
	const warning = "debuginfo: warning: %s: symbols only: no file:line or sources; build with -g and do not strip (Bazel: -c dbg, or --copt=-g --strip=never)\n"

	code, _, stderr := runCLI(t, "extract", noG, "-o", filepath.Join(dir, "nog.debuginfo"))
	if code != ExitOK || stderr != fmt.Sprintf(warning, noG) {
		t.Errorf("extract without -g: exit %d, stderr %q", code, stderr)
	}
	out := filepath.Join(dir, "stripped.debuginfo")
	code, _, stderr = runCLI(t, "extract", stripped, "-o", out)
	if code != ExitFailed || !strings.Contains(stderr, "no DWARF, no symbol table and no Go pclntab") || !strings.Contains(stderr, "-g") {
		t.Errorf("extract of a stripped binary: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("extract of a stripped binary wrote %s", out)
	}

	store := "file://" + filepath.Join(dir, "store")
	receipt := filepath.Join(dir, "receipt.json")
	code, stdout, stderr := runCLI(t, "upload", "--store-address="+store, "--json", "--receipt", receipt, noG)
	if code != ExitOK || strings.Count(stderr, "warning") != 1 || !strings.Contains(stderr, fmt.Sprintf(warning, noG)) {
		t.Errorf("upload without -g: exit %d, stderr %q", code, stderr)
	}
	rec, _ := os.ReadFile(receipt)
	for what, s := range map[string]string{"--json": stdout, "receipt": string(rec)} {
		if !strings.Contains(s, `"symbols_only":true,"warning":"symbols only: no file:line or sources;`) {
			t.Errorf("%s: %s", what, s)
		}
	}
	// To a store without its build ID (the one above has noG's, which a
	// stripped copy of noG would be skipped for).
	code, _, stderr = runCLI(t, "upload", "--store-address=file://"+filepath.Join(dir, "empty-store"), stripped)
	if code != ExitFailed || !strings.Contains(stderr, "no DWARF, no symbol table and no Go pclntab") {
		t.Errorf("upload of a stripped binary: exit %d, stderr %q", code, stderr)
	}
}

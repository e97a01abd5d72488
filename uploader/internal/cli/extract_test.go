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

// Split DWARF (-gsplit-dwarf, Bazel --fission): Parca showed no frame at
// all from it. It is left out, with one warning naming the cause and the
// fix, and no sources go with it: not from the Bazel aspect's extract (a
// manifest, or DWARF 4 skeletons' line tables, still name the files), nor
// from upload.
func TestSplitDWARFWarning(t *testing.T) {
	const warning = "debuginfo: warning: %s: symbols only: split DWARF (-gsplit-dwarf), whose .dwo files Parca does not read: " +
		"no file:line or sources; build without -gsplit-dwarf (Bazel: --fission=no)\n"
	for _, flags := range [][]string{{"-g", "-gsplit-dwarf"}, {"-g", "-gdwarf-4", "-gsplit-dwarf"}} {
		dir := t.TempDir()
		bin := testbin.GCC(t, dir, "split", testbin.HelloC, flags...)
		manifest := filepath.Join(dir, "manifest")
		if err := os.WriteFile(manifest, []byte("split.c\t"+filepath.Join(dir, "split.c")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, extra := range [][]string{{"--source-root", dir}, {"--source-root", dir, "--sources-manifest", manifest}} {
			out := t.TempDir()
			rec := filepath.Join(out, "split.json")
			code, stdout, stderr := runCLI(t, append([]string{"extract", bin, "-o", filepath.Join(out, "split.debuginfo"),
				"--record", rec, "--sources-out", filepath.Join(out, "split.tar.zst")}, extra...)...)
			if code != ExitOK || stderr != fmt.Sprintf(warning, bin) || !strings.Contains(stdout, "dwarf=false") ||
				!strings.Contains(stdout, " 0 source files") {
				t.Errorf("%v: extract %v: exit %d\n%s%s", flags, extra, code, stdout, stderr)
			}
			if raw, err := os.ReadFile(rec); err != nil || strings.Contains(string(raw), "sources") {
				t.Errorf("%v: record %s (%v): want no sources named", flags, raw, err)
			}
			// What the aspect's upload action sends: the same warning, from
			// the extracted file.
			code, stdout, stderr = runCLI(t, "upload", "--store-address=file://"+filepath.Join(out, "store"), "--record", rec)
			if code != ExitOK || !strings.Contains(stderr, fmt.Sprintf(warning, "split")) || strings.Count(stderr, "warning") != 1 ||
				strings.Contains(stdout, "sources") {
				t.Errorf("%v: upload --record: exit %d\n%s%s", flags, code, stdout, stderr)
			}
		}
		code, stdout, stderr := runCLI(t, "upload", "--store-address=file://"+filepath.Join(dir, "store"), "--include-sources", bin)
		if code != ExitOK || !strings.Contains(stderr, fmt.Sprintf(warning, bin)) || strings.Count(stderr, "warning") != 1 ||
			!strings.Contains(stdout, "skipped   sources") {
			t.Errorf("%v: upload --include-sources: exit %d\n%s%s", flags, code, stdout, stderr)
		}
	}
}

// A stripped binary (Bazel --strip=always) gets the symbols-only warning,
// and the aspect's extract sends no sources with it either: its manifest
// still names them, but no profile shows a line to open them at (a review
// saw 534 KiB of zstd's sources uploaded right after the warning).
func TestStrippedSendsNoSources(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "stripped", testbin.HelloC, "-g", "-Wl,-S") // Bazel --strip=always
	manifest := filepath.Join(dir, "manifest")
	if err := os.WriteFile(manifest, []byte("stripped.c\t"+filepath.Join(dir, "stripped.c")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rec := filepath.Join(out, "s.json")
	code, stdout, stderr := runCLI(t, "extract", bin, "-o", filepath.Join(out, "s.debuginfo"), "--record", rec,
		"--sources-out", filepath.Join(out, "s.tar.zst"), "--source-root", dir, "--sources-manifest", manifest)
	if code != ExitOK || !strings.Contains(stderr, "symbols only") || !strings.Contains(stdout, " 0 source files") {
		t.Errorf("extract: exit %d\n%s%s", code, stdout, stderr)
	}
	if raw, err := os.ReadFile(rec); err != nil || strings.Contains(string(raw), "sources") {
		t.Errorf("record %s (%v): want no sources named", raw, err)
	}
}

// --no-extract of a split-DWARF binary is refused: Parca shows no frame at
// all from its skeletons, and the copy would keep a good upload out.
func TestSplitDWARFAsIsRefused(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "split", testbin.HelloC, "-g", "-gsplit-dwarf")
	code, stdout, stderr := runCLI(t, "upload", "--store-address=file://"+t.TempDir(), "--no-extract", bin)
	if code != ExitFailed || !strings.Contains(stdout+stderr, "split DWARF (-gsplit-dwarf) sent as it is: Parca shows no frame at all") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// A binary rewritten in place (same inode, same size) after extract read
// its build ID and before it extracted gave a record under the old ID
// beside a debug file carrying the new one: the upload of that record
// would store B's DWARF under A's ID. Now nothing is written.
func TestExtractBinaryRewrittenAfterBuildID(t *testing.T) {
	dir := t.TempDir()
	a := testbin.GCC(t, dir, "a", testbin.HelloC, "-g", "-Wl,--build-id=0x0a0a0a0a0a0a0a0a0a0a")
	b := testbin.GCC(t, dir, "b", testbin.HelloC, "-g", "-Wl,--build-id=0x0b0b0b0b0b0b0b0b0b0b")
	bBytes, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(a); st.Size() != int64(len(bBytes)) {
		t.Fatalf("the two binaries differ in size (%d, %d): the test needs a same-size rewrite", st.Size(), len(bBytes))
	}
	defer func(f func(*os.File)) { afterBuildID = f }(afterBuildID)
	afterBuildID = func(*os.File) {
		if err := os.WriteFile(a, bBytes, 0o755); err != nil { // truncates and rewrites: the same inode
			t.Error(err)
		}
	}
	out := filepath.Join(dir, "a.debuginfo")
	rec := filepath.Join(dir, "a.json")
	code, stdout, stderr := runCLI(t, "extract", a, "-o", out, "--record", rec)
	if code == ExitOK || !strings.Contains(stderr, "changed while it was being extracted") {
		t.Fatalf("exit %d, want a failure saying the file changed\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{out, rec} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s written (%v): nothing should be", f, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); n != "a" && n != "b" && n != "a.c" && n != "b.c" {
			t.Errorf("left behind: %s", n)
		}
	}
}

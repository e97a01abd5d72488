package e2e

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/quality"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Parca's reasons (pkg/debuginfo/store.go, v0.28.0), as it sends them.
const (
	reasonAlreadyExists = "Debuginfo already exists and is not marked as invalid"
	reasonInProgress    = "A previous upload is still in-progress and not stale yet"
)

// Case 1: a gcc -g binary is stored byte for byte as `debuginfo extract`
// writes it, a second run skips it, --force uploads it again.
func TestGCCBinary(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	bin := testbin.C(t, "hello", "hello", "-g")
	id, _ := gnuBuildID(t, bin)
	if len(id) != 40 {
		t.Fatalf("gcc gave no 20-byte GNU build ID: %q", id)
	}
	want := extract(t, bin)

	rep := one(t, mustUpload(t, p, bin))
	if rep.Action != upload.Uploaded || rep.BuildID != id || rep.BuildIDType != "gnu" {
		t.Fatalf("first run: %+v, want uploaded under gnu %s", rep, id)
	}
	stored, _ := p.Object(id, "debuginfo")
	wantBytes, _ := os.ReadFile(want)
	if !slices.Equal(stored, wantBytes) {
		t.Fatalf("stored debuginfo (%d bytes) differs from extract's output (%d bytes)", len(stored), len(wantBytes))
	}
	m1 := checkStored(t, p, id, "debuginfo", want)
	if rep.Bytes != int64(len(wantBytes)) {
		t.Errorf("report says %d bytes, extract wrote %d", rep.Bytes, len(wantBytes))
	}

	rep = one(t, mustUpload(t, p, bin))
	if rep.Action != upload.Skipped || !strings.Contains(rep.Reason, reasonAlreadyExists) {
		t.Fatalf("second run: %+v, want skipped with Parca's reason", rep)
	}
	if m, _ := p.Metadata(id, "debuginfo"); m.GetUpload().GetId() != m1.GetUpload().GetId() {
		t.Fatalf("a skipped run changed the stored upload: %v -> %v", m1, m)
	}

	rep = one(t, mustUpload(t, p, "--force", bin))
	if rep.Action != upload.Uploaded {
		t.Fatalf("--force run: %+v, want uploaded", rep)
	}
	m3 := checkStored(t, p, id, "debuginfo", want)
	if m3.GetUpload().GetId() == m1.GetUpload().GetId() {
		t.Fatalf("--force kept upload id %s: nothing was uploaded again", m1.GetUpload().GetId())
	}
}

// Case 2: a Go binary (GNU build ID) and a binary without any build ID
// (stored under the 32-hex file-hash ID).
func TestGoAndHashBuildIDs(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})

	goBin := testbin.Go(t, "goprog", "hello from Go")
	id, _ := gnuBuildID(t, goBin)
	if id == "" {
		t.Fatal("go build wrote no GNU build ID")
	}
	rep := one(t, mustUpload(t, p, goBin))
	if rep.Action != upload.Uploaded || rep.BuildID != id || rep.BuildIDType != "gnu" {
		t.Fatalf("Go binary: %+v, want uploaded under gnu %s", rep, id)
	}
	checkStored(t, p, id, "debuginfo", extract(t, goBin))

	noID := testbin.C(t, "noid", "no build id", "-g", "-Wl,--build-id=none")
	if id, _ := gnuBuildID(t, noID); id != "" {
		t.Fatalf("--build-id=none still wrote %s", id)
	}
	hashID := fileHashID(t, noID)
	rep = one(t, mustUpload(t, p, noID))
	if rep.Action != upload.Uploaded || rep.BuildID != hashID || rep.BuildIDType != "hash" {
		t.Fatalf("no build ID: %+v, want uploaded under hash %s", rep, hashID)
	}
	m := checkStored(t, p, hashID, "debuginfo", extract(t, noID))
	// Parca's Debuginfo metadata has no build_id_type field: what it records
	// is the ID, the source and the upload.
	t.Logf("Parca's metadata for the file-hash ID: %v", m)
}

// Case 3: --type=executable and --no-extract send the file as it is.
func TestExecutableAndNoExtract(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	bin := testbin.C(t, "exe", "exe", "-g")
	id, _ := gnuBuildID(t, bin)

	rep := one(t, mustUpload(t, p, "--type=executable", bin))
	if rep.Action != upload.Uploaded || rep.Type != "executable" {
		t.Fatalf("--type=executable: %+v", rep)
	}
	checkStored(t, p, id, "executable", bin)
	if _, ok := p.Object(id, "debuginfo"); ok {
		t.Fatal("--type=executable also stored a debuginfo object")
	}

	rep = one(t, mustUpload(t, p, "--no-extract", bin))
	if rep.Action != upload.Uploaded || rep.Type != "debuginfo" {
		t.Fatalf("--no-extract: %+v", rep)
	}
	checkStored(t, p, id, "debuginfo", bin)
}

// Case 4: 50 binaries in one parallel run: all land, one line (and one
// JSON object) each.
func TestParallel50(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	dir := t.TempDir()
	const n = 50
	bins := make([]string, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			bins[i] = filepath.Join(dir, fmt.Sprintf("prog%02d", i))
			cmd := exec.Command("gcc", "-g", "-x", "c", "-o", bins[i], "-")
			cmd.Stdin = strings.NewReader(fmt.Sprintf("int main(void) { return %d; }\n", i))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("gcc: %v\n%s", err, out)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	r := cli(t, "upload", "--store-address="+p.Addr, "--insecure", "-j", "8", dir)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != n {
		t.Fatalf("want %d lines, got %d:\n%s", n, len(lines), r.stdout)
	}
	for _, b := range bins {
		count := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "uploaded ") && strings.HasSuffix(strings.Fields(l)[3], filepath.Base(b)) {
				count++
			}
		}
		if count != 1 {
			t.Errorf("%s: %d 'uploaded' lines, want 1", b, count)
		}
		id, _ := gnuBuildID(t, b)
		stored := p.ObjectPath(id, "debuginfo")
		if sid, _ := gnuBuildID(t, stored); sid != id {
			t.Errorf("%s: stored object has build ID %q, want %s", b, sid, id)
		}
		checkStored(t, p, id, "debuginfo", stored)
	}
	checkStored(t, p, mustID(t, bins[7]), "debuginfo", extract(t, bins[7]))

	// The same run in --json mode (forced, so each is sent again).
	reps := mustUpload(t, p, "-j", "8", "--force", dir)
	if len(reps) != n {
		t.Fatalf("--json: want %d objects, got %d", n, len(reps))
	}
	seen := map[string]bool{}
	for _, rep := range reps {
		if rep.Action != upload.Uploaded || seen[rep.Path] {
			t.Errorf("--json: %+v (seen before: %v)", rep, seen[rep.Path])
		}
		seen[rep.Path] = true
	}
}

func mustID(t testing.TB, path string) string {
	t.Helper()
	id, _ := gnuBuildID(t, path)
	return id
}

// Case 5a: a 320 MiB debuginfo file lands intact, sent as an extraction
// (zlib: its random section is found not worth compressing; none) and as
// it is, each with a peak RSS under 32 MiB (issue 18): memory does not grow
// with the file.
func TestLargeDebuginfo(t *testing.T) {
	heavy(t)
	bin, debug, hash := bigBinary(t)
	id := mustID(t, bin)
	const asGiven = "0123456789abcdef0123456789abcdef01234567"
	plain := filepath.Join(t.TempDir(), "big.none.debug")
	if r := cli(t, "extract", "--compress-debug-sections=none", bin, "-o", plain); r.code != 0 {
		t.Fatalf("%v", r)
	}
	for _, c := range []struct {
		args        []string
		id          string
		debug, hash string
	}{
		{[]string{bin}, id, debug, hash},
		{[]string{"--compress-debug-sections=none", bin}, id, plain, xxh64File(t, plain)},
		// The same debug file sent as it is: hashed through a mapping,
		// sent in pooled chunks.
		{[]string{"--no-extract", "--build-id=" + asGiven, debug}, asGiven, debug, hash},
	} {
		p := StartParca(t, ParcaOptions{})
		r := cli(t, append([]string{"upload", "--store-address=" + p.Addr, "--insecure", "--json"}, c.args...)...)
		if r.code != 0 {
			t.Fatalf("%v", r)
		}
		rep := one(t, r.reports(t))
		if rep.Action != upload.Uploaded || rep.Bytes < 300<<20 {
			t.Fatalf("%v: %+v, want uploaded, 300 MiB+", c.args, rep)
		}
		m := checkStored(t, p, c.id, "debuginfo", c.debug)
		if m.GetUpload().GetHash() != c.hash {
			t.Fatalf("%v: metadata hash %s, want %s", c.args, m.GetUpload().GetHash(), c.hash)
		}
		if r.maxRSSKB > 32<<10 {
			t.Errorf("%v: peak RSS %d MiB uploading 320 MiB, want under 32 MiB", c.args, r.maxRSSKB>>10)
		}
	}
}

// Case 5b: over the server's --debuginfo-upload-max-size: a clear message,
// exit 1, nothing marked uploaded.
func TestUploadMaxSize(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{MaxUploadSize: 1 << 20})
	bin := junkBinary(t, t.TempDir(), "toolarge", 2<<20)
	id := mustID(t, bin)
	r := cli(t, "upload", "--store-address="+p.Addr, "--insecure", bin)
	if r.code != 1 {
		t.Fatalf("want exit 1: %v", r)
	}
	if !strings.Contains(r.stderr, "too large") || !strings.Contains(r.stderr, "--debuginfo-upload-max-size") {
		t.Fatalf("message does not say the file is too large and what to do: %v", r)
	}
	if m, ok := p.Metadata(id, "debuginfo"); ok && m.GetUpload().GetState() == pb.DebuginfoUpload_STATE_UPLOADED {
		t.Fatalf("marked uploaded: %v", m)
	}
	if _, ok := p.Object(id, "debuginfo"); ok {
		t.Fatal("an object was stored")
	}
}

// Case 6: 300 ELF files of the system, one run: each lands or is skipped
// with a reason; none fails.
func TestSystemELFFiles(t *testing.T) {
	heavy(t)
	t.Parallel()
	files := systemELFs(t, 300)
	if len(files) < 300 {
		skipOrFail(t, fmt.Sprintf("only %d ELF files with a build ID on this machine", len(files)))
	}
	p := StartParca(t, ParcaOptions{})
	r := cli(t, append([]string{"upload", "--store-address=" + p.Addr, "--insecure", "--json", "-j", "8"}, files...)...)
	reps := r.reports(t)
	// Stripped executables whose .dynsym only imports are refused: Parca
	// could show nothing from them. So are those that name a separate
	// debug file (Debian's -dbgsym) that is not installed: sent with
	// symbols only, they would keep it (and debuginfod's) out of the
	// store. Those are the only failures allowed, and exit 1 with them.
	refused := func(rep upload.Report) bool {
		return rep.Action == upload.Failed && (strings.HasPrefix(rep.Reason, quality.UselessError) ||
			strings.Contains(rep.Reason, "not found beside it") && strings.Contains(rep.Reason, "not sent with symbols only"))
	}
	useless := 0
	for _, rep := range reps {
		if refused(rep) {
			useless++
		}
	}
	wantCode := 0
	if useless > 0 {
		wantCode = 1
	}
	if r.code != wantCode || len(reps) != len(files) {
		t.Fatalf("want exit %d and %d reports, got %d: %v", wantCode, len(files), len(reps), r)
	}
	counts := map[string]int{}
	var bytes int64
	for _, rep := range reps {
		counts[rep.Action]++
		switch rep.Action {
		case upload.Uploaded:
			bytes += rep.Bytes
			// Hash in the metadata = hash of the stored bytes.
			checkStored(t, p, rep.BuildID, "debuginfo", p.ObjectPath(rep.BuildID, "debuginfo"))
		case upload.Skipped:
			if rep.Reason == "" {
				t.Errorf("skipped without a reason: %+v", rep)
			}
			t.Logf("skipped %s: %s", rep.Path, rep.Reason)
		case upload.Failed:
			// Debian's programs name their -dbgsym file (.gnu_debuglink):
			// the reason says it was not found.
			if !refused(rep) {
				t.Errorf("%+v", rep)
			}
			t.Logf("refused %s: %s", rep.Path, rep.Reason)
		default:
			t.Errorf("%+v", rep)
		}
	}
	t.Logf("%d files: %v, %d MiB sent", len(files), counts, bytes>>20)
}

// systemELFs lists the first n regular ELF files with a GNU build ID under
// /usr/bin and /usr/lib/x86_64-linux-gnu, sorted.
func systemELFs(t testing.TB, n int) []string {
	var all []string
	for _, root := range []string{"/usr/bin", "/usr/lib/x86_64-linux-gnu"} {
		filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				all = append(all, path)
			}
			return nil
		})
	}
	sort.Strings(all)
	var out []string
	for _, path := range all {
		if len(out) == n {
			break
		}
		f, err := elf.Open(path)
		if err != nil {
			continue
		}
		f.Close()
		if id, _ := gnuBuildID(t, path); id != "" {
			out = append(out, path)
		}
	}
	return out
}

// Case 7: the migration guide's command line, verbatim apart from the
// address and --insecure (Parca ignores the credentials).
func TestMigrationGuideCommand(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	bin := testbin.C(t, "migrated", "migrated", "-g")
	const token = "psc_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	line := `"$DEBUGINFO" upload --store-address=` + p.Addr + ` --insecure --bearer-token=$POLARSIGNALS_TOKEN --grpc-headers=projectID=$POLARSIGNALS_PROJECT_ID "$BINARY"`
	cmd := exec.Command("bash", "-c", line)
	cmd.Env = append(os.Environ(), "DEBUGINFO="+debuginfoBin, "BINARY="+bin,
		"POLARSIGNALS_TOKEN="+token, "POLARSIGNALS_PROJECT_ID=6c4e2f0a-1b2c-4d5e-8f90-123456789abc")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", line, err, out)
	}
	if strings.Contains(string(out), token) {
		t.Fatalf("the token appears in the output:\n%s", out)
	}
	checkStored(t, p, mustID(t, bin), "debuginfo", extract(t, bin))
}

// Case 8: --include-sources stores a zstd tar whose entry names are the
// DWARF line tables' file names (those that exist under the source root).
func TestIncludeSources(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	dir := t.TempDir()
	write := func(name, data string) {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("include/greet/greet.h", "#include <stdio.h>\nstatic inline void greet(const char *who) { printf(\"hello, %s\\n\", who); }\n")
	write("src/main.c", "#include \"greet/greet.h\"\nint main(void) { greet(\"world\"); return 0; }\n")
	cmd := exec.Command("gcc", "-g", "-O0", "-Iinclude", "-o", "prog", "src/main.c")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "prog")
	id := mustID(t, bin)
	files := dwarfFiles(t, bin)
	// Only files under the source root go in (docs/sources.md): not /usr/include.
	var want []string
	for name, disk := range files {
		if strings.HasPrefix(disk, dir+"/") {
			want = append(want, name)
		}
	}
	sort.Strings(want)
	if files["include/greet/greet.h"] != filepath.Join(dir, "include/greet/greet.h") {
		t.Fatalf("the header is not in the line tables as include/greet/greet.h: %v", files)
	}

	reps := mustUpload(t, p, "--include-sources", "--source-root="+dir, bin)
	if len(reps) != 2 || reps[0].Action != upload.Uploaded || reps[1].Action != upload.Uploaded || reps[1].Type != "sources" {
		t.Fatalf("want debuginfo and sources uploaded: %+v", reps)
	}
	checkStored(t, p, id, "sources", p.ObjectPath(id, "sources"))
	entries := tarEntries(t, p.ObjectPath(id, "sources"))
	var names []string
	for name, data := range entries {
		names = append(names, name)
		disk, err := os.ReadFile(files[name])
		if err != nil || string(disk) != data {
			t.Errorf("entry %s differs from the file on disk (%v)", name, err)
		}
	}
	sort.Strings(names)
	if !slices.Equal(names, want) {
		t.Fatalf("archive entries:\n  %v\nDWARF line-table files that exist:\n  %v", names, want)
	}
}

// dwarfFiles maps the line-table file names of bin that exist on disk, as
// Parca's symbolizer (Go's debug/dwarf) reports them and its source reader
// matches them (leading "/" or "./" stripped), to their paths on disk.
func dwarfFiles(t testing.TB, bin string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, lf := range testbin.LineTableFiles(t, bin) {
		disk := lf.Name
		if !filepath.IsAbs(disk) {
			// DWARF 5 names can stay relative to the compilation directory.
			disk = filepath.Join(lf.CompDir, disk)
		}
		if st, err := os.Stat(disk); err == nil && st.Mode().IsRegular() {
			out[strings.TrimPrefix(strings.TrimPrefix(lf.Name, "./"), "/")] = disk
		}
	}
	return out
}

// tarEntries reads a zstd tar: names (leading "/" or "./" stripped, as
// Parca's reader does) to contents.
func tarEntries(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := zstd.NewReader(f)
	if err != nil {
		t.Fatalf("sources object is not zstd: %v", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("sources object is not a zstd tar: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/")
		if _, dup := out[name]; dup {
			t.Errorf("entry %s appears twice", name)
		}
		out[name] = string(b)
	}
	return out
}

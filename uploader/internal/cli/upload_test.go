package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/record"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// headerStore records the metadata of every RPC it serves.
func headerStore(t *testing.T, opts teststore.Options) (*teststore.Server, func() []metadata.MD) {
	var mu sync.Mutex
	var seen []metadata.MD
	opts.Authorize = func(ctx context.Context, _ string) error {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		seen = append(seen, md)
		mu.Unlock()
		return nil
	}
	srv := teststore.Start(t, opts)
	return srv, func() []metadata.MD { mu.Lock(); defer mu.Unlock(); return seen }
}

func jsonReports(t *testing.T, out string) []upload.Report {
	t.Helper()
	var reps []upload.Report
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r upload.Report
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %q: %v", line, err)
		}
		reps = append(reps, r)
	}
	return reps
}

func TestUploadUsageErrors(t *testing.T) {
	bin := testbin.C(t, "u", "u", "-g")
	for _, args := range [][]string{
		{"upload"},
		{"upload", "--type=bogus", bin},
		{"upload", "--build-id=abc123", bin, bin},
		{"upload", "--type=sources", bin},
		{"upload", "-j", "0", bin},
		{"upload", "--retries=-1", bin},
		{"upload", "--no-such-flag", bin},
		{"upload", "--include-sources", "--prefix-map=nonsense", bin},
	} {
		code, _, stderr := cliRun(t, nil, args...)
		if code != ExitUsage || !strings.Contains(stderr, "debuginfo upload") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with a message", args, code, stderr)
		}
	}
	if code, out, _ := cliRun(t, nil, "upload", "--help"); code != 0 || !strings.Contains(out, "--store-address") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestUploadToGRPCStoreSendsHeadersAndJSON(t *testing.T) {
	srv, seen := headerStore(t, teststore.Options{})
	bin := testbin.C(t, "hdr", "h", "-g")
	env := map[string]string{"PARCA_DEBUGINFO_BEARER_TOKEN": "opaque-token-1"}
	code, stdout, stderr := cliRun(t, env, "upload", "--store-address="+srv.Addr(), "--insecure", "--json",
		"--grpc-headers=team=perf;tier=ci", "--grpc-headers=extra=1", bin)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	reps := jsonReports(t, stdout)
	id, _ := buildid.Read(bin)
	if len(reps) != 1 || reps[0].Action != upload.Uploaded || reps[0].BuildID != id.Value || reps[0].BuildIDType != "gnu" || reps[0].Bytes == 0 {
		t.Fatalf("reports: %+v", reps)
	}
	mds := seen()
	if len(mds) == 0 {
		t.Fatal("no RPCs seen")
	}
	for _, md := range mds {
		for k, want := range map[string]string{"authorization": "Bearer opaque-token-1", "team": "perf", "tier": "ci", "extra": "1"} {
			if got := md.Get(k); len(got) != 1 || got[0] != want {
				t.Errorf("header %s = %v, want %q", k, got, want)
			}
		}
	}
	if strings.Contains(stdout+stderr, "opaque-token-1") {
		t.Error("token printed")
	}
}

func TestUploadFlagsAgainstStore(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.C(t, "flags", "f", "-g")
	raw, _ := os.ReadFile(bin)
	id, _ := buildid.Read(bin)
	base := []string{"upload", "--store-address=" + srv.Addr(), "--insecure", "--json"}
	up := func(extra ...string) []upload.Report {
		t.Helper()
		code, stdout, stderr := cliRun(t, nil, append(append(append([]string{}, base...), extra...), bin)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, code, stderr)
		}
		return jsonReports(t, stdout)
	}
	if r := up("--no-initiate"); r[0].Action != upload.Checked || srv.Calls("InitiateUpload") != 0 {
		t.Errorf("--no-initiate: %+v", r)
	}
	if r := up(); r[0].Action != upload.Uploaded {
		t.Errorf("first upload: %+v", r)
	}
	if r := up(); r[0].Action != upload.Skipped {
		t.Errorf("second upload: %+v", r)
	}
	if r := up("--force"); r[0].Action != upload.Uploaded {
		t.Errorf("--force: %+v", r)
	}
	if r := up("--type=executable"); r[0].Action != upload.Uploaded || r[0].Type != "executable" {
		t.Errorf("--type=executable: %+v", r)
	}
	if data, _ := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE); !bytes.Equal(data, raw) {
		t.Error("executable not stored as given")
	}
	if r := up("--force", "--no-extract", "-j", "3", "--timeout=1m", "--retries=2"); r[0].Action != upload.Uploaded {
		t.Errorf("--no-extract: %+v", r)
	}
	if data, _ := srv.Uploaded(id.Value, 0); !bytes.Equal(data, raw) {
		t.Error("--no-extract did not store the file as given")
	}
	if r := up("--build-id=feedface1234", "--type=executable"); r[0].BuildID != "feedface1234" {
		t.Errorf("--build-id: %+v", r)
	}
}

func TestUploadDryRunNeedsNoStoreOrCredentials(t *testing.T) {
	bin := testbin.C(t, "dry", "d", "-g")
	// An unreachable address and a service-account token without a project
	// would both fail a real run; --dry-run touches neither.
	env := map[string]string{"PARCA_DEBUGINFO_BEARER_TOKEN": "psc_v1_" + strings.Repeat("ab", 32)}
	code, stdout, stderr := cliRun(t, env, "upload", "--dry-run", "--store-address=127.0.0.1:1", bin)
	if code != 0 || !strings.Contains(stdout, "dry-run") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestUploadFileStoreRecordAndReceipt(t *testing.T) {
	bin := testbin.C(t, "rec", "r", "-g")
	out := t.TempDir()
	dbg, rec := filepath.Join(out, "rec.debuginfo"), filepath.Join(out, "rec.json")
	if code, _, stderr := cliRun(t, nil, "extract", bin, "-o", dbg, "--record", rec); code != 0 {
		t.Fatalf("extract: %s", stderr)
	}
	storeDir := t.TempDir()
	receipt := filepath.Join(t.TempDir(), "receipt.json")
	code, _, stderr := cliRun(t, nil, "upload", "--store-address=file://"+storeDir, "--record", rec, "--receipt", receipt)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	id, _ := buildid.Read(bin)
	stored, err := os.ReadFile(filepath.Join(storeDir, "debuginfo", id.Value, "debuginfo"))
	want, _ := os.ReadFile(dbg)
	if err != nil || !bytes.Equal(stored, want) {
		t.Fatalf("file store holds %d bytes (%v), want the extracted %d", len(stored), err, len(want))
	}
	b, err := os.ReadFile(receipt)
	if err != nil {
		t.Fatal(err)
	}
	if reps := jsonReports(t, string(b)); len(reps) != 1 || reps[0].Action != upload.Uploaded || reps[0].BuildID != id.Value {
		t.Errorf("receipt: %s", b)
	}
	if code, _, stderr := cliRun(t, nil, "upload", "--store-address=file://relative", bin); code != ExitUsage || !strings.Contains(stderr, "absolute") {
		t.Errorf("relative file store: exit %d %q", code, stderr)
	}
}

func TestUploadIncludeSourcesAndSharedBuildIDs(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.C(t, "srcs", "s", "-g")
	code, stdout, stderr := cliRun(t, nil, "upload", "--store-address="+srv.Addr(), "--insecure", "--json", "--include-sources", "--source-root="+filepath.Dir(bin), bin)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	types := map[string]string{}
	for _, r := range jsonReports(t, stdout) {
		types[r.Type] = r.Action
	}
	if types["debuginfo"] != upload.Uploaded || types["sources"] != upload.Uploaded {
		t.Fatalf("reports: %v", types)
	}

	a := testbin.Go(t, "one", "1", "-ldflags=-buildid=redacted")
	b := testbin.Go(t, "two", "2", "-ldflags=-buildid=redacted")
	code, _, stderr = cliRun(t, nil, "upload", "--store-address="+srv.Addr(), "--insecure", a, b)
	if code != ExitFailed || !strings.Contains(stderr, "redacted") {
		t.Errorf("redacted IDs: exit %d: %s", code, stderr)
	}
	code, _, stderr = cliRun(t, nil, "upload", "--store-address="+srv.Addr(), "--insecure", "--allow-shared-build-id", a, b)
	if code != 0 {
		t.Errorf("--allow-shared-build-id: exit %d: %s", code, stderr)
	}
}

func TestUploadReportsFailuresWithExitOne(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{MaxUploadSize: 100})
	bin := testbin.C(t, "big", "b", "-g")
	code, stdout, stderr := cliRun(t, nil, "upload", "--store-address="+srv.Addr(), "--insecure", "--retries=0", bin, filepath.Join(t.TempDir(), "missing"))
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr, "too large") || !strings.Contains(stderr, "no such file") || !strings.Contains(stderr, "2 failed") {
		t.Errorf("stderr lacks the reasons or the summary:\n%s\n%s", stdout, stderr)
	}
	if _, ok := srv.Uploaded(mustID(t, bin), 0); ok {
		t.Error("oversized file marked uploaded")
	}
	code, _, stderr = cliRun(t, nil, "upload", "--store-address=127.0.0.1:1", "--insecure", "--retries=0", bin)
	if code != ExitFailed || !strings.Contains(stderr, "unavailable") {
		t.Errorf("unreachable store: exit %d: %s", code, stderr)
	}
}

func mustID(t *testing.T, path string) string {
	t.Helper()
	id, err := buildid.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return id.Value
}

func TestExtractSourcesIntoRecordThenUpload(t *testing.T) {
	bin := testbin.C(t, "withsrc", "w", "-g")
	out := t.TempDir()
	src := testbin.File(t, "main.c", []byte("int main(void) { return 0; }\n"))
	manifest := testbin.File(t, "srcs.tsv", []byte("pkg/main.c\t"+src+"\n"))
	rec := filepath.Join(out, "withsrc.json")
	code, _, stderr := cliRun(t, nil, "extract", bin, "-o", filepath.Join(out, "withsrc.debuginfo"), "--record", rec,
		"--sources-out", filepath.Join(out, "withsrc.sources.tar.zst"), "--sources-manifest", manifest, "--source-root", filepath.Dir(src))
	if code != 0 {
		t.Fatalf("extract: %s", stderr)
	}
	r, _, err := record.Read(rec)
	if err != nil || r.Sources != "withsrc.sources.tar.zst" {
		t.Fatalf("record %+v, %v", r, err)
	}
	storeDir := t.TempDir()
	if code, _, stderr := cliRun(t, nil, "upload", "--store-address=file://"+storeDir, "--record", rec); code != 0 {
		t.Fatalf("upload: %s", stderr)
	}
	for _, name := range []string{"debuginfo", "sources", "metadata", "sources.metadata"} {
		if _, err := os.Stat(filepath.Join(storeDir, "debuginfo", r.BuildID, name)); err != nil {
			t.Errorf("store lacks %s: %v", name, err)
		}
	}
	code, _, stderr = cliRun(t, nil, "extract", bin, "-o", filepath.Join(out, "x.debuginfo"), "--sources-out", filepath.Join(t.TempDir(), "elsewhere.tar.zst"))
	if code != ExitUsage || !strings.Contains(stderr, "same directory") {
		t.Errorf("--sources-out elsewhere: exit %d: %s", code, stderr)
	}
}

// extractRecord runs `debuginfo extract --record` on bin into its own directory.
func extractRecord(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	rec := filepath.Join(dir, "record.json")
	if code, _, stderr := cliRun(t, nil, "extract", bin, "-o", filepath.Join(dir, filepath.Base(bin)+".debuginfo"), "--record", rec); code != 0 {
		t.Fatalf("extract %s: %s", bin, stderr)
	}
	return rec
}

// Records (what every Bazel upload uses) meet the same guard as PATH
// arguments: a redacted ID or two different files under one ID are never sent.
func TestUploadRecordsMeetTheSharedBuildIDGuard(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	flags := []string{"upload", "--store-address=" + srv.Addr(), "--insecure", "--json"}
	a := extractRecord(t, testbin.Go(t, "one", "1", "-ldflags=-buildid=redacted"))
	b := extractRecord(t, testbin.Go(t, "two", "2", "-ldflags=-buildid=redacted"))
	code, stdout, stderr := cliRun(t, nil, append(flags, "--record", a, "--record", b)...)
	if code != ExitFailed || srv.Calls("InitiateUpload") != 0 {
		t.Fatalf("two redacted records: exit %d, %d InitiateUpload\n%s\n%s", code, srv.Calls("InitiateUpload"), stdout, stderr)
	}
	for _, r := range jsonReports(t, stdout) {
		if r.Action != upload.Failed || !strings.Contains(r.Reason, "redacted") || !strings.Contains(r.Reason, "debuginfo_binary") {
			t.Errorf("report: %+v", r)
		}
	}

	// --skip-shared-build-id (what the Bazel rules pass): skipped, one warning each, exit 0.
	code, stdout, stderr = cliRun(t, nil, append(flags, "--skip-shared-build-id", "--record", a, "--record", b)...)
	reps := jsonReports(t, stdout)
	if code != 0 || len(reps) != 2 || srv.Calls("InitiateUpload") != 0 {
		t.Fatalf("skip: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, r := range reps {
		if r.Action != upload.Skipped || !strings.Contains(r.Reason, "debuginfo_binary") {
			t.Errorf("skip report: %+v", r)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 2 || !strings.Contains(stderr, "stamp_go") {
		t.Errorf("want one warning per binary naming the fix, got %d:\n%s", n, stderr)
	}

	// Two different C binaries with one explicit build ID, by record: refused.
	c1 := testbin.C(t, "c1", "one", "-g", "-Wl,--build-id=0x5566778899aabbcc")
	c2 := testbin.C(t, "c2", "two", "-g", "-Wl,--build-id=0x5566778899aabbcc")
	r1, r2 := extractRecord(t, c1), extractRecord(t, c2)
	code, stdout, stderr = cliRun(t, nil, append(flags, "--record", r1, "--record", r2)...)
	if code != ExitFailed || srv.Calls("InitiateUpload") != 0 || !strings.Contains(stdout+stderr, "shared by different files") {
		t.Fatalf("colliding records: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// A record and a PATH of another file with the same ID: refused too.
	if code, stdout, stderr := cliRun(t, nil, append(flags, "--record", r1, c2)...); code != ExitFailed || srv.Calls("InitiateUpload") != 0 {
		t.Fatalf("record + colliding path: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// The same record twice is one upload.
	code, stdout, stderr = cliRun(t, nil, append(flags, "--record", r1, "--record", r1)...)
	actions := map[string]int{}
	for _, r := range jsonReports(t, stdout) {
		actions[r.Action]++
	}
	if code != 0 || actions[upload.Uploaded] != 1 || actions[upload.Skipped] != 1 {
		t.Fatalf("same record twice: exit %d %v\n%s", code, actions, stderr)
	}
}

// A record and the program it was extracted from, in one run, are one
// program: the record is sent, the program skipped (review s16-r2, finding
// 5: both failed as "shared by different files (app and app)").
func TestRecordWithItsOwnProgram(t *testing.T) {
	bin := testbin.C(t, "own", "own", "-g")
	rec := extractRecord(t, bin)
	code, stdout, stderr := cliRun(t, nil, "upload", "--dry-run", "--json", "--record", rec, bin)
	reps := jsonReports(t, stdout)
	if code != 0 || len(reps) != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, r := range reps {
		if r.Path == bin && (r.Action != upload.Skipped || !strings.Contains(r.Reason, "the record's debuginfo was extracted from it")) ||
			r.Path != bin && r.Action != upload.DryRun {
			t.Errorf("report: %+v", r)
		}
	}
}

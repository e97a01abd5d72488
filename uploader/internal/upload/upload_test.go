package upload_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// grpcStore is a plaintext client of srv that tries a transient failure 3 times.
func grpcStore(t *testing.T, srv *teststore.Server) store.Store {
	return grpcStoreTries(t, srv, 3)
}

func grpcStoreTries(t *testing.T, srv *teststore.Server, tries int) store.Store {
	t.Helper()
	g, err := store.Open(srv.Addr(), store.Config{
		Insecure: true, Retry: store.Retry{Attempts: tries, Base: time.Millisecond, Max: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// run uploads and returns the reports keyed by path+type.
func run(t *testing.T, st store.Store, paths []string, opts upload.Options) (map[string]upload.Report, int) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]upload.Report{}
	failed := upload.Run(context.Background(), st, paths, nil, opts, func(r upload.Report) {
		mu.Lock()
		defer mu.Unlock()
		k := r.Path + "#" + r.Type
		if _, dup := got[k]; dup {
			t.Errorf("two reports for %s", k)
		}
		got[k] = r
	})
	return got, failed
}

func extracted(t *testing.T, path string) []byte {
	t.Helper()
	return extractedWith(t, path, elfdebug.Zlib)
}

// extractedWith is what extraction of path gives with c.
func extractedWith(t *testing.T, path string, c elfdebug.Compression) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	var buf bytes.Buffer
	if _, err := elfdebug.ExtractWith(f, fi.Size(), &buf, elfdebug.Options{Compress: c}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDirectoryUploadAndRerunSkips(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStore(t, srv)
	dir := t.TempDir()
	var bins []string
	for _, n := range []string{"alpha", "beta", "gamma"} {
		b := testbin.C(t, n, "hello "+n, "-g")
		dst := filepath.Join(dir, "sub", n)
		os.MkdirAll(filepath.Dir(dst), 0o755)
		data, _ := os.ReadFile(b)
		os.WriteFile(dst, data, 0o755)
		bins = append(bins, dst)
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not an ELF file"), 0o644)
	os.Symlink(dir, filepath.Join(dir, "sub", "loop")) // a directory link loop must not trap the walk

	got, failed := run(t, st, []string{dir}, upload.Options{Concurrency: 2})
	if failed != 0 || len(got) != 3 {
		t.Fatalf("failed=%d reports=%v", failed, got)
	}
	for _, b := range bins {
		r := got[b+"#debuginfo"]
		if r.Action != upload.Uploaded {
			t.Fatalf("%s: %+v", b, r)
		}
		id, _ := buildid.Read(b)
		if r.BuildID != id.Value || r.BuildIDType != "gnu" {
			t.Errorf("%s: report %+v, build ID %v", b, r, id)
		}
		data, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED)
		if !ok || !bytes.Equal(data, extracted(t, b)) {
			t.Errorf("%s: stored bytes differ from extract's output", b)
		}
		if int64(len(data)) != r.Bytes {
			t.Errorf("%s: reported %d bytes, stored %d", b, r.Bytes, len(data))
		}
	}
	got, failed = run(t, st, []string{dir}, upload.Options{Concurrency: 2})
	for _, r := range got {
		if r.Action != upload.Skipped || failed != 0 {
			t.Errorf("re-run: %+v", r)
		}
	}
	got, _ = run(t, st, []string{bins[0]}, upload.Options{Force: true})
	if r := got[bins[0]+"#debuginfo"]; r.Action != upload.Uploaded {
		t.Errorf("--force: %+v", r)
	}
}

func TestBadInputs(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStore(t, srv)
	good := testbin.C(t, "good", "ok", "-g")
	text := testbin.File(t, "notes.txt", []byte("hello"))
	empty := testbin.File(t, "empty", nil)
	elf, _ := os.ReadFile(good)
	truncated := testbin.File(t, "truncated", elf[:100])
	missing := filepath.Join(t.TempDir(), "missing")
	got, failed := run(t, st, []string{good, text, empty, truncated, missing}, upload.Options{Concurrency: 3})
	if failed != 4 {
		t.Errorf("failed = %d, want 4", failed)
	}
	want := map[string]string{text: "not an ELF", empty: "not an ELF", missing: "no such file", truncated: ""}
	for p, msg := range want {
		r := got[p+"#debuginfo"]
		if r.Action != upload.Failed || !strings.Contains(r.Reason, msg) {
			t.Errorf("%s: %+v, want failure mentioning %q", filepath.Base(p), r, msg)
		}
	}
	if r := got[good+"#debuginfo"]; r.Action != upload.Uploaded {
		t.Errorf("good file alongside bad ones: %+v", r)
	}
	if n := srv.Calls("MarkUploadFinished"); n != 1 {
		t.Errorf("MarkUploadFinished called %d times, want 1", n)
	}
}

func TestNoBuildIDUsesFileHash(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.C(t, "noid", "x", "-g", "-Wl,--build-id=none")
	got, failed := run(t, grpcStore(t, srv), []string{bin}, upload.Options{})
	r := got[bin+"#debuginfo"]
	if failed != 0 || r.BuildIDType != "hash" || len(r.BuildID) != 32 {
		t.Fatalf("%+v", r)
	}
	if state, typ := srv.State(r.BuildID, 0); state != pb.DebuginfoUpload_STATE_UPLOADED || typ != pb.BuildIDType_BUILD_ID_TYPE_HASH {
		t.Errorf("store has state %v type %v", state, typ)
	}
}

func TestDuplicatesAndCollisions(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStore(t, srv)
	a := testbin.C(t, "a", "one", "-g", "-Wl,--build-id=0x1122334455667788")
	b := testbin.C(t, "b", "two", "-g", "-Wl,--build-id=0x1122334455667788")
	aCopy := testbin.Copy(t, a, "a-copy")

	got, failed := run(t, st, []string{a, aCopy}, upload.Options{})
	if failed != 0 || got[a+"#debuginfo"].Action != upload.Uploaded || got[aCopy+"#debuginfo"].Action != upload.Skipped {
		t.Fatalf("same file twice: %v", got)
	}

	got, failed = run(t, st, []string{a, b}, upload.Options{Force: true})
	if failed != 2 {
		t.Fatalf("collision: failed=%d %v", failed, got)
	}
	if r := got[b+"#debuginfo"]; !strings.Contains(r.Reason, "shared by different files") {
		t.Errorf("collision reason: %q", r.Reason)
	}
	before := srv.Calls("InitiateUpload")
	got, failed = run(t, st, []string{a, b}, upload.Options{Force: true, AllowSharedBuildID: true})
	if failed != 0 || got[a+"#debuginfo"].Action != upload.Uploaded {
		t.Errorf("--allow-shared-build-id: %v", got)
	}
	// The first file wins; the other is not sent over it.
	if r := got[b+"#debuginfo"]; r.Action != upload.Skipped || r.Reason != "same build ID as "+a+" in this run" || srv.Calls("InitiateUpload") != before+1 {
		t.Errorf("--allow-shared-build-id, second file: %+v (%d uploads started)", r, srv.Calls("InitiateUpload")-before)
	}
}

func TestRedactedGoBuildIDRefused(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	bin := testbin.Go(t, "svc", "hi", "-ldflags=-buildid=redacted")
	got, failed := run(t, grpcStore(t, srv), []string{bin}, upload.Options{})
	r := got[bin+"#debuginfo"]
	if failed != 1 || !strings.Contains(r.Reason, "redacted") || !strings.Contains(r.Reason, "--allow-shared-build-id") {
		t.Fatalf("%+v", r)
	}
	if srv.Calls("ShouldInitiateUpload") != 0 {
		t.Error("store contacted for a refused file")
	}
	got, failed = run(t, grpcStore(t, srv), []string{bin}, upload.Options{AllowSharedBuildID: true})
	if failed != 0 || got[bin+"#debuginfo"].Action != upload.Uploaded {
		t.Errorf("override: %+v", got)
	}
}

func TestModes(t *testing.T) {
	bin := testbin.C(t, "modes", "m", "-g")
	raw, _ := os.ReadFile(bin)
	id, _ := buildid.Read(bin)

	t.Run("dry-run needs no store", func(t *testing.T) {
		got, failed := run(t, nil, []string{bin}, upload.Options{DryRun: true})
		r := got[bin+"#debuginfo"]
		if failed != 0 || r.Action != upload.DryRun || r.Bytes != int64(len(extracted(t, bin))) {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("no-initiate sends nothing", func(t *testing.T) {
		srv := teststore.Start(t, teststore.Options{})
		got, _ := run(t, grpcStore(t, srv), []string{bin}, upload.Options{NoInitiate: true})
		if r := got[bin+"#debuginfo"]; r.Action != upload.Checked {
			t.Fatalf("%+v", r)
		}
		if srv.Calls("InitiateUpload") != 0 {
			t.Error("InitiateUpload called")
		}
	})
	for _, c := range []struct {
		name string
		opts upload.Options
	}{
		{"executable", upload.Options{Type: pb.DebuginfoType_DEBUGINFO_TYPE_EXECUTABLE}},
		{"no-extract", upload.Options{NoExtract: true}},
	} {
		t.Run(c.name+" stores the file as given", func(t *testing.T) {
			srv := teststore.Start(t, teststore.Options{})
			if _, failed := run(t, grpcStore(t, srv), []string{bin}, c.opts); failed != 0 {
				t.Fatal("failed")
			}
			data, ok := srv.Uploaded(id.Value, c.opts.Type)
			if !ok || !bytes.Equal(data, raw) {
				t.Error("stored bytes are not the file")
			}
		})
	}
	t.Run("build-id override", func(t *testing.T) {
		srv := teststore.Start(t, teststore.Options{})
		archive := testbin.File(t, "src.tar.zst", []byte("not really an archive"))
		got, failed := run(t, grpcStore(t, srv), []string{archive}, upload.Options{Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES, BuildID: id.Value})
		if failed != 0 {
			t.Fatal(got)
		}
		if _, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES); !ok {
			t.Error("sources not stored under the given build ID")
		}
	})
	t.Run("sources ride along", func(t *testing.T) {
		srv := teststore.Start(t, teststore.Options{})
		opts := upload.Options{Sources: func(ctx context.Context, binary string, w io.Writer) error {
			_, err := io.WriteString(w, "archive of "+filepath.Base(binary))
			return err
		}}
		got, failed := run(t, grpcStore(t, srv), []string{bin}, opts)
		if failed != 0 || got[bin+"#sources"].Action != upload.Uploaded {
			t.Fatal(got)
		}
		if data, _ := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES); string(data) != "archive of modes" {
			t.Errorf("sources = %q", data)
		}
		got, _ = run(t, grpcStore(t, srv), []string{bin}, opts)
		if got[bin+"#sources"].Action != upload.Skipped || got[bin+"#debuginfo"].Action != upload.Skipped {
			t.Errorf("re-run: %v", got)
		}
	})
}

func TestHungStoreFailsOneFileAndGoesOn(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	a := testbin.C(t, "first", "1", "-g")
	b := testbin.C(t, "second", "2", "-g")
	srv.HangNext("ShouldInitiateUpload", 1)
	got, failed := run(t, st, []string{a, b}, upload.Options{Concurrency: 1, Timeout: 300 * time.Millisecond})
	if failed != 1 {
		t.Fatalf("failed = %d: %v", failed, got)
	}
	// Questions go out several at a time: either file may meet the hang.
	hung, next := got[a+"#debuginfo"], got[b+"#debuginfo"]
	if hung.Action == upload.Uploaded {
		hung, next = next, hung
	}
	// The reason says which limit ran out and how long it was.
	if !strings.HasPrefix(hung.Reason, "timed out after 300ms (--timeout): ") {
		t.Errorf("hung file: %+v", hung)
	}
	if next.Action != upload.Uploaded {
		t.Errorf("next file: %+v", next)
	}
}

func TestPrepared(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	dbg := testbin.C(t, "x.debuginfo", "x", "-g") // an ELF file with DWARF, as extract writes
	src := testbin.File(t, "x.tar.zst", []byte("source bytes"))
	p := upload.Prepared{Label: "x", BuildID: "abcdef012345", BuildIDType: buildid.GNU, Files: []upload.PreparedFile{
		{Path: dbg, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED},
		{Path: src, Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES},
	}}
	n := 0
	failed := upload.Run(context.Background(), grpcStore(t, srv), nil, []upload.Prepared{p}, upload.Options{}, func(r upload.Report) {
		n++
		if r.Action != upload.Uploaded {
			t.Errorf("%+v", r)
		}
	})
	if failed != 0 || n != 2 {
		t.Fatalf("failed=%d reports=%d", failed, n)
	}
	if d, _ := srv.Uploaded("abcdef012345", pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES); string(d) != "source bytes" {
		t.Errorf("sources = %q", d)
	}
}

func TestRerunTakesOverUploadOfDeadProcess(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "orphan", "o", "-g")
	id, _ := buildid.Read(bin)
	key := store.Key{BuildID: id.Value, BuildIDType: pb.BuildIDType_BUILD_ID_TYPE_GNU}
	journal := openJournal(t, t.TempDir(), srv.Addr())

	// A first attempt is initiated and its stream cut, with no retries:
	// the store is left thinking an upload is in progress.
	srv.CutStreamAfter(1)
	got, failed := run(t, st, []string{bin}, upload.Options{Journal: journal})
	if failed != 1 {
		t.Fatalf("first attempt: %v", got)
	}
	if state, _ := srv.State(id.Value, 0); state != pb.DebuginfoUpload_STATE_UPLOADING {
		t.Fatalf("store state %v, want UPLOADING", state)
	}

	// Another live uploader's work is respected: without our marker, skip.
	got, _ = run(t, st, []string{bin}, upload.Options{Journal: openJournal(t, t.TempDir(), srv.Addr())})
	if r := got[bin+"#debuginfo"]; r.Action != upload.Skipped || !strings.Contains(r.Warning, "rerun with --force") {
		t.Fatalf("foreign in-progress upload: %+v; want a skip with a warning (the user may have to act)", r)
	}

	// Our marker names a process that no longer exists: take over.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	rewriteMarkerPID(t, journal.Dir, dead.Process.Pid)

	// A marker is per store: one left for another store's address (the
	// same directory, as every run of one user shares it) is not ours here.
	got, _ = run(t, st, []string{bin}, upload.Options{Journal: openJournal(t, journal.Dir, "other-store.example:443")})
	if r := got[bin+"#debuginfo"]; r.Action != upload.Skipped || !strings.Contains(r.Warning, "rerun with --force") {
		t.Fatalf("a dead attempt's marker for another store: %+v; want the in-progress skip", r)
	}

	got, failed = run(t, st, []string{bin}, upload.Options{Journal: journal})
	if r := got[bin+"#debuginfo"]; failed != 0 || r.Action != upload.Uploaded {
		t.Fatalf("rerun after a dead attempt: %+v", r)
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); !ok {
		t.Fatal("not stored")
	}
	if entries, _ := journalMarkers(journal.Dir); len(entries) != 0 {
		t.Errorf("journal keeps %d markers after success", len(entries))
	}
}

// journalMarkers lists a journal's markers: its entries but the stamp of
// its last prune.
func journalMarkers(dir string) ([]os.DirEntry, error) {
	ents, err := os.ReadDir(dir)
	return slices.DeleteFunc(ents, func(e os.DirEntry) bool { return e.Name() == ".pruned" }), err
}

func openJournal(t *testing.T, dir, store string) *upload.Journal {
	t.Helper()
	j, err := upload.OpenJournal(dir, store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func rewriteMarkerPID(t *testing.T, dir string, pid int) {
	t.Helper()
	entries, err := journalMarkers(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("journal has %d markers (%v), want 1", len(entries), err)
	}
	p := filepath.Join(dir, entries[0].Name())
	data := fmt.Sprintf(`{"pid": %d, "started": "2026-01-01T00:00:00Z"}`, pid)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestChangedBytesAreNeverMarkedFinished(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	st := grpcStoreTries(t, srv, 1)
	bin := testbin.C(t, "changing", "c", "-g")
	var mu sync.Mutex
	calls := 0
	opts := upload.Options{Sources: func(ctx context.Context, binary string, w io.Writer) error {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		// Same size, different content on every pass: an input edited
		// between hashing and sending.
		_, err := fmt.Fprintf(w, "version %d of the archive", n%10)
		return err
	}}
	got, failed := run(t, st, []string{bin}, opts)
	r := got[bin+"#sources"]
	if failed != 1 || r.Action != upload.Failed || !strings.Contains(r.Reason, "changed while uploading") {
		t.Fatalf("%+v", r)
	}
	id, _ := buildid.Read(bin)
	if _, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES); ok {
		t.Error("changed object marked uploaded")
	}
}

// What Parca can show decides what is sent: symbols only gets a warning in
// the report (so in --json and the receipt); nothing at all is refused,
// the store asked only whether it has that build ID already (see
// TestStrippedAfterUploadIsSkipped), never sent it.
func TestSymbolsOnlyWarnsAndUselessIsRefused(t *testing.T) {
	noG := testbin.C(t, "nog", "no -g", "-O1")
	withG := testbin.C(t, "withg", "with -g", "-g")
	// A program of its own: a stripped copy of noG would be served by noG.
	stripped := testbin.C(t, "stripped", "stripped", "-O1")
	testbin.Run(t, filepath.Dir(stripped), "strip", "--strip-all", stripped)
	goNoDWARF := testbin.Go(t, "gonodwarf", "go without DWARF", "-ldflags=-w")
	srv := teststore.Start(t, teststore.Options{})
	got := map[string]upload.Report{}
	failed := upload.Run(context.Background(), grpcStore(t, srv), []string{noG, withG, stripped, goNoDWARF}, nil,
		upload.Options{Concurrency: 2}, func(r upload.Report) { got[r.Path] = r })
	if failed != 1 {
		t.Errorf("failed = %d, want 1 (the stripped binary): %+v", failed, got)
	}
	if r := got[noG]; r.Action != upload.Uploaded || !r.SymbolsOnly ||
		!strings.HasPrefix(r.Warning, "symbols only: no file:line or sources") || !strings.Contains(r.Warning, "-g") ||
		!strings.Contains(r.Warning, "-c dbg") || !strings.Contains(r.Warning, "--copt=-g --strip=never") {
		t.Errorf("binary without -g: %+v", r)
	}
	if r := got[withG]; r.Action != upload.Uploaded || r.SymbolsOnly || r.Warning != "" {
		t.Errorf("binary with -g: %+v", r)
	}
	if r := got[stripped]; r.Action != upload.Failed || !strings.Contains(r.Reason, "no DWARF, no symbol table and no Go pclntab") {
		t.Errorf("stripped binary: %+v", r)
	}
	if r := got[goNoDWARF]; r.Action != upload.Uploaded || !r.SymbolsOnly || !strings.Contains(r.Warning, "Go's pclntab") {
		t.Errorf("Go binary linked with -w: %+v", r)
	}
	if n := srv.Calls("ShouldInitiateUpload"); n != 4 {
		t.Errorf("the store was asked %d times, want 4 (once about the refused binary)", n)
	}
	if n := srv.Calls("InitiateUpload"); n != 3 {
		t.Errorf("InitiateUpload called %d times, want 3 (never for the refused binary)", n)
	}
}

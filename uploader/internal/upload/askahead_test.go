package upload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// The store is asked about every file before any is sent (a re-run of many
// skipped files is nothing but these questions, so they go out together),
// and once per build ID: never for a file that failed before reaching the
// store or for a second copy, and a prepared object (a Bazel build's) is
// asked once, when it is sent.
func TestQuestionsFirstAndOnce(t *testing.T) {
	for _, j := range []int{1, 8} {
		t.Run(fmt.Sprintf("-j %d", j), func(t *testing.T) { questionsFirstAndOnce(t, j) })
	}
}

func questionsFirstAndOnce(t *testing.T, concurrency int) {
	srv := teststore.Start(t, teststore.Options{})
	var paths, ids []string
	for i := range 6 {
		p := testbin.C(t, fmt.Sprintf("q%d", i), fmt.Sprintf("q%d", i), "-g")
		id, err := buildid.Read(p)
		if err != nil {
			t.Fatal(err)
		}
		paths, ids = append(paths, p), append(ids, id.Value)
	}
	paths = append(paths, testbin.Copy(t, paths[0], "q0-copy"), testbin.File(t, "corrupt", []byte("\x7fELF\x02\x01\x01 and nothing more")))
	prepared := upload.Prepared{Label: "p", BuildID: "abcdef0123456789", BuildIDType: buildid.GNU, Files: []upload.PreparedFile{
		{Path: testbin.C(t, "p.debuginfo", "p", "-g"), Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED},
	}}
	failed := upload.Run(context.Background(), grpcStore(t, srv), paths, []upload.Prepared{prepared}, upload.Options{Concurrency: concurrency}, func(upload.Report) {})
	if failed != 1 {
		t.Errorf("failed = %d, want 1 (the corrupt file)", failed)
	}
	h := srv.History()
	firstSend := slices.IndexFunc(h, func(s string) bool { return strings.HasPrefix(s, "InitiateUpload ") })
	for _, id := range append(ids, prepared.BuildID) {
		if n := slices.Index(h, "ShouldInitiateUpload "+id); n < 0 {
			t.Errorf("%s: never asked", id)
		} else if n > firstSend && id != prepared.BuildID {
			t.Errorf("%s: asked after the first upload began (%q)", id, h)
		}
	}
	if n := srv.Calls("ShouldInitiateUpload"); n != len(ids)+1 {
		t.Errorf("%d questions for %d build IDs: %q", n, len(ids)+1, h)
	}
}

// A prepared object (a Bazel build's record) is checked like a walked file:
// a build ID that every -buildid=redacted Go binary shares is refused unless
// allowed, and its debuginfo file (not its source archive, whatever the
// order it is listed in) is what a walked file with the same build ID is
// compared with: an identical copy is one upload, not a collision.
func TestPreparedObjectsChecked(t *testing.T) {
	// One of the IDs every -buildid=redacted binary has (buildid's table).
	sum := sha256.Sum256([]byte("redacted"))
	sum[0] ^= 0x01
	redacted := hex.EncodeToString(sum[:20])
	if !buildid.IsRedacted(redacted) {
		t.Fatalf("%s is not a redacted ID", redacted)
	}
	dbg := testbin.C(t, "r.debuginfo", "r", "-g")
	src := testbin.File(t, "r.tar.zst", []byte("source bytes"))
	files := []upload.PreparedFile{
		{Path: src, Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES},
		{Path: dbg, Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED},
	}
	for _, allow := range []bool{false, true} {
		srv := teststore.Start(t, teststore.Options{})
		var reasons []string
		failed := upload.Run(context.Background(), grpcStore(t, srv), nil, []upload.Prepared{{Label: "r", BuildID: redacted, BuildIDType: buildid.GNU, Files: files}},
			upload.Options{AllowSharedBuildID: allow}, func(r upload.Report) { reasons = append(reasons, string(r.Action)+": "+r.Reason) })
		if refused := failed > 0 && strings.Contains(strings.Join(reasons, "\n"), "--allow-shared-build-id"); refused == allow {
			t.Errorf("redacted build ID, allowed %v: failed %d, %q", allow, failed, reasons)
		}
	}

	id, err := buildid.Read(dbg)
	if err != nil {
		t.Fatal(err)
	}
	srv := teststore.Start(t, teststore.Options{})
	copyOf := testbin.Copy(t, dbg, "walked-copy")
	var got []upload.Report
	failed := upload.Run(context.Background(), grpcStore(t, srv), []string{copyOf}, []upload.Prepared{{Label: "r", BuildID: id.Value, BuildIDType: buildid.GNU, Files: files}},
		upload.Options{}, func(r upload.Report) { got = append(got, r) })
	if failed != 0 || srv.Calls("InitiateUpload") != 1 {
		t.Errorf("a prepared object and a copy of its debuginfo file: failed %d, %d uploads started: %+v", failed, srv.Calls("InitiateUpload"), got)
	}
}

// A prepared object without a debuginfo file (only its source archive) is
// compared through that file: a walked program with the same build ID is a
// collision, named as one, and an empty record lists nothing to compare.
func TestPreparedSourcesOnlyCollides(t *testing.T) {
	bin := testbin.C(t, "s", "s", "-g")
	id, err := buildid.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	src := testbin.File(t, "s.tar.zst", []byte("source bytes"))
	for _, files := range [][]upload.PreparedFile{{{Path: src, Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES}}, nil} {
		srv := teststore.Start(t, teststore.Options{})
		var reasons []string
		upload.Run(context.Background(), grpcStore(t, srv), []string{bin}, []upload.Prepared{{Label: "s", BuildID: id.Value, BuildIDType: buildid.GNU, Files: files}},
			upload.Options{}, func(r upload.Report) { reasons = append(reasons, r.Reason) })
		collided := strings.Contains(strings.Join(reasons, "\n"), "is shared by different files")
		if collided != (files != nil) {
			t.Errorf("a program and a record of %d files with its build ID: %q", len(files), reasons)
		}
	}
}

// In a walk, a link to a file is uploaded like the file; a link to a
// directory is not followed and is no error. A 4-byte file holding only
// the ELF magic is a broken ELF file, not "not ELF".
func TestWalkLinksAndBareMagic(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	dir := t.TempDir()
	bin := testbin.C(t, "linked", "l", "-g")
	if err := os.Symlink(bin, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "dirlink")); err != nil {
		t.Fatal(err)
	}
	got, failed := run(t, grpcStore(t, srv), []string{dir}, upload.Options{})
	if r := got[filepath.Join(dir, "link")+"#debuginfo"]; failed != 0 || r.Action != upload.Uploaded || len(got) != 1 {
		t.Errorf("a walk over a file link and a directory link: failed %d, %+v", failed, got)
	}

	// Files that start with the ELF magic: too short for an ELF header's
	// first 18 bytes (passed over, like any file that is not ELF), and
	// long enough (a broken ELF file: it fails).
	short := t.TempDir()
	for _, n := range []int{4, 17, 18} {
		if err := os.WriteFile(filepath.Join(short, fmt.Sprint(n)), []byte("\x7fELF"+strings.Repeat("\x01", n-4)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, failed = run(t, grpcStore(t, srv), []string{short}, upload.Options{})
	if r := got[filepath.Join(short, "18")+"#debuginfo"]; failed != 1 || r.Action != upload.Failed {
		t.Errorf("files of 4, 17 and 18 bytes that start with the ELF magic: failed %d, %+v", failed, got)
	}
	for _, n := range []string{"4", "17"} {
		if r, ok := got[filepath.Join(short, n)+"#debuginfo"]; ok { // not ELF: a walk does not report it
			t.Errorf("a %s-byte file with the ELF magic: %+v", n, r)
		}
	}
}

// Questions go out 4x -j at once (a question's cost is its round trip),
// while -j still bounds the files extracted and sent.
func TestQuestionsInFlight(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{QuestionDelay: 50 * time.Millisecond})
	bin := testbin.C(t, "many", "m", "-g")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	id, err := buildid.Read(bin)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := hex.DecodeString(id.Value)
	at := bytes.Index(b, raw)
	if at < 0 || bytes.Count(b, raw) != 1 {
		t.Fatalf("build ID bytes found %d times", bytes.Count(b, raw))
	}
	dir := t.TempDir()
	for i := range 40 { // 40 programs that differ only in their build ID
		c := bytes.Clone(b)
		c[at], c[at+1] = byte(i), 0xee
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), c, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if failed := upload.Run(context.Background(), grpcStore(t, srv), []string{dir}, nil, upload.Options{Concurrency: 2}, func(upload.Report) {}); failed != 0 {
		t.Fatalf("failed %d", failed)
	}
	if n := srv.MaxQuestionsInFlight(); n != 8 {
		t.Errorf("at -j 2, %d questions in flight at most, want 8", n)
	}
}

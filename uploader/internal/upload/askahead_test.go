package upload_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

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

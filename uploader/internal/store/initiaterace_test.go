package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// A rival that initiated the same build ID between our ShouldUpload and
// our Upload wins: without --force our first attempt must not force its
// way over the rival's upload, so we skip and the rival's stays in place.
// The skip is marked in progress (the rival may be a dead run on another
// machine), which upload turns into a warning (review s13-r5, finding 8).
func TestFirstAttemptDoesNotForceOverARival(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	rival := rawClient(t, srv)
	obj, _ := object(t, 1000)
	if _, err := rival.InitiateUpload(context.Background(), &pb.InitiateUploadRequest{
		BuildId: key.BuildID, Size: obj.Size, Hash: obj.Hash,
	}); err != nil {
		t.Fatal(err)
	}
	err := g.Upload(context.Background(), key, obj, false, nil)
	var sk *store.Skipped
	if !errors.As(err, &sk) || !sk.InProgress || !strings.Contains(sk.Reason, "in progress") {
		t.Fatalf("err = %v, want a skip marked in progress", err)
	}
	if state, _ := srv.State(key.BuildID, key.Type); state != pb.DebuginfoUpload_STATE_UPLOADING {
		t.Errorf("store state %v, want the rival's upload still UPLOADING", state)
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); ok {
		t.Error("we took over the rival's upload")
	}
}

package store_test

import (
	"context"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// A store that fails the stream only in its final answer (the object fits
// in one chunk, so every Send succeeds) must fail the upload, not have it
// marked finished.
func TestStreamFailingAtCloseIsNotMarkedFinished(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv, func(c *store.Config) { c.Retry.Attempts = 1 })
	obj, _ := object(t, 1000)
	srv.CutStreamAfter(1)
	if err := g.Upload(context.Background(), key, obj, false, nil); err == nil {
		t.Fatal("Upload succeeded over a stream the store failed")
	}
	if _, ok := srv.Uploaded(key.BuildID, key.Type); ok {
		t.Error("marked uploaded")
	}
	if n := srv.Calls("MarkUploadFinished"); n != 0 {
		t.Errorf("MarkUploadFinished called %d times", n)
	}
}

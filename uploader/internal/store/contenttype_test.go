package store_test

import (
	"context"
	"path"
	"sync"
	"testing"

	"google.golang.org/grpc/metadata"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// The Upload stream goes out with the content type of every other call.
func TestUploadStreamContentType(t *testing.T) {
	var mu sync.Mutex
	types := map[string][]string{}
	srv := teststore.Start(t, teststore.Options{Authorize: func(ctx context.Context, method string) error {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		defer mu.Unlock()
		types[path.Base(method)] = md.Get("content-type")
		return nil
	}})
	st := open(t, srv.Addr(), store.Config{Insecure: true, Retry: fastRetry})
	obj, _ := object(t, 3<<20)
	if err := st.Upload(context.Background(), store.Key{BuildID: "00112233445566778899aabbccddeeff"}, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range []string{"InitiateUpload", "Upload", "MarkUploadFinished"} {
		if got := types[m]; len(got) != 1 || got[0] != "application/grpc" {
			t.Errorf("%s sent content-type %q, want application/grpc", m, got)
		}
	}
}

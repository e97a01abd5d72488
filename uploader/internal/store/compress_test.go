package store_test

import (
	"bytes"
	"context"
	"testing"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// TestGzipStream: against a store with gzip (grpc-go registers it for the
// process here) uploads go compressed; against one without it, the first
// file is refused before a byte is stored, resent uncompressed under the
// same upload ID, and later files go uncompressed at once. Either way the
// stored bytes are the file's and nothing fails.
func TestGzipStream(t *testing.T) {
	for _, tc := range []struct {
		name           string
		noGzip         bool
		wantCompressed int // of the streams for two files
	}{
		{"store-has-gzip", false, 2},
		{"store-lacks-gzip", true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := teststore.Start(t, teststore.Options{NoGzip: tc.noGzip})
			g := client(t, srv, func(c *store.Config) { c.Compression = store.GzipCompression })
			for i, id := range []string{"aaaa0001", "aaaa0002"} {
				k := store.Key{BuildID: id, BuildIDType: pb.BuildIDType_BUILD_ID_TYPE_GNU}
				obj, data := object(t, 2*store.ChunkSize+i*77)
				if err := g.Upload(context.Background(), k, obj, false, nil); err != nil {
					t.Fatalf("file %d: %v", i, err)
				}
				if got, ok := srv.Uploaded(k.BuildID, k.Type); !ok || !bytes.Equal(got, data) {
					t.Fatalf("file %d: stored %d bytes (finished=%v), want %d identical", i, len(got), ok, len(data))
				}
			}
			if n := srv.CompressedStreams(); n != tc.wantCompressed {
				t.Errorf("%d streams arrived compressed, want %d", n, tc.wantCompressed)
			}
			// A refused stream never reaches the handler (nor this count).
			if n := srv.Calls("Upload"); n != 2 {
				t.Errorf("%d Upload streams reached the handler, want 2", n)
			}
		})
	}
}

// TestNoCompressionByDefault: an unset Compression sends plain streams.
func TestNoCompressionByDefault(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, _ := object(t, store.ChunkSize)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	if n := srv.CompressedStreams(); n != 0 {
		t.Errorf("%d streams arrived compressed, want 0", n)
	}
}

// TestGzipSignedURL: a signed-URL store gets the bytes as they are.
func TestGzipSignedURL(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{SignedURL: true})
	g := client(t, srv, func(c *store.Config) { c.Compression = store.GzipCompression })
	obj, data := object(t, store.ChunkSize+5)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok := srv.Uploaded(key.BuildID, key.Type); !ok || !bytes.Equal(got, data) {
		t.Fatalf("stored %d bytes (finished=%v), want %d identical", len(got), ok, len(data))
	}
	if n := srv.CompressedStreams(); n != 0 {
		t.Errorf("%d compressed streams to a signed-URL store", n)
	}
}

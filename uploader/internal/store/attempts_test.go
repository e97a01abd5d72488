package store_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// Retry.Attempts is the total number of tries: a store that stays down is
// asked exactly that many times, no more, no fewer.
func TestAttemptsIsTheTotalNumberOfTries(t *testing.T) {
	for _, attempts := range []int{1, 3} {
		srv := teststore.Start(t, teststore.Options{})
		g := client(t, srv, func(c *store.Config) {
			c.Retry = store.Retry{Attempts: attempts, Base: time.Millisecond, Max: time.Millisecond}
		})
		srv.FailNext("ShouldInitiateUpload", codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable, codes.Unavailable)
		if _, _, err := g.ShouldUpload(context.Background(), key, false); err == nil {
			t.Fatalf("attempts=%d: no error from a store that stays down", attempts)
		}
		if n := srv.Calls("ShouldInitiateUpload"); n != attempts {
			t.Errorf("attempts=%d: store asked %d times", attempts, n)
		}
	}
}

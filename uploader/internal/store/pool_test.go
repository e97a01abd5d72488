package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// authStore is a test store that notes each call's authorization header.
func authStore(t *testing.T, opts teststore.Options) (*teststore.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	opts.Authorize = func(ctx context.Context, _ string) error {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		seen = append(seen, strings.Join(md.Get("authorization"), ","))
		mu.Unlock()
		return nil
	}
	srv := teststore.Start(t, opts)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }
}

func bearer(t *testing.T, addr, token string) *creds.Provider {
	t.Helper()
	p, err := creds.Resolve(&creds.Options{BearerToken: token}, addr, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPoolLendsOneConnectionWithEachOpensCredentials: stores opened one
// after another through a Pool share one TCP connection, each store's
// calls carry its own credentials (or none), and a store's Close leaves
// the connection open for the next.
func TestPoolLendsOneConnectionWithEachOpensCredentials(t *testing.T) {
	srv, seen := authStore(t, teststore.Options{})
	addr, accepted := teststore.CountingProxy(t, srv.Addr())
	var log bytes.Buffer
	pool := &store.Pool{Log: &log}
	for _, p := range []*creds.Provider{bearer(t, addr, "pool-token-one"), bearer(t, addr, "pool-token-two"), nil} {
		s, err := store.Open(addr, store.Config{Insecure: true, Creds: p, Retry: fastRetry, Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ShouldUpload(context.Background(), key, false); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(seen(), "|"), "Bearer pool-token-one|Bearer pool-token-two|"; got != want {
		t.Errorf("authorization per call %q, want %q", got, want)
	}
	if n := accepted(); n != 1 {
		t.Errorf("%d TCP connections for three stores, want 1", n)
	}
	if pool.Len() != 1 || strings.Count(log.String(), "new store connection") != 1 || strings.Contains(log.String(), "pool-token") {
		t.Errorf("pool holds %d connections; log %q", pool.Len(), log.String())
	}
	// Other TLS settings are another connection (dialled lazily: no call needed).
	other, err := store.Open(addr, store.Config{InsecureSkipVerify: true, Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if pool.Len() != 2 {
		t.Errorf("pool holds %d connections, want 2 (plaintext and TLS)", pool.Len())
	}

	if err := pool.Close(); err != nil {
		t.Fatal(err)
	}
	if pool.Len() != 0 {
		t.Errorf("closed pool holds %d connections", pool.Len())
	}
	if _, err := store.Open(addr, store.Config{Insecure: true, Pool: pool}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Open through a closed pool: %v", err)
	}
}

// TestPoolRefusesASecondStoreOnALentConnection: a connection's calls carry
// the credentials of the one store it is lent to, so while that store is
// open no other store gets it, even from many goroutines at once.
func TestPoolRefusesASecondStoreOnALentConnection(t *testing.T) {
	srv, seen := authStore(t, teststore.Options{})
	var pool store.Pool // the zero value is ready
	defer pool.Close()
	cfg := func(token string) store.Config {
		return store.Config{Insecure: true, Creds: bearer(t, srv.Addr(), token), Retry: fastRetry, Pool: &pool}
	}
	a, err := store.Open(srv.Addr(), cfg("token-a"))
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := store.Open(srv.Addr(), cfg("token-b"))
			if err == nil {
				opened.Add(1)
				s.Close()
			} else if !strings.Contains(err.Error(), "in use by another store") {
				t.Errorf("refusal says %q", err)
			}
		}()
	}
	wg.Wait()
	if n := opened.Load(); n != 0 {
		t.Errorf("%d stores opened on a connection already lent", n)
	}
	if _, _, err := a.ShouldUpload(context.Background(), key, false); err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 1 || got[0] != "Bearer token-a" {
		t.Errorf("the lent store's call carried %q, want its own token only", got)
	}
	// Another store address is another connection: it may be open meanwhile.
	srv2 := teststore.Start(t, teststore.Options{})
	c, err := store.Open(srv2.Addr(), cfg("token-c"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()

	a.Close()
	b, err := store.Open(srv.Addr(), cfg("token-b"))
	if err != nil {
		t.Fatalf("after the first store closed: %v", err)
	}
	a.Close() // a second Close of the old store must not free b's lease
	if s, err := store.Open(srv.Addr(), cfg("token-d")); err == nil {
		s.Close()
		t.Error("a stale Close freed the connection lent to another store")
	}
	if _, _, err := b.ShouldUpload(context.Background(), key, false); err != nil {
		t.Fatal(err)
	}
	if got := seen(); len(got) != 2 || got[1] != "Bearer token-b" {
		t.Errorf("calls carried %q, want token-a then token-b", got)
	}
	b.Close()
}

// TestPoolKeysCAFileByContent: a CA file rewritten between Opens gets a
// connection of its own that trusts the new content, not the old one's.
func TestPoolKeysCAFileByContent(t *testing.T) {
	serverTLS, caPEM := teststore.SelfSignedTLS(t)
	srv := teststore.Start(t, teststore.Options{TLS: serverTLS})
	_, otherPEM := teststore.SelfSignedTLS(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	var pool store.Pool
	defer pool.Close()
	call := func(pem []byte) error {
		if err := os.WriteFile(caFile, pem, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := store.Open(srv.Addr(), store.Config{CAFile: caFile, Retry: store.Retry{Attempts: 1}, Pool: &pool})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, _, err = s.ShouldUpload(context.Background(), key, false)
		return err
	}
	if err := call(caPEM); err != nil {
		t.Fatalf("with the store's CA: %v", err)
	}
	if err := call(otherPEM); err == nil || !strings.Contains(err.Error(), "--ca-file") {
		t.Errorf("with another CA in the same file: %v, want the certificate refused", err)
	}
	if pool.Len() != 2 {
		t.Errorf("pool holds %d connections, want one per CA content", pool.Len())
	}
}

// TestPoolConnectionRecoversWhenTheStoreIsBack: a pooled connection that
// failed while the store was down serves the next store at once when the
// store is back on the same address, as a fresh process would (gRPC's own
// reconnect backoff would otherwise fail calls fast for up to two minutes;
// found by an independent review of the Bazel upload worker).
func TestPoolConnectionRecoversWhenTheStoreIsBack(t *testing.T) {
	for _, attempts := range []int{3, 1} { // 1: --retries=0, no retry to reset the backoff
		t.Run(fmt.Sprint(attempts), func(t *testing.T) { poolRecovers(t, attempts) })
	}
}

func poolRecovers(t *testing.T, attempts int) {
	srv, err := teststore.Listen("127.0.0.1:0", teststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	pool := &store.Pool{}
	defer pool.Close()
	ask := func() error {
		s, err := store.Open(addr, store.SlowReconnect(store.Config{Insecure: true, Retry: store.Retry{Attempts: attempts, Base: 100 * time.Millisecond, Max: 200 * time.Millisecond}, Pool: pool}, time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, _, err = s.ShouldUpload(context.Background(), key, false)
		return err
	}
	if err := ask(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	// Failed builds while the store is down: gRPC's reconnect backoff (made a
	// minute long here) has started.
	for range 2 {
		if err := ask(); err == nil {
			t.Fatal("a call succeeded with the store down")
		}
	}
	back, err := teststore.Listen(addr, teststore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Stop()
	start := time.Now()
	if err := ask(); err != nil {
		t.Fatalf("the store is back but the pooled connection still fails (after %v): %v", time.Since(start), err)
	}
}

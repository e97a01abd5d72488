package store_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// Every code a busy or restarting store answers with is retried, and the
// call then succeeds.
func TestEachTransientCodeIsRetried(t *testing.T) {
	for _, c := range []codes.Code{codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted, codes.Internal} {
		srv := teststore.Start(t, teststore.Options{})
		g := client(t, srv)
		srv.FailNext("ShouldInitiateUpload", c)
		if should, _, err := g.ShouldUpload(context.Background(), key, false); err != nil || !should {
			t.Errorf("%v: ShouldUpload = %v, %v; want it retried and true", c, should, err)
		}
		if n := srv.Calls("ShouldInitiateUpload"); n != 2 {
			t.Errorf("%v: %d calls, want 2", c, n)
		}
	}
}

// A TLS set-up mismatch does not heal by waiting: it fails at once with
// advice, not after the whole backoff. The backoff here is an hour, so a
// retry would run into the test's context deadline instead.
func TestTLSMismatchFailsWithoutBackoff(t *testing.T) {
	untrusted := teststore.Start(t, teststore.Options{TLS: tlsOnly(teststore.SelfSignedTLS(t))})
	plain := teststore.Start(t, teststore.Options{})
	web := httptest.NewServer(http.NotFoundHandler()) // HTTP/1 only, as a web port or proxy
	t.Cleanup(web.Close)
	for _, c := range []struct {
		name     string
		addr     string
		insecure bool
		want     string
	}{
		{"plaintext to an HTTP/1 server", web.Listener.Addr().String(), true, "answers in HTTP/1, not gRPC"},
		{"untrusted certificate", untrusted.Addr(), false, "--ca-file"},
		{"TLS to a plaintext store", plain.Addr(), false, "--insecure"},
		{"plaintext to a TLS store", untrusted.Addr(), true, "the store speaks TLS: drop --insecure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := open(t, c.addr, store.Config{Insecure: c.insecure, Retry: store.Retry{Attempts: 6, Base: time.Hour, Max: time.Hour}})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, _, err := g.ShouldUpload(ctx, key, false)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want advice naming %s", err, c.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("retried until the deadline: %v", err)
			}
		})
	}
}

func tlsOnly(cfg *tls.Config, _ []byte) *tls.Config { return cfg }

// The same holds for the host a signed URL names: an untrusted certificate
// or a plaintext host behind an https:// URL fails at once, saying so,
// and nothing is marked finished.
func TestSignedURLTLSMismatchFailsWithoutBackoff(t *testing.T) {
	stored := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
	untrusted := httptest.NewUnstartedServer(stored)
	untrusted.TLS = tlsOnly(teststore.SelfSignedTLS(t))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	plain := httptest.NewServer(stored)
	t.Cleanup(plain.Close)
	for _, c := range []struct {
		name, base, want string
	}{
		{"untrusted certificate", untrusted.URL, "signed-URL host's TLS certificate is not trusted"},
		{"plaintext host behind https", "https://" + plain.Listener.Addr().String(), "signed-URL host speaks plaintext"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := teststore.Start(t, teststore.Options{SignedURL: true, SignedURLBase: c.base})
			g := open(t, srv.Addr(), store.Config{Insecure: true, Retry: store.Retry{Attempts: 6, Base: time.Hour, Max: time.Hour}})
			obj, _ := object(t, 1000)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := g.Upload(ctx, key, obj, false, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want advice naming %q", err, c.want)
			}
			if ctx.Err() != nil {
				t.Fatalf("retried until the deadline: %v", err)
			}
			if n := srv.Calls("InitiateUpload"); n != 1 {
				t.Errorf("InitiateUpload called %d times, want 1 (no retry)", n)
			}
			if n := srv.Calls("MarkUploadFinished"); n != 0 {
				t.Errorf("MarkUploadFinished called %d times", n)
			}
		})
	}
}

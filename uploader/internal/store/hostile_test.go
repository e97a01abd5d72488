package store_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// recorder is an HTTP server that notes what it was sent.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string // "METHOD referer=... authorization=..."
}

func startRecorder(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *recorder {
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, fmt.Sprintf("%s referer=%q authorization=%q", r.Method, r.Referer(), r.Header.Get("Authorization")))
		rec.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// TestHostileSignedURLHost: whatever the signed-URL host answers, nothing
// is marked finished unless it took every byte with a 2xx; redirects are
// not followed, so the signed URL (Referer), the bytes and the store's
// credentials never reach another host.
func TestHostileSignedURLHost(t *testing.T) {
	// ELSEWHERE in a redirect target is another host, happy to "accept" anything.
	var elsewhere *recorder
	redirect := func(code int, to string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			http.Redirect(w, r, strings.ReplaceAll(to, "ELSEWHERE", elsewhere.URL), code)
		}
	}
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		size    int
		want    string
	}{
		{"302-to-GET", redirect(http.StatusFound, "ELSEWHERE/x"), 5000, "302 Found (a redirect to"},
		{"301", redirect(http.StatusMovedPermanently, "ELSEWHERE/x"), 5000, "301 Moved Permanently (a redirect to"},
		{"303", redirect(http.StatusSeeOther, "ELSEWHERE/x"), 5000, "303 See Other (a redirect to"},
		{"307-other-host", redirect(http.StatusTemporaryRedirect, "ELSEWHERE/x"), 5000, "307 Temporary Redirect (a redirect to"},
		{"308-same-host", redirect(http.StatusPermanentRedirect, "/elsewhere"), 5000, "308 Permanent Redirect (a redirect within 127.0.0.1:"},
		{"304", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusNotModified)
		}, 5000, "304 Not Modified (an answer without a Location not followed"},
		// A storage service's error quotes the request it signed (review s13-r5, finding 6).
		{"400-quoting-the-signature", func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<Error><Code>SignatureDoesNotMatch</Code><Request>%s</Request><Q>%s</Q></Error>", r.URL.RequestURI(), r.URL.Query().Get("signature"))
		}, 5000, "<Q>[signed URL part]</Q>"},
		{"200-body-unread", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusOK) // before reading a byte
		}, 16 << 20, "not stored"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			elsewhere = startRecorder(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
			})
			hostile := startRecorder(t, c.handler)
			srv := teststore.Start(t, teststore.Options{SignedURL: true, SignedURLBase: hostile.URL})
			p, err := creds.Resolve(&creds.Options{BearerToken: "store-secret-token"}, srv.Addr(), false, nil)
			if err != nil {
				t.Fatal(err)
			}
			g := open(t, srv.Addr(), store.Config{Insecure: true, Creds: p, Retry: fastRetry})
			obj, _ := object(t, c.size)

			err = g.Upload(context.Background(), key, obj, false, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one containing %q", err, c.want)
			}
			// A redirect to another host names that host (never its query).
			if other := strings.TrimPrefix(elsewhere.URL, "http://"); err != nil && strings.Contains(c.want, "redirect to") &&
				c.name != "308-same-host" && !strings.Contains(err.Error(), fmt.Sprintf("redirect to %q", other)) {
				t.Errorf("err = %v, want the redirect's host %s named", err, other)
			}
			if err != nil && (strings.Contains(err.Error(), "signature=") || strings.Contains(err.Error(), "/upload/")) {
				t.Errorf("error leaks the signed URL: %v", err)
			}
			if n := srv.Calls("MarkUploadFinished"); n != 0 {
				t.Errorf("MarkUploadFinished called %d times: the store was told an upload finished that no host accepted", n)
			}
			if got := elsewhere.requests(); len(got) != 0 {
				t.Errorf("a redirect was followed to another host: %q", got)
			}
			for _, r := range hostile.requests() {
				if !strings.HasPrefix(r, "PUT ") || strings.Contains(r, "store-secret-token") || !strings.Contains(r, `referer=""`) {
					t.Errorf("signed-URL host got %s: want only PUTs without Referer or the store's credentials", r)
				}
			}
		})
	}
}

// TestStoreReportingFewerBytes: a store whose answer says it received fewer
// bytes than were sent lost the end of the upload: the stream is sent
// again, and if that keeps happening nothing is marked finished.
func TestStoreReportingFewerBytes(t *testing.T) {
	srv := teststore.Start(t, teststore.Options{})
	g := client(t, srv)
	obj, _ := object(t, 5000)
	srv.ShortNext(1)
	if err := g.Upload(context.Background(), key, obj, false, nil); err != nil {
		t.Fatalf("one short answer, then a good one: %v", err)
	}
	if n := srv.Calls("Upload"); n != 2 {
		t.Errorf("%d upload streams, want 2 (the short one sent again)", n)
	}

	srv = teststore.Start(t, teststore.Options{})
	g = client(t, srv)
	srv.ShortNext(100)
	err := g.Upload(context.Background(), key, obj, false, nil)
	if err == nil || !strings.Contains(err.Error(), "store received 4999 of 5000 bytes") {
		t.Errorf("err = %v, want the short count named", err)
	}
	if n := srv.Calls("MarkUploadFinished"); n != 0 {
		t.Errorf("MarkUploadFinished called %d times after short uploads", n)
	}
}

// TestPlainSignedURLFromTLSStoreIsTold: a store reached over TLS that hands
// out http:// signed URLs sends the upload in the clear. It is not refused
// (an in-cluster bucket may speak plaintext), but said once a run, naming
// the host and not the URL's signature; a plaintext store (--insecure) asked
// for no encryption, so nothing is said.
func TestPlainSignedURLFromTLSStoreIsTold(t *testing.T) {
	serverTLS, caPEM := teststore.SelfSignedTLS(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tls := range []bool{true, false} {
		opts := teststore.Options{SignedURL: true}
		cfg := store.Config{Insecure: true, Retry: fastRetry}
		if tls {
			opts.TLS, cfg = serverTLS, store.Config{CAFile: caFile, Retry: fastRetry}
		}
		srv := teststore.Start(t, opts)
		var told []string
		cfg.Warn = func(s string) { told = append(told, s) }
		g := open(t, srv.Addr(), cfg)
		for i, id := range []string{"0123456789abcdef", "fedcba9876543210"} {
			obj, _ := object(t, 1000+i)
			k := key
			k.BuildID = id
			if err := g.Upload(context.Background(), k, obj, false, nil); err != nil {
				t.Fatal(err)
			}
		}
		switch {
		case !tls && len(told) != 0:
			t.Errorf("plaintext store: told %q, want nothing", told)
		case tls && len(told) != 1:
			t.Errorf("TLS store: told %d times (%q), want once", len(told), told)
		case tls && (!strings.Contains(told[0], "plain http://") || strings.Contains(told[0], "?") || strings.Contains(told[0], "/upload")):
			t.Errorf("TLS store: told %q, want the plain URL named by its host alone", told[0])
		}
	}
}

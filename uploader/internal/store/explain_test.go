package store_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// TestExplain pins the sentence a user sees for each store answer, the one
// both `upload` and `auth check` print.
func TestExplain(t *testing.T) {
	const addr = "grpc.example.com:443"
	none := creds.Info{Kind: creds.KindNone}
	sa := creds.Info{Kind: creds.KindServiceAccount, Source: "env POLARSIGNALS_TOKEN", ProjectID: "p1", ProjectSource: "--project-id"}
	saNoProject := creds.Info{Kind: creds.KindServiceAccount, Source: "credential helper /bin/h"}
	legacy := creds.Info{Kind: creds.KindLegacyJWT, Source: "--bearer-token-file /t", ProjectID: "p2", ProjectSource: "env POLARSIGNALS_PROJECT_ID"}
	legacyNoProject := creds.Info{Kind: creds.KindLegacyJWT, Source: "--bearer-token-file /t"}
	opaque := creds.Info{Kind: creds.KindOpaque, Source: "--bearer-token"}
	tls := store.Target{Address: addr, Creds: sa}
	for _, c := range []struct {
		name string
		err  error
		t    store.Target
		want string
	}{
		{"unauthenticated, no token", status.Error(codes.Unauthenticated, "missing token"), store.Target{Address: addr, Creds: none},
			"the store at grpc.example.com:443 wants a token and none was given: use --bearer-token-file, env POLARSIGNALS_TOKEN or a credential helper (Bazel's aspect: --@rules_debuginfo//rules:bearer_token_file or :credential_helper) (store said: missing token)"},
		{"unauthenticated, a token", status.Error(codes.Unauthenticated, "invalid token"), tls,
			"token unknown or revoked: the store at grpc.example.com:443 rejected the service-account token from env POLARSIGNALS_TOKEN; use a current token (store said: invalid token)"},
		{"permission denied, legacy token and a project", status.Error(codes.PermissionDenied, "denied"), store.Target{Address: addr, Creds: legacy},
			"this legacy project token is not valid for project p2: it works only for its own project; drop the projectID header (from env POLARSIGNALS_PROJECT_ID) or use a service-account token (store said: denied)"},
		{"permission denied, a project", status.Error(codes.PermissionDenied, "denied"), tls,
			"no Debug Info Writer role on project p1: bind the role to the service account (unscoped, or scoped to this project), and check the project ID (from --project-id) in the project settings (store said: denied)"},
		{"permission denied, no project", status.Error(codes.PermissionDenied, "denied"), store.Target{Address: addr, Creds: legacyNoProject},
			"permission denied: the token lacks the Debug Info Writer role (store said: denied)"},
		{"invalid argument, service-account token without a project", status.Error(codes.InvalidArgument, "missing projectID"), store.Target{Address: addr, Creds: saNoProject},
			"the store needs a projectID header with a service-account token: add --project-id=ID, --grpc-headers=projectID=ID or env POLARSIGNALS_PROJECT_ID (store said: missing projectID)"},
		{"invalid argument, service-account token with a project", status.Error(codes.InvalidArgument, "bad type"), tls,
			"the store refused the request (store said: bad type)"},
		{"invalid argument, other token", status.Error(codes.InvalidArgument, "bad type"), store.Target{Address: addr, Creds: opaque},
			"the store refused the request (store said: bad type)"},
		{"size limit", status.Error(codes.InvalidArgument, "upload size 2000 exceeds maximum allowed size 1000"), tls,
			"file too large for this store: raise the store's limit (Parca: --debuginfo-upload-max-size) or upload a smaller debug file (store said: upload size 2000 exceeds maximum allowed size 1000)"},
		{"unavailable, certificate not trusted", status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store's TLS certificate is not trusted: pass --ca-file=CA.pem for a private CA (or, for tests only, --insecure-skip-verify) (connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority\")"},
		// A certificate's own faults are not mended by --ca-file (review s13-r5, finding 2).
		{"unavailable, certificate for another name", status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for store.example.com, not grpc.example.com\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store's TLS certificate is for another name than the host of --store-address: use the name it was issued for (the store's administrators can tell; an IP address needs an IP SAN) (connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate is valid for store.example.com, not grpc.example.com\")"},
		{"unavailable, certificate expired", status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-02T02:35:59Z is after 2020-02-01T00:00:00Z\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store's TLS certificate has expired or is not valid yet (or this machine's clock is wrong): the store's administrators must renew it (connection error: desc = \"transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate has expired or is not yet valid: current time 2026-12-02T02:35:59Z is after 2020-02-01T00:00:00Z\")"},
		{"unavailable, no HTTP/2 in ALPN", status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: credentials: cannot check peer: missing selected ALPN property\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store's TLS front end does not offer HTTP/2 (ALPN h2), which gRPC needs: a proxy or load balancer in front of the store must pass gRPC (HTTP/2) through (connection error: desc = \"transport: authentication handshake failed: credentials: cannot check peer: missing selected ALPN property\")"},
		{"unavailable, client certificate required", status.Error(codes.Unavailable, "connection error: desc = \"error reading server preface: remote error: tls: certificate required\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store's TLS front end demands a client certificate (mutual TLS), which debuginfo does not send (connection error: desc = \"error reading server preface: remote error: tls: certificate required\")"},
		{"unavailable, store speaks plaintext", status.Error(codes.Unavailable, "connection error: desc = \"transport: authentication handshake failed: tls: first record does not look like a TLS handshake\""), tls,
			"cannot connect to the store at grpc.example.com:443: the store speaks plaintext, not TLS: add --insecure (only on a trusted network) (connection error: desc = \"transport: authentication handshake failed: tls: first record does not look like a TLS handshake\")"},
		{"unavailable, no TLS evidence, retried", status.Error(codes.Unavailable, "connection refused"), store.Target{Address: "127.0.0.1:1", Insecure: true, Retried: true},
			"store unavailable at 127.0.0.1:1 (plaintext, gave up after retries): connection refused; check --store-address and that the store is running"},
		{"unavailable, no TLS evidence, one try", status.Error(codes.Unavailable, "connection refused"), tls,
			"store unavailable at grpc.example.com:443 (TLS): connection refused; check --store-address and that the store is running"},
		{"unavailable after the store answered", status.Error(codes.Unavailable, "mark failed"), store.Target{Address: addr, Creds: sa, Answered: true, Retried: true},
			"store unavailable at grpc.example.com:443 (TLS, gave up after retries): mark failed; it answered earlier calls of this run, so the address is right: it went down, is restarting or overloaded, or a proxy or load balancer in front of it is failing"},
		{"unavailable through a proxy", status.Error(codes.Unavailable, "connection refused"), store.Target{Address: addr, Creds: sa, Proxy: "10.0.0.1:3128"},
			"store unavailable at grpc.example.com:443 (TLS through the proxy 10.0.0.1:3128): connection refused; check the proxy (HTTPS_PROXY, or NO_PROXY to bypass it), --store-address and that the store is running"},
		{"deadline", status.Error(codes.DeadlineExceeded, "context deadline exceeded"), tls,
			"the call to grpc.example.com:443 did not finish in time (see --timeout): context deadline exceeded"},
		{"deadline from the store", status.Error(codes.DeadlineExceeded, "backend timed out"), tls,
			"the store at grpc.example.com:443 answered DeadlineExceeded itself (no --timeout of ours ran out) (store said: backend timed out)"},
		// Our deadline, enforced by a grpc-go store, which resets the stream (review s13-r5, finding 4).
		{"our deadline, enforced by the store", status.Error(codes.DeadlineExceeded, "stream terminated by RST_STREAM with error code: CANCEL"), store.Target{Address: addr, Creds: sa, OursRanOut: true},
			"the call to grpc.example.com:443 did not finish in time (see --timeout), and the store ended it (store said: stream terminated by RST_STREAM with error code: CANCEL)"},
		{"unimplemented", status.Error(codes.Unimplemented, "unknown service parca.debuginfo.v1alpha1.DebuginfoService"), tls,
			"grpc.example.com:443 does not serve this call of the Parca debuginfo API: check --store-address (store said: unknown service parca.debuginfo.v1alpha1.DebuginfoService)"},
		{"any other code", status.Error(codes.DataLoss, "disk on fire"), tls,
			"store error (DataLoss) from grpc.example.com:443 (store said: disk on fire)"},
		{"wrapped", errors.Join(errors.New("while asking"), status.Error(codes.PermissionDenied, "denied")), tls,
			"no Debug Info Writer role on project p1: bind the role to the service account (unscoped, or scoped to this project), and check the project ID (from --project-id) in the project settings (store said: denied)"},
		{"not a store answer", errors.New("signed URL PUT to h: 403 Forbidden: no"), tls,
			"signed URL PUT to h: 403 Forbidden: no"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := store.Explain(c.err, c.t)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got  %v\nwant %s", err, c.want)
			}
			if status.Code(err) != status.Code(c.err) {
				t.Errorf("code %v, want %v (the explanation wraps the answer)", status.Code(err), status.Code(c.err))
			}
			if again := store.Explain(err, store.Target{}); again.Error() != c.want {
				t.Errorf("explained twice: %v", again)
			}
		})
	}
	if store.Explain(nil, tls) != nil {
		t.Error("Explain(nil) is not nil")
	}
}

// TestExplainClipsLongMessages: a store answering with megabytes gets one
// kilobyte of its message repeated, cut at a character boundary.
func TestExplainClipsLongMessages(t *testing.T) {
	long := strings.Repeat("é", 2<<20) // 4 MiB, two bytes per character
	err := store.Explain(status.Error(codes.Internal, long), store.Target{Address: "h:1"})
	msg := err.Error()
	if len(msg) > 2048 || !strings.Contains(msg, "more bytes)") || !utf8.ValidString(msg) {
		t.Fatalf("%d bytes, valid UTF-8 %v: %.200q...", len(msg), utf8.ValidString(msg), msg)
	}
}

// TestExplainClipBoundaries: a message of exactly the limit is repeated
// whole; one over it is cut before the character that straddles the limit,
// with the count of what was left out; a message that is not UTF-8 at all
// is cut too, not a crash.
func TestExplainClipBoundaries(t *testing.T) {
	said := func(msg string) string {
		t.Helper()
		s := store.Explain(status.Error(codes.Internal, msg), store.Target{Address: "h:1"}).Error()
		i, j := strings.Index(s, "(store said: "), strings.LastIndex(s, ")")
		if i < 0 || j < i {
			t.Fatalf("no store message in %.200q", s)
		}
		return s[i+len("(store said: ") : j]
	}
	exact := strings.Repeat("a", 1024)
	if got := said(exact); got != exact {
		t.Errorf("a message of exactly 1024 bytes came back as %d bytes: %.80q...", len(got), got)
	}
	straddle := strings.Repeat("a", 1023) + "é" + strings.Repeat("b", 100) // é is bytes 1023 and 1024
	if got, want := said(straddle), strings.Repeat("a", 1023)+"... (102 more bytes)"; got != want {
		t.Errorf("clipped to %.60q... (%d bytes), want the 1023 a's and (102 more bytes)", got[max(0, len(got)-60):], len(got))
	}
	if got, want := said(strings.Repeat("\x80", 3000)), "... (3000 more bytes)"; got != want {
		t.Errorf("a message of continuation bytes only: %q, want %q", got, want)
	}
}

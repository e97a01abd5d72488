package store

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/capped"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

// Config says how to reach a gRPC store and how to talk to it; a file://
// store ignores it.
type Config struct {
	Insecure           bool   // plaintext (no TLS at all)
	InsecureSkipVerify bool   // TLS without certificate checks
	CAFile             string // PEM roots to trust instead of the system's
	// Creds supplies every call's metadata (nil: none). What it says about
	// the credentials tailors the explanation of a refusal (see Explain).
	Creds *creds.Provider
	// Compression compresses Upload stream messages (GzipCompression;
	// NoCompression or "" is none). Signed-URL PUTs are sent as they are.
	Compression string
	// Retry bounds the tries of a transient failure; a zero field takes
	// DefaultRetry's value.
	Retry Retry
	// CallTimeout bounds each unary call, so a hung store fails over to a
	// retry (zero: 30 s).
	CallTimeout time.Duration
	// Warn, when set, is told what the user should know but that fails
	// nothing (a plain http:// signed URL from a TLS store), once a run.
	Warn func(string)
	// Pool, when set, lends the gRPC connection: one per address and TLS
	// settings for the pool's life, and Close leaves it open (see Pool).
	Pool *Pool

	// reconnectDelay, when set, is gRPC's first reconnect backoff (its
	// default is 1 s, growing to 2 minutes); tests set it long to show that
	// nothing waits on it.
	reconnectDelay time.Duration
	// keepalive, when set, replaces keepaliveTime and keepaliveTimeout (tests).
	keepalive time.Duration
}

// IsFileAddress says whether address names the embedded file store.
func IsFileAddress(address string) bool { return strings.HasPrefix(address, "file://") }

// Open returns the store at address: file:///abs/dir for the embedded file
// store, else the gRPC service at host:port. A gRPC connection is made
// lazily: errors surface on the first call, retried like any other
// transient failure.
func Open(address string, cfg Config) (Store, error) {
	if err := CheckAddress(address); err != nil {
		return nil, err
	}
	if IsFileAddress(address) {
		u, _ := url.Parse(address) // CheckAddress parsed it
		return NewFile(u.Path)
	}
	return openGRPC(address, cfg)
}

// CheckAddress refuses a --store-address that cannot be one, before
// anything dials it: such an address would be retried for seconds and then
// blamed on name resolution or "too many colons". Refused are a pasted web
// address (or grpc://), host:port with a path, a query or a fragment, and
// a user name or password before an "@"; no message repeats what could be
// a secret: the address is printed in messages, build logs and stamp
// directory names, and credentials have their own flags. gRPC's own target
// schemes (dns:///host:port, unix:///path, unix:path) pass, and so does
// file:///absolute/dir, the embedded store.
func CheckAddress(address string) error {
	lower := strings.ToLower(address)
	switch {
	case strings.TrimSpace(address) == "":
		return errors.New("--store-address is empty: give the store's host:port, or file:///absolute/dir")
	case strings.TrimSpace(address) != address || strings.ContainsAny(address, " \t\r\n"):
		return errors.New("--store-address holds spaces or line breaks (a pasted value?): give host:port alone (value not shown)")
	case strings.HasPrefix(lower, "unix:") || strings.HasPrefix(lower, "unix-abstract:"):
		return nil // a socket path may hold anything
	case IsFileAddress(address):
		u, err := url.Parse(address)
		if err != nil || u.Host != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path == "" {
			return errors.New("--store-address: want file:///absolute/dir, with no host, user, query or fragment (value not shown)")
		}
		return nil
	case strings.HasPrefix(lower, "file://"):
		return errors.New("--store-address: write the embedded store's address in lower case: file:///absolute/dir")
	}
	scheme, rest, hasScheme := strings.Cut(address, "://")
	if !hasScheme {
		rest = address
	}
	host, path, hasPath := strings.Cut(rest, "/")
	if hasScheme && grpcSchemes[strings.ToLower(scheme)] {
		// dns://[authority]/host:port: the target is after the authority.
		authority := host
		host, path, hasPath = strings.Cut(path, "/")
		if strings.Contains(authority, "@") {
			host = authority
		}
	}
	if strings.Contains(host, "@") {
		return errors.New("--store-address must not hold a user name or password (\"user:password@\"): it is printed in messages and logs; " +
			"give the store's host:port, and the token with --bearer-token-file, the environment or a credential helper (docs/credentials.md)")
	}
	host, _, _ = strings.Cut(host, "?")
	host, _, _ = strings.Cut(host, "#")
	switch {
	case hasScheme && !grpcSchemes[strings.ToLower(scheme)]:
		return fmt.Errorf("--store-address takes host:port, not a URL: use %s (TLS is the default; --insecure for plaintext)", hostPort(host, !strings.EqualFold(scheme, "http")))
	case hasPath && path != "" || hasPath && !hasScheme || strings.ContainsAny(rest, "?#"):
		return fmt.Errorf("--store-address takes host:port, without a path, query or fragment: use %s", host)
	}
	return nil
}

// grpcSchemes are the target schemes grpc-go resolves.
var grpcSchemes = map[string]bool{"dns": true, "passthrough": true, "unix": true, "unix-abstract": true}

// hostPort is the host:port a pasted URL's host names.
func hostPort(host string, tls bool) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if tls {
		return net.JoinHostPort(strings.Trim(host, "[]"), "443")
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// perRPC is c as per-call credentials; nil (not a typed nil) for none.
func perRPC(c *creds.Provider) credentials.PerRPCCredentials {
	if c == nil {
		return nil
	}
	return c
}

// How long a connection may read nothing before the client pings the store,
// and how long the ping's answer may take before the connection is closed.
const (
	keepaliveTime    = 30 * time.Second
	keepaliveTimeout = 20 * time.Second
)

// dial connects lazily to a gRPC store; every call carries perRPC's
// metadata (nil: none).
func dial(address string, cfg Config, perRPC credentials.PerRPCCredentials) (*grpc.ClientConn, error) {
	var opts []grpc.DialOption
	if cfg.Insecure {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		tc := &tls.Config{InsecureSkipVerify: cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := readCA(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("--ca-file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--ca-file %s: no PEM certificates in it", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(tc)))
	}
	if perRPC != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(perRPC))
	}
	opts = append(opts, grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	// A connection a middlebox stopped forwarding (a NAT or load balancer
	// that lost its state) reads nothing ever again: without pings an
	// upload on it waited out the whole --timeout. With them it is closed
	// and the call retried on a new one. Pings go only while a call is
	// open and nothing has been read for keepaliveTime: a healthy upload
	// keeps reading the store's flow-control updates. (A grpc-go server
	// such as Parca closes a connection pinged three times in a row with
	// nothing sent back, about 90 s of silence: that call is retried too.)
	ka := keepalive.ClientParameters{Time: keepaliveTime, Timeout: keepaliveTimeout}
	if cfg.keepalive > 0 {
		ka.Time, ka.Timeout = cfg.keepalive, cfg.keepalive
	}
	opts = append(opts, grpc.WithKeepaliveParams(ka))
	if cfg.reconnectDelay > 0 {
		b := backoff.DefaultConfig
		b.BaseDelay, b.MaxDelay = cfg.reconnectDelay, cfg.reconnectDelay
		opts = append(opts, grpc.WithConnectParams(grpc.ConnectParams{Backoff: b, MinConnectTimeout: time.Second}))
	}
	conn, err := grpc.NewClient(address, opts...)
	if err != nil {
		return nil, fmt.Errorf("store address %q: %w", address, err)
	}
	return conn, nil
}

// proxyFor names the proxy (host:port, never its credentials) that gRPC
// goes through to reach address, "" for none. It asks what grpc-go's
// resolver asks: HTTPS_PROXY and NO_PROXY for an https URL of the target
// (so loopback targets are never proxied), TCP targets only.
func proxyFor(address string) string {
	host := address
	if scheme, rest, ok := strings.Cut(address, "://"); ok {
		if !strings.EqualFold(scheme, "dns") && !strings.EqualFold(scheme, "passthrough") {
			return ""
		}
		host = rest[strings.LastIndex(rest, "/")+1:]
	}
	p, err := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: "https", Host: host}})
	if err != nil || p == nil {
		return ""
	}
	return p.Host
}

// maxCAFile bounds --ca-file (a full system bundle is well under 1 MiB), so
// a path like /dev/zero fails instead of reading without end.
const maxCAFile = 16 << 20

func readCA(path string) ([]byte, error) {
	return capped.ReadFile(path, maxCAFile, "a PEM bundle")
}

package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

// Pool keeps gRPC connections open across Opens (Config.Pool): one per
// store address and TLS settings for the pool's life, instead of a
// connection per command. Credentials stay per Open: a connection's calls
// carry the credentials of the store it is lent to, and it is lent to one
// store at a time (an Open while another store holds it is refused), so
// two stores' calls never share a connection and never mix credentials.
// A Pool is safe for concurrent use; the zero value is ready.
type Pool struct {
	// Log, when set, receives one line per new connection (never a token).
	Log io.Writer

	mu     sync.Mutex
	conns  map[poolKey]*pooledConn
	closed bool
}

// poolKey is what a connection was made with. The CA file is keyed by its
// content as well, so a rewritten file gets a connection of its own.
type poolKey struct {
	address                      string
	insecure, insecureSkipVerify bool
	caFile                       string
	caSum                        [sha256.Size]byte
}

type pooledConn struct {
	conn  *grpc.ClientConn
	creds *switchedCreds
	// lent is the lease of the store now using conn (nil: none).
	lent *int
}

// errPoolClosed is an Open through a Pool that was closed.
var errPoolClosed = errors.New("store: connection pool closed")

// lease lends the connection for address and cfg's TLS settings, dialling
// it on first use, with cfg.Creds as its per-call credentials until
// release is called.
func (p *Pool) lease(address string, cfg Config) (conn *grpc.ClientConn, release func(), err error) {
	key := poolKey{address: address, insecure: cfg.Insecure, insecureSkipVerify: cfg.InsecureSkipVerify, caFile: cfg.CAFile}
	if cfg.CAFile != "" && !cfg.Insecure {
		pem, err := readCA(cfg.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("--ca-file: %w", err)
		}
		key.caSum = sha256.Sum256(pem)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, nil, errPoolClosed
	}
	c, ok := p.conns[key]
	if !ok {
		sc := &switchedCreds{}
		// The connection outlives this Open; its calls carry whichever
		// store's credentials it is lent to.
		conn, err := dial(address, cfg, sc)
		if err != nil {
			return nil, nil, err
		}
		c = &pooledConn{conn: conn, creds: sc}
		if p.conns == nil {
			p.conns = map[poolKey]*pooledConn{}
		}
		p.conns[key] = c
		if p.Log != nil {
			fmt.Fprintf(p.Log, "debuginfo worker: new store connection %d to %s\n", len(p.conns), creds.RedactPatterns(address))
		}
	}
	if c.lent != nil {
		return nil, nil, fmt.Errorf("store: the pooled connection to %s is in use by another store (a pool lends a connection to one store at a time, so that calls never carry another's credentials)", address)
	}
	if ok && c.conn.GetState() == connectivity.TransientFailure {
		// A connection kept from an earlier store may sit in gRPC's reconnect
		// backoff (up to two minutes) since the store was last down, failing
		// every call at once: this store reconnects now, as a fresh process
		// would, and its first call waits for that try (briefly).
		c.conn.ResetConnectBackoff()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.conn.WaitForStateChange(ctx, connectivity.TransientFailure)
		cancel()
	}
	lent := new(int)
	c.lent = lent
	c.creds.set(perRPC(cfg.Creds))
	release = func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if c.lent == lent { // a second Close of the same store is a no-op
			c.lent = nil
			c.creds.set(nil)
		}
	}
	return c.conn, release, nil
}

// Len is the number of connections the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close closes every connection; a later Open through the pool fails.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for k, c := range p.conns {
		errs = append(errs, c.conn.Close())
		delete(p.conns, k)
	}
	return errors.Join(errs...)
}

// switchedCreds forwards to the per-call credentials of the store the
// connection is lent to.
type switchedCreds struct {
	mu  sync.Mutex
	cur credentials.PerRPCCredentials
}

func (s *switchedCreds) set(c credentials.PerRPCCredentials) {
	s.mu.Lock()
	s.cur = c
	s.mu.Unlock()
}

func (s *switchedCreds) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	s.mu.Lock()
	c := s.cur
	s.mu.Unlock()
	if c == nil {
		return nil, nil
	}
	return c.GetRequestMetadata(ctx, uri...)
}

// RequireTransportSecurity is false like creds.Provider's: plaintext is
// only ever the user's explicit --insecure, which is part of the pool key.
func (s *switchedCreds) RequireTransportSecurity() bool { return false }

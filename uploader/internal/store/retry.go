package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retry bounds the attempts made for transient failures.
type Retry struct {
	Attempts int           // total tries, at least 1
	Base     time.Duration // first backoff
	Max      time.Duration // backoff ceiling
}

// DefaultRetry rides out a store that is down for several seconds
// (about 15 s of backoff in all) without hammering it.
var DefaultRetry = Retry{Attempts: 6, Base: 500 * time.Millisecond, Max: 8 * time.Second}

// orDefault fills r's zero fields from DefaultRetry.
func (r Retry) orDefault() Retry {
	if r.Attempts <= 0 {
		r.Attempts = DefaultRetry.Attempts
	}
	if r.Base <= 0 {
		r.Base = DefaultRetry.Base
	}
	if r.Max <= 0 {
		r.Max = DefaultRetry.Max
	}
	return r
}

// transient is an error worth another try.
type transient struct{ err error }

func (t *transient) Error() string { return t.err.Error() }
func (t *transient) Unwrap() error { return t.err }

// Transient marks err as retryable.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return &transient{err}
}

// final marks an error as already retried by an inner loop.
type final struct{ err error }

func (f *final) Error() string { return f.err.Error() }
func (f *final) Unwrap() error { return f.err }

// retryable says whether a call may succeed if repeated: transient gRPC
// codes and errors marked Transient. Permanent answers (bad argument, no
// permission, unknown token, size limit) are never retried.
func retryable(err error) bool {
	var f *final
	if errors.As(err, &f) {
		return false
	}
	var t *transient
	if errors.As(err, &t) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable:
		return tlsHint(err) == "" // a TLS mismatch does not heal by waiting
	case codes.DeadlineExceeded, codes.ResourceExhausted, codes.Aborted, codes.Internal:
		return true
	}
	return false
}

// tlsHint says what to change when err is a TLS set-up mismatch rather
// than a store that is down ("" otherwise). Only the TLS handshake's own
// errors count: a store that resets or closes a plaintext connection may
// just be restarting, so that is retried (see GRPC.unary for how a TLS
// store reached with --insecure is recognised).
func tlsHint(err error) string {
	var h *hinted
	if errors.As(err, &h) {
		return h.hint
	}
	m := err.Error()
	// Two TLS front ends that answer but can never carry gRPC (review
	// s13-r5, finding 3): retrying them only delayed this.
	switch {
	case strings.Contains(m, "missing selected ALPN property"):
		return "the store's TLS front end does not offer HTTP/2 (ALPN h2), which gRPC needs: a proxy or load balancer in front of the store must pass gRPC (HTTP/2) through"
	case strings.Contains(m, "tls: certificate required"):
		return "the store's TLS front end demands a client certificate (mutual TLS), which debuginfo does not send"
	}
	if !strings.Contains(m, "authentication handshake failed") {
		return ""
	}
	switch {
	case strings.Contains(m, "first record does not look like a TLS handshake"):
		return "the store speaks plaintext, not TLS: add --insecure (only on a trusted network)"
	// The certificate's own faults first: another CA file does not mend them.
	case strings.Contains(m, "x509: certificate is valid for") || strings.Contains(m, "doesn't contain any IP SANs") ||
		strings.Contains(m, "x509: cannot validate certificate for"):
		return "the store's TLS certificate is for another name than the host of --store-address: use the name it was issued for (the store's administrators can tell; an IP address needs an IP SAN)"
	case strings.Contains(m, "x509: certificate has expired or is not yet valid"):
		return "the store's TLS certificate has expired or is not valid yet (or this machine's clock is wrong): the store's administrators must renew it"
	case strings.Contains(m, "x509:") || strings.Contains(m, "tls: failed to verify certificate"):
		return "the store's TLS certificate is not trusted: pass --ca-file=CA.pem for a private CA (or, for tests only, --insecure-skip-verify)"
	case strings.Contains(m, "tls:"):
		return "the TLS handshake failed: check --insecure, --ca-file and the store address"
	}
	return ""
}

// hinted is an error with evidence of a TLS mismatch found another way.
type hinted struct {
	hint string
	err  error
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// do runs f until it succeeds, fails permanently, runs out of attempts or
// ctx ends. f learns which attempt it is (0-based).
func (r Retry) do(ctx context.Context, f func(attempt int) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = f(attempt)
		if err == nil || !retryable(err) || attempt+1 >= max(r.Attempts, 1) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(r.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// backoff doubles from Base up to Max with "equal jitter": half fixed, half
// random, so retrying clients spread out but never retry immediately.
func (r Retry) backoff(attempt int) time.Duration {
	d := r.Base << min(attempt, 20)
	if d > r.Max || d <= 0 {
		d = r.Max
	}
	half := d / 2
	return half + rand.N(half+1)
}

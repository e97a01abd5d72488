package cli

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestAddFlags(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	o := addCredFlags(fs)
	err := fs.Parse([]string{"--bearer-token-file=/f", "--grpc-headers=a=1;b=2", "--grpc-headers=c=3", "--project-id=p",
		"--credential-helper=/h", "--credential-helper=*.example.com=/w", "--credential-helper-timeout=3s"})
	if err != nil {
		t.Fatal(err)
	}
	if o.BearerTokenFile != "/f" || len(o.GRPCHeaders) != 2 || o.ProjectID != "p" || len(o.CredentialHelpers) != 2 || o.CredentialHelperTimeout.String() != "3s" {
		t.Errorf("options = %+v", o)
	}
}

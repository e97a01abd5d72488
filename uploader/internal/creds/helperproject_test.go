package creds

import (
	"context"
	"strings"
	"testing"
)

// --project-id beats the project a credential helper answers with, both in
// what is sent and in what the summary (and `auth check`) says.
func TestProjectFlagBeatsHelperProject(t *testing.T) {
	h := script(t, `echo '{"headers": {"Authorization": ["Bearer `+saToken+`"], "projectID": ["proj-h"]}}'`)
	p, err := Resolve(&Options{CredentialHelpers: []string{h}, ProjectID: "p1"}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	md, err := p.GetRequestMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if md[ProjectHeader] != "p1" {
		t.Errorf("sent projectid %q, want p1", md[ProjectHeader])
	}
	if s := p.Summary(); !strings.HasSuffix(s, "; project p1 from --project-id") {
		t.Errorf("summary %q, want the project from --project-id", s)
	}
}

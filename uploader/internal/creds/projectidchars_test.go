package creds

import (
	"strings"
	"testing"
)

// --project-id is trimmed like env POLARSIGNALS_PROJECT_ID; a control
// character left inside is refused at once (it passed, and gRPC refused it
// only at the first call, after ~10 s of retries, blamed on the store).
func TestProjectIDFlagTrimmedAndChecked(t *testing.T) {
	for _, v := range []string{"proj-a\n", " proj-a\r\n", "\tproj-a"} {
		p, err := Resolve(&Options{ProjectID: v, BearerToken: saToken}, "h:443", true, env())
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if md, _ := p.GetRequestMetadata(t.Context()); md[ProjectHeader] != "proj-a" || p.Info().ProjectID != "proj-a" {
			t.Errorf("%q: projectid %q", v, md[ProjectHeader])
		}
	}
	// Trimmed before the comparison with --grpc-headers.
	if _, err := Resolve(&Options{ProjectID: "proj-a\n", GRPCHeaders: []string{"projectID=proj-a"}, BearerToken: saToken}, "h:443", true, env()); err != nil {
		t.Errorf("trimmed --project-id vs --grpc-headers: %v", err)
	}
	for _, v := range []string{"zq7\nzq8", "zq7zq8\x00", "zq7\x7fzq8", "zq7é"} {
		_, err := Resolve(&Options{ProjectID: v, BearerToken: saToken}, "h:443", true, env())
		if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), "--project-id has characters gRPC cannot send") || strings.Contains(err.Error(), "zq7") {
			t.Errorf("%q: err = %v, want a usage error without the value", v, err)
		}
		_, err = Resolve(&Options{BearerToken: saToken}, "h:443", true, env(EnvProjectID, v))
		if err == nil || IsUsage(err) || !strings.Contains(err.Error(), "env POLARSIGNALS_PROJECT_ID has characters gRPC cannot send") {
			t.Errorf("env %q: err = %v", v, err)
		}
	}
}

// A --project-id that is only whitespace is a usage error, not a silent
// "no project" (an empty secret but for its newline).
func TestProjectIDFlagOnlyWhitespace(t *testing.T) {
	_, err := Resolve(&Options{ProjectID: "\n", BearerToken: saToken}, "h:443", true, env())
	if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), "--project-id is only whitespace") {
		t.Errorf("err = %v", err)
	}
}

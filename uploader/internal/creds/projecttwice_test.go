package creds

import (
	"strings"
	"testing"
)

// projectID given twice with different values used to take the last one
// silently, whichever flag or case it came in: an upload to a project
// nobody chose. The same value twice is harmless.
func TestProjectIDTwiceIsRefused(t *testing.T) {
	for _, h := range [][]string{
		{"projectID=proj-a", "projectID=proj-b"},
		{"projectID=proj-b;projectID=proj-a"},
		{"PROJECTID=proj-b", "projectID=proj-a"},
		{"x-a=1;ProjectId=proj-b;x-b=2", "projectid=proj-a"},
	} {
		_, err := Resolve(&Options{GRPCHeaders: h}, "h:443", true, env())
		if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), "projectID is given more than once with different values") {
			t.Errorf("%q: err = %v, want a usage error", h, err)
			continue
		}
		if strings.Contains(err.Error(), "proj-") {
			t.Errorf("%q: the error shows a value: %v", h, err)
		}
	}
	p, err := Resolve(&Options{GRPCHeaders: []string{"projectID=proj-a", "PROJECTID=proj-a"}, ProjectID: "proj-a"}, "h:443", true, env())
	if err != nil || p.Info().ProjectID != "proj-a" {
		t.Errorf("the same projectID twice: %v", err)
	}
	// A dry run reads the other headers' values all the same.
	if v := (&Options{GRPCHeaders: []string{"projectID=a;x-api-key=k3y-value", "projectID=b"}}).Values(env()); !strings.Contains(strings.Join(v, " "), "k3y-value") {
		t.Errorf("Values = %q, want the api key", v)
	}
}

// A helper answering two projects is refused: joined, "a, b" is no project.
func TestHelperTwoProjectIDsIsRefused(t *testing.T) {
	h := script(t, `cat >/dev/null
echo '{"headers": {"Authorization": ["Bearer `+saToken+`"], "projectID": ["proj-a", "proj-b"]}}'`)
	_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err == nil || !strings.Contains(err.Error(), "returned 2 projectID values: one project per run") {
		t.Errorf("err = %v, want two projects refused", err)
	}
	h = script(t, `cat >/dev/null
echo '{"headers": {"Authorization": ["Bearer `+saToken+`"], "projectID": ["proj-a", "proj-a"]}}'`)
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil || p.Info().ProjectID != "proj-a" {
		t.Errorf("one project twice: %v %+v", err, p)
	}
}

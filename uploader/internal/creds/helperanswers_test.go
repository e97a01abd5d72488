package creds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Wrong helper answers get the explanation of what is wrong with them,
// not one about the token (they read "opaque bearer token", then "token
// unknown or revoked", or "whitespace at character 66").
func TestHelperWrongAnswersExplained(t *testing.T) {
	for _, tc := range []struct {
		name, headers, want string
	}{
		{"bare token", `"Authorization": ["` + saToken + `"], "projectID": ["p"]`, `returned an Authorization value without the "Bearer " prefix`},
		{"bare opaque word", `"Authorization": ["s3cr3t-w0rd-value"]`, `without the "Bearer " prefix`},
		{"two tokens", `"Authorization": ["Bearer ` + saToken + `", "Bearer ` + jwtToken + `"], "projectID": ["p"]`, "returned 2 Authorization values, one is expected"},
		// One header in two spellings (a review saw either token used,
		// by map order).
		{"two spellings", `"Authorization": ["Bearer ` + saToken + `"], "authorization": ["Bearer ` + jwtToken + `"], "projectID": ["p"]`, "returned 2 Authorization values, one is expected"},
		{"two projects in two spellings", `"Authorization": ["Bearer ` + saToken + `"], "projectID": ["p"], "PROJECTID": ["q"]`, "returned 2 projectID values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := script(t, "cat >/dev/null\necho '{\"headers\": {"+tc.headers+"}}'\n")
			_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			for _, s := range []string{saToken[7:20], jwtToken[:20], "s3cr3t-w0rd"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a value: %v", err)
				}
			}
		})
	}
	// The same token twice is one token.
	h := script(t, "cat >/dev/null\necho '{\"headers\": {\"Authorization\": [\"Bearer tok-1234567890\", \"Bearer tok-1234567890\"]}}'\n")
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if md, _ := p.GetRequestMetadata(context.Background()); md["authorization"] != "Bearer tok-1234567890" {
		t.Errorf("authorization %q", md["authorization"])
	}
}

// No Authorization header at all: no token, and a warning that says so.
// A helper may serve a proxy's own header (x-api-key), so it is no error.
func TestHelperWithoutAuthorizationWarns(t *testing.T) {
	h := script(t, "cat >/dev/null\necho '{\"headers\": {\"projectID\": [\"proj-a\"]}}'\n")
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if k := p.Info().Kind; k != KindNone {
		t.Errorf("kind %q, want %q", k, KindNone)
	}
	if w := strings.Join(p.Warnings(), "\n"); !strings.Contains(w, "credential helper "+h+" returned no Authorization header (only projectid): no token is sent") {
		t.Errorf("warnings = %q", w)
	}
}

// An answer already expired is used, with one warning, and the helper is
// not run again at every call (it ran 3 times for one file).
func TestHelperExpiredAnswerWarnsAndRunsOnce(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	h := script(t, fmt.Sprintf(`cat >/dev/null; echo x >> %s
echo '{"headers": {"Authorization": ["Bearer %s"], "projectID": ["p"]}, "expires": "2001-01-01T00:00:00Z"}'
`, count, saToken))
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	w := p.Warnings()
	if len(w) != 1 || !strings.Contains(w[0], `answered with "expires" 2001-01-01T00:00:00Z, already past: its headers are used`) {
		t.Errorf("warnings = %q", w)
	}
	for range 5 {
		if md, err := p.GetRequestMetadata(context.Background()); err != nil || md["authorization"] != "Bearer "+saToken {
			t.Fatalf("metadata %v, %v", err, md["authorization"] != "")
		}
	}
	if b, _ := os.ReadFile(count); strings.Count(string(b), "x") != 1 {
		t.Errorf("the helper ran %d times, want 1", strings.Count(string(b), "x"))
	}
}

package creds

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTokenShapesFromFiles: what an editor or an env file leaves in a token
// file (review s13-r1, findings 5 and 7). A leading byte-order mark is
// dropped; NAME=<token> is refused, saying why; an upper-cased
// service-account token is sent as issued, in lower case, with a warning; a
// character gRPC cannot send is refused before anything is sent. None of the
// messages holds the token.
func TestTokenShapesFromFiles(t *testing.T) {
	dir := t.TempDir()
	upper := "psc_v1_" + strings.ToUpper(strings.TrimPrefix(saToken, "psc_v1_"))
	for _, c := range []struct {
		name, content string
		wantErr       string // "" for none
		wantWarning   string
	}{
		{"byte-order mark", "\ufeff" + saToken + "\r\n", "", ""},
		{"env file line", "POLARSIGNALS_TOKEN=" + saToken + "\n", "holds a line NAME=<token> (of an env or YAML file?)", ""},
		{"env file line, quoted", `PARCA_TOKEN="` + jwtToken + `"`, "holds a line NAME=<token>", ""},
		{"shell export", "export POLARSIGNALS_TOKEN=" + saToken, "holds a line NAME=<token>", ""},
		{"YAML", "token: " + saToken, "holds a line NAME:<token>", ""},
		{"UTF-16", "\xff\xfep\x00s\x00c\x00", "is UTF-16", ""},
		{"upper case", upper, "", "sent in lower case"},
		{"typographic quote", "\u201c" + saToken + "\u201d", "not ASCII (U+201C) at character 1", ""},
		{"byte-order mark inside", "ab\ufeffcdefgh", "byte-order mark (U+FEFF) at character 3", ""},
		// Review s13-r5's left-over shapes, once sent as opaque tokens.
		{"declare -x", `declare -x POLARSIGNALS_TOKEN="` + saToken + `"`, "contains a space at character 8", ""},
		{"header line", "Authorization: Bearer " + saToken, "is a header line", ""},
		{"JSON", `{"token": "` + saToken + `"}`, `contains '{' at character 1`, ""},
		{"quoted", `'` + saToken + `'`, "contains a quote (') at character 1", ""},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
		if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		p, err := ResolveContext(context.Background(), &Options{BearerTokenFile: path, ProjectID: "p1"}, "store.example", true, env())
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
			continue
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%s: err = %v, want %q", c.name, err, c.wantErr)
			continue
		case err != nil:
			if strings.Contains(err.Error(), "0123456789abcdef0123") || strings.Contains(err.Error(), jwtToken) {
				t.Errorf("%s: the error shows the token: %v", c.name, err)
			}
			continue
		}
		md, err := p.GetRequestMetadata(context.Background())
		if err != nil || md["authorization"] != "Bearer "+saToken {
			t.Errorf("%s: sends %q (%v), want the token as issued", c.name, md["authorization"], err)
		}
		warnings := strings.Join(p.Warnings(), "\n")
		if c.wantWarning != "" && !strings.Contains(warnings, c.wantWarning) {
			t.Errorf("%s: warnings %q, want %q", c.name, warnings, c.wantWarning)
		}
		if strings.Contains(strings.ToLower(warnings), "0123456789abcdef0123") {
			t.Errorf("%s: a warning shows the token: %s", c.name, warnings)
		}
	}
}

// The same shapes from a flag or the environment, where no file name can
// explain them: refused before anything is sent, never repeated.
func TestOpaqueTokenSyntax(t *testing.T) {
	for _, c := range []struct{ tok, wantErr string }{
		{"my0paque+Tok/en=ValueXyz", ""},
		{"abc.def~ghi_jkl-mno==", ""},
		{"POLARSIGNALS_TOKEN=" + saToken, "is a line NAME=<token>"},
		{"POLARSIGNALS_TOKEN=psc_v1_0123456789abcdef", "is a line NAME=<token>"}, // a malformed token is no token either
		{"export T=" + jwtToken, "is a line NAME=<token>"},
		{`"` + jwtToken + `"`, "quote"},
		{"tok en-with-space1234", "space at character 4"},
		{"user:secretpassword9", `contains ':' at character 5`},
	} {
		_, err := Resolve(&Options{BearerToken: c.tok, ProjectID: "p1"}, "store.example", true, env())
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%q: %v", c.tok, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: err = %v, want %q", c.tok, err, c.wantErr)
		case err != nil && (strings.Contains(err.Error(), "secretpassword") || strings.Contains(err.Error(), "0123456789abcdef0123")):
			t.Errorf("%q: the error shows the token: %v", c.tok, err)
		}
	}
}

// A service-account token upper-cased as a whole (prefix too) is one all
// the same: its project is needed, and it is sent as issued, in lower case.
func TestUpperCasedServiceAccountToken(t *testing.T) {
	shout := strings.ToUpper(saToken)
	if _, err := Resolve(&Options{BearerToken: shout}, "store.example", true, env()); err == nil || !strings.Contains(err.Error(), "--project-id") {
		t.Errorf("without a project: %v, want the project asked for", err)
	}
	p, err := Resolve(&Options{BearerToken: shout, ProjectID: "p1"}, "store.example", true, env())
	if err != nil {
		t.Fatal(err)
	}
	md, err := p.GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer "+saToken {
		t.Errorf("sends %q (%v), want the token in lower case", md["authorization"], err)
	}
}

package creds

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	saToken = "psc_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

var jwtToken = func() string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + e([]byte(`{"project_id":"p1"}`)) + "." + e([]byte("signature-bytes"))
}()

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name, tok string
		kind      Kind
		errWant   string
	}{
		{"empty", "", KindNone, ""},
		{"service account", saToken, KindServiceAccount, ""},
		{"service account upper hex", ServiceAccountPrefix + strings.ToUpper(saToken[7:]), KindServiceAccount, ""},
		{"sa short", saToken[:len(saToken)-1], KindServiceAccount, "followed by 64 hex characters, this one has 63"},
		{"sa long", saToken + "0", KindServiceAccount, "this one has 65"},
		{"sa non-hex", saToken[:10] + "g" + saToken[11:], KindServiceAccount, "character 4 after psc_v1_ is not a hex digit (0-9, a-f as issued; A-F is accepted too)"},
		{"sa inner space", saToken[:20] + " " + saToken[21:], KindServiceAccount, "whitespace at character 14"},
		{"sa trailing newline", saToken + "\n", "", "line break at its end"},
		{"sa inner newline", saToken[:20] + "\n" + saToken[20:], "", "line break at character 21"},
		{"bearer prefix", "Bearer " + saToken, "", `"Bearer " prefix`},
		{"jwt", jwtToken, KindLegacyJWT, ""},
		{"three dots not jwt", "abc.def.ghi", KindOpaque, ""},
		{"opaque", "s3cr3t-proxy-token", KindOpaque, ""},
		{"control char", "abc\x01def", "", "control character at character 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := Classify(tc.tok)
			if tc.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWant) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.errWant)
				}
				if strings.Contains(err.Error(), saToken[7:20]) {
					t.Fatalf("error shows the token: %v", err)
				}
				return
			}
			if err != nil || kind != tc.kind {
				t.Fatalf("Classify = %q, %v; want %q", kind, err, tc.kind)
			}
		})
	}
}

func writeFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestResolvePrecedence(t *testing.T) {
	file := writeFile(t, "  file-token-abcdefgh1234\n\n", 0o600)
	openFile := writeFile(t, saToken+"\n", 0o644)
	emptyFile := writeFile(t, " \n", 0o600)
	for _, tc := range []struct {
		name       string
		opts       Options
		env        func(string) string
		wantAuth   string // authorization metadata, "" for none
		wantProj   string
		wantSource string
		wantKind   Kind
		wantWarn   string
		wantErr    string
	}{
		{name: "nothing", env: env(), wantKind: KindNone},
		{name: "flag beats all", opts: Options{BearerToken: "flag-token-abcdefgh", BearerTokenFile: file},
			env: env(EnvBearerToken, "e1", EnvPolarSignalsTok, "e2"), wantAuth: "Bearer flag-token-abcdefgh", wantSource: "--bearer-token", wantKind: KindOpaque,
			wantWarn: "--bearer-token-file " + file + ", env PARCA_DEBUGINFO_BEARER_TOKEN and env POLARSIGNALS_TOKEN hold different tokens, which are ignored: --bearer-token comes first"},
		{name: "file trimmed", opts: Options{BearerTokenFile: file}, env: env(EnvBearerToken, "e1"),
			wantAuth: "Bearer file-token-abcdefgh1234", wantSource: "--bearer-token-file " + file, wantKind: KindOpaque,
			wantWarn: "env PARCA_DEBUGINFO_BEARER_TOKEN holds a different token, which is ignored: --bearer-token-file " + file + " comes first"},
		{name: "parca env before polarsignals env", env: env(EnvBearerToken, "env-one-token", EnvPolarSignalsTok, "env-two-token"),
			wantAuth: "Bearer env-one-token", wantSource: "env " + EnvBearerToken, wantKind: KindOpaque,
			wantWarn: "env POLARSIGNALS_TOKEN holds a different token, which is ignored: env PARCA_DEBUGINFO_BEARER_TOKEN comes first"},
		{name: "polarsignals env", env: env(EnvPolarSignalsTok, saToken, EnvProjectID, "proj-env"),
			wantAuth: "Bearer " + saToken, wantProj: "proj-env", wantSource: "env " + EnvPolarSignalsTok, wantKind: KindServiceAccount},
		{name: "token file env", env: env(EnvTokenFile, file), wantAuth: "Bearer file-token-abcdefgh1234", wantSource: "env " + EnvTokenFile + " " + file, wantKind: KindOpaque},
		{name: "sa without project", opts: Options{BearerToken: saToken}, env: env(),
			wantErr: "add --project-id=ID, --grpc-headers=projectID=ID or env POLARSIGNALS_PROJECT_ID"},
		{name: "sa with project flag", opts: Options{BearerToken: saToken, ProjectID: "p1"}, env: env(EnvProjectID, "other"),
			wantAuth: "Bearer " + saToken, wantProj: "p1", wantKind: KindServiceAccount, wantSource: "--bearer-token"},
		{name: "sa with grpc header", opts: Options{BearerToken: saToken, GRPCHeaders: []string{"projectID=p2;x-extra=1", "x-more=a=b"}}, env: env(),
			wantAuth: "Bearer " + saToken, wantProj: "p2", wantKind: KindServiceAccount, wantSource: "--bearer-token"},
		{name: "project flags disagree", opts: Options{ProjectID: "a", GRPCHeaders: []string{"projectID=b"}}, env: env(), wantErr: "disagree"},
		{name: "malformed sa", opts: Options{BearerToken: saToken + "ff", ProjectID: "p"}, env: env(), wantErr: "this one has 66"},
		{name: "sa with newline from env", env: env(EnvPolarSignalsTok, saToken+"\n", EnvProjectID, "p"), wantErr: "env POLARSIGNALS_TOKEN: the token contains a line break at its end"},
		{name: "jwt warns", opts: Options{BearerToken: jwtToken}, env: env(),
			wantAuth: "Bearer " + jwtToken, wantKind: KindLegacyJWT, wantSource: "--bearer-token", wantWarn: "legacy project token"},
		{name: "open file warns", opts: Options{BearerTokenFile: openFile, ProjectID: "p"}, env: env(),
			wantAuth: "Bearer " + saToken, wantProj: "p", wantKind: KindServiceAccount, wantSource: "--bearer-token-file " + openFile, wantWarn: "readable by group or others (mode 0644)"},
		{name: "empty file", opts: Options{BearerTokenFile: emptyFile}, env: env(), wantErr: "is empty"},
		{name: "missing file", opts: Options{BearerTokenFile: "/nonexistent/tok"}, env: env(), wantErr: "no such file"},
		{name: "bad header", opts: Options{GRPCHeaders: []string{"novalue"}}, env: env(), wantErr: "entry 1 is not key=value"},
		{name: "auth via header", opts: Options{GRPCHeaders: []string{"authorization=Bearer " + saToken + ";projectID=p"}}, env: env(),
			wantAuth: "Bearer " + saToken, wantProj: "p", wantKind: KindServiceAccount, wantSource: "--grpc-headers authorization"},
		{name: "auth twice", opts: Options{BearerToken: "x-token-12345678", GRPCHeaders: []string{"authorization=Bearer y"}}, env: env(), wantErr: "keep one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Resolve(&tc.opts, "grpc.example.com:443", true, tc.env)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), saToken[7:]) {
					t.Fatalf("error shows the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			md, err := p.GetRequestMetadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if md["authorization"] != tc.wantAuth || md[ProjectHeader] != tc.wantProj {
				t.Errorf("metadata = %q, want authorization %q projectid %q", md, tc.wantAuth, tc.wantProj)
			}
			info := p.Info()
			if info.Kind != tc.wantKind || info.Source != tc.wantSource {
				t.Errorf("info = %+v, want kind %q source %q", info, tc.wantKind, tc.wantSource)
			}
			warns := strings.Join(p.Warnings(), "\n")
			if tc.wantWarn == "" && warns != "" || !strings.Contains(warns, tc.wantWarn) {
				t.Errorf("warnings = %q, want %q", warns, tc.wantWarn)
			}
			if len(p.Warnings()) > 1 {
				t.Errorf("more than one warning: %q", p.Warnings())
			}
		})
	}
}

func TestSummaryAndRedact(t *testing.T) {
	p, err := Resolve(&Options{BearerToken: saToken, ProjectID: "proj-42"}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	want := "service-account token ...cdef from --bearer-token; project proj-42 from --project-id"
	if got := p.Summary(); got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
	for _, tc := range []struct{ in, want string }{
		{"rpc error: bad token " + saToken + " here", "rpc error: bad token [REDACTED] here"},
		{"authorization: Bearer " + saToken, "authorization: Bearer [REDACTED]"},
		{"the bearer token file is empty", "the bearer token file is empty"},
		{"unknown Bearer abcdefgh12345678", "unknown Bearer [REDACTED]"},
		{"jwt " + jwtToken + ".", "jwt [REDACTED]."},
		{"psc_v1_deadbeef", "[REDACTED]"},
		{"no secrets", "no secrets"},
	} {
		if got := p.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// An opaque token has no recognisable shape: only the list catches it.
	p, err = Resolve(&Options{BearerToken: "hunter2-opaque"}, "127.0.0.1:1", false, env())
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Redact("denied for hunter2-opaque"); got != "denied for [REDACTED]" {
		t.Errorf("Redact = %q", got)
	}
	if s := p.Summary(); strings.Contains(s, "hunter2") || s != "opaque bearer token from --bearer-token; no project" {
		t.Errorf("Summary = %q", s)
	}
	if len(p.Warnings()) != 0 {
		t.Errorf("loopback plaintext warned: %q", p.Warnings())
	}
	p, _ = Resolve(&Options{BearerToken: "hunter2-opaque"}, "store.example.com:80", false, env())
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "without TLS") {
		t.Errorf("plaintext warnings = %q", w)
	}
	// A custom header is a credential too (x-api-key); projectID alone is not.
	p, _ = Resolve(&Options{GRPCHeaders: []string{"x-api-key=SeCrEtKeY99"}}, "store.example.com:80", false, env())
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "without TLS") {
		t.Errorf("plaintext warnings with x-api-key = %q", w)
	}
	p, _ = Resolve(&Options{ProjectID: "p1"}, "store.example.com:80", false, env())
	if w := p.Warnings(); len(w) != 0 {
		t.Errorf("plaintext warnings with only a project ID = %q", w)
	}
	// TLS whose certificate is not checked (--insecure-skip-verify): the
	// same exposure to whoever poses as the store; none on loopback.
	p, _ = Resolve(&Options{BearerToken: "hunter2-opaque", UnverifiedTLS: true}, "store.example.com:443", true, env())
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "without checking its certificate") {
		t.Errorf("unverified TLS warnings = %q", w)
	}
	p, _ = Resolve(&Options{BearerToken: "hunter2-opaque", UnverifiedTLS: true}, "127.0.0.1:7070", true, env())
	if w := p.Warnings(); len(w) != 0 {
		t.Errorf("unverified TLS on loopback warned: %q", w)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args  Options
		usage bool
		want  string
	}{
		{Options{BearerTokenSet: true}, true, "--bearer-token is empty"},
		{Options{GRPCHeaders: []string{"novalue"}}, true, "entry 1 is not key=value"},
		{Options{GRPCHeaders: []string{"=x"}}, true, "empty header name"},
		{Options{ProjectID: "a", GRPCHeaders: []string{"projectID=b"}}, true, "disagree"},
		{Options{CredentialHelpers: []string{"h="}}, true, "no helper path"},
		{Options{BearerToken: saToken, BearerTokenSet: true}, false, "needs the project"},
	} {
		o := tc.args
		_, err := Resolve(&o, "h", true, env(EnvPolarSignalsTok, "would-be-used"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || IsUsage(err) != tc.usage {
			t.Errorf("%+v: err = %v (usage %v), want %q (usage %v)", tc.args, err, IsUsage(err), tc.want, tc.usage)
		}
	}
}

// Every header value the flags give may be a secret (x-tenant, a custom
// scheme): a store's message that echoes one is redacted whatever the
// header's name. projectID is shown on purpose and stays.
func TestRedactHidesEveryHeaderValue(t *testing.T) {
	p, err := Resolve(&Options{GRPCHeaders: []string{"x-tenant=tenantsecret77;x-org=org-opaque-1;projectID=proj-9"}}, "127.0.0.1:1", false, env())
	if err != nil {
		t.Fatal(err)
	}
	in := "you sent x-tenant=tenantsecret77 x-org=org-opaque-1 projectid=proj-9"
	if got, want := p.Redact(in), "you sent x-tenant=[REDACTED] x-org=[REDACTED] projectid=proj-9"; got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
}

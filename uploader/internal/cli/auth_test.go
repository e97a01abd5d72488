package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// authRun runs the CLI with an environment and stdin.
func authRun(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(&Env{Stdin: strings.NewReader(stdin), Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }}, args)
	return code, o.String(), e.String()
}

// iamWorld is a store guarded by the IAM double, set up as the migration
// guide's starting point: one legacy project token, one new service account.
type iamWorld struct {
	iam    *teststore.IAM
	srv    *teststore.Server
	legacy string // JWT for proj-a
	writer string // Debug Info Writer on every project
	scoped string // Debug Info Writer on proj-a only
	viewer string // a role without debuginfo.write
}

func newIAMWorld(t *testing.T, tlsCfg *tls.Config) *iamWorld {
	w := &iamWorld{iam: teststore.NewIAM()}
	w.iam.AddProject("proj-a")
	w.iam.AddProject("proj-b")
	w.legacy = w.iam.CreateProjectToken("proj-a")
	w.iam.CreateServiceAccount("ci-debuginfo-uploader")
	w.iam.Bind("ci-debuginfo-uploader", teststore.RoleDebugInfoWriter, "")
	w.writer = w.iam.CreateToken("ci-debuginfo-uploader")
	w.iam.CreateServiceAccount("scoped")
	w.iam.Bind("scoped", teststore.RoleDebugInfoWriter, "proj-a")
	w.scoped = w.iam.CreateToken("scoped")
	w.iam.CreateServiceAccount("viewer")
	w.iam.Bind("viewer", teststore.RoleViewer, "")
	w.viewer = w.iam.CreateToken("viewer")
	w.srv = teststore.Start(t, teststore.Options{Authorize: w.iam.Authorize, TLS: tlsCfg})
	return w
}

// TestMigrationGuideEndToEnd walks the guide's steps with `auth check` and
// `upload` against the IAM double.
func TestMigrationGuideEndToEnd(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "mig", "migration", "-g")
	id := mustID(t, bin)
	store := "--store-address=" + w.srv.Addr()

	type step struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		want     string // in auth check's output
		network  bool   // whether the store is contacted at all
		uploadOK bool   // the upload of the same credentials succeeds
	}
	steps := []step{
		{name: "old JWT works without a project header", env: map[string]string{"POLARSIGNALS_TOKEN": w.legacy},
			code: 0, want: "legacy project token (JWT)", network: true, uploadOK: true},
		{name: "new token without the header fails before any network call", env: map[string]string{"POLARSIGNALS_TOKEN": w.writer},
			code: 1, want: "needs the project to upload to: add --project-id=ID, --grpc-headers=projectID=ID or env POLARSIGNALS_PROJECT_ID"},
		{name: "new token with --grpc-headers projectID", env: map[string]string{"POLARSIGNALS_TOKEN": w.writer},
			args: []string{"--grpc-headers=projectID=proj-a"}, code: 0, want: "project:     proj-a from --grpc-headers", network: true, uploadOK: true},
		{name: "new token with env project", env: map[string]string{"POLARSIGNALS_TOKEN": w.writer, "POLARSIGNALS_PROJECT_ID": "proj-b"},
			code: 0, want: "proj-b from env POLARSIGNALS_PROJECT_ID", network: true, uploadOK: true},
		{name: "token scoped to A used for B", env: map[string]string{"POLARSIGNALS_TOKEN": w.scoped},
			args: []string{"--project-id=proj-b"}, code: 1, want: "no Debug Info Writer role on project proj-b", network: true},
		{name: "scoped token for its project", env: map[string]string{"POLARSIGNALS_TOKEN": w.scoped},
			args: []string{"--project-id=proj-a"}, code: 0, want: "uploads would work", network: true, uploadOK: true},
		{name: "role without write", env: map[string]string{"POLARSIGNALS_TOKEN": w.viewer},
			args: []string{"--project-id=proj-a"}, code: 1, want: "no Debug Info Writer role on project proj-a", network: true},
		{name: "no token at all", code: 1, want: "wants a token and none was given", network: true},
		{name: "legacy token for another project", env: map[string]string{"POLARSIGNALS_TOKEN": w.legacy},
			args: []string{"--project-id=proj-b"}, code: 1, want: "not valid for project proj-b", network: true},
	}
	run := func(t *testing.T, s step) {
		before := w.srv.Calls("ShouldInitiateUpload")
		code, out, errOut := authRun(t, s.env, "", append([]string{"auth", "check", store, "--insecure"}, s.args...)...)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("auth check exit %d, want %d; output:\n%s%s\nwant %q", code, s.code, out, errOut, s.want)
		}
		if contacted := w.srv.Calls("ShouldInitiateUpload") > before; contacted != s.network {
			t.Errorf("store contacted = %v, want %v", contacted, s.network)
		}
		if s.code == 1 {
			return
		}
		code, out, errOut = authRun(t, s.env, "", append([]string{"upload", store, "--insecure", "--force", bin}, s.args...)...)
		if (code == 0) != s.uploadOK {
			t.Fatalf("upload exit %d:\n%s%s", code, out, errOut)
		}
		if _, ok := w.srv.Uploaded(id, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); !ok {
			t.Error("nothing uploaded")
		}
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) { run(t, s) })
	}

	// The new token's upload failing without its project, as the user sees it.
	code, _, errOut := authRun(t, map[string]string{"POLARSIGNALS_TOKEN": w.writer}, "", "upload", store, "--insecure", bin)
	if code == 0 || !strings.Contains(errOut, "--project-id") {
		t.Errorf("upload without project: exit %d: %s", code, errOut)
	}

	// Verify, then revoke: the old token now fails, the new one still works.
	w.iam.Revoke(w.legacy)
	run(t, step{env: map[string]string{"POLARSIGNALS_TOKEN": w.legacy}, code: 1, want: "token unknown or revoked", network: true})
	run(t, step{env: map[string]string{"POLARSIGNALS_TOKEN": w.writer}, args: []string{"--project-id=proj-a"}, code: 0, want: "uploads would work", network: true, uploadOK: true})
	code, _, errOut = authRun(t, map[string]string{"POLARSIGNALS_TOKEN": w.legacy}, "", "upload", store, "--insecure", "--force", bin)
	if code == 0 || !strings.Contains(errOut, "revoked") {
		t.Errorf("upload with revoked token: exit %d: %s", code, errOut)
	}
}

// TestUploadAndAuthCheckExplainAlike: for the same refusal by the store,
// `upload` fails with the very sentence `auth check` gives as its verdict.
func TestUploadAndAuthCheckExplainAlike(t *testing.T) {
	w := newIAMWorld(t, nil)
	revoked := w.iam.CreateToken("ci-debuginfo-uploader")
	w.iam.Revoke(revoked)
	bin := testbin.C(t, "alike", "alike", "-g")
	tok := func(tok string) map[string]string { return map[string]string{"POLARSIGNALS_TOKEN": tok} }
	for _, c := range []struct {
		name string
		addr string
		env  map[string]string
		args []string
		want string
	}{
		{"no token", w.srv.Addr(), nil, nil, "the store at " + w.srv.Addr() + " wants a token and none was given"},
		{"revoked token", w.srv.Addr(), tok(revoked), []string{"--project-id=proj-a"}, "token unknown or revoked: the store at " + w.srv.Addr() + " rejected the service-account token from env POLARSIGNALS_TOKEN"},
		{"no role on the project", w.srv.Addr(), tok(w.scoped), []string{"--project-id=proj-b"}, "no Debug Info Writer role on project proj-b: "},
		{"legacy token for another project", w.srv.Addr(), tok(w.legacy), []string{"--project-id=proj-b"}, "this legacy project token is not valid for project proj-b: "},
		{"store down", closedPort(t), nil, []string{"--retries=0"}, "store unavailable at 127.0.0.1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			conn := []string{"--store-address=" + c.addr, "--insecure"}
			authArgs := append([]string{"auth", "check"}, conn...)
			for _, a := range c.args {
				if a != "--retries=0" { // an upload flag; auth check tries once anyway
					authArgs = append(authArgs, a)
				}
			}
			code, out, errOut := authRun(t, c.env, "", authArgs...)
			_, verdict, _ := strings.Cut(out, "verdict:     FAILED: ")
			verdict, _, _ = strings.Cut(verdict, "\n")
			if code != 1 || !strings.HasPrefix(verdict, c.want) {
				t.Fatalf("auth check: exit %d, verdict %q, want one starting %q\n%s%s", code, verdict, c.want, out, errOut)
			}
			code, out, errOut = authRun(t, c.env, "", append(append([]string{"upload", "--timeout=10s"}, conn...), append(c.args, bin)...)...)
			if code != 1 || !strings.Contains(errOut, ": "+verdict+"\n") {
				t.Fatalf("upload: exit %d, want the verdict %q as its error:\n%s%s", code, verdict, out, errOut)
			}
		})
	}
}

func TestAuthCheckJSONAndUsage(t *testing.T) {
	w := newIAMWorld(t, nil)
	env := map[string]string{"POLARSIGNALS_TOKEN": w.writer, "POLARSIGNALS_PROJECT_ID": "proj-a"}
	code, out, errOut := authRun(t, env, "", "auth", "check", "--store-address="+w.srv.Addr(), "--insecure", "--json")
	var rep authReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s%s", code, err, out, errOut)
	}
	if !rep.OK || rep.Code != "OK" || rep.Credentials.Kind != "service-account token" || rep.Credentials.Source != "env POLARSIGNALS_TOKEN" ||
		rep.Credentials.Last4 != w.writer[len(w.writer)-4:] || rep.Credentials.ProjectID != "proj-a" || !strings.HasPrefix(rep.TLS, "off") {
		t.Errorf("report = %+v", rep)
	}
	// A legacy token warns once, pointing at the migration.
	code, out, errOut = authRun(t, map[string]string{"POLARSIGNALS_TOKEN": w.legacy}, "", "auth", "check", "--store-address="+w.srv.Addr(), "--insecure")
	if code != 0 || strings.Count(errOut, "warning:") != 1 || !strings.Contains(errOut, "migrating-to-service-accounts") {
		t.Errorf("legacy warning: exit %d\n%s%s", code, out, errOut)
	}
	for _, args := range [][]string{
		{"auth"},
		{"auth", "bogus"},
		{"auth", "check", "extra"},
		{"auth", "check", "--store-address=file:///tmp/x"},
		{"auth", "check", "--insecure", "--ca-file=/x"},
		{"auth", "check", "--bearer-token="},
		{"auth", "check", "--grpc-headers=novalue"},
	} {
		if code, _, errOut := authRun(t, nil, "", args...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d (%s), want 2", args, code, errOut)
		}
	}
	if code, out, _ := authRun(t, nil, "", "auth", "check", "--help"); code != 0 || !strings.Contains(out, store.AuthCheckBuildID) {
		t.Errorf("--help: %d %s", code, out)
	}
	// Unreachable: a closed port.
	code, out, _ = authRun(t, nil, "", "auth", "check", "--store-address="+closedPort(t), "--insecure", "--timeout=5s")
	if code != 1 || !strings.Contains(out, "store unavailable") {
		t.Errorf("closed port: %d %s", code, out)
	}
}

// writeHelper writes an executable sh credential helper.
func writeHelper(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "helper.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthCheckWithCredentialHelpers(t *testing.T) {
	w := newIAMWorld(t, nil)
	store := "--store-address=" + w.srv.Addr()
	good := writeHelper(t, `echo '{"headers": {"Authorization": ["Bearer `+w.writer+`"], "projectID": ["proj-a"]}, "expires": "2999-01-01T00:00:00Z"}'`)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		want string
	}{
		{"helper headers used", []string{"--credential-helper=127.0.0.1=" + good}, nil, 0, "credential helper " + good},
		{"helper from env", nil, map[string]string{"DEBUGINFO_CREDENTIAL_HELPER": good}, 0, "project:     proj-a from credential helper"},
		{"direct token beats helper", []string{"--credential-helper=" + good}, map[string]string{"POLARSIGNALS_TOKEN": w.legacy}, 0, "from env POLARSIGNALS_TOKEN"},
		{"scoped to another host", []string{"--credential-helper=other.example.com=" + good}, nil, 1, "none was given"},
		{"non-zero exit", []string{"--credential-helper=" + writeHelper(t, `echo "not logged in; had Bearer `+w.writer+`" >&2; exit 7`)}, nil, 1, "exit status 7): not logged in"},
		{"bad JSON", []string{"--credential-helper=" + writeHelper(t, `echo '{"headers":'`)}, nil, 1, "invalid JSON"},
		{"empty answer", []string{"--credential-helper=" + writeHelper(t, `echo '{"headers": {}}'`)}, nil, 1, "returned no headers"},
		{"timeout", []string{"--credential-helper-timeout=200ms", "--credential-helper=" + writeHelper(t, `sleep 5`)}, nil, 1, "timed out after 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := authRun(t, tc.env, "", append([]string{"auth", "check", store, "--insecure"}, tc.args...)...)
			if code != tc.code || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, want %d; want %q in:\n%s%s", code, tc.code, tc.want, out, errOut)
			}
			if strings.Contains(out+errOut, w.writer) || strings.Contains(out+errOut, w.writer[7:]) {
				t.Fatalf("token printed:\n%s%s", out, errOut)
			}
		})
	}
}

func TestCredentialHelperCommand(t *testing.T) {
	const tok = "psc_v1_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	file := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	req := `{"uri": "https://grpc.polarsignals.com/parca.debuginfo.v1alpha1.DebuginfoService"}`
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		stdin string
		code  int
		want  string // stdout on success, stderr otherwise
	}{
		{"env token and project", map[string]string{"POLARSIGNALS_TOKEN": tok, "POLARSIGNALS_PROJECT_ID": "p1"}, nil, req, 0,
			`{"headers":{"Authorization":["Bearer ` + tok + `"],"projectID":["p1"]}}`},
		{"token file flag", nil, []string{"--bearer-token-file=" + file, "--project-id=p2"}, req, 0,
			`{"headers":{"Authorization":["Bearer ` + tok + `"],"projectID":["p2"]}}`},
		{"token file env", map[string]string{"DEBUGINFO_TOKEN_FILE": file, "POLARSIGNALS_PROJECT_ID": "p3"}, nil, req, 0, `"projectID":["p3"]`},
		{"opaque token without project", map[string]string{"PARCA_DEBUGINFO_BEARER_TOKEN": "opaque-parca-token"}, nil, "", 0,
			`{"headers":{"Authorization":["Bearer opaque-parca-token"]}}`},
		{"nothing", nil, nil, req, 1, "no token: set POLARSIGNALS_TOKEN"},
		{"sa without project", map[string]string{"POLARSIGNALS_TOKEN": tok}, nil, req, 1, "needs the project"},
		{"bad request", map[string]string{"POLARSIGNALS_TOKEN": "opaque-parca-token"}, nil, "{nope", 1, "not JSON"},
		{"missing file", nil, []string{"--bearer-token-file=/nonexistent"}, req, 1, "no such file"},
		{"wrong command", nil, []string{"store"}, req, 2, "only the 'get' command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"credential-helper"}, tc.args...)
			if tc.name != "wrong command" {
				args = append(args, "get")
			}
			code, out, errOut := authRun(t, tc.env, tc.stdin, args...)
			got := out
			if tc.code != 0 {
				got = errOut
				if strings.Contains(out+errOut, tok[7:]) {
					t.Errorf("failure printed the token: %s%s", out, errOut)
				}
			}
			if code != tc.code || !strings.Contains(got, tc.want) {
				t.Fatalf("exit %d, want %d; want %q in %q (stderr %q)", code, tc.code, tc.want, got, errOut)
			}
		})
	}
}

// testPKI is a CA and a server certificate for 127.0.0.1 signed by it.
func testPKI(t *testing.T) (serverTLS *tls.Config, caFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rules_debuginfo test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, caFile
}

func TestAuthCheckTLS(t *testing.T) {
	cfg, caFile := testPKI(t)
	w := newIAMWorld(t, cfg)
	plain := newIAMWorld(t, nil)
	env := map[string]string{"POLARSIGNALS_TOKEN": w.writer, "POLARSIGNALS_PROJECT_ID": "proj-a"}
	for _, tc := range []struct {
		name string
		addr string
		args []string
		code int
		want []string
	}{
		{"system roots reject a private CA", w.srv.Addr(), nil, 1, []string{"tls:         on, verified against the system roots", "not trusted", "--ca-file"}},
		{"ca file", w.srv.Addr(), []string{"--ca-file=" + caFile}, 0, []string{"verified against --ca-file " + caFile, "uploads would work"}},
		{"skip verify", w.srv.Addr(), []string{"--insecure-skip-verify"}, 0, []string{"NOT verified", "uploads would work"}},
		{"plaintext to a TLS store", w.srv.Addr(), []string{"--insecure"}, 1, []string{"tls:         off", "drop --insecure"}},
		{"TLS to a plaintext store", plain.srv.Addr(), nil, 1, []string{"add --insecure"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := env
			if tc.addr == plain.srv.Addr() {
				e = map[string]string{"POLARSIGNALS_TOKEN": plain.writer, "POLARSIGNALS_PROJECT_ID": "proj-a"}
			}
			code, out, errOut := authRun(t, e, "", append([]string{"auth", "check", "--store-address=" + tc.addr, "--timeout=10s"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tc.code, out, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(out, want) {
					t.Errorf("want %q in:\n%s", want, out)
				}
			}
		})
	}
	// A plaintext store cutting connections (restarting, a proxy) is not
	// blamed on TLS: only a completed TLS handshake is evidence of that.
	reset := teststore.ResetFirst(t, 1<<30, "")
	code, out, errOut := authRun(t, env, "", "auth", "check", "--store-address="+reset.Addr(), "--insecure", "--timeout=5s")
	if code != 1 || strings.Contains(out, "drop --insecure") || !strings.Contains(out, "store unavailable") {
		t.Errorf("resetting plaintext store: exit %d\n%s%s", code, out, errOut)
	}

	// Uploads use the same flags.
	bin := testbin.C(t, "tls", "tls", "-g")
	if code, out, errOut := authRun(t, env, "", "upload", "--store-address="+w.srv.Addr(), "--ca-file="+caFile, bin); code != 0 {
		t.Errorf("upload with --ca-file: exit %d\n%s%s", code, out, errOut)
	}
}

// TestSecretsNeverPrinted runs every credential-handling command in success
// and failure modes with known tokens, against a store that echoes the
// authorization header in its errors, and finds the tokens nowhere.
func TestSecretsNeverPrinted(t *testing.T) {
	w := newIAMWorld(t, nil)
	w.iam.EchoCredentials = true
	revoked := w.iam.CreateToken("ci-debuginfo-uploader")
	w.iam.Revoke(revoked)
	opaque := "opaque-secret-value-42"
	tenant := "tenantsecret77"
	file := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(file, []byte(w.writer+"\n"), 0o644); err != nil { // readable: warns
		t.Fatal(err)
	}
	helper := writeHelper(t, `echo '{"headers": {"Authorization": ["Bearer `+w.writer+`"], "projectID": ["proj-b"], "x-api-key": ["`+opaque+`"]}}'`)
	badHelper := writeHelper(t, `echo "denied: Bearer `+w.writer+`" >&2; exit 1`)
	secrets := []string{w.writer, w.writer[7:], w.legacy, revoked, revoked[7:], w.scoped, opaque, tenant}
	bin := testbin.C(t, "sec", "secrets", "-g")
	store := "--store-address=" + w.srv.Addr()
	envFor := func(tok string) map[string]string { return map[string]string{"POLARSIGNALS_TOKEN": tok} }
	type run struct {
		env  map[string]string
		args []string
	}
	var runs []run
	for _, cmd := range [][]string{{"auth", "check"}, {"auth", "check", "--json"}, {"upload", "--force"}, {"upload", "--force", "--json"}} {
		with := func(env map[string]string, extra ...string) run {
			args := append(append(append([]string{}, cmd...), store, "--insecure"), extra...)
			if cmd[0] == "upload" {
				args = append(args, bin)
			}
			return run{env, args}
		}
		runs = append(runs,
			with(envFor(w.writer), "--project-id=proj-a"),                   // success
			with(envFor(w.legacy)),                                          // success, legacy warning
			with(envFor(revoked), "--project-id=proj-a"),                    // Unauthenticated, echoed
			with(envFor(w.scoped), "--project-id=proj-b"),                   // PermissionDenied, echoed
			with(envFor(w.writer)),                                          // no project: local failure
			with(envFor(w.writer+"ff"), "--project-id=proj-a"),              // malformed
			with(envFor(w.writer[:30]+" "+w.writer[31:]), "--project-id=p"), // inner whitespace
			with(nil, "--bearer-token="+w.writer, "--project-id=proj-a"),    // flag
			with(nil, "--bearer-token="+opaque),                             // opaque, echoed Unauthenticated
			with(nil, "--bearer-token-file="+file, "--project-id=proj-zz"),  // file, unknown project
			with(nil, "--grpc-headers=authorization=Bearer "+revoked+";projectID=proj-a"),
			with(envFor(revoked), "--project-id=proj-a", "--grpc-headers=x-tenant="+tenant), // echoed, not shaped like a token
			with(nil, "--credential-helper="+helper),
			with(nil, "--credential-helper="+badHelper),
		)
	}
	runs = append(runs,
		run{envFor(w.writer), []string{"credential-helper", "get"}},        // no project: fails
		run{envFor(w.writer + "\n"), []string{"credential-helper", "get"}}, // newline
		run{nil, []string{"credential-helper", "--bearer-token-file=" + file, "get"}},
	)
	for _, r := range runs {
		code, out, errOut := authRun(t, r.env, `{"uri": "https://`+w.srv.Addr()+`/x"}`, r.args...)
		for _, s := range secrets {
			if strings.Contains(out+errOut, s) {
				t.Errorf("%q (exit %d) printed a secret:\n%s%s", r.args, code, out, errOut)
				break
			}
		}
	}
	// The echoing store really does echo (or the test above proves nothing).
	code, out, _ := authRun(t, envFor(revoked), "", "auth", "check", store, "--insecure", "--project-id=proj-a")
	if code != 1 || !strings.Contains(out, `authorization: \"Bearer [REDACTED]\"`) && !strings.Contains(out, "Bearer [REDACTED]") {
		t.Errorf("echo not seen redacted:\n%s", out)
	}
	code, out, _ = authRun(t, envFor(revoked), "", "auth", "check", store, "--insecure", "--project-id=proj-a", "--json", "--grpc-headers=x-tenant="+tenant)
	if code != 1 || !strings.Contains(out, "you sent x-tenant=[REDACTED]") {
		t.Errorf("header echo not seen redacted:\n%s", out)
	}
}

// upload prints a credential error before it has a Provider to redact it
// with; the error must already be safe. Both cases printed the token.
func TestUploadCredentialErrorsHideTheToken(t *testing.T) {
	const tok = "psc_v1_97a53cfd00112233445566778899aabbccddeeff00112233445566778899abcd"
	bin := testbin.C(t, "leak", "leak", "-g")
	badExpires := writeHelper(t, `echo '{"headers": {"Authorization": ["Bearer `+tok+`"], "projectID": ["proj-a"]}, "expires": "`+tok+`"}'`)
	for _, args := range [][]string{
		{"--credential-helper=" + badExpires},
		{"--credential-helper=" + tok}, // a token in the wrong flag: exec's error names it
	} {
		for _, cmd := range [][]string{{"upload", bin}, {"auth", "check"}} {
			all := append(append([]string{cmd[0], "--store-address=127.0.0.1:1", "--insecure"}, args...), cmd[1:]...)
			code, out, errOut := authRun(t, nil, "", all...)
			if code == 0 || strings.Contains(out+errOut, tok[7:]) {
				t.Errorf("%q: exit %d, the token shows:\n%s%s", all, code, out, errOut)
			}
		}
	}
}

// Migration step 4 adds POLARSIGNALS_TOKEN to a job that still exports
// parca-debuginfo's variable with the legacy token. That one wins, so
// auth check's OK is about the old token: both commands must say the new
// one is ignored and what to unset before revoking.
func TestAuthCheckAndUploadSayANewTokenIsIgnored(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "ign", "ignored", "-g")
	env := map[string]string{"PARCA_DEBUGINFO_BEARER_TOKEN": w.legacy, "POLARSIGNALS_TOKEN": w.writer, "POLARSIGNALS_PROJECT_ID": "proj-a"}
	store := "--store-address=" + w.srv.Addr()
	for _, args := range [][]string{{"auth", "check", store, "--insecure"}, {"auth", "check", store, "--insecure", "--json"}, {"upload", store, "--insecure", bin}} {
		code, out, errOut := authRun(t, env, "", args...)
		if code != 0 {
			t.Errorf("%q: exit %d:\n%s%s", args, code, out, errOut)
		}
		for _, want := range []string{"env POLARSIGNALS_TOKEN holds a different token, which is ignored: env PARCA_DEBUGINFO_BEARER_TOKEN comes first", "unset PARCA_DEBUGINFO_BEARER_TOKEN"} {
			if !strings.Contains(out+errOut, want) {
				t.Errorf("%q: no %q in:\n%s%s", args, want, out, errOut)
			}
		}
		if strings.Contains(out+errOut, w.writer[7:]) || strings.Contains(out+errOut, w.legacy) {
			t.Errorf("%q printed a token", args)
		}
	}
}

// projectID twice with different values is a usage error (exit 2) for
// both commands, before the store is asked anything.
func TestProjectIDTwiceIsAUsageError(t *testing.T) {
	bin := testbin.C(t, "pt", "projtwice", "-g")
	env := map[string]string{"POLARSIGNALS_TOKEN": "psc_v1_" + strings.Repeat("0a", 32)}
	for _, h := range [][]string{
		{"--grpc-headers=projectID=proj-a", "--grpc-headers=projectID=proj-b"},
		{"--grpc-headers=projectID=proj-b;projectID=proj-a"},
		{"--grpc-headers=PROJECTID=proj-b", "--grpc-headers=projectID=proj-a"},
	} {
		for _, cmd := range [][]string{{"upload", bin}, {"auth", "check"}} {
			args := append(append([]string{cmd[0], "--store-address=127.0.0.1:1", "--insecure"}, h...), cmd[1:]...)
			code, out, errOut := authRun(t, env, "", args...)
			if code != ExitUsage || !strings.Contains(errOut, "projectID is given more than once") {
				t.Errorf("%q: exit %d, want %d:\n%s%s", args, code, ExitUsage, out, errOut)
			}
		}
	}
}

// A secret pasted with its newline into --project-id works, like the same
// value in POLARSIGNALS_PROJECT_ID; a line break inside is a usage error
// at once, not ~10 s of retries ending in "store said: ... non-printable".
func TestProjectIDFlagWithNewline(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "pn", "projnl", "-g")
	env := map[string]string{"POLARSIGNALS_TOKEN": w.writer}
	store := "--store-address=" + w.srv.Addr()
	for _, cmd := range [][]string{{"upload", "--force", bin}, {"auth", "check"}} {
		args := append([]string{cmd[0], store, "--insecure", "--project-id=proj-a\n"}, cmd[1:]...)
		if code, out, errOut := authRun(t, env, "", args...); code != 0 {
			t.Errorf("%q: exit %d:\n%s%s", args, code, out, errOut)
		}
		args = append([]string{cmd[0], store, "--insecure", "--project-id=proj-a\nzq9"}, cmd[1:]...)
		start := time.Now()
		code, out, errOut := authRun(t, env, "", args...)
		if code != ExitUsage || !strings.Contains(errOut, "--project-id has characters gRPC cannot send") || strings.Contains(out+errOut, "zq9") {
			t.Errorf("%q: exit %d, want %d:\n%s%s", args, code, ExitUsage, out, errOut)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q took %v", args, d)
		}
	}
}

// A credential helper's wrong answer is explained as such by upload and
// auth check, not as a token the store does not know.
func TestHelperWrongAnswersExplainedByUploadAndAuthCheck(t *testing.T) {
	w := newIAMWorld(t, nil)
	bin := testbin.C(t, "ha", "helperanswers", "-g")
	store := "--store-address=" + w.srv.Addr()
	count := filepath.Join(t.TempDir(), "count")
	for _, tc := range []struct {
		name, answer string
		code         int
		want         string
	}{
		{"no authorization", `{"headers": {"projectID": ["proj-a"]}}`, 1, "returned no Authorization header (only projectid): no token is sent"},
		{"no authorization, summary", `{"headers": {"projectID": ["proj-a"]}}`, 1, "no token from credential helper "},
		{"no Bearer prefix", `{"headers": {"Authorization": ["` + w.writer + `"], "projectID": ["proj-a"]}}`, 1, `returned an Authorization value without the "Bearer " prefix`},
		{"two tokens", `{"headers": {"Authorization": ["Bearer ` + w.writer + `", "Bearer ` + w.scoped + `"], "projectID": ["proj-a"]}}`, 1, "returned 2 Authorization values, one is expected"},
		{"expired", `{"headers": {"Authorization": ["Bearer ` + w.writer + `"], "projectID": ["proj-a"]}, "expires": "2001-01-01T00:00:00Z"}`, 0, `"expires" 2001-01-01T00:00:00Z, already past`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(count)
			h := writeHelper(t, "echo x >> "+count+"\necho '"+tc.answer+"'")
			for _, cmd := range [][]string{{"upload", "--force", bin}, {"auth", "check"}} {
				args := append([]string{cmd[0], store, "--insecure", "--credential-helper=" + h}, cmd[1:]...)
				code, out, errOut := authRun(t, nil, "", args...)
				if code != tc.code || !strings.Contains(out+errOut, tc.want) || strings.Contains(out+errOut, "unknown or revoked") {
					t.Errorf("%q: exit %d, want %d and %q in:\n%s%s", args, code, tc.code, tc.want, out, errOut)
				}
				if strings.Contains(out+errOut, w.writer[7:]) || strings.Contains(out+errOut, w.scoped[7:]) {
					t.Errorf("%q printed a token", args)
				}
			}
			if b, _ := os.ReadFile(count); tc.name == "expired" && strings.Count(string(b), "x") != 2 {
				t.Errorf("the helper ran %d times for one upload and one check, want 2", strings.Count(string(b), "x"))
			}
		})
	}
}

// A store echoing the request shows short values after their names; the
// review saw "Bearer Xq7" and "x-api-key=s3c" printed.
func TestAuthCheckHidesShortEchoedValues(t *testing.T) {
	w := newIAMWorld(t, nil)
	w.iam.EchoCredentials = true
	code, out, errOut := authRun(t, nil, "", "auth", "check", "--store-address="+w.srv.Addr(), "--insecure", "--bearer-token=Xq7", "--grpc-headers=x-api-key=s3c")
	if code != 1 || !strings.Contains(out, "[REDACTED]") {
		t.Fatalf("exit %d, want 1 and an echo:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "Xq7") || strings.Contains(out+errOut, "s3c") {
		t.Errorf("a short value shows:\n%s%s", out, errOut)
	}
}

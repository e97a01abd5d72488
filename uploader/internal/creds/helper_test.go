package creds

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// script writes an executable sh script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "helper.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSelectHelper(t *testing.T) {
	vals := []string{"/default", "*.example.com=/wild", "*.eu.example.com=/eu", "grpc.example.com=/exact", "/default2"}
	for _, tc := range []struct {
		host, want string
	}{
		{"grpc.example.com", "/exact"},
		{"GRPC.Example.com", "/exact"},
		{"other.example.com", "/wild"},
		{"example.com", "/wild"},
		{"a.eu.example.com", "/eu"},
		{"notexample.com", "/default2"},
		{"store.local", "/default2"},
	} {
		got, ok, err := selectHelper(vals, tc.host)
		if err != nil || !ok || got.path != tc.want {
			t.Errorf("selectHelper(%s) = %+v %v %v, want %s", tc.host, got, ok, err, tc.want)
		}
	}
	if _, ok, _ := selectHelper([]string{"a.example.com=/x"}, "b.example.com"); ok {
		t.Error("a scoped helper matched another host")
	}
	if _, ok, _ := selectHelper([]string{"./rel/helper"}, "x"); !ok {
		t.Error("a relative path was taken for a pattern")
	}
	for _, bad := range []string{"host=", "a*b.com=/x", "host:443=/x", ""} {
		if _, _, err := selectHelper([]string{bad}, "x"); err == nil {
			t.Errorf("selectHelper(%q) accepted", bad)
		}
	}
}

func TestHelperRequestAndHeaders(t *testing.T) {
	dir := t.TempDir()
	req := filepath.Join(dir, "req.json")
	args := filepath.Join(dir, "args")
	h := script(t, fmt.Sprintf(`cat > %s; echo "$@" > %s
echo '{"headers": {"Authorization": ["Bearer %s"], "projectID": ["proj-h"], "X-Extra": ["a", "b"]}}'
`, req, args, saToken))
	p, err := Resolve(&Options{CredentialHelpers: []string{"grpc.example.com=" + h}}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	md, err := p.GetRequestMetadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"authorization": "Bearer " + saToken, "projectid": "proj-h", "x-extra": "a, b"}
	if fmt.Sprint(md) != fmt.Sprint(want) {
		t.Errorf("metadata = %v, want %v", md, want)
	}
	if b, _ := os.ReadFile(req); string(b) != `{"uri":"https://grpc.example.com/parca.debuginfo.v1alpha1.DebuginfoService"}` {
		t.Errorf("helper got request %s", b)
	}
	if b, _ := os.ReadFile(args); string(b) != "get\n" {
		t.Errorf("helper got args %q", b)
	}
	info := p.Info()
	if info.Kind != KindServiceAccount || info.Source != "credential helper "+h || info.ProjectID != "proj-h" || info.Last4 != "cdef" {
		t.Errorf("info = %+v", info)
	}
	if got := p.Redact("x " + saToken); got != "x [REDACTED]" {
		t.Errorf("Redact = %q", got)
	}
	// Flags beat the helper for the same key; a direct token skips the helper.
	p, err = Resolve(&Options{CredentialHelpers: []string{h}, ProjectID: "flag-proj"}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	if md, _ := p.GetRequestMetadata(context.Background()); md["projectid"] != "flag-proj" {
		t.Errorf("projectid = %q, want the flag's", md["projectid"])
	}
	// A direct token wins: the (missing) helper is never run.
	if _, err := Resolve(&Options{CredentialHelpers: []string{"/nonexistent/helper"}, BearerToken: "direct-token-123"}, "h:1", true, env()); err != nil {
		t.Fatal(err)
	}
	// The environment names a helper when no flag does.
	p, err = Resolve(&Options{}, "grpc.example.com:8443", true, env(EnvCredentialHelper, h))
	if err != nil || p.Info().Source != "credential helper "+h {
		t.Fatalf("env helper: %v %+v", err, p)
	}
	if b, _ := os.ReadFile(req); !strings.Contains(string(b), "grpc.example.com:8443/") {
		t.Errorf("port lost from the request: %s", b)
	}
}

func TestHelperErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		timeout    time.Duration
		want       string
	}{
		{"non-zero exit", `echo "login expired for Bearer ` + saToken + `" >&2; exit 3`, 0, "failed (exit status 3): login expired for Bearer [REDACTED]"},
		{"bad json", `echo '{"headers": '`, 0, "printed invalid JSON"},
		{"not json", `echo hello`, 0, "printed invalid JSON"},
		{"empty answer", `echo '{}'`, 0, "returned no headers"},
		{"empty values", `echo '{"headers": {"Authorization": []}}'`, 0, "returned no headers"},
		{"no output", `exit 0`, 0, "printed invalid JSON"},
		{"bad expires", `echo '{"headers": {"a": ["b"]}, "expires": "tomorrow"}'`, 0, "not RFC 3339"},
		{"bad key", `echo '{"headers": {"bad key": ["b"]}}'`, 0, "not allowed in a gRPC metadata key"},
		{"timeout", `sleep 5; echo '{"headers": {"a": ["b"]}}'`, 300 * time.Millisecond, "timed out after 300ms"},
		{"sa without project", `echo '{"headers": {"Authorization": ["Bearer ` + saToken + `"]}}'`, 0, "needs the project"},
		{"malformed sa", `echo '{"headers": {"Authorization": ["Bearer psc_v1_abc"]}}'`, 0, "this one has 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := script(t, "cat >/dev/null\n"+tc.body+"\n")
			start := time.Now()
			_, err := Resolve(&Options{CredentialHelpers: []string{h}, CredentialHelperTimeout: tc.timeout}, "h:443", true, env())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), saToken[7:]) {
				t.Fatalf("error shows the token: %v", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	if _, err := Resolve(&Options{CredentialHelpers: []string{"/nonexistent/helper"}}, "h", true, env()); err == nil || !strings.Contains(err.Error(), "could not run") {
		t.Errorf("missing helper: %v", err)
	}
}

// TestHelperExpiry checks that an answer is reused until shortly before it
// expires, then fetched again, and that concurrent callers share one run.
func TestHelperExpiry(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	h := script(t, fmt.Sprintf(`cat >/dev/null
n=$(cat %[1]s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s
echo "{\"headers\": {\"Authorization\": [\"Bearer token-number-$n\"]}, \"expires\": \"2030-01-01T00:10:00Z\"}"
`, count))
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := base
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	p, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p.refresh = refreshAt(base, p.expires)
	p.mu.Unlock()

	get := func() string {
		t.Helper()
		var wg sync.WaitGroup
		res := make([]string, 8)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				md, err := p.GetRequestMetadata(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				res[i] = md["authorization"]
			}()
		}
		wg.Wait()
		for _, r := range res[1:] {
			if r != res[0] {
				t.Errorf("concurrent callers saw %q", res)
			}
		}
		return res[0]
	}
	for _, step := range []struct {
		at   time.Duration
		want string
	}{
		{0, "Bearer token-number-1"},
		{8 * time.Minute, "Bearer token-number-1"},
		{9*time.Minute + 1*time.Second, "Bearer token-number-2"},  // within a minute of expiry
		{9*time.Minute + 20*time.Second, "Bearer token-number-2"}, // 59 s left at fetch: refresh halfway
		{9*time.Minute + 45*time.Second, "Bearer token-number-3"},
	} {
		setNow(base.Add(step.at))
		if got := get(); got != step.want {
			t.Errorf("at +%v: authorization %q, want %q", step.at, got, step.want)
		}
	}
	if b, _ := os.ReadFile(count); strings.TrimSpace(string(b)) != "3" {
		t.Errorf("helper ran %s times, want 3", b)
	}
	// A failing refresh keeps the old answer while it is valid, then errors.
	if err := os.WriteFile(h, []byte("#!/bin/sh\necho 'Bearer token-number-3 broke' >&2; exit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	setNow(base.Add(9*time.Minute + 55*time.Second))
	if got := get(); got != "Bearer token-number-3" {
		t.Errorf("after a failed refresh: %q", got)
	}
	setNow(base.Add(11 * time.Minute))
	_, err = p.GetRequestMetadata(context.Background())
	if err == nil || !strings.Contains(err.Error(), "failed") || strings.Contains(err.Error(), "token-number-3") {
		t.Errorf("expired and failing: %v", err)
	}
}

func TestRefreshAt(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		life, want time.Duration
	}{
		{time.Hour, 59 * time.Minute},
		{10 * time.Second, 5 * time.Second},
		{-time.Second, -time.Second},
	} {
		if got := refreshAt(t0, t0.Add(tc.life)).Sub(t0); got != tc.want {
			t.Errorf("refreshAt(life %v) = +%v, want +%v", tc.life, got, tc.want)
		}
	}
	if !refreshAt(t0, time.Time{}).IsZero() {
		t.Error("no expiry should mean no refresh")
	}
}

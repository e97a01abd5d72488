package sources

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// Credentials for the tests. The opaque ones have no token shape, so only
// the exact-value check can find them.
var (
	envToken  = "opaque-env-token-0123456789"
	fileToken = "opaque-file-token-9876543210"
	pscToken  = "psc_v1_" + strings.Repeat("0123456789abcdef", 4)
	jwt       = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJwcm9qZWN0IjoiNDIifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

// archiveNaming writes files into a source root, builds with gcc a program
// whose line tables name each of them (#line sets the file name recorded
// for the code after it) and archives its sources with secrets as the
// credentials this run holds and never (names in the root) as the
// credential files in use. It returns the archive's entries, what was
// skipped and what was printed.
func archiveNaming(t *testing.T, files map[string]string, secrets []string, never ...string) (got map[string]string, skipped []string, warn string) {
	t.Helper()
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	var src strings.Builder
	for i, name := range slices.Sorted(maps.Keys(files)) {
		writeFile(t, filepath.Join(dir, name), files[name])
		fmt.Fprintf(&src, "#line 1 %q\nint f%d(void) { return %d; }\n", name, i, i)
	}
	src.WriteString("#line 1 \"main.c\"\nint main(void) { return 0; }\n")
	bin := testbin.GCC(t, dir, "prog", src.String(), "-g")
	for i, n := range never {
		never[i] = filepath.Join(dir, n)
	}
	var w bytes.Buffer
	b, res := fromBinary(t, bin, Options{Roots: []string{dir}, Secrets: secrets, Never: never, Warn: &w})
	got, _ = readArchive(t, b)
	for _, s := range append(slices.Clone(secrets), envToken, fileToken, pscToken, jwt) {
		if strings.Contains(w.String(), s) || strings.Contains(strings.Join(res.Skipped, "\n"), s) {
			t.Errorf("a secret is printed:\n%s", w.String())
		}
	}
	return got, res.Skipped, w.String()
}

// refused fails unless name stayed out of the archive, reported (in the
// result and the warnings) with a reason containing why.
func refused(t *testing.T, got map[string]string, skipped []string, warn, name, why string) {
	t.Helper()
	if _, ok := got[name]; ok {
		t.Errorf("%s archived; it holds a credential", name)
	}
	if !slices.ContainsFunc(skipped, func(s string) bool { return strings.HasPrefix(s, name+": ") && strings.Contains(s, why) }) {
		t.Errorf("skipped lacks %s: ...%s...:\n%s", name, why, strings.Join(skipped, "\n"))
	}
	if !strings.Contains(warn, "skipped: "+name+": ") {
		t.Errorf("no warning names %s:\n%s", name, warn)
	}
}

// The reviewer's case: the token is given in POLARSIGNALS_TOKEN, and the
// token file in the tree, not in use, holds it.
func TestEnvTokenInSourceTreeNotArchived(t *testing.T) {
	got, skipped, warn := archiveNaming(t, map[string]string{
		"ci/token": envToken + "\n",
		"src/a.c":  "int a;\n",
	}, []string{envToken})
	refused(t, got, skipped, warn, "ci/token", "holds a credential given to this run (never archived)")
	if got["src/a.c"] != "int a;\n" {
		t.Errorf("src/a.c not archived: %v", keys(got))
	}
}

// A copy of the token file in use is not that file, but holds its token.
func TestTokenFileCopyNotArchived(t *testing.T) {
	got, skipped, warn := archiveNaming(t, map[string]string{
		"ci/token":     fileToken + "\n",
		"ci/old-token": "  " + fileToken + "\n",
	}, []string{fileToken + "\n"}, "ci/token")
	refused(t, got, skipped, warn, "ci/token", "a credential file in use")
	refused(t, got, skipped, warn, "ci/old-token", "holds a credential given to this run")
}

// An old token, or another project's, is not known to the run: its shape
// gives it away.
func TestOtherServiceAccountTokenNotArchived(t *testing.T) {
	got, skipped, warn := archiveNaming(t, map[string]string{
		"ci/other-token": pscToken + "\n",
		"src/upper.c":    "// " + strings.ToUpper(pscToken[7:]) + " after psc_v1_ too:\n// psc_v1_" + strings.ToUpper(pscToken[7:]) + "\n",
	}, []string{envToken})
	refused(t, got, skipped, warn, "ci/other-token", "a service-account token")
	refused(t, got, skipped, warn, "src/upper.c", "a service-account token")
}

func TestJWTNotArchived(t *testing.T) {
	got, skipped, warn := archiveNaming(t, map[string]string{
		"src/legacy.c": "static const char *token = \"" + jwt + "\";\n",
		// A part that is no JWT's does not hide the JWT after it.
		"src/after.c": "// eyJno.eyJtoo.short." + jwt + "\n",
	}, nil)
	refused(t, got, skipped, warn, "src/legacy.c", "a JWT")
	refused(t, got, skipped, warn, "src/after.c", "a JWT")
}

// A file is read scanChunk bytes at a time: a secret split between two
// reads is found all the same.
func TestSecretAcrossScanBoundary(t *testing.T) {
	straddling := func(secret string) string {
		pad := strings.Repeat("/* filler */\n", scanChunk/13)
		at := scanChunk - len(secret)/2
		return pad[:at] + secret + "\n" + pad
	}
	files := map[string]string{
		"big/env.c": straddling(envToken),
		"big/psc.c": straddling(pscToken),
		"big/jwt.c": straddling(jwt),
	}
	got, skipped, warn := archiveNaming(t, files, []string{envToken})
	for name, c := range files {
		if len(c) <= scanChunk+maxJWT {
			t.Fatalf("%s: %d bytes, not more than one read", name, len(c))
		}
	}
	refused(t, got, skipped, warn, "big/env.c", "holds a credential given to this run")
	refused(t, got, skipped, warn, "big/psc.c", "a service-account token")
	refused(t, got, skipped, warn, "big/jwt.c", "a JWT")
}

// Text that only looks a little like a token goes in, and a file larger
// than one read goes in whole.
func TestOrdinarySourcesStillArchived(t *testing.T) {
	hex63 := pscToken[7 : 7+63]
	big := strings.Repeat("int filler; /* psc_v1_ eyJ. */\n", 3*scanChunk/32)
	files := map[string]string{
		"src/prefix.c":    "/* service-account tokens start with psc_v1_ */\n",
		"src/nonhex.c":    "const char *p = \"psc_v1_" + hex63 + "g\";\n",
		"src/short.c":     "const char *p = \"psc_v1_" + hex63 + "\";\n",
		"src/words.c":     "int psc_v1_handler(void); /* psc_v1_" + strings.Repeat("x", 64) + " */\n",
		"src/jwtparts.c":  "/* eyJhbGciOiJIUzI1NiJ9 is a header; eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ. is unsigned */\n",
		"src/jwtshort.c":  "/* eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln */\n",
		"src/dotted.c":    "x = eyJfoo.eyJbar.baz;\n",
		"src/jwthead.c":   "/* eyJhbGci.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlc2lnbmF0dXJl */\n",
		"src/jwtpay.c":    "/* eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.c2lnbmF0dXJlc2lnbmF0dXJl */\n",
		"src/jwtbody.c":   "/* eyJhbGciOiJIUzI1NiJ9.bWFueSBieXRlcyBoZXJlIQ.c2lnbmF0dXJlc2lnbmF0dXJl */\n",
		"src/big.c":       big,
		"src/shortsec.c":  "int abc;\n", // "abc" is a secret too short to look for
		"src/envtoken.go": "const name = \"POLARSIGNALS_TOKEN\"\n",
	}
	got, skipped, _ := archiveNaming(t, files, []string{envToken, "abc"})
	for name, c := range files {
		if got[name] != c {
			t.Errorf("%s not archived as it is (%d of %d bytes); skipped:\n%s", name, len(got[name]), len(c), strings.Join(skipped, "\n"))
		}
	}
}

// The copy holds back what may still turn out to be the start of a secret:
// when one is found, none of it has been written.
func TestScanWritesNoSecretByte(t *testing.T) {
	for _, secret := range []string{envToken, pscToken, jwt} {
		at := 2*scanChunk - 5
		in := strings.Repeat("a", at) + secret + strings.Repeat("b", scanChunk)
		var out bytes.Buffer
		_, why, err := newScanner([]string{envToken}).scan(&out, strings.NewReader(in))
		if err != nil || why == "" {
			t.Fatalf("%.10s...: why %q, err %v", secret, why, err)
		}
		if out.Len() > at {
			t.Errorf("%.10s...: %d bytes written, the secret starts at %d", secret, out.Len(), at)
		}
		if !strings.HasPrefix(in, out.String()) {
			t.Errorf("%.10s...: what was written is not the input's start", secret)
		}
	}
	// Without a secret, everything is written, in order.
	in := strings.Repeat("0123456789", scanChunk/4)
	var out bytes.Buffer
	n, why, err := newScanner(nil).scan(&out, strings.NewReader(in))
	if err != nil || why != "" || n != int64(len(in)) || out.String() != in {
		t.Errorf("clean input: n %d of %d, why %q, err %v, output equal: %v", n, len(in), why, err, out.String() == in)
	}
}

// A file that gains a credential between the scan that admits it and the
// copy fails the archive, and the error does not show the credential.
func TestFileChangedAfterScanFailsTheArchive(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	clean := "/* " + strings.Repeat("x", len(pscToken)) + " */\n"
	writeFile(t, filepath.Join(dir, "src/a.c"), clean)
	bin := testbin.GCC(t, dir, "prog", "#line 1 \"src/a.c\"\nint a(void) { return 1; }\n#line 1 \"main.c\"\nint main(void) { return 0; }\n", "-g")
	defer func(f func(string)) { betweenScans = f }(betweenScans)
	betweenScans = func(disk string) {
		if strings.HasSuffix(disk, "/src/a.c") {
			// Rewritten in place, the same size: only reading it again tells.
			writeFile(t, disk, "/* "+pscToken+" */\n")
		}
	}
	var out bytes.Buffer
	_, err := FromBinary(bin, Options{Roots: []string{dir}}, &out)
	if err == nil || !strings.Contains(err.Error(), "src/a.c") || !strings.Contains(err.Error(), "changed while archiving: its content holds a service-account token") {
		t.Fatalf("err = %v, want src/a.c changed while archiving", err)
	}
	if strings.Contains(err.Error(), pscToken) {
		t.Errorf("the error shows the token: %v", err)
	}
}

// A manifest (the Bazel aspect's list) gets the same content rule.
func TestManifestFileHoldingTokenNotArchived(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ci/token"), pscToken+"\n")
	writeFile(t, filepath.Join(dir, "src/a.c"), "int a;\n")
	m := filepath.Join(t.TempDir(), "m.tsv")
	writeFile(t, m, "ci/token\t"+filepath.Join(dir, "ci/token")+"\nsrc/a.c\t"+filepath.Join(dir, "src/a.c")+"\n")
	var b, w bytes.Buffer
	res, err := FromManifest(m, Options{Roots: []string{dir}, Warn: &w}, &b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readArchive(t, b.Bytes())
	refused(t, got, res.Skipped, w.String(), "ci/token", "a service-account token")
	if got["src/a.c"] != "int a;\n" || res.Files != 1 {
		t.Errorf("archive %v, %d files; want src/a.c only", keys(got), res.Files)
	}
}

// The run's own service-account token without its prefix (the 64 hex
// digits are the whole secret) or upper-cased, and a custom header's value
// (x-api-key) the run holds, stay out too (found by a review).
func TestChangedCopiesOfTheRunsSecretsNotArchived(t *testing.T) {
	const apiKey = "k3y-Zq81-mmXq-77aa"
	run := "psc_v1_" + strings.Repeat("0f1e2d3c", 8)
	got, skipped, warn := archiveNaming(t, map[string]string{
		"ci/hex":    strings.Repeat("0f1e2d3c", 8) + "\n",
		"ci/upper":  strings.ToUpper(run) + "\n",
		"ci/apikey": "key = \"" + apiKey + "\";\n",
		"src/a.c":   "int a; /* 0f1e2d3c */\n",
	}, []string{run, apiKey})
	refused(t, got, skipped, warn, "ci/hex", "holds a credential given to this run")
	refused(t, got, skipped, warn, "ci/upper", "holds a credential given to this run")
	refused(t, got, skipped, warn, "ci/apikey", "holds a credential given to this run")
	if got["src/a.c"] == "" {
		t.Errorf("src/a.c not archived: %v", keys(got))
	}
}

// TestSwappedForLinkAfterCheck: a file, or a directory on its path, that
// is replaced by a link leading out of the roots after the policy admitted
// it is not archived: what is opened must be the file that was checked (a
// review got a file from outside the roots, once ~/.ssh/id_rsa, into 3% of
// archives by flipping a source between a file and a link).
func TestSwappedForLinkAfterCheck(t *testing.T) {
	testbin.Need(t, "gcc")
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "a.c"), "OUTSIDE-SECRET\n")
	for _, swap := range []string{"file", "directory"} {
		t.Run(swap, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "src/a.c"), "int a;\n")
			writeFile(t, filepath.Join(dir, "main.c"), "int main(void) { return 0; }\n")
			bin := testbin.GCC(t, dir, "prog", "#line 1 \"src/a.c\"\nint a(void) { return 1; }\n#line 1 \"main.c\"\nint main(void) { return 0; }\n", "-g")
			defer func(f func(string)) { beforeOpen = f }(beforeOpen)
			beforeOpen = func(disk string) {
				if !strings.HasSuffix(disk, "/src/a.c") {
					return
				}
				from, to := disk, filepath.Join(outside, "a.c")
				if swap == "directory" {
					from, to = filepath.Dir(disk), outside
				}
				if err := os.RemoveAll(from); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(to, from); err != nil {
					t.Fatal(err)
				}
			}
			var out, w bytes.Buffer
			res, err := FromBinary(bin, Options{Roots: []string{dir}, Warn: &w}, &out)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := readArchive(t, out.Bytes())
			refused(t, got, res.Skipped, w.String(), "src/a.c", "changed while archiving")
			if strings.Contains(out.String(), "OUTSIDE") || got[strings.TrimPrefix(filepath.Join(dir, "main.c"), "/")] == "" {
				t.Errorf("archive %v", keys(got))
			}
		})
	}
}

// TestWellKnownSecretsNotArchived: what a review got archived from a CI
// checkout by naming it in #line: the job token actions/checkout writes into
// .git/config, a .env of AWS keys, a deploy key, a cloud service-account JSON
// and a GitHub token. Look-alikes that are ordinary source stay in.
func TestWellKnownSecretsNotArchived(t *testing.T) {
	ghs := "ghs_" + "16C7e42F292c6912E7710c838347Ae178B4a"
	files := map[string]string{
		".git/config":          "[http \"https://github.com/\"]\n\textraheader = AUTHORIZATION: basic eC1hY2Nlc3M=\n",
		"app/.env":             "AWS_REGION=eu-west-1\n",
		"app/.env.production":  "API=1\n",
		"deploy/aws.env":       "AWS_ACCESS_KEY_ID=AKIA2OGYBAH6QW7YKZ5T\n",
		"keys/deploy_key":      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n",
		"gcp/credentials.json": "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n\"}\n",
		"ci/token.txt":         ghs + "\n",
		// Look-alikes: kept.
		"src/pem.c":      "static const char *h = \"-----BEGIN CERTIFICATE-----\";\n",
		"src/example.c":  "/* AKIAIOSFODNN7EXAMPLE is AWS's documentation key */\n",
		"src/words.c":    "/* ghp_short and AKIA_NOT_A_KEY */\n",
		"src/pemparse.c": "static const char begin[] = \"-----BEGIN PRIVATE KEY-----\";\nstatic int parse(const char *p) { return p[0]; }\n",
		"src/fake.c":     "/* AKIAXXXXXXXXXXXXXXXX ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa */\n",
	}
	got, skipped, warn := archiveNaming(t, files, nil)
	for name, why := range map[string]string{
		".git/config": ".git holds credentials", "app/.env": ".env holds credentials", "app/.env.production": ".env files hold credentials",
		"deploy/aws.env": "an AWS access key ID", "keys/deploy_key": "a PEM private key", "gcp/credentials.json": "a PEM private key",
		"ci/token.txt": "a GitHub token",
	} {
		refused(t, got, skipped, warn, name, why)
	}
	for _, name := range []string{"src/pem.c", "src/example.c", "src/words.c", "src/pemparse.c", "src/fake.c"} {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(got)), func(k string) bool { return k == name || strings.HasSuffix(k, "/"+name) }) {
			t.Errorf("%s left out: %s", name, warn)
		}
	}
	if strings.Contains(warn, ghs) {
		t.Errorf("the token is printed: %s", warn)
	}
}

// TestKernelFileByFilesystem: procfs mounted elsewhere than /proc (a
// container's /host/proc) escapes the path rule; the open file's
// filesystem tells.
func TestKernelFileByFilesystem(t *testing.T) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	if why := sameAsAdmitted(f, fi, entry{real: "/host/proc/self/status", id: fi}); !strings.Contains(why, "a kernel file") {
		t.Errorf("why = %q", why)
	}
}

// TestPrintableNames: names holding bidi overrides or invisible characters
// are quoted in what is printed.
func TestPrintableNames(t *testing.T) {
	for in, want := range map[string]string{"src/a.c": "src/a.c", "ln\u202ek.c": `"ln\u202ek.c"`, "a\u200b.c": `"a\u200b.c"`, "é.c": "é.c"} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestNotAFileSaysWhat: a FIFO, a directory, a device or a symlink loop
// where DWARF names a source file is reported as what it is, not as
// missing from the disk (a review found all of them listed as missing).
func TestNotAFileSaysWhat(t *testing.T) {
	testbin.Need(t, "gcc")
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.c"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "adir.c"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.Symlink("loop2.c", filepath.Join(dir, "loop1.c"))
	os.Symlink("loop1.c", filepath.Join(dir, "loop2.c"))
	var src strings.Builder
	for i, n := range []string{"fifo.c", "adir.c", "loop1.c", "/dev/zero"} {
		fmt.Fprintf(&src, "#line 1 %q\nint f%d(void) { return %d; }\n", n, i, i)
	}
	bin := testbin.GCC(t, dir, "prog", src.String()+"#line 1 \"main.c\"\nint main(void) { return 0; }\n", "-g")
	var w bytes.Buffer
	_, res := fromBinary(t, bin, Options{Roots: []string{dir}, Warn: &w})
	for _, want := range []string{"fifo.c: a FIFO", "adir.c: a directory", "loop1.c: a symlink loop", "dev/zero: a device"} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("no %q in:\n%s", want, w.String())
		}
	}
	if len(res.Missing) > 1 { // main.c only
		t.Errorf("missing: %v", res.Missing)
	}
}

package cli

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// hostileSetups are the rows of docs/bad-input.md about hostile stores,
// credential helpers, shared directories and what output may show.
func hostileSetups(fx *badFixtures) map[string]func(t *testing.T) *badRun {
	args := func(a ...string) *badRun { return &badRun{args: a} }
	elfDir := func(t *testing.T, n int) string {
		dir := t.TempDir()
		for i := range n {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("prog%d", i)), withBuildIDByte(t, fx.elfData, byte(i)), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	script := func(t *testing.T, body string) string {
		p := filepath.Join(t.TempDir(), "helper.sh")
		if err := os.WriteFile(p, []byte("#!/bin/sh\ncat >/dev/null\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	store := func(t *testing.T, opts teststore.Options) string {
		return "--store-address=" + teststore.Start(t, opts).Addr()
	}
	return map[string]func(t *testing.T) *badRun{
		"signed-url-redirect": func(t *testing.T) *badRun {
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("a redirect was followed: %s %s (Referer %q)", r.Method, r.URL, r.Referer())
			}))
			t.Cleanup(elsewhere.Close)
			hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/take-it", http.StatusFound)
			}))
			t.Cleanup(hostile.Close)
			srv := teststore.Start(t, teststore.Options{SignedURL: true, SignedURLBase: hostile.URL})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--retries=0", fx.elf)
			r.after = func(t *testing.T) {
				if n := srv.Calls("MarkUploadFinished"); n != 0 {
					t.Errorf("MarkUploadFinished called %d times", n)
				}
			}
			return r
		},
		"signed-url-untrusted-cert": func(t *testing.T) *badRun {
			host := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				t.Errorf("the PUT reached a host whose certificate is not trusted")
			}))
			host.TLS, _ = teststore.SelfSignedTLS(t)
			host.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
			host.StartTLS()
			t.Cleanup(host.Close)
			srv := teststore.Start(t, teststore.Options{SignedURL: true, SignedURLBase: host.URL})
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", fx.elf)
			r.maxTime = 5 * time.Second // the default retries back off for ~15 s
			r.after = func(t *testing.T) {
				if n := srv.Calls("MarkUploadFinished"); n != 0 {
					t.Errorf("MarkUploadFinished called %d times", n)
				}
			}
			return r
		},
		"signed-url-plain-from-tls": func(t *testing.T) *badRun {
			serverTLS, caPEM := teststore.SelfSignedTLS(t)
			srv := teststore.Start(t, teststore.Options{TLS: serverTLS, SignedURL: true})
			r := args("upload", "--store-address="+srv.Addr(), "--ca-file="+testbin.File(t, "ca.pem", caPEM), fx.elf)
			r.after = func(t *testing.T) {
				if n := srv.Calls("MarkUploadFinished"); n != 1 {
					t.Errorf("MarkUploadFinished called %d times, want 1", n)
				}
			}
			return r
		},
		"helper-prints-forever": func(t *testing.T) *badRun {
			return args("upload", store(t, teststore.Options{}), "--insecure", "--credential-helper="+script(t, "exec yes"), fx.elf)
		},
		"helper-child-outlives": func(t *testing.T) *badRun {
			pidFile := filepath.Join(t.TempDir(), "pid")
			h := script(t, "sleep 300 &\necho $! > "+pidFile+"\nwait")
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--credential-helper="+h, "--credential-helper-timeout=500ms", fx.elf)
			r.maxTime = 5 * time.Second
			r.after = func(t *testing.T) { childGone(t, pidFile) }
			return r
		},
		"helper-background-child": func(t *testing.T) *badRun {
			pidFile := filepath.Join(t.TempDir(), "pid")
			h := script(t, "(sleep 299 & echo $! > "+pidFile+")\necho '{\"headers\":{\"Authorization\":[\"Bearer opaque-helper-tok-998877\"]}}'")
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--retries=0", "--credential-helper="+h, fx.elf)
			r.maxTime = 10 * time.Second
			r.absent = []string{"opaque-helper-tok-998877"}
			r.after = func(t *testing.T) { childGone(t, pidFile) }
			return r
		},
		"helper-stderr-header-values": func(t *testing.T) *badRun {
			h := script(t, "echo 'denied for tenant tenant-opaque-77' >&2; exit 1")
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--grpc-headers=x-tenant=tenant-opaque-77", "--credential-helper="+h, fx.elf)
			r.absent = []string{"tenant-opaque-77"}
			return r
		},
		"grpc-headers-http-form": func(t *testing.T) *badRun {
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--grpc-headers=Authorization: Basic dXNlcjpwYXNzd29yZA==", fx.elf)
			r.absent = []string{"dXNlcjpwYXNzd29yZA"}
			return r
		},
		"usage-single-dash-token": func(t *testing.T) *badRun {
			r := args("upload", store(t, teststore.Options{}), "--insecure", "-bearer-token=opaqueSECRETtok4242", fx.elf)
			r.absent = []string{"opaqueSECRETtok4242"}
			return r
		},
		"usage-auth-single-dash-token": func(t *testing.T) *badRun {
			r := args("auth", "check", "--insecure", "-bearer-token=opaqueSECRETtok4242")
			r.absent = []string{"opaqueSECRETtok4242"}
			return r
		},
		"usage-value-in-timeout": func(t *testing.T) *badRun {
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--timeout=opaqueSECRETtok4242", fx.elf)
			r.absent = []string{"opaqueSECRETtok4242"}
			return r
		},
		"store-echoes-header-values": func(t *testing.T) *badRun {
			echo := func(ctx context.Context, _ string) error {
				md, _ := metadata.FromIncomingContext(ctx)
				return status.Errorf(codes.PermissionDenied, "denied; you sent x-tenant=%s", strings.Join(md["x-tenant"], ","))
			}
			r := args("upload", store(t, teststore.Options{Authorize: echo}), "--insecure", "--retries=0", "--grpc-headers=x-tenant=tenantsecret77", fx.elf)
			r.absent = []string{"tenantsecret77"}
			return r
		},
		"grpc-headers-http-form-no-equals": func(t *testing.T) *badRun {
			r := args("upload", store(t, teststore.Options{}), "--insecure", "--grpc-headers=Authorization: Basic dXNlcjpwYXNz", fx.elf)
			r.absent = []string{"dXNlcjpwYXNz"}
			return r
		},
		"control-chars-in-path": func(t *testing.T) *badRun {
			dir := t.TempDir()
			name := "prog\n\x1b[2Juploaded  debuginfo  0000  forged\u202e"
			if err := os.WriteFile(filepath.Join(dir, name), fx.elfData, 0o755); err != nil {
				t.Fatal(err)
			}
			r := args("upload", "--dry-run", dir)
			r.absent = []string{"\x1b", "\u202e", "\nuploaded"}
			return r
		},
		"control-chars-in-path-json": func(t *testing.T) *badRun {
			dir := t.TempDir()
			name := "prog\n\x1b[2Jforged\u202e\u200b"
			if err := os.WriteFile(filepath.Join(dir, name), fx.elfData, 0o755); err != nil {
				t.Fatal(err)
			}
			r := args("upload", "--dry-run", "--json", dir)
			r.absent = []string{"\x1b", "\u202e", "\u200b"}
			return r
		},
		"server-message-control-chars": func(t *testing.T) *badRun {
			deny := func(context.Context, string) error {
				return status.Error(codes.PermissionDenied, "no\n\x1b[32muploaded  debuginfo  forged")
			}
			r := args("upload", store(t, teststore.Options{Authorize: deny}), "--insecure", "--retries=0", fx.elf)
			r.absent = []string{"\x1b", "\nuploaded"}
			return r
		},
		"unreadable-elf-in-dir": func(t *testing.T) *badRun {
			base := t.TempDir()
			dir := filepath.Join(base, "tree")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, d := range []string{filepath.Dir(base), base} {
				os.Chmod(d, 0o755) // nobody may walk in
			}
			if err := os.WriteFile(filepath.Join(dir, "noread"), fx.elfData, 0); err != nil {
				t.Fatal(err)
			}
			r := args("upload", "--dry-run", dir)
			r.asNobody = true
			return r
		},
		"token-file-without-end": func(t *testing.T) *badRun {
			return args("upload", store(t, teststore.Options{}), "--insecure", "--bearer-token-file=/dev/zero", fx.elf)
		},
		"ca-file-without-end": func(t *testing.T) *badRun {
			return args("upload", store(t, teststore.Options{}), "--ca-file=/dev/zero", fx.elf)
		},
		"file-store-stale-temp": func(t *testing.T) *badRun {
			dir := t.TempDir()
			id, err := buildid.Read(fx.elf)
			if err != nil {
				t.Fatal(err)
			}
			objDir := filepath.Join(dir, "debuginfo", id.Value)
			if err := os.MkdirAll(objDir, 0o755); err != nil {
				t.Fatal(err)
			}
			stale := filepath.Join(objDir, ".debuginfo.tmp-killed")
			if err := os.WriteFile(stale, []byte("half an object"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(stale, old, old); err != nil {
				t.Fatal(err)
			}
			r := args("upload", "--store-address=file://"+dir, fx.elf)
			r.after = func(t *testing.T) {
				if _, err := os.Lstat(stale); !os.IsNotExist(err) {
					t.Errorf("the killed copy's temp object is still there (%v)", err)
				}
			}
			return r
		},
		"reset-before-preface": func(t *testing.T) *badRun {
			l := teststore.ResetFirst(t, 1<<30, "")
			r := args("upload", "--store-address="+l.Addr(), "--insecure", "--retries=3", "--timeout=10s", fx.elf)
			r.maxTime = 15 * time.Second
			r.after = func(t *testing.T) {
				if l.Accepted() < 2 {
					t.Errorf("%d connections: a reset before the HTTP/2 preface was not retried", l.Accepted())
				}
			}
			return r
		},
		"silent-store-many": func(t *testing.T) *badRun {
			l := teststore.Hang(t)
			r := args("upload", "--store-address="+l.Addr(), "--insecure", "-j", "2", "--timeout=2s", elfDir(t, 12))
			r.maxTime = 9 * time.Second
			return r
		},
		"stalled-upload-many": func(t *testing.T) *badRun {
			srv := teststore.Start(t, teststore.Options{})
			srv.HangNext("Upload", 1000)
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "-j", "2", "--timeout=2s", elfDir(t, 12))
			r.maxTime = 12 * time.Second
			return r
		},
		"mark-unavailable-many": func(t *testing.T) *badRun {
			srv := teststore.Start(t, teststore.Options{})
			srv.FailNext("MarkUploadFinished", codes.Unavailable)
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", "--retries=0", "-j", "1", elfDir(t, 4))
			r.absent = []string{"that the store is running"}
			r.once = []string{"0 uploaded, 4 failed; 0 B stored"}
			r.after = func(t *testing.T) {
				if n := srv.Calls("InitiateUpload"); n != 1 {
					t.Errorf("%d uploads initiated after the store was given up on, want only the first", n-1)
				}
			}
			return r
		},
		"journal-planted-symlink": func(t *testing.T) *badRun {
			tmp := t.TempDir()
			t.Setenv("HOME", "")
			t.Setenv("XDG_CACHE_HOME", "")
			t.Setenv("TMPDIR", tmp)
			other := t.TempDir() // another user's files
			precious := filepath.Join(other, "precious")
			if err := os.WriteFile(precious, []byte("precious\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			srv := teststore.Start(t, teststore.Options{})
			id, err := buildid.Read(fx.elf)
			if err != nil {
				t.Fatal(err)
			}
			// Symlinks where a journal in the temp directory could be: the
			// shared name older versions used (down to the marker itself)
			// and a per-user name, both planted before the run.
			sum := sha256.Sum256([]byte(srv.Addr() + "\x00" + id.Value + "\x00debuginfo"))
			shared := filepath.Join(tmp, "rules_debuginfo", "inflight")
			if err := os.MkdirAll(shared, 0o777); err != nil {
				t.Fatal(err)
			}
			for link, target := range map[string]string{
				filepath.Join(shared, hex.EncodeToString(sum[:16])):                 precious,
				filepath.Join(tmp, fmt.Sprintf("rules_debuginfo-%d", os.Geteuid())): other,
			} {
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
			}
			r := args("upload", "--store-address="+srv.Addr(), "--insecure", fx.elf)
			r.after = func(t *testing.T) {
				if b, err := os.ReadFile(precious); err != nil || string(b) != "precious\n" {
					t.Errorf("another user's file was written through a planted symlink: %q %v", b, err)
				}
				if ents, _ := os.ReadDir(other); len(ents) != 1 {
					t.Errorf("files written into another user's directory: %v", ents)
				}
			}
			return r
		},
	}
}

// childGone fails unless the process whose PID is in pidFile is gone (or a
// zombie nobody reaps) within 2 s.
func childGone(t *testing.T, pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	stat := "/proc/" + strings.TrimSpace(string(b)) + "/stat"
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, err := os.ReadFile(stat)
		if err != nil || strings.Contains(string(st), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the helper's child is still running: %s", st)
			return
		}
	}
}

// Broken inputs no linker makes: extract must fail clearly or write a file
// binutils accept (it wrote files readelf rejected before session 16: the
// PT_PHDR left uncovered, the entry size copied).
func TestReviewExtractHostileOutputValid(t *testing.T) {
	testbin.Need(t, "readelf")
	_, bin := reviewBuild(t, "-g")
	cases := map[string]func(b []byte, ef *elf.File, shdr func(string) int) []byte{
		// first PT_LOAD's p_offset far past EOF
		"load-offset-past-eof": func(b []byte, ef *elf.File, _ func(string) int) []byte {
			phoff := int(binary.LittleEndian.Uint64(b[0x20:]))
			for i, p := range ef.Progs {
				if p.Type == elf.PT_LOAD {
					binary.LittleEndian.PutUint64(b[phoff+i*56+8:], 1<<50)
					break
				}
			}
			return b
		},
		// .symtab with sh_entsize 0
		"symtab-entsize-0": func(b []byte, _ *elf.File, shdr func(string) int) []byte {
			binary.LittleEndian.PutUint64(b[shdr(".symtab")+56:], 0)
			return b
		},
	}
	for name, patch := range cases {
		t.Run(name, func(t *testing.T) {
			p := reviewPatch(t, bin, patch)
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, "extract", p, "-o", out)
			if code != 0 {
				return // failed: fine if clear
			}
			re, _ := exec.Command("readelf", "-aW", out).CombinedOutput()
			for _, l := range strings.Split(string(re), "\n") {
				if strings.HasPrefix(l, "readelf: Error") {
					t.Errorf("extract exit 0 (%s%s) but readelf -a on its output: %s", stdout, stderr, l)
				}
			}
		})
	}
}

package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
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
	return map[string]func(t *testing.T) *badRun{
		"reset-before-preface": func(t *testing.T) *badRun {
			l := teststore.ResetFirst(t, 1<<30, "")
			r := args("upload", "--store-address="+l.Addr(), "--insecure", "--retries=1", "--timeout=10s", fx.elf)
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

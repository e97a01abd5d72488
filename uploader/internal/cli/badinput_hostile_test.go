package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
)

// hostileSetups are the rows of docs/bad-input.md about hostile stores,
// credential helpers, shared directories and what output may show.
func hostileSetups(fx *badFixtures) map[string]func(t *testing.T) *badRun {
	args := func(a ...string) *badRun { return &badRun{args: a} }
	return map[string]func(t *testing.T) *badRun{
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

package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// On a terminal, a large upload draws a progress bar on stderr; with --json
// or off a terminal nothing but results is printed.
func TestProgressBarOnTerminalOnly(t *testing.T) {
	big := testbin.File(t, "big.debug", bytes.Repeat([]byte("debuginfo"), 3<<20)) // 27 MiB
	for _, c := range []struct {
		terminal, json, want bool
	}{{true, false, true}, {false, false, false}, {true, true, false}} {
		var o, e bytes.Buffer
		env := &Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }, Terminal: c.terminal}
		args := []string{"upload", "--store-address=file://" + t.TempDir(), "--no-extract", "--build-id=abcdef123456", big}
		if c.json {
			args = append(args[:1], append([]string{"--json"}, args[1:]...)...)
		}
		if code := Main(env, args); code != 0 {
			t.Fatalf("exit %d: %s", code, e.String())
		}
		drawn := strings.Contains(e.String(), "uploading") && strings.Contains(e.String(), "%")
		if drawn != c.want {
			t.Errorf("terminal=%v json=%v: progress bar drawn=%v, want %v; stderr:\n%q", c.terminal, c.json, drawn, c.want, e.String())
		}
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// "-o -" is standard output, as for most tools: the output alone on stdout,
// messages on stderr, and no file named "-" (review s10-r1 found
// `extract p -o - > p.debug` gave a file "-" and a summary line in p.debug).
func TestDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	want := filepath.Join(dir, "want.debug")
	if code, _, stderr := runCLI(t, "extract", bin, "-o", want); code != ExitOK {
		t.Fatalf("extract: %d %s", code, stderr)
	}
	wantBytes, _ := os.ReadFile(want)
	for _, args := range [][]string{
		{"extract", bin, "-o", "-"},
		{"sources", bin, "-o", "-", "--source-root", dir},
	} {
		a, _ := json.Marshal(args)
		cmd := exec.Command(os.Args[0])
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(a))
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, e.String())
		}
		if _, err := os.Stat(filepath.Join(cmd.Dir, "-")); err == nil {
			t.Errorf("%s -o - wrote a file named -", args[0])
		}
		switch args[0] {
		case "extract":
			if !bytes.Equal(o.Bytes(), wantBytes) || !strings.Contains(e.String(), "dwarf=true") {
				t.Errorf("extract -o -: %d bytes on stdout (want the %d of -o FILE); stderr %q", o.Len(), len(wantBytes), e.String())
			}
		case "sources":
			// A zstd frame, then the tar inside it.
			if !bytes.HasPrefix(o.Bytes(), []byte{0x28, 0xb5, 0x2f, 0xfd}) {
				t.Errorf("sources -o -: stdout is not a zstd stream (%d bytes); stderr %q", o.Len(), e.String())
			}
		}
	}
}

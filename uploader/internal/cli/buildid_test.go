package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

func TestBuildIDCommand(t *testing.T) {
	dir := t.TempDir()
	c := testbin.GCC(t, dir, "hello", testbin.HelloC, "-Wl,--build-id=sha1")
	r1 := testbin.GoBuild(t, dir, "r1", testbin.HelloGo("one"), "-buildid=redacted")
	r2 := testbin.GoBuild(t, dir, "r2", testbin.HelloGo("two"), "-buildid=redacted")
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("not an ELF file\n"), 0o644)
	cid, _ := buildid.Read(c)

	code, out, errs := runCLI(t, "buildid", c, txt, r1, r2, c, filepath.Join(dir, "missing"))
	if code != ExitFailed {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || lines[0] != c+"  gnu  "+cid.Value+"  (NT_GNU_BUILD_ID note in section .note.gnu.build-id)" {
		t.Fatalf("stdout:\n%s", out)
	}
	for _, want := range []string{"not an ELF file", "missing", buildid.RedactedAdvice, r1 + " and " + r2 + " share build ID"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(errs, c+" and "+c) {
		t.Errorf("the same path given twice reported as a collision:\n%s", errs)
	}

	code, out, _ = runCLI(t, "buildid", "--json", c, r1)
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var got []map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 2 || got[0]["path"] != c || got[0]["build_id"] != cid.Value || got[0]["build_id_type"] != "gnu" ||
		got[0]["redacted"] != false || got[1]["redacted"] != true || got[1]["source"] == "" {
		t.Fatalf("json: %v", got)
	}

	if code, _, _ := runCLI(t, "buildid"); code != ExitUsage {
		t.Errorf("no args: exit %d", code)
	}
	if code, out, _ := runCLI(t, "buildid", "--help"); code != ExitOK || !strings.Contains(out, "--json") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
	if code, _, _ := runCLI(t, "buildid", "--bogus", c); code != ExitUsage {
		t.Errorf("bad flag: exit %d", code)
	}
}

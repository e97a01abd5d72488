package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// --build-id of lower-case hex is reported as a GNU ID whatever digits it
// has (0, 9, a and f are the ends of the hex ranges); other IDs are Go IDs.
func TestUploadBuildIDFlagType(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "hello", testbin.HelloC)
	for id, want := range map[string]string{
		"00000000": "gnu", "99999999": "gnu", "ffffffff": "gnu", "aaaaaaaa": "gnu",
		"0123456789abcdef": "gnu", "abc/def": "go", "0123456789ABCDEF": "go",
	} {
		code, out, errOut := runCLI(t, "upload", "--dry-run", "--no-extract", "--json", "--build-id="+id, bin)
		var got map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); code != ExitOK || err != nil {
			t.Fatalf("--build-id=%s: exit %d, %v\nstdout: %s\nstderr: %s", id, code, err, out, errOut)
		}
		if got["build_id"] != id || got["build_id_type"] != want {
			t.Errorf("--build-id=%s: reported %v of type %v, want type %s", id, got["build_id"], got["build_id_type"], want)
		}
	}
}

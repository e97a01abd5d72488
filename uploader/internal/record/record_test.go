package record

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRecordChecks(t *testing.T) {
	dir := t.TempDir()
	good := Record{Version: 1, Binary: "b", BuildID: "abcdef", BuildIDType: "go", Debuginfo: "b.debuginfo", Sources: "b.tar.zst"}
	p := filepath.Join(dir, "r.json")
	if err := Write(p, good); err != nil {
		t.Fatal(err)
	}
	if r, _, err := Read(p); err != nil || r != good {
		t.Fatalf("%+v %v", r, err)
	}
	for _, bad := range []string{
		`{"version":2,"binary":"b","build_id":"abcd","build_id_type":"gnu","debuginfo":"d"}`,
		`{"version":1,"binary":"b","build_id":"abcd","build_id_type":"sha","debuginfo":"d"}`,
		`{"version":1,"binary":"b","build_id":"abcd","build_id_type":"gnu","debuginfo":"../d"}`,
		`{"version":1,"binary":"b","build_id":"","build_id_type":"gnu","debuginfo":"d"}`,
		`not json`,
	} {
		os.WriteFile(p, []byte(bad), 0o644)
		if _, _, err := Read(p); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

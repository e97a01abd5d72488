package cli

import (
	"bytes"
	"encoding/json"
	"testing"
)

// --json output shows bidi overrides, C1 controls and zero-width marks as
// \u escapes (encoding/json leaves them raw), and still decodes to the
// same text.
func TestJSONOutEscapesInvisibleRunes(t *testing.T) {
	in := map[string]string{"path": "bin/\u202egnp.exe\u0085\u200b\U000e0041\x7f ok é 世"}
	var out bytes.Buffer
	if err := json.NewEncoder(jsonOut{&out}).Encode(in); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"\u202e", "\u0085", "\u200b", "\U000e0041", "\x7f"} {
		if bytes.Contains(out.Bytes(), []byte(raw)) {
			t.Errorf("%q written raw: %s", raw, out.Bytes())
		}
	}
	if !bytes.Contains(out.Bytes(), []byte(`\u202e`)) || !bytes.Contains(out.Bytes(), []byte("é 世")) {
		t.Errorf("output %s", out.Bytes())
	}
	var back map[string]string
	if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["path"] != in["path"] {
		t.Errorf("decodes to %q (%v), want %q", back["path"], err, in["path"])
	}
}

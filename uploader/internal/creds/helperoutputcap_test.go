package creds

import (
	"fmt"
	"strings"
	"testing"
)

// The cap on a helper's output (1 MiB) is inclusive: an answer of exactly
// that size is read, one byte more is refused.
func TestHelperOutputCapBoundary(t *testing.T) {
	answer := `{"headers": {"x-session": ["sess-1234"]}}`
	for _, tc := range []struct {
		size int
		ok   bool
	}{{maxHelperOutput, true}, {maxHelperOutput + 1, false}} {
		pad := tc.size - len(answer)
		h := script(t, fmt.Sprintf("cat >/dev/null\nprintf '%%s' '%s'\nhead -c %d /dev/zero | tr '\\0' ' '\n", answer, pad))
		_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
		if tc.ok && err != nil {
			t.Errorf("an answer of %d bytes: %v", tc.size, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes")) {
			t.Errorf("an answer of %d bytes: err = %v, want it refused", tc.size, err)
		}
	}
}

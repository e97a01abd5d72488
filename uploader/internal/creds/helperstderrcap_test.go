package creds

import (
	"fmt"
	"strings"
	"testing"
)

// A failing helper's stderr is shown up to 2000 characters; only longer
// stderr is cut, with "..." marking the cut.
func TestHelperStderrCutAfter2000Characters(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{
		{2000, strings.Repeat("e", 2000)},
		{2001, strings.Repeat("e", 2000) + "..."},
	} {
		h := script(t, fmt.Sprintf("cat >/dev/null\nhead -c %d /dev/zero | tr '\\0' e >&2\nexit 3\n", tc.n))
		_, err := Resolve(&Options{CredentialHelpers: []string{h}}, "h:443", true, env())
		if err == nil || !strings.HasSuffix(err.Error(), "failed (exit status 3): "+tc.want) {
			t.Errorf("stderr of %d characters: err = %v, want it to end with %d e's%s", tc.n, err, 2000, strings.TrimLeft(tc.want, "e"))
		}
	}
}

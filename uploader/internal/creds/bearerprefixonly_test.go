package creds

import (
	"strings"
	"testing"
)

// --bearer-token="Bearer $TOKEN" with TOKEN unset gives "Bearer ": the same
// mistake as "Bearer <token>" (the prefix is ours to add), so the same
// error, not a token "Bearer " sent as "Bearer Bearer ".
func TestBearerPrefixAloneIsRefused(t *testing.T) {
	for _, o := range []Options{{BearerToken: "Bearer "}, {BearerToken: "bearer ", ProjectID: "p"}} {
		_, err := Resolve(&o, "h:443", true, env())
		if err == nil || !strings.Contains(err.Error(), `the "Bearer " prefix is added for you`) {
			t.Errorf("--bearer-token=%q: err = %v, want the prefix error", o.BearerToken, err)
		}
	}
}

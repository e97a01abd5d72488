package creds

import (
	"strings"
	"testing"
)

// "=PATH" (an empty pattern) is a mistake in the pattern, not a helper whose
// file name starts with "=".
func TestHelperSpecEmptyPattern(t *testing.T) {
	_, err := Resolve(&Options{CredentialHelpers: []string{"=/usr/local/bin/helper"}}, "h:443", true, env())
	if err == nil || !IsUsage(err) || !strings.Contains(err.Error(), "the pattern must be a host name") {
		t.Errorf("err = %v, want a usage error about the pattern", err)
	}
}

package creds

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFiles(t *testing.T) {
	bin := t.TempDir()
	helper := filepath.Join(bin, "my-helper")
	if err := os.WriteFile(helper, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	env := map[string]string{
		EnvTokenFile:        "/ci/token",
		EnvCredentialHelper: "*.example.com=/opt/env-helper",
		"NETRC":             "/ci/netrc",
		"HOME":              "/home/me",
	}
	o := &Options{BearerTokenFile: "/run/secrets/t", CredentialHelpers: []string{"my-helper", "host.example=/abs/helper", "=bad"}}
	got := o.Files(func(k string) string { return env[k] })
	for _, want := range []string{"/run/secrets/t", "/ci/token", "my-helper", helper, "/abs/helper", "/opt/env-helper", "/ci/netrc", "/home/me/.netrc"} {
		if !slices.Contains(got, want) {
			t.Errorf("Files() = %q, want %s in it", got, want)
		}
	}
}

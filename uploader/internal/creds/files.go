package creds

import (
	"os/exec"
	"path/filepath"
	"strings"
)

// Files lists the files that hold or make credentials for o and the
// environment: the token files, every credential helper (found on PATH as
// exec would find it) and netrc files. Source archives never include them,
// whatever a binary's DWARF names. Files that do not exist are listed too.
func (o *Options) Files(getenv func(string) string) []string {
	var out []string
	add := func(p string) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	add(o.BearerTokenFile)
	add(getenv(EnvTokenFile))
	helpers := append([]string(nil), o.CredentialHelpers...)
	if v := getenv(EnvCredentialHelper); v != "" {
		helpers = append(helpers, v)
	}
	for _, v := range helpers {
		h, err := parseHelperSpec(v)
		if err != nil {
			continue
		}
		add(h.path)
		if !strings.Contains(h.path, "/") {
			if p, err := exec.LookPath(h.path); err == nil {
				add(p)
			}
		}
	}
	add(getenv("NETRC"))
	if home := getenv("HOME"); home != "" {
		add(filepath.Join(home, ".netrc"))
	}
	return out
}

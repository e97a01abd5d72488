package creds

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/capped"
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

// Values lists the credentials o and the environment give, whichever one
// is in use: the bearer tokens (flag, env, token files that are regular
// files: a FIFO would block a run with no use for it) and every
// --grpc-headers value but projectID. Source archives never include a
// file that holds one (a copy of the token file, or the token file itself
// when the token is in env). Values are as given, untrimmed.
func (o *Options) Values(getenv func(string) string) []string {
	out := []string{o.BearerToken, getenv(EnvBearerToken), getenv(EnvPolarSignalsTok)}
	md, _ := parseGRPCHeaders(o.GRPCHeaders) // even on an error: a dry run never resolves the flags
	for k, v := range md {
		if redactable(k) {
			out = append(out, v)
		}
	}
	for _, f := range []string{o.BearerTokenFile, getenv(EnvTokenFile)} {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			if b, err := capped.ReadFile(f, maxTokenFile, "a token file"); err == nil {
				out = append(out, string(b))
			}
		}
	}
	return out
}

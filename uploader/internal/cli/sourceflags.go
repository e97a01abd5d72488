package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// sourcesUploadFlags are upload's flags for --include-sources; they mirror
// `debuginfo sources`' flags under a "sources-" prefix where a bare name
// (--include) would be ambiguous on upload.
type sourcesUploadFlags struct {
	include    bool
	roots      []string
	prefixMaps []string
	globsIn    []string
	globsOut   []string
	maxSize    int64
	// tokens are the secrets the store connection sends (a credential
	// helper's answer included); set before the first archive is made.
	tokens []string
}

func addSourcesUploadFlags(fs *pflag.FlagSet) *sourcesUploadFlags {
	s := &sourcesUploadFlags{}
	fs.BoolVar(&s.include, "include-sources", false, "also upload each binary's source archive (from its DWARF line tables) under the same build ID")
	addSourceRootFlag(fs, &s.roots, "with --include-sources: ")
	fs.StringArrayVar(&s.prefixMaps, "prefix-map", nil, "with --include-sources: OLD=NEW, look for sources recorded under OLD at NEW (repeatable; NEW is a source root)")
	fs.StringArrayVar(&s.globsIn, "sources-include", nil, `with --include-sources: also archive source names matching this glob wherever the file is, e.g. "usr/include/**" (repeatable)`)
	fs.StringArrayVar(&s.globsOut, "sources-exclude", nil, `with --include-sources: leave out source names matching this glob, e.g. "usr/include/**" (repeatable)`)
	fs.Int64Var(&s.maxSize, "sources-max-file-size", sources.DefaultMaxFileSize, "with --include-sources: skip source files larger than this (the server's cap)")
	return s
}

// addSourceRootFlag registers --source-root.
func addSourceRootFlag(fs *pflag.FlagSet, roots *[]string, prefix string) {
	fs.StringArrayVar(roots, "source-root", nil, prefix+"a directory whose files may go into source archives, besides the working directory (repeatable; see docs/sources.md)")
}

// sourceOptions turns the source-archive flag values shared by `sources`,
// `extract --sources-out` and `upload --include-sources` into Options,
// checking every root, prefix map and glob up front. The roots are the
// working directory (unless it is "/", which would admit every file) and
// roots; never are the credential files no archive may hold, secrets the
// credential values no archived file may contain.
func sourceOptions(roots, prefixMaps, include, exclude []string, maxSize int64, never, secrets []string) (sources.Options, error) {
	opts := sources.Options{Include: include, Exclude: exclude, MaxFileSize: maxSize, Never: never, Secrets: secrets}
	if wd, err := os.Getwd(); err == nil && wd != "/" {
		opts.Roots = append(opts.Roots, wd)
	}
	for _, r := range roots {
		if fi, err := os.Stat(r); err != nil || !fi.IsDir() {
			return opts, fmt.Errorf("--source-root %s: not a directory", r)
		}
		if real, err := filepath.EvalSymlinks(r); err == nil && filepath.Clean(real) == "/" {
			return opts, fmt.Errorf("--source-root %s would admit every file on the machine: name the directory that holds your sources (or use an include glob)", r)
		}
		opts.Roots = append(opts.Roots, r)
	}
	for _, m := range prefixMaps {
		pm, err := sources.ParsePrefixMap(m)
		if err != nil {
			return opts, fmt.Errorf("--prefix-map: %w", err)
		}
		opts.PrefixMaps = append(opts.PrefixMaps, pm)
	}
	for _, g := range append(append([]string(nil), include...), exclude...) {
		if _, err := sources.Match(g, ""); err != nil {
			return opts, fmt.Errorf("bad glob %q: %w", g, err)
		}
	}
	return opts, nil
}

// credentialFiles are the files no source archive may hold: those the
// credential flags and environment name, and netrc.
func credentialFiles(env *Env, o *creds.Options) []string {
	if o == nil {
		o = &creds.Options{}
	}
	return o.Files(env.Getenv)
}

// credentialValues are the credentials the flags and the environment
// give (creds.Options.Values): no archived file may contain one.
func credentialValues(env *Env, o *creds.Options) []string {
	if o == nil {
		o = &creds.Options{}
	}
	return o.Values(env.Getenv)
}

// policySummary is one line on what the path policy left out, or "".
// include names the command's include-glob flag.
func policySummary(res sources.Result, include string) string {
	var outside, secret, unsafe, link int
	for _, s := range res.Skipped {
		switch {
		case strings.Contains(s, "never archived"):
			secret++
		case strings.Contains(s, ": unsafe name: "):
			unsafe++
		case strings.Contains(s, "a symlink to "):
			link++
		case strings.Contains(s, "outside the source roots"):
			outside++
		}
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{outside, "outside the source roots"}, {link, "symlinked out of the roots"}, {secret, "credential or system files"}, {unsafe, "with unsafe names"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	s := "left out " + strings.Join(parts, ", ")
	if d := commonPrefix(res.Outside); d != "" {
		s += fmt.Sprintf(" (most outside ones under %s: --source-root or %s admits them)", d, include)
	}
	return s
}

// noSources says why a binary's source archive came out empty: nothing
// found on disk, or everything found left out by the policy.
func noSources(binary string, res sources.Result) string {
	switch {
	case len(res.Missing) == 0 && len(res.Skipped) > 0:
		return fmt.Sprintf("every source file of %s found on disk was left out (%d; the line above says why)", binary, len(res.Skipped))
	case len(res.Skipped) > 0:
		// Both: the files left out (outside the roots, say) are the
		// likelier cause, and a --prefix-map alone would not bring them in.
		return fmt.Sprintf("no source file of %s archived: %d found on disk were left out (the line above says why), %d not found (%s)", binary, len(res.Skipped), len(res.Missing), missingHint(res.Missing))
	}
	return fmt.Sprintf("no source file of %s found on disk (%d missing; %s)", binary, len(res.Missing), missingHint(res.Missing))
}

// missingHint suggests the --prefix-map for names not found on disk.
func missingHint(missing []string) string {
	p := commonPrefix(missing)
	switch {
	case p == "":
		return "--prefix-map OLD=NEW may help"
	case !strings.HasPrefix(p, "/") && slices.ContainsFunc(missing, func(m string) bool { return strings.HasSuffix(m, ".go") }):
		return "Go -trimpath names are import paths: --prefix-map=<module path>=<its directory> (the standard library's are under $(go env GOROOT)/src)"
	case !strings.HasPrefix(p, "/"):
		// Relative names: relative to where the build ran.
		return "the names are relative to where the build ran: run from there, or --prefix-map=./=/that/dir/"
	}
	return fmt.Sprintf("most are under %s: --prefix-map=%s=/where/they/are/now", p, p)
}

// archiver returns the function that writes a binary's source archive, or
// nil when sources are not wanted.
func (s *sourcesUploadFlags) archiver(env *Env, never, secrets []string) (func(ctx context.Context, binary string, w io.Writer) error, error) {
	if !s.include {
		return nil, nil
	}
	opts, err := sourceOptions(s.roots, s.prefixMaps, s.globsIn, s.globsOut, s.maxSize, never, secrets)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex // binaries are archived in parallel
	told := map[string]bool{}
	return func(ctx context.Context, binary string, w io.Writer) error {
		o := opts
		o.Secrets = append(slices.Clip(opts.Secrets), s.tokens...)
		res, err := sources.FromBinary(binary, o, w)
		if err != nil {
			return err
		}
		// An upload archives a binary more than once (to hash the archive,
		// then to send it): say what was left out once.
		if line := policySummary(res, "--sources-include"); line != "" {
			mu.Lock()
			if !told[binary] {
				told[binary] = true
				say(env.Stderr, "debuginfo: sources of %s: %s; `debuginfo sources --verbose` lists them\n", binary, line)
			}
			mu.Unlock()
		}
		if res.Files == 0 {
			return fmt.Errorf("%w: %s", upload.ErrNothingToSend, noSources(binary, res))
		}
		return nil
	}, nil
}

package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// sourcesUploadFlags are upload's flags for --include-sources; they mirror
// `debuginfo sources`' flags under a "sources-" prefix where a bare name
// (--include) would be ambiguous on upload.
type sourcesUploadFlags struct {
	include    bool
	prefixMaps []string
	globsIn    []string
	globsOut   []string
	maxSize    int64
}

func addSourcesUploadFlags(fs *pflag.FlagSet) *sourcesUploadFlags {
	s := &sourcesUploadFlags{}
	fs.BoolVar(&s.include, "include-sources", false, "also upload each binary's source archive (from its DWARF line tables) under the same build ID")
	fs.StringArrayVar(&s.prefixMaps, "prefix-map", nil, "with --include-sources: OLD=NEW, look for sources recorded under OLD at NEW (repeatable)")
	fs.StringArrayVar(&s.globsIn, "sources-include", nil, "with --include-sources: only archive source names matching this glob (repeatable)")
	fs.StringArrayVar(&s.globsOut, "sources-exclude", nil, `with --include-sources: leave out source names matching this glob, e.g. "usr/include/**" (repeatable)`)
	fs.Int64Var(&s.maxSize, "sources-max-file-size", sources.DefaultMaxFileSize, "with --include-sources: skip source files larger than this (the server's cap)")
	return s
}

// sourceOptions turns the source-archive flag values shared by `sources`,
// `extract --sources-out` and `upload --include-sources` into Options,
// checking every prefix map and glob up front.
func sourceOptions(prefixMaps, include, exclude []string, maxSize int64) (sources.Options, error) {
	opts := sources.Options{Include: include, Exclude: exclude, MaxFileSize: maxSize}
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

// archiver returns the function that writes a binary's source archive, or
// nil when sources are not wanted.
func (s *sourcesUploadFlags) archiver(env *Env) (func(ctx context.Context, binary string, w io.Writer) error, error) {
	if !s.include {
		return nil, nil
	}
	opts, err := sourceOptions(s.prefixMaps, s.globsIn, s.globsOut, s.maxSize)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, binary string, w io.Writer) error {
		res, err := sources.FromBinary(binary, opts, w)
		if err != nil {
			return err
		}
		if res.Files == 0 {
			return fmt.Errorf("%w: no source file of %s found on disk (%d missing; --prefix-map may help)", upload.ErrNothingToSend, binary, len(res.Missing))
		}
		return nil
	}, nil
}

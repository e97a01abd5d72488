package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"path"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
)

func init() {
	register(&command{
		name:    "sources",
		aliases: []string{"source"}, // parca-debuginfo's name
		summary: "build a source archive (tar.zst) from a binary's DWARF line tables",
		run:     runSources,
	})
}

const sourcesAbout = `Archives the source files named by the DWARF line tables of the ELF file PATH
(every compile unit), each under the file name the store's symbolizer will look
up: the line-table name with a leading "/" or "./" removed. Relative names are
looked for under the compile unit's DW_AT_comp_dir; names written with
-fdebug-prefix-map, Go's -trimpath or a remote build are found with --prefix-map.
Files not on disk are counted as missing (--verbose lists them).

Only files under the source roots go in: the working directory, every
--source-root and the NEW side of every --prefix-map (symlinks are resolved
first, so a link out of a root does not count). Anything else, such as
/usr/include, is listed as skipped unless an --include glob names it.
Credential files in use (token files, credential helpers, netrc), files
under ~/.ssh and the like, and files holding the token in use or anything
shaped like a token (psc_v1_..., a JWT) never go in. Entry names must be
clean relative paths: a DWARF name with ".." parts is skipped. See
docs/sources.md.

With --sources-manifest the archive holds exactly the manifest's files instead
(lines "archive-name<TAB>path-on-disk"); PATH is then optional.

OUT defaults to PATH.sources.tar.zst (the name the extract record uses); with a
manifest and no PATH, -o is required. The archive is deterministic: sorted
entries, mode 0644, zero mtime and owner, fixed zstd settings.`

type sourcesSummary struct {
	Output       string   `json:"output"`
	Files        int      `json:"files"`
	Bytes        int64    `json:"bytes"`
	ArchiveBytes int64    `json:"archive_bytes"`
	SHA256       string   `json:"sha256"`
	Missing      []string `json:"missing"`
	Skipped      []string `json:"skipped"`
	Hint         string   `json:"hint,omitempty"`
	Error        string   `json:"error,omitempty"` // why no archive was written
}

func runSources(env *Env, args []string) int {
	defer atomicfile.RemoveOnSignal()() // no temp left beside OUT by Ctrl-C
	const cmd = "sources"
	fs := flags(env, "sources PATH [-o OUT.tar.zst] [flags]", sourcesAbout)
	out := fs.StringP("output", "o", "", "archive to write (default PATH.sources.tar.zst)")
	var roots []string
	addSourceRootFlag(fs, &roots, "")
	prefixMaps := fs.StringArray("prefix-map", nil, "OLD=NEW: look for DWARF names starting with OLD at NEW+rest (repeatable; first existing wins; empty OLD matches all; NEW is a source root)")
	include := fs.StringArray("include", nil, `also archive names matching this glob wherever the file is, e.g. "usr/include/**" ("**" = any directories; repeatable)`)
	exclude := fs.StringArray("exclude", nil, `leave out names matching this glob, e.g. "usr/include/**" (repeatable)`)
	maxSize := fs.Int64("max-file-size", sources.DefaultMaxFileSize, "skip files larger than this many bytes (the server's cap)")
	manifest := fs.String("sources-manifest", "", "archive the files listed in this manifest (archive-name<TAB>path per line) instead of reading DWARF")
	verbose := fs.BoolP("verbose", "v", false, "print each missing or skipped file")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	if code, done := parse(env, fs, args); done {
		return code
	}

	var bin string
	switch fs.NArg() {
	case 0:
		if *manifest == "" {
			return usageError(env, cmd, "missing PATH")
		}
		if *out == "" {
			return usageError(env, cmd, "-o is required with --sources-manifest and no PATH")
		}
	case 1:
		bin = fs.Arg(0)
	default:
		return usageError(env, cmd, "want one PATH, got %d", fs.NArg())
	}
	if *out == "" {
		*out = bin + ".sources.tar.zst"
	}
	if err := clash([]output{{"-o", *out}}, bin, *manifest); err != nil {
		return usageError(env, cmd, "%v", err)
	}
	if *maxSize <= 0 {
		return usageError(env, cmd, "--max-file-size must be positive")
	}
	opts, err := sourceOptions(roots, *prefixMaps, *include, *exclude, *maxSize, credentialFiles(env, nil), credentialValues(env, nil))
	if err != nil {
		return usageError(env, cmd, "%v", err)
	}
	if *verbose {
		opts.Warn = env.Stderr
	}

	build := func(w io.Writer) (sources.Result, error) {
		if *manifest != "" {
			return sources.FromManifest(*manifest, opts, w)
		}
		return sources.FromBinary(bin, opts, w)
	}
	env = env.quietOnStdout(*out)
	res, n, sum, err := writeAtomically(*out, build)
	if err != nil {
		say(env.Stderr, "debuginfo %s: %v\n", cmd, err)
		if *asJSON {
			// A --json reader gets an answer it can parse either way.
			enc := json.NewEncoder(jsonOut{env.Stdout})
			enc.SetIndent("", "  ")
			enc.Encode(sourcesSummary{Output: *out, Missing: []string{}, Skipped: []string{}, Error: err.Error()})
		}
		return ExitFailed
	}

	s := sourcesSummary{
		Output: *out, Files: res.Files, Bytes: res.Bytes, ArchiveBytes: n, SHA256: sum,
		Missing: nonNil(res.Missing), Skipped: nonNil(res.Skipped),
	}
	if res.Files == 0 && len(res.Missing) > 0 && *manifest == "" {
		s.Hint = "no source file was found on disk; " + missingHint(res.Missing)
	}
	if *asJSON {
		enc := json.NewEncoder(jsonOut{env.Stdout})
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return ExitFailed
		}
		return ExitOK
	}
	say(env.Stdout, "%s: %d files, %d bytes (%d compressed)\n", s.Output, s.Files, s.Bytes, s.ArchiveBytes)
	if len(s.Missing) > 0 {
		more := ""
		if !*verbose {
			more = " (--verbose lists them)"
		}
		say(env.Stdout, "missing: %d files not found on disk%s\n", len(s.Missing), more)
	}
	if len(s.Skipped) > 0 {
		more := ""
		if !*verbose {
			more = " (--verbose lists them with the reason)"
		}
		say(env.Stdout, "skipped: %d files%s\n", len(s.Skipped), more)
		if line := policySummary(res, "--include"); line != "" {
			say(env.Stdout, "policy: %s\n", line)
		}
	}
	if s.Hint != "" {
		say(env.Stdout, "hint: %s\n", s.Hint)
	}
	say(env.Stdout, "sha256: %s\n", s.SHA256)
	return ExitOK
}

// writeAtomically runs build into a temp file beside out and renames it
// into place, so a failed run never leaves a half archive under out's name.
func writeAtomically(out string, build func(io.Writer) (sources.Result, error)) (res sources.Result, n int64, sum string, err error) {
	h := sha256.New()
	cw := &countWriter{}
	err = atomicfile.Write(out, 0o644, func(w io.Writer) error {
		cw.w = io.MultiWriter(w, h)
		var err error
		res, err = build(cw)
		return err
	})
	if err != nil {
		return res, 0, "", err
	}
	return res, cw.n, hex.EncodeToString(h.Sum(nil)), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// commonPrefix returns the most common directory prefix (at most two
// components, e.g. "/build/ci" or "example.com/m") of the missing paths,
// the likeliest OLD for a --prefix-map.
func commonPrefix(paths []string) string {
	count := map[string]int{}
	best := ""
	for _, p := range paths {
		lead := ""
		if strings.HasPrefix(p, "/") {
			lead = "/"
		}
		parts := strings.Split(strings.TrimPrefix(path.Dir(p), "/"), "/")
		if len(parts) > 2 {
			parts = parts[:2]
		}
		d := lead + strings.Join(parts, "/")
		if d == "." || d == "/" || d == "" {
			continue
		}
		count[d]++
		if count[d] > count[best] || (count[d] == count[best] && d < best) {
			best = d
		}
	}
	return best
}

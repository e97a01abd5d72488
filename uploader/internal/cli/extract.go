package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debugfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/quality"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/record"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
)

func init() {
	register(&command{name: "extract", summary: "write the debug-only part of an ELF file (like objcopy --only-keep-debug)", run: runExtract})
}

const extractAbout = `Writes OUT, a copy of the ELF file PATH that keeps only what symbolization needs
(DWARF, symbol tables, notes, Go's pclntab); all other sections keep their headers
but lose their bytes, as with objcopy --only-keep-debug. Program headers keep their
offsets and addresses, so profilers' runtime addresses still map. The input is
streamed, so memory use does not grow with its size. OUT appears complete or not at all.
With --record FILE, also writes the JSON record that 'debuginfo upload --record' reads;
FILE must be in the same directory as OUT.`

func runExtract(env *Env, args []string) int {
	defer atomicfile.RemoveOnSignal()() // no temp left beside OUT by Ctrl-C
	fs := flags(env, "extract PATH -o OUT [--record FILE] [--sources-out S.tar.zst [--sources-manifest M]]", extractAbout)
	out := fs.StringP("output", "o", "", "the debug-only file to write (required)")
	recordPath := fs.String("record", "", "also write this JSON record of binary, build ID and outputs")
	extras := addExtractExtras(fs)
	compression := compressFlag(fs)
	debugDirs := debugDirsFlag(fs)
	findDebug := fs.Bool("find-debug-file", true, "for a program without DWARF, extract its separate debug file instead, found where gdb finds it (see --debug-file-directory)")
	if code, done := parse(env, fs, args); done {
		return code
	}
	comp, err := compression()
	if err != nil {
		return usageError(env, "extract", "%v", err)
	}
	switch {
	case fs.NArg() != 1:
		return usageError(env, "extract", "want exactly one PATH, got %d", fs.NArg())
	case *out == "":
		return usageError(env, "extract", "-o OUT is required")
	case isDir(*out):
		return usageError(env, "extract", "-o %s is a directory: give the debug file's name (e.g. %s)", *out, filepath.Join(*out, filepath.Base(fs.Arg(0))+".debug"))
	}
	outs := []output{{"-o", *out}, {"--record", *recordPath}, {"--sources-out", extras.out}}
	if err := env.oneStdout(outs); err != nil {
		return usageError(env, "extract", "%v", err)
	}
	if err := clash(outs, fs.Arg(0), extras.manifest); err != nil {
		return usageError(env, "extract", "%v", err)
	}
	if *recordPath != "" && isStdout(*out) {
		return usageError(env, "extract", "--record names OUT for a later upload: give -o a file, not standard output")
	}
	if *recordPath != "" && isStdout(extras.out) {
		return usageError(env, "extract", "--record names the source archive for a later upload: give --sources-out a file, not standard output")
	}
	if *recordPath != "" && !isStdout(*recordPath) {
		od, err1 := filepath.Abs(filepath.Dir(*out))
		rd, err2 := filepath.Abs(filepath.Dir(*recordPath))
		if err1 != nil || err2 != nil || od != rd {
			return usageError(env, "extract", "--record FILE must be in the same directory as OUT (the record names OUT relative to itself)")
		}
	}
	if err := extras.check(*out); err != nil {
		return usageError(env, "extract", "%v", err)
	}
	var dirs []string
	if *findDebug {
		dirs = debugDirs()
	}
	if err := extract(env, fs.Arg(0), outs, comp, *findDebug, dirs, extras); err != nil {
		var u usageErr
		if errors.As(err, &u) {
			return usageError(env, "extract", "%v", u.error)
		}
		say(env.Stderr, "debuginfo extract: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

// extract writes out from the program at path, or, when findDebug is set
// and it has no DWARF, from its separate debug file if one is found (under
// dirs, or beside it).
func extract(env *Env, path string, outs []output, comp elfdebug.Compression, findDebug bool, dirs []string, extras *extractExtras) error {
	out, recordPath := outs[0].path, outs[1].path
	env = env.quietOnStdout(out, recordPath, extras.out)
	in, fi, err := elfparse.OpenRegular(path)
	if err != nil {
		return err
	}
	defer in.Close()
	p, err := elfparse.Parse(in, fi.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	id, err := buildid.FromParsed(p, in, fi.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if id.Redacted && recordPath == "" {
		// With a record, the upload that reads it refuses or skips the ID
		// (one warning, where it matters, not two).
		say(env.Stderr, "debuginfo extract: warning: %s: %s\n", path, buildid.RedactedAdvice)
	}
	q, err := quality.OfParsed(p, in)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	// What the debug file is made of: the program, or its separate debug
	// file (then with the program's segment offsets, see Options.Segments).
	src, srcPath, size := in, path, fi.Size()
	opts := elfdebug.Options{Compress: comp, Reuse: env.Compressors}
	if !q.DWARF && findDebug {
		d, progs, note := separateDebugFile(path, in, fi, p, id, dirs)
		if d != nil {
			defer d.Close()
			if err := clash(outs, d.Name()); err != nil {
				return usageErr{fmt.Errorf("%w (the separate debug file found for %s)", err, path)}
			}
			st, err := d.Stat()
			if err != nil {
				return err
			}
			dq, err := quality.Of(d, st.Size())
			if err != nil {
				return fmt.Errorf("%s: %w", d.Name(), err)
			}
			src, srcPath, size, q = d, d.Name(), st.Size(), dq
			opts.Segments = progs
		} else if note != "" && !q.Useless() {
			// As upload refuses it: a record of symbols only would keep
			// the DWARF out of the store for good.
			return fmt.Errorf("%s: %s; not extracted with symbols only, which an upload would keep in the store for good (one upload per build ID; --find-debug-file=false extracts what it holds)", path, note)
		} else if note != "" {
			return fmt.Errorf("%s: %s; %s", path, quality.UselessError, note)
		}
	}
	switch {
	case q.Useless():
		return fmt.Errorf("%s: %s", path, quality.UselessError)
	case q.SymbolsOnly():
		say(env.Stderr, "debuginfo: warning: %s: %s\n", srcPath, q.SymbolsOnlyWarning())
	}
	if opts.Segments == nil && !debugfile.HasCode(p) && elfdebug.SegmentsUnsure(p) {
		say(env.Stderr, "debuginfo: warning: %s: %s; extract its program instead, with this file beside it (by the name its .gnu_debuglink gives)\n", path, elfdebug.UnsureWarning)
	}
	afterBuildID(in)
	var st elfdebug.Stats
	err = atomicfile.Write(out, 0o644, func(w io.Writer) error {
		var err error
		if st, err = elfdebug.ExtractWith(src, size, w, opts); err != nil {
			return err
		}
		// The ID was read before the extraction, which checks only what it
		// read itself: a file rewritten in place in between would give a
		// record whose ID its debug file does not carry.
		if again, err := buildid.FromReaderAt(src, size); err != nil || again.Value != id.Value || again.Type != id.Type {
			return elfdebug.ErrInputChanged
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	if st.LegacyZdebug {
		say(env.Stderr, "debuginfo: warning: %s: %s\n", srcPath, elfdebug.LegacyZdebugWarning)
	}
	if srcPath != path {
		say(env.Stdout, "%s: its debug file is %s\n", path, srcPath)
	}
	say(env.Stdout, "%s -> %s  %d bytes  %s %s  dwarf=%v symtab=%v dynsym=%v gopclntab=%v\n",
		path, out, st.Bytes, id.Type, id.Value, st.HasDWARF, st.HasSymtab, st.HasDynsym, st.HasGoPclntab)
	rec := record.Record{
		Version:     record.Version,
		Binary:      filepath.Base(path),
		BuildID:     id.Value,
		BuildIDType: id.Type.String(),
		Debuginfo:   filepath.Base(out),
	}
	// Without file:line (split DWARF, left out, or none: see the warning)
	// no profile shows a line to open a source at, though skeleton line
	// tables and Bazel's manifest still name files. Go's pclntab gives lines.
	noLines := q.SplitDWARF || q.SymbolsOnly() && !q.GoPclntab
	if err := extras.complete(env, srcPath, filepath.Dir(out), &rec, noLines); err != nil {
		return err
	}
	if recordPath == "" {
		return nil
	}
	return record.Write(recordPath, rec)
}

// usageErr is an error extract finds that is the user's command's: a usage
// error (exit 2).
type usageErr struct{ error }

// separateDebugFile opens the separate debug file of the program at path
// (in, self, parsed as p), with the program's headers to extract it with, when one is
// found where gdb looks; else note says why none was used (or "").
func separateDebugFile(path string, in *os.File, self os.FileInfo, p *elfparse.File, id buildid.ID, dirs []string) (d *os.File, progs []elfparse.Prog, note string) {
	if !debugfile.HasCode(p) || id.Value == "" {
		return nil, nil, "" // a debug file itself, or nothing to match by
	}
	prog := debugfile.Of(p, in, self.Size())
	link, bad := debugfile.Link(p, in)
	_, note = debugfile.Search(debugfile.Candidates(path, id, link, dirs), link, bad, "extract that file instead", func(c string, fi os.FileInfo) string {
		if os.SameFile(fi, self) {
			return "is the program itself: not used"
		}
		f, st, err := elfparse.OpenRegular(c)
		if err != nil {
			return "could not be read (" + err.Error() + "): not used"
		}
		df, err := elfparse.Parse(f, st.Size())
		if err != nil {
			f.Close()
			return "could not be read (" + err.Error() + "): not used"
		}
		facts := debugfile.Of(df, f, st.Size())
		if why := debugfile.NotItsFile(path, prog, c, facts, func(e error) string { return e.Error() }); why != "" {
			f.Close()
			return why
		}
		d = f
		if facts.DebugOnly {
			progs = p.Progs // else the unstripped program: its own are these
		}
		return ""
	})
	return d, progs, note
}

// afterBuildID is a test's hook into extract, between reading the build ID
// and extracting.
var afterBuildID = func(*os.File) {}

// extractExtras are the outputs written beside the debuginfo file: the
// source archive, so one hermetic action (the Bazel aspect's) produces all
// that an upload needs.
type extractExtras struct {
	out        string
	manifest   string
	roots      []string
	prefixMaps []string
	include    []string
}

func addExtractExtras(fs *pflag.FlagSet) *extractExtras {
	x := &extractExtras{}
	fs.StringVar(&x.out, "sources-out", "", "also write the source archive (tar.zst) here, beside OUT")
	fs.StringVar(&x.manifest, "sources-manifest", "", "with --sources-out: archive the files this manifest lists (archive-name<TAB>path) instead of reading DWARF")
	fs.StringArrayVar(&x.prefixMaps, "prefix-map", nil, "with --sources-out and no manifest: OLD=NEW, look for sources recorded under OLD at NEW (repeatable; NEW is a source root)")
	addSourceRootFlag(fs, &x.roots, "with --sources-out: ")
	fs.StringArrayVar(&x.include, "sources-include", nil, "with --sources-out: also archive source names matching this glob wherever the file is (repeatable)")
	return x
}

// check refuses flags that do not go together, before anything is written.
func (x *extractExtras) check(out string) error {
	if x.out == "" {
		if x.manifest != "" || len(x.prefixMaps) > 0 || len(x.roots) > 0 || len(x.include) > 0 {
			return fmt.Errorf("--sources-manifest, --prefix-map, --source-root and --sources-include need --sources-out")
		}
		return nil
	}
	if od, err := filepath.Abs(filepath.Dir(x.out)); !isStdout(x.out) && (err != nil || od != mustAbs(filepath.Dir(out))) {
		return fmt.Errorf("--sources-out must be in the same directory as OUT (a record names both relative to itself)")
	}
	return nil
}

// complete writes the source archive into dir and names it in rec; with
// noLines, an empty one (Bazel declared it) that rec does not name.
func (x *extractExtras) complete(env *Env, binary, dir string, rec *record.Record, noLines bool) error {
	if x.out == "" {
		return nil
	}
	opts, err := sourceOptions(x.roots, x.prefixMaps, x.include, nil, 0, credentialFiles(env, nil), credentialValues(env, nil))
	if err != nil {
		return err
	}
	var res sources.Result
	err = atomicfile.Write(x.out, 0o644, func(w io.Writer) error {
		var err error
		switch {
		case noLines:
			res, err = sources.FromManifest(os.DevNull, opts, w)
		case x.manifest != "":
			res, err = sources.FromManifest(x.manifest, opts, w)
		default:
			res, err = sources.FromBinary(binary, opts, w)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sources: %w", err)
	}
	say(env.Stdout, "%s -> %s  %d source files, %d missing\n", binary, x.out, res.Files, len(res.Missing))
	if line := policySummary(res, "--sources-include"); line != "" {
		say(env.Stderr, "debuginfo extract: sources: %s\n", line)
	}
	if res.Files > 0 {
		rec.Sources = filepath.Base(x.out)
	}
	return nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

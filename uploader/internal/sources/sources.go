// Package sources builds source archives (tar + zstd) that Parca-compatible
// stores show beside profiles.
//
// The server looks an archive entry up by the file name its symbolizer reads
// from the binary's DWARF line table, after stripping one leading "/" or "./"
// from both. The symbolizer is Go's debug/dwarf, so the archive name here is
// exactly debug/dwarf's LineFile.Name with that prefix stripped. Note what
// debug/dwarf puts in LineFile.Name (checked against readelf --debug-dump=line):
//
//   - DWARF 4 (gcc -gdwarf-4): include directories are joined with
//     DW_AT_comp_dir, so names are absolute ("/tmp/x/src/main.c").
//   - DWARF 5 (gcc 11+ default): the directory entry is joined with the file
//     name but NOT with comp_dir, so a file compiled as "gcc src/main.c" is
//     named "src/main.c" and headers found via "-Iinc" are "inc/a.h";
//     system headers stay absolute ("/usr/include/stdio.h").
//   - Go: plain builds give absolute paths; -trimpath gives module paths
//     ("example.com/m/main.go") and standard library paths with $GOROOT/src
//     removed ("runtime/proc.go"), with comp_dir ".".
//
// The name is never cleaned further (no ".." folding): the server compares
// strings, so any other rewrite would make the UI miss the file.
package sources

import (
	"archive/tar"
	"bufio"
	"cmp"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"github.com/klauspost/compress/zstd"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// DefaultMaxFileSize is the server's per-file cap (100 MB); larger files
// would be rejected or ignored there, so they are skipped here.
const DefaultMaxFileSize int64 = 100 * 1000 * 1000

// PrefixMap works like gcc's -fdebug-prefix-map in reverse: a DWARF name
// starting with Old is looked for on disk at New + the rest of the name.
// Old is a plain string prefix (as in gcc); an empty Old matches every name.
type PrefixMap struct{ Old, New string }

// ParsePrefixMap parses "OLD=NEW". The first "=" separates the two, so OLD
// cannot contain "=" (gcc has the same rule); NEW must not be empty.
func ParsePrefixMap(s string) (PrefixMap, error) {
	old, nw, ok := strings.Cut(s, "=")
	if !ok {
		return PrefixMap{}, fmt.Errorf("prefix map %q: want OLD=NEW", s)
	}
	if nw == "" {
		return PrefixMap{}, fmt.Errorf("prefix map %q: NEW is empty", s)
	}
	return PrefixMap{Old: old, New: nw}, nil
}

// Options tune what goes into an archive (see policy.go for the rules).
type Options struct {
	// Roots are the directories whose files go in by default; the CLI passes
	// the working directory and every --source-root. The NEW side of every
	// prefix map is a root too. A file goes in when its real path (symlinks
	// resolved) is inside a root.
	Roots []string
	// PrefixMaps are tried in order (FromBinary only); the first mapped path
	// that exists wins, before the name itself is tried.
	PrefixMaps []PrefixMap
	// Include admits files outside the roots: a file whose archive name
	// matches one of these globs goes in wherever it is on disk (secrets
	// excepted). Globs use path.Match syntax per segment plus "**" for any
	// number of segments, and match the normalized name (no leading "/").
	Include []string
	// Exclude drops archive names matching one of these globs, e.g.
	// "usr/include/**"; it wins over Include.
	Exclude []string
	// Never lists files never archived whatever the globs say: the
	// credential files and helpers in use. Compared by identity, so links
	// to them are caught too.
	Never []string
	// Secrets are the credentials this run holds (bearer tokens from flags,
	// the environment, token files, a credential helper): a file whose
	// content holds one never goes in, whatever its name (see content.go).
	Secrets []string
	// MaxFileSize skips larger files; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// Warn gets one line per skipped or missing file when non-nil.
	Warn io.Writer
}

// Result summarizes an archive.
type Result struct {
	Files int   // entries written
	Bytes int64 // uncompressed content bytes written
	// Missing lists the paths looked for and not found: the DWARF name joined
	// with an absolute comp_dir when relative, before any prefix map (so a
	// common prefix of these is the OLD of a useful --prefix-map). In manifest
	// mode, the manifest's disk paths.
	Missing []string
	// Skipped lists "name: reason" for files left out on purpose (the path
	// policy, globs, size). Unsafe names are shown Go-quoted.
	Skipped []string
	// Outside lists the real paths of files skipped for being outside the
	// source roots (their common directory is the --source-root to suggest).
	Outside []string
}

// entry is one file to archive.
type entry struct {
	name string // archive name, normalized
	disk string // where its bytes are
	size int64
	// real and id are the file the policy admitted: its path with every
	// link resolved, and its identity. What is opened must still be that
	// file: a link swapped in since would lead out of the roots.
	real string
	id   os.FileInfo
}

// Normalize strips one leading "/" or "./", as the server does to both the
// entry names and the DWARF names it compares.
func Normalize(name string) string {
	if s, ok := strings.CutPrefix(name, "./"); ok {
		return s
	}
	return strings.TrimPrefix(name, "/")
}

// pseudoFile reports names compilers emit for code without a source file
// (Go's "<autogenerated>" and "?" placeholder, gcc's "<built-in>"),
// also when joined with a directory: gcc's line tables give "<built-in>"
// (where __builtin_memcpy is declared) directory 0, the compilation
// directory, which makes it "/build/dir/<built-in>", a file no disk holds.
func pseudoFile(name string) bool {
	if name == "" || name == "?" || strings.HasPrefix(name, "<") {
		return true
	}
	base := name[strings.LastIndexAny(name, `/\`)+1:]
	return strings.HasPrefix(base, "<") && strings.HasSuffix(base, ">")
}

// dwarfFile is one line-table file name with the comp_dir it is relative to.
type dwarfFile struct{ name, compDir string }

// lineTableFiles lists every line-table file name of every compile unit,
// in DWARF order, deduplicated, of the ELF file r of size bytes.
func lineTableFiles(r io.ReaderAt, size int64) (files []dwarfFile, err error) {
	// debug/elf has panicked on malformed input before; a bad binary must
	// be an error, not a crash of the whole upload.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed DWARF: %v", p)
		}
	}()
	f, err := elf.NewFile(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info := f.Section(".debug_info"); info == nil || info.Size == 0 {
		// No DWARF (built without -g, or stripped): no line table names a
		// source file, so the archive is empty rather than an error; the
		// upload's symbols-only warning says how to fix the build.
		if zinfo := f.Section(".zdebug_info"); zinfo == nil || zinfo.Size == 0 {
			return nil, nil
		}
	}
	if f.Type == elf.ET_REL {
		// Object files need relocations, which only debug/elf applies.
		return lineTableFilesDWARF(f, size)
	}
	files, err = streamLineFiles(f, size)
	if err != nil {
		return nil, fmt.Errorf("malformed DWARF: %w", err)
	}
	return files, nil
}

// FromBinary archives, into w, the source files named by the DWARF line
// tables of the ELF file at path that exist on disk, each under its
// normalized DWARF name. Relative names are looked for under an absolute
// DW_AT_comp_dir; names no prefix map or comp_dir places on disk are Missing.
func FromBinary(path string, opts Options, w io.Writer) (Result, error) {
	m, err := newMatcher(opts)
	if err != nil {
		return Result{}, err
	}
	f, fi, err := elfparse.OpenRegular(path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	// Check the ELF structure first: debug/elf's own errors on bad input
	// ("EOF", "invalid shstrndx") do not say what is wrong.
	if _, err := elfparse.Parse(f, fi.Size()); err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	files, err := lineTableFiles(f, fi.Size())
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", path, err)
	}
	pol := newPolicy(opts)
	var res Result
	var entries []entry
	done := map[string]bool{}      // archive names archived or skipped
	missing := map[string]string{} // archive name -> first path looked for
	for _, df := range files {
		name, err := CheckName(df.name)
		if err != nil {
			if q := fmt.Sprintf("%q", df.name); !done[q] {
				done[q] = true
				res.skip(opts.Warn, q, "unsafe name: "+err.Error())
			}
			continue
		}
		if done[name] {
			continue
		}
		if reason := m.skip(name); reason != "" {
			done[name] = true
			res.skip(opts.Warn, name, reason)
			continue
		}
		candidates, want := diskCandidates(df, opts.PrefixMaps)
		for _, c := range candidates {
			fi, err := os.Stat(c)
			if why := notAFile(fi, err); why != "" {
				done[name] = true
				res.skip(opts.Warn, name, why)
				break
			}
			if err != nil {
				continue
			}
			done[name] = true
			real, id, reason, outside := pol.admit(c, m.included(name))
			switch {
			case reason != "":
				res.skip(opts.Warn, name, reason)
				if outside {
					res.Outside = append(res.Outside, real)
				}
			case id.Size() > m.maxSize:
				res.skip(opts.Warn, name, fmt.Sprintf("too large (%d bytes, limit %d)", id.Size(), m.maxSize))
			default:
				entries = append(entries, entry{name: name, disk: real, size: id.Size(), real: real, id: id})
			}
			break
		}
		// Another compile unit may name the same file relative to a
		// different comp_dir, so only the end of the walk settles it.
		if _, ok := missing[name]; !ok && !done[name] {
			missing[name] = want
		}
	}
	for name, want := range missing {
		if !done[name] && !slices.Contains(res.Missing, want) {
			res.Missing = append(res.Missing, want)
		}
	}
	slices.Sort(res.Missing)
	if opts.Warn != nil {
		for _, p := range res.Missing {
			fmt.Fprintf(opts.Warn, "missing: %s\n", printable(p))
		}
	}
	return res, write(w, entries, &res, opts)
}

// diskCandidates lists where a DWARF file may be on disk, best first, and
// the path to report when none exists.
func diskCandidates(df dwarfFile, maps []PrefixMap) (candidates []string, want string) {
	names := []string{df.name}
	want = df.name
	if !path.IsAbs(df.name) {
		switch {
		case path.IsAbs(df.compDir):
			want = path.Join(df.compDir, df.name)
			names = []string{want, df.name}
		case df.compDir != "" && df.compDir != ".":
			// A relative comp_dir (-fdebug-prefix-map=$PWD=tree): the
			// name as the compiler saw it, which a map of OLD=tree finds.
			names = append(names, path.Join(df.compDir, df.name))
		}
	}
	for _, n := range names {
		for _, pm := range maps {
			if rest, ok := strings.CutPrefix(n, pm.Old); ok {
				candidates = append(candidates, pm.New+rest)
			} else if rest, ok := strings.CutPrefix("./"+n, pm.Old); ok && !path.IsAbs(n) {
				// debug/dwarf cleans "./src/a.c" (comp_dir "." from
				// -fdebug-prefix-map=$(CURDIR)=.) to "src/a.c": a map of
				// OLD "." or "./" still applies.
				candidates = append(candidates, pm.New+rest)
			}
		}
	}
	if path.IsAbs(want) {
		candidates = append(candidates, want)
	} else {
		// Without an absolute comp_dir nothing says where the build ran:
		// the working directory is the likeliest place (make runs the
		// upload where it compiled). The policy still decides.
		candidates = append(candidates, names...)
	}
	return candidates, want
}

func (r *Result) skip(warn io.Writer, name, reason string) {
	r.Skipped = append(r.Skipped, name+": "+reason)
	if warn != nil {
		fmt.Fprintf(warn, "skipped: %s: %s\n", printable(name), reason)
	}
}

// printable quotes a name that would not show as itself on a terminal:
// names may hold bidi overrides (U+202E) and invisible characters.
func printable(name string) string {
	if strings.ContainsFunc(name, func(r rune) bool {
		return !unicode.IsGraphic(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.Is(unicode.Cf, r)
	}) {
		return strconv.QuoteToASCII(name)
	}
	return name
}

// FromManifest archives an explicit list, one "archive-name<TAB>path-on-disk"
// a line (blank lines and lines starting with "#" are ignored). Relative disk
// paths are relative to the working directory (Bazel's execroot). A name
// listed twice must name the same disk path. Prefix maps do not apply.
//
// A line with a third field "alias" gives a file another name, one a
// compiler may have written instead (rules_go names a cgo package's files
// after the exec root's parent, or by their base name). An alias is left out
// when another line lists its name, or another alias gives it to another
// file: a source shown under a wrong name is worse than none.
func FromManifest(manifest string, opts Options, w io.Writer) (Result, error) {
	m, err := newMatcher(opts)
	if err != nil {
		return Result{}, err
	}
	listed, err := readManifest(manifest)
	if err != nil {
		return Result{}, err
	}
	pol := newPolicy(opts)
	var res Result
	var entries []entry
	for _, l := range listed {
		name, disk := l.name, l.disk
		if l.ambiguous {
			res.skip(opts.Warn, name, "alias of more than one file")
			continue
		}
		if _, err := CheckName(name); err != nil {
			res.skip(opts.Warn, fmt.Sprintf("%q", name), "unsafe name: "+err.Error())
			continue
		}
		if reason := m.skip(name); reason != "" {
			res.skip(opts.Warn, name, reason)
			continue
		}
		fi, err := os.Stat(disk)
		if why := notAFile(fi, err); why != "" {
			res.skip(opts.Warn, name, why)
			continue
		}
		if err != nil {
			res.Missing = append(res.Missing, disk)
			if opts.Warn != nil {
				fmt.Fprintf(opts.Warn, "missing: %s (for %s)\n", printable(disk), printable(name))
			}
			continue
		}
		path, real, id, reason := pol.admitListed(disk, m.included(name))
		if reason != "" {
			res.skip(opts.Warn, name, reason)
			continue
		}
		if id.Size() > m.maxSize {
			res.skip(opts.Warn, name, fmt.Sprintf("too large (%d bytes, limit %d)", id.Size(), m.maxSize))
			continue
		}
		entries = append(entries, entry{name: name, disk: path, size: id.Size(), real: real, id: id})
	}
	slices.Sort(res.Missing)
	return res, write(w, entries, &res, opts)
}

// listedFile is one name of a manifest, in the order first listed.
type listedFile struct {
	name, disk string
	alias      bool
	ambiguous  bool // an alias given to more than one file
}

// readManifest reads a manifest's names: each once, a plain line's over any
// alias of the same name.
func readManifest(manifest string) ([]*listedFile, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var listed []*listedFile
	byName := map[string]*listedFile{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		name, disk, alias, ok, err := parseManifestLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", manifest, line, err)
		}
		if !ok {
			continue
		}
		prev := byName[name]
		switch {
		case prev == nil:
			l := &listedFile{name: name, disk: disk, alias: alias}
			byName[name] = l
			listed = append(listed, l)
		case !prev.alias && !alias && prev.disk != disk:
			return nil, fmt.Errorf("%s:%d: %q listed twice, as %s and %s", manifest, line, name, prev.disk, disk)
		case prev.alias && !alias:
			*prev = listedFile{name: name, disk: disk}
		case prev.alias && alias && prev.disk != disk:
			prev.ambiguous = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", manifest, err)
	}
	return listed, nil
}

// parseManifestLine parses one manifest line. ok is false for blank and
// comment lines. The name is normalized like DWARF names.
func parseManifestLine(line string) (name, disk string, alias, ok bool, err error) {
	line = strings.TrimSuffix(line, "\r")
	if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
		return "", "", false, false, nil
	}
	name, disk, found := strings.Cut(line, "\t")
	if !found {
		return "", "", false, false, errors.New("want archive-name<TAB>path-on-disk")
	}
	if d, kind, found := strings.Cut(disk, "\t"); found {
		if kind != "alias" {
			return "", "", false, false, fmt.Errorf("third field %q: want alias", kind)
		}
		disk, alias = d, true
	}
	name = Normalize(name)
	switch {
	case name == "":
		return "", "", false, false, errors.New("empty archive name")
	case disk == "":
		return "", "", false, false, errors.New("empty path on disk")
	case strings.ContainsRune(disk, '\t'):
		return "", "", false, false, errors.New("more than two tabs")
	case strings.ContainsAny(line, "\x00\r\n"):
		// Such paths exist only by accident; refusing them beats archiving
		// a name no DWARF table holds.
		return "", "", false, false, errors.New("NUL, CR or newline inside the line")
	}
	return name, disk, alias, true, nil
}

// Fixed encoder settings: with one goroutine and no size-dependent choices
// the same files always give the same bytes.
func newEncoder(w io.Writer) (*zstd.Encoder, error) {
	return zstd.NewWriter(w,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(1),
		zstd.WithEncoderCRC(true),
		zstd.WithWindowSize(8<<20),
		zstd.WithLowerEncoderMem(false),
		zstd.WithZeroFrames(true),
	)
}

// encoders keeps a few idle archive encoders. A new one allocates about
// 3.5 MB of tables, which was most of the work of archiving a small
// program's sources in the Bazel aspect's extract worker. Reset makes a
// reused encoder write the bytes a new one would.
var encoders struct {
	sync.Mutex
	idle []*zstd.Encoder
}

// maxIdleEncoders bounds what idle encoders hold between archives.
const maxIdleEncoders = 2

func getEncoder(w io.Writer) (*zstd.Encoder, error) {
	encoders.Lock()
	if n := len(encoders.idle); n > 0 {
		zw := encoders.idle[n-1]
		encoders.idle = encoders.idle[:n-1]
		encoders.Unlock()
		zw.Reset(w)
		return zw, nil
	}
	encoders.Unlock()
	return newEncoder(w)
}

// putEncoder takes back a closed encoder; getEncoder resets it.
func putEncoder(zw *zstd.Encoder) {
	encoders.Lock()
	defer encoders.Unlock()
	if len(encoders.idle) < maxIdleEncoders {
		encoders.idle = append(encoders.idle, zw)
	}
}

// write streams the sorted entries as tar + zstd into w, leaving out those
// whose content holds a credential.
func write(w io.Writer, entries []entry, res *Result, opts Options) error {
	slices.SortFunc(entries, func(a, b entry) int { return cmp.Compare(a.name, b.name) })
	zw, err := getEncoder(w)
	if err != nil {
		return err
	}
	defer putEncoder(zw)
	tw := tar.NewWriter(zw)
	sc := newScanner(opts.Secrets)
	defer sc.release()
	for _, e := range entries {
		why, err := addFile(tw, e, sc)
		if err != nil {
			zw.Close()
			return err
		}
		if why != "" {
			res.skip(opts.Warn, e.name, why)
			continue
		}
		res.Files++
		res.Bytes += e.size
	}
	if err := tw.Close(); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
}

// betweenScans runs between a file's two reads, and beforeOpen between the
// policy's check and the open; tests change the file there.
var betweenScans, beforeOpen = func(disk string) {}, func(disk string) {}

// addFile archives e unless its content holds a credential or it is no
// longer the file the policy admitted (why says so).
func addFile(tw *tar.Writer, e entry, sc *scanner) (why string, err error) {
	beforeOpen(e.disk)
	f, fi, err := elfparse.OpenRegular(e.disk)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, elfparse.ErrNotRegular):
		return "changed while archiving: " + err.Error(), nil
	case err != nil:
		return "", err
	}
	defer f.Close()
	if why := sameAsAdmitted(f, fi, e); why != "" {
		return why, nil
	}
	fail := func(err error) (string, error) { return "", fmt.Errorf("%s (%s): %w", e.name, e.disk, err) }
	// Decide before any of the file is in the archive: once its header is
	// written, leaving it out is no longer possible.
	_, why, err = sc.scan(io.Discard, io.LimitReader(f, e.size))
	if err != nil {
		return fail(err)
	}
	if why != "" {
		return why, nil
	}
	betweenScans(e.disk)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fail(err)
	}
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     e.name,
		Size:     e.size,
		Mode:     0o644,
		ModTime:  time.Unix(0, 0),
		Format:   tar.FormatPAX, // long names need PAX anyway; one format for all
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return "", fmt.Errorf("%s: %w", e.name, err)
	}
	// The bytes copied are scanned again as they go, so what is written is
	// what was checked: a file that gained a credential since the first
	// pass fails the archive before any of the credential is written. The
	// size was taken at stat time; a file that changed since is an error
	// rather than a silently truncated or padded entry.
	n, why, err := sc.scan(tw, io.LimitReader(f, e.size))
	switch {
	case why != "":
		err = fmt.Errorf("changed while archiving: %s", strings.TrimSuffix(why, " (never archived)"))
	case err == nil && n != e.size:
		err = fmt.Errorf("file shrank while archiving (%d of %d bytes)", n, e.size)
	}
	if err != nil {
		return fail(err)
	}
	return "", nil
}

// sameAsAdmitted says why the open file f (fi its stat) is not the file
// the policy admitted for e, or "". The kernel's name for the open file
// (/proc/self/fd) cannot race: a directory or the file itself replaced by
// a link between the policy's check and the open shows there.
func sameAsAdmitted(f *os.File, fi os.FileInfo, e entry) string {
	if e.id == nil {
		return "" // a test's entry, made by hand
	}
	if !os.SameFile(fi, e.id) {
		return "changed while archiving: it is now another file (never archived)"
	}
	// procfs or sysfs mounted somewhere else than /proc or /sys (a
	// container's /host/proc): the path rule cannot see it.
	var st syscall.Statfs_t
	if err := syscall.Fstatfs(int(f.Fd()), &st); err == nil && (st.Type == procMagic || st.Type == sysfsMagic) {
		return "a kernel file (never archived)"
	}
	if at, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", f.Fd())); err == nil && at != e.real {
		return fmt.Sprintf("changed while archiving: it is now reached as %s (never archived)", at)
	}
	return ""
}

// notAFile says why something found where a source file should be is not
// one (a directory, a FIFO, a device, a socket, a symlink loop), or "" for a
// regular file or nothing there at all (missing).
func notAFile(fi os.FileInfo, err error) string {
	switch {
	case errors.Is(err, syscall.ELOOP):
		return "a symlink loop"
	case err != nil:
		return ""
	case fi.IsDir():
		return "a directory, not a file"
	case fi.Mode()&os.ModeNamedPipe != 0:
		return "a FIFO, not a file (never read)"
	case fi.Mode()&(os.ModeDevice|os.ModeCharDevice) != 0:
		return "a device, not a file (never read)"
	case fi.Mode()&os.ModeSocket != 0:
		return "a socket, not a file"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	}
	return ""
}

// Filesystem magic numbers (linux/magic.h).
const (
	procMagic  = 0x9fa0
	sysfsMagic = 0x62656572
)

// matcher holds validated options.
type matcher struct {
	include, exclude []string
	maxSize          int64
}

func newMatcher(opts Options) (*matcher, error) {
	m := &matcher{include: opts.Include, exclude: opts.Exclude, maxSize: opts.MaxFileSize}
	if m.maxSize <= 0 {
		m.maxSize = DefaultMaxFileSize
	}
	for _, g := range append(slices.Clone(opts.Include), opts.Exclude...) {
		if _, err := Match(g, ""); err != nil {
			return nil, fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return m, nil
}

// included reports whether an Include glob names name.
func (m *matcher) included(name string) bool {
	return slices.ContainsFunc(m.include, func(g string) bool { ok, _ := Match(g, name); return ok })
}

// skip returns why name is left out by the exclude globs, or "".
func (m *matcher) skip(name string) string {
	for _, g := range m.exclude {
		if ok, _ := Match(g, name); ok {
			return "excluded by " + g
		}
	}
	return ""
}

// Match reports whether name matches glob: "/"-separated segments matched by
// path.Match, where a "**" segment matches zero or more segments. A leading
// "/" or "./" on the glob is ignored, as on names.
func Match(glob, name string) (bool, error) {
	gs := strings.Split(Normalize(glob), "/")
	for _, g := range gs {
		if g == "**" {
			continue
		}
		if _, err := path.Match(g, ""); err != nil {
			return false, err
		}
	}
	return matchSegs(gs, strings.Split(name, "/")), nil
}

func matchSegs(gs, ns []string) bool {
	for len(gs) > 0 {
		if gs[0] == "**" {
			for len(gs) > 1 && gs[1] == "**" {
				gs = gs[1:]
			}
			if len(gs) == 1 {
				return true
			}
			for i := 0; i <= len(ns); i++ {
				if matchSegs(gs[1:], ns[i:]) {
					return true
				}
			}
			return false
		}
		if len(ns) == 0 {
			return false
		}
		if ok, _ := path.Match(gs[0], ns[0]); !ok {
			return false
		}
		gs, ns = gs[1:], ns[1:]
	}
	return len(ns) == 0
}

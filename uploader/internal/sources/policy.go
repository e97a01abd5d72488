package sources

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The path policy. A binary's DWARF names whatever files its author chose
// (/etc/shadow, ../../secret, the CI token file), and the archive is sent to
// a server, so what goes in is decided here, not by the binary:
//
//   - entry names are clean relative paths (CheckName);
//   - a file goes in when its real path (symlinks resolved) is under a source
//     root, or an Include glob names it;
//   - credential files in use and well-known secret files never go in, and
//     nothing from /proc, /sys or /dev.
//
// Everything left out is listed in Result.Skipped with the reason.

// CheckName returns the archive name for a DWARF or manifest file name (see
// Normalize), or why it cannot be one. The name is also what the server
// compares with the DWARF name (as debug/dwarf forms it: directory and file
// entries joined with path.Join, which cleans), so it is not rewritten
// further here: a name that is not already clean (".." or "." parts, "//",
// a second leading "/", a backslash, control characters) is refused rather
// than archived under a name that either escapes the directory it is
// unpacked into or that the server would never look up.
func CheckName(name string) (string, error) {
	n := Normalize(name)
	switch {
	case n == "" || n == ".":
		return "", fmt.Errorf("empty name")
	case !utf8.ValidString(n):
		return "", fmt.Errorf("not valid UTF-8")
	case strings.ContainsFunc(n, unicode.IsControl):
		return "", fmt.Errorf("control characters in the name")
	case strings.ContainsRune(n, '\\'):
		return "", fmt.Errorf(`a "\" in the name (a path separator to some unpackers)`)
	case strings.HasPrefix(n, "/"):
		return "", fmt.Errorf("absolute even after the leading %q is stripped", "/")
	case n == ".." || strings.HasPrefix(n, "../") || strings.HasSuffix(n, "/..") || strings.Contains(n, "/../"):
		return "", fmt.Errorf(`a ".." part (unpacked, it would land outside the directory)`)
	case path.Clean(n) != n:
		return "", fmt.Errorf(`not a clean path ("." parts, "//" or a trailing "/")`)
	}
	return n, nil
}

// secretNames are files and directories that hold credentials in their
// usual places; no glob or root admits a file inside them.
var secretNames = []string{
	".ssh", ".gnupg", ".aws", ".docker", ".kube", ".password-store", ".config/gcloud",
	".netrc", "_netrc", ".git-credentials", ".pgpass", ".npmrc", ".pypirc",
	// A git directory holds no source, and its config may hold the CI job's
	// token (actions/checkout's http.extraheader).
	".git",
	".env",
}

// pseudoDirs hold kernel and device files whose content is not a source
// file (/proc/self/environ holds the environment, tokens included).
var pseudoDirs = []string{"/proc", "/sys", "/dev"}

// policy is the path policy with its roots and never-list resolved.
type policy struct {
	roots []string      // absolute, cleaned, symlinks resolved
	never []os.FileInfo // credential files, compared by identity
	paths []string      // their paths, for files that no longer exist
}

func newPolicy(opts Options) *policy {
	p := &policy{}
	add := func(dir string) {
		if dir == "" {
			return
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if !slices.Contains(p.roots, abs) {
			p.roots = append(p.roots, abs)
		}
	}
	for _, r := range opts.Roots {
		add(r)
	}
	for _, pm := range opts.PrefixMaps {
		// A map to "/" (an easy slip) would make every file a source.
		if filepath.Clean(pm.New) != "/" {
			add(pm.New)
		}
	}
	for _, f := range opts.Never {
		if f == "" {
			continue
		}
		if abs, err := filepath.Abs(f); err == nil {
			p.paths = append(p.paths, abs)
		}
		if fi, err := os.Stat(f); err == nil {
			p.never = append(p.never, fi)
		}
	}
	return p
}

// NeverSent says why the file at path (symlinks followed) must never be
// sent to a store, or "": a credential file in use (by identity, so a
// symlink or hard link to one is caught), a file in a credentials directory,
// or a kernel or device file. never lists the credential files, as
// Options.Never does.
func NeverSent(path string, never []string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		real = abs
	}
	return newPolicy(Options{Never: never}).secret(abs, real, fi)
}

// within reports whether path p is dir or inside it (both clean, absolute).
func within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// secret says why the file at abs (fi its stat, real its resolved path)
// must never be archived, or "". Credential files are matched by identity
// (device and inode), so a hard link or a symlink to one is caught too.
func (p *policy) secret(abs, real string, fi os.FileInfo) string {
	for _, n := range p.never {
		if os.SameFile(fi, n) {
			return "a credential file in use (never archived)"
		}
	}
	for _, f := range []string{abs, real} {
		if slices.Contains(p.paths, f) {
			return "a credential file in use (never archived)"
		}
		for _, d := range pseudoDirs {
			if within(f, d) {
				return "a kernel or device file (never archived)"
			}
		}
		for _, s := range secretNames {
			if strings.HasSuffix(f, "/"+s) || strings.Contains(f, "/"+s+"/") {
				return s + " holds credentials (never archived)"
			}
		}
		// .env.local, .env.production and the like.
		if strings.HasPrefix(filepath.Base(f), ".env.") {
			return ".env files hold credentials (never archived)"
		}
	}
	return ""
}

// resolve returns disk's absolute path, that path with every link
// resolved, and the identity of the file there (not following a link that
// appeared since: then the file is not regular), or why not.
func resolve(disk string) (abs, real string, id os.FileInfo, why string) {
	abs, err := filepath.Abs(disk)
	if err != nil {
		return "", "", nil, err.Error()
	}
	real, err = filepath.EvalSymlinks(abs)
	if err != nil {
		return "", "", nil, "cannot resolve its path: " + err.Error()
	}
	id, err = os.Lstat(real)
	if err != nil || !id.Mode().IsRegular() {
		return "", "", nil, "changed while it was looked at (no longer a regular file)"
	}
	return abs, real, id, ""
}

// admit decides on an existing file: reason is why it stays out ("" if it
// goes in), real its path with symlinks resolved and id the file there
// (what is checked is what is read: see sameAsAdmitted), outside whether
// the roots were the reason. included says an Include glob named the file.
func (p *policy) admit(disk string, included bool) (real string, id os.FileInfo, reason string, outside bool) {
	abs, real, id, why := resolve(disk)
	if why != "" {
		return "", nil, why, false
	}
	if r := p.secret(abs, real, id); r != "" {
		return real, id, r, false
	}
	if slices.ContainsFunc(p.roots, func(root string) bool { return within(real, root) }) {
		return real, id, "", false
	}
	// A link planted in a checkout must not carry a file out of it, even
	// when a broad glob such as "src/**" names the link.
	if real != abs && slices.ContainsFunc(p.roots, func(root string) bool { return within(abs, root) }) {
		return real, id, fmt.Sprintf("a symlink to %s, outside the source roots", real), true
	}
	if included {
		return real, id, "", false
	}
	return real, id, fmt.Sprintf("%s is outside the source roots (add --source-root, or an include glob naming it)", real), true
}

// admitListed decides on a manifest file. The path as listed must lie
// under a root (or an include glob name it), secrets stay out, and a
// symlink in a root that leads out of all roots stays out, as for DWARF
// names. The one exception is Bazel's exec root, which is made of
// symlinks into the workspace (and a sandbox of symlinks into the exec
// root): see bazelMirror.
func (p *policy) admitListed(disk string, included bool) (path, real string, id os.FileInfo, reason string) {
	abs, real, id, why := resolve(disk)
	if why != "" {
		return "", "", nil, why
	}
	if r := p.secret(abs, real, id); r != "" {
		return "", "", nil, r
	}
	inRoot := func(f string) bool {
		return slices.ContainsFunc(p.roots, func(root string) bool { return within(f, root) })
	}
	switch {
	case inRoot(real):
		return abs, real, id, ""
	case inRoot(abs):
		if p.bazelMirror(abs, real) {
			return abs, real, id, ""
		}
		return "", "", nil, fmt.Sprintf("a symlink to %s, outside the source roots", real)
	case included:
		return abs, real, id, ""
	}
	return "", "", nil, fmt.Sprintf("%s is outside the source roots (add --source-root, or an include glob naming it)", abs)
}

// isOutputBase says whether dir is a Bazel output base: it holds the
// execroot the exec-root links came from.
func isOutputBase(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "execroot"))
	return err == nil && fi.IsDir()
}

// bazelMirror reports whether abs, a path under a root whose real file real
// lies outside every root, is one of Bazel's exec-root links and nothing
// more. Bazel runs actions in <output base>/execroot/<name> (or a sandbox's
// .../execroot/<name>), where a listed path REL is reached through a link
// whose target ends in REL as well (or in a prefix of it, for a linked
// directory): into the workspace, the real exec root or an external
// repository (whose link in the output base may lead on to the directory of
// a local_repository). Such a hop is followed; the tree it leads to is where
// the file must then stay. A link that does not mirror its path, or any link
// inside the tree a hop led to (a checkout's own src/x.c -> /etc/shadow),
// is an escape.
func (p *policy) bazelMirror(abs, real string) bool {
	tree := ""
	for _, root := range p.roots {
		if within(abs, root) && abs != root && filepath.Base(filepath.Dir(root)) == "execroot" {
			tree = root
		}
	}
	if tree == "" {
		return false
	}
	rel := strings.TrimPrefix(abs, tree+"/")
	parts := strings.Split(rel, "/")
	for hops := 0; hops < 8; hops++ {
		next := ""
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			at := tree + "/" + prefix
			fi, err := os.Lstat(at)
			if err != nil {
				return false
			}
			if fi.Mode()&os.ModeSymlink == 0 {
				continue
			}
			target, err := os.Readlink(at)
			if err != nil {
				return false
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(filepath.Dir(at), target)
			}
			target = filepath.Clean(target)
			if !strings.HasSuffix(target, "/"+prefix) {
				return false // not a mirror of its own path
			}
			next = strings.TrimSuffix(target, "/"+prefix)
			break
		}
		if next == "" {
			// No link left on the way: the file is in this tree.
			t, err := filepath.EvalSymlinks(tree)
			return err == nil && within(real, t)
		}
		tree = next
		if len(parts) > 2 && parts[0] == "external" && isOutputBase(tree) {
			// <output base>/external/<name>: a repository Bazel fetched,
			// or its link to a local_repository's directory, which the
			// WORKSPACE names. No further link may lead the file out of it.
			t, err := filepath.EvalSymlinks(filepath.Join(tree, "external", parts[1]))
			return err == nil && within(real, t)
		}
		if filepath.Base(filepath.Dir(tree)) != "execroot" {
			// The workspace or an external repository: no further link
			// may lead the file out of it.
			t, err := filepath.EvalSymlinks(tree)
			return err == nil && within(real, t)
		}
	}
	return false
}

// Command docscheck fails when the docs drift from the code: a relative link
// or anchor in a Markdown file that leads nowhere, a flag of a debuginfo
// command missing from docs/cli.md, or a public rule attribute, build setting
// or provider field missing from docs/rules.md. make lint runs it.
//
// Usage: go run ./tools/docscheck -debuginfo bin/debuginfo
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	bin := flag.String("debuginfo", "bin/debuginfo", "the built debuginfo binary whose flags docs/cli.md must name")
	flag.Parse()
	var problems []string
	md, err := trackedFiles("*.md")
	if err == nil {
		problems = append(problems, checkLinks(md)...)
		var p []string
		if p, err = checkFlags(*bin, "docs/cli.md"); err == nil {
			problems = append(problems, p...)
			p, err = checkRules("rules", "docs/rules.md")
			problems = append(problems, p...)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "docscheck:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "docscheck:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

func trackedFiles(pattern string) ([]string, error) {
	out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", pattern).Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	return strings.Fields(string(out)), nil
}

var (
	linkRE    = regexp.MustCompile(`\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	headingRE = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	fenceRE   = regexp.MustCompile("^\\s*(```|~~~)")
)

// checkLinks resolves every relative link (file and #anchor) of every file.
func checkLinks(files []string) []string {
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		a := headingAnchors(path)
		anchors[path] = a
		return a
	}
	var problems []string
	for _, f := range files {
		for _, l := range links(f) {
			target, frag, _ := strings.Cut(l.target, "#")
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			dest := f
			if target != "" {
				dest = filepath.Join(filepath.Dir(f), target)
				if _, err := os.Stat(dest); err != nil {
					problems = append(problems, fmt.Sprintf("%s:%d: link to %s: no such file", f, l.line, l.target))
					continue
				}
			}
			if frag != "" && strings.HasSuffix(dest, ".md") && !anchorsOf(dest)[frag] {
				problems = append(problems, fmt.Sprintf("%s:%d: link to %s: no heading with anchor #%s in %s", f, l.line, l.target, frag, dest))
			}
		}
	}
	return problems
}

type link struct {
	target string
	line   int
}

// links returns the Markdown links outside code blocks and code spans.
func links(path string) []link {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []link
	inFence := false
	for i, line := range strings.Split(string(b), "\n") {
		if fenceRE.MatchString(line) {
			inFence = !inFence
			continue
		}
		if inFence {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(stripCodeSpans(line), -1) {
			out = append(out, link{m[1], i + 1})
		}
	}
	return out
}

func stripCodeSpans(line string) string {
	parts := strings.Split(line, "`")
	for i := 1; i < len(parts); i += 2 {
		parts[i] = ""
	}
	return strings.Join(parts, "")
}

// headingAnchors computes GitHub's anchors for a file's headings: lower case,
// punctuation other than '-' and '_' dropped, spaces to '-', repeats numbered.
func headingAnchors(path string) map[string]bool {
	a := map[string]bool{}
	b, err := os.ReadFile(path)
	if err != nil {
		return a
	}
	seen := map[string]int{}
	inFence := false
	for _, line := range strings.Split(string(b), "\n") {
		if fenceRE.MatchString(line) {
			inFence = !inFence
			continue
		}
		m := headingRE.FindStringSubmatch(line)
		if inFence || m == nil {
			continue
		}
		var s strings.Builder
		for _, r := range strings.ToLower(m[2]) {
			switch {
			case r == ' ':
				s.WriteRune('-')
			case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
				s.WriteRune(r)
			}
		}
		slug := s.String()
		if n := seen[slug]; n > 0 {
			a[fmt.Sprintf("%s-%d", slug, n)] = true
		} else {
			a[slug] = true
		}
		seen[slug]++
	}
	return a
}

var (
	commandRE = regexp.MustCompile(`^  ([a-z][a-z-]*)\s`)
	flagRE    = regexp.MustCompile(`^\s+(?:-\w, )?--([a-z0-9-]+)`)
)

// checkFlags asks the binary for its commands and each command's flags, and
// wants every flag named as --flag in the doc.
func checkFlags(bin, doc string) ([]string, error) {
	text, err := os.ReadFile(doc)
	if err != nil {
		return nil, err
	}
	top, err := helpText(bin)
	if err != nil {
		return nil, err
	}
	var cmds []string
	inCommands := false
	for _, line := range strings.Split(top, "\n") {
		if strings.HasPrefix(line, "Commands:") {
			inCommands = true
			continue
		}
		if m := commandRE.FindStringSubmatch(line); inCommands && m != nil {
			cmds = append(cmds, m[1])
		}
	}
	if len(cmds) == 0 {
		return nil, fmt.Errorf("%s --help lists no commands", bin)
	}
	var problems []string
	for _, c := range cmds {
		if !bytes.Contains(text, []byte("debuginfo "+c)) {
			problems = append(problems, fmt.Sprintf("%s: command %q is not described", doc, c))
		}
		help, err := helpText(bin, c)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(strings.NewReader(help))
		for sc.Scan() {
			m := flagRE.FindStringSubmatch(sc.Text())
			if m == nil || m[1] == "help" {
				continue
			}
			if !regexp.MustCompile(`--` + regexp.QuoteMeta(m[1]) + `\b`).Match(text) {
				problems = append(problems, fmt.Sprintf("%s: flag --%s of 'debuginfo %s' is not documented", doc, m[1], c))
			}
		}
	}
	return problems, nil
}

func helpText(bin string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, append(args, "--help")...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s --help: %v\n%s", bin, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

var (
	attrRE    = regexp.MustCompile(`"([a-z][a-z0-9_]*)":\s*attr\.`)
	settingRE = regexp.MustCompile(`(?s)\bname\s*=\s*"([a-z][a-z0-9_]*)",[^)]*?build_setting_default`)
	// A provider assigned to a public name (private ones start with '_').
	fieldsRE = regexp.MustCompile(`(?s)\n([A-Za-z]\w*)\s*=\s*provider\(.*?fields\s*=\s*\{(.*?)\n\s*\}`)
	fieldRE  = regexp.MustCompile(`"([a-z][a-z0-9_]*)":`)
	// Names count as documented inside a code span (`name`, or a signature).
	codeSpanRE = regexp.MustCompile("`[^`\n]+`")
	wordRE     = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
)

// checkRules wants every public attribute (no leading '_'), build setting and
// provider field defined under dir named in a code span of the doc.
func checkRules(dir, doc string) ([]string, error) {
	text, err := os.ReadFile(doc)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.Contains(p, "/tests/") &&
			(strings.HasSuffix(p, ".bzl") || filepath.Base(p) == "BUILD.bazel") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	want := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		s := string(b)
		for _, m := range attrRE.FindAllStringSubmatch(s, -1) {
			want[m[1]] = f + ": attribute"
		}
		for _, m := range settingRE.FindAllStringSubmatch(s, -1) {
			want[m[1]] = f + ": build setting"
		}
		for _, block := range fieldsRE.FindAllStringSubmatch(s, -1) {
			for _, m := range fieldRE.FindAllStringSubmatch(block[2], -1) {
				want[m[1]] = f + ": provider field"
			}
		}
	}
	documented := map[string]bool{}
	for _, span := range codeSpanRE.FindAllString(string(text), -1) {
		for _, w := range wordRE.FindAllString(span, -1) {
			documented[w] = true
		}
	}
	var problems []string
	for name, where := range want {
		if !documented[name] {
			problems = append(problems, fmt.Sprintf("%s: %s `%s` is not documented in %s", where, strings.SplitN(where, ": ", 2)[1], name, doc))
		}
	}
	sort.Strings(problems)
	return problems, nil
}

// Package cli implements the debuginfo command line: one file per command,
// each registering itself, all sharing this dispatcher and its exit codes.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"golang.org/x/term"
)

// Exit codes shared by every command.
const (
	ExitOK     = 0 // everything asked for was done
	ExitFailed = 1 // at least one file (or check) failed
	ExitUsage  = 2 // the command line itself is wrong
	// ExitInterrupted: an upload was cancelled (SIGINT, SIGTERM) and stopped
	// early; 130 as shells report a command killed by SIGINT.
	ExitInterrupted = 130
)

// Env is what a command may touch of the outside world; tests build their own.
// quietOnStdout returns env with its messages sent to Stderr when one of
// outs (a command's output files) is standard output, which then carries
// that output alone.
func (env *Env) quietOnStdout(outs ...string) *Env {
	if !slices.ContainsFunc(outs, isStdout) {
		return env
	}
	e := *env
	e.Stdout = env.Stderr
	return &e
}

func isStdout(path string) bool { return path != "" && atomicfile.IsStdout(path) }

// output is an output flag and the file it names.
type output struct{ flag, path string }

// clash is a usage error when two outputs name one file, or an output names
// one of the inputs: the file written last would silently replace the
// other (review s11-r3: --sources-out and --record given the binary's
// path). Standard output is oneStdout's.
func clash(outs []output, inputs ...string) error {
	same := func(a, b string) bool {
		if samePath(a, b) {
			return true
		}
		aa, err1 := filepath.Abs(a)
		bb, err2 := filepath.Abs(b)
		return err1 == nil && err2 == nil && aa == bb
	}
	for i, o := range outs {
		if o.path == "" || isStdout(o.path) {
			continue
		}
		for _, in := range inputs {
			if in != "" && same(o.path, in) {
				return fmt.Errorf("%s %s is an input: it would be overwritten", o.flag, o.path)
			}
		}
		for _, p := range outs[:i] {
			if p.path != "" && !isStdout(p.path) && same(o.path, p.path) {
				return fmt.Errorf("%s and %s name the same file %s: one would replace the other", p.flag, o.flag, o.path)
			}
		}
	}
	return nil
}

// oneStdout is a usage error unless at most one of outs is standard
// output: two would be mixed there. In a worker's request none may be: it
// would be written into the responses Bazel reads.
func (env *Env) oneStdout(outs []output) error {
	var on []string
	for _, o := range outs {
		if isStdout(o.path) {
			if env.InWorker {
				return fmt.Errorf("%s %s names standard output, which carries a persistent worker's responses: give a file", o.flag, o.path)
			}
			on = append(on, o.flag)
		}
	}
	if len(on) < 2 {
		return nil
	}
	slices.Sort(on)
	return fmt.Errorf("%s all name standard output: only one output can go there", strings.Join(on, ", "))
}

type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment (os.Getenv in production).
	Getenv func(string) string
	// Terminal is true when Stderr is a terminal (progress bars are drawn only then).
	Terminal bool
	// Pool, when set, keeps store connections open across commands (the
	// persistent worker, worker.go); nil: a connection per command.
	Pool *store.Pool
	// Compressors, when set, keeps DWARF compressors across commands (the
	// persistent worker): a new zlib writer is most of the work of
	// extracting a small program.
	Compressors *elfdebug.Compressors
	// InWorker is set for a persistent worker's requests: the process's
	// standard output carries the worker protocol, so no output may go there.
	InWorker bool
}

// OSEnv is the process's real environment.
func OSEnv() *Env {
	return &Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Getenv:   os.Getenv,
		Terminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
}

type command struct {
	name    string
	aliases []string
	summary string
	run     func(env *Env, args []string) int
}

var commands = map[string]*command{}

// register is called from each command file's init.
func register(c *command) {
	for _, n := range append([]string{c.name}, c.aliases...) {
		if _, dup := commands[n]; dup {
			panic("cli: command registered twice: " + n)
		}
		commands[n] = c
	}
}

// Main runs the command named by args[0] and returns the process exit code.
func Main(env *Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(env.Stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "--version" || args[0] == "version" {
		fmt.Fprintln(env.Stdout, "debuginfo", Version)
		return ExitOK
	}
	if slices.Contains(args, persistentWorkerFlag) {
		return runWorker(env, args)
	}
	args, err := expandFlagfiles(args)
	if err != nil {
		fmt.Fprintf(env.Stderr, "debuginfo: %v\n", err)
		return ExitUsage
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "debuginfo: unknown command %q (run 'debuginfo --help' for the list)\n", args[0])
		return ExitUsage
	}
	return c.run(env, args[1:])
}

// Version is set at link time for releases.
var Version = "dev"

func usage(w io.Writer) {
	fmt.Fprintln(w, "debuginfo uploads debuginfo and sources to a Parca-compatible store.")
	fmt.Fprintln(w, "\nUsage: debuginfo COMMAND [flags] [args]\n\nCommands:")
	seen := map[*command]bool{}
	var names []string
	for _, c := range commands {
		if !seen[c] {
			seen[c] = true
			names = append(names, c.name)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		c := commands[n]
		name := c.name
		if len(c.aliases) > 0 {
			name += " (" + strings.Join(c.aliases, ", ") + ")"
		}
		fmt.Fprintf(w, "  %-22s %s\n", name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'debuginfo COMMAND --help' for a command's flags.")
}

// flags makes a command's flag set. synopsis is the usage line after
// "debuginfo"; about is a paragraph shown by --help.
func flags(env *Env, synopsis, about string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(strings.Fields(synopsis)[0], pflag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(env.Stdout, "Usage: debuginfo %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.SetOutput(env.Stdout)
		fs.PrintDefaults()
		fs.SetOutput(env.Stderr)
	}
	return fs
}

// parse parses args; done is true when the command must return code at once
// (after --help, or on a usage error, which it has already reported).
func parse(env *Env, fs *pflag.FlagSet, args []string) (code int, done bool) {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		return ExitOK, true
	}
	if err != nil {
		say(env.Stderr, "debuginfo %s: %s (see --help)\n", fs.Name(), parseErrorText(fs, err))
		return ExitUsage, true
	}
	return ExitOK, false
}

// parseErrorText says what is wrong with the command line without showing
// any value given on it: a token typed into the wrong flag, or after a single
// dash (-bearer-token=SECRET), must not reach a CI log. Flag names stay.
func parseErrorText(fs *pflag.FlagSet, err error) string {
	var (
		notExist *pflag.NotExistError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
		required *pflag.ValueRequiredError
	)
	switch {
	case errors.As(err, &notExist) && notExist.GetSpecifiedShortnames() != "":
		// "-bearer-token=SECRET", or "-bSECRET": the text after the dash
		// is shown only when it is one of our flag names.
		name, _, hasValue := strings.Cut(notExist.GetSpecifiedShortnames(), "=")
		if fs.Lookup(name) == nil {
			return fmt.Sprintf("unknown shorthand flag %q in -(not shown)", notExist.GetSpecifiedName()[:1])
		}
		s := fmt.Sprintf("unknown shorthand flag %q in -%s", notExist.GetSpecifiedName()[:1], name)
		if hasValue {
			s += "=(value not shown)"
		}
		return s + "; long flags take two dashes: --" + name
	case errors.As(err, &notExist):
		return "unknown flag: --" + flagName(notExist.GetSpecifiedName())
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		return fmt.Sprintf("invalid value for --%s (value not shown): want %s", f.Name, valueKind(f.Value.Type()))
	case errors.As(err, &syntax):
		name, _, _ := strings.Cut(syntax.GetSpecifiedFlag(), "=")
		if fs.Lookup(strings.TrimLeft(name, "-")) == nil {
			name = "(not shown)"
		}
		return fmt.Sprintf("bad flag syntax: %s (value not shown)", name)
	case errors.As(err, &required):
		return required.Error() // names only
	}
	return "cannot parse the command line (details not shown: they may hold a value)"
}

// flagName shows s when it looks like a flag name, else a placeholder: the
// text may be a value glued to a dash.
func flagName(s string) string {
	ok := s != "" && len(s) <= 64
	for _, c := range s {
		ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')
	}
	if !ok {
		return "(not shown)"
	}
	return s
}

// valueKind names what a pflag value type wants, in words.
func valueKind(typ string) string {
	switch typ {
	case "duration":
		return "a duration such as 30s or 15m"
	case "int", "int64", "uint", "uint64":
		return "a whole number"
	case "bool":
		return "true or false"
	}
	return "a " + typ
}

// usageError reports a command-line mistake and returns ExitUsage. The
// message is redacted by pattern: a value typed into the wrong flag, or
// in the wrong form, may be a credential.
func usageError(env *Env, cmd, format string, a ...any) int {
	say(env.Stderr, "debuginfo %s: %s (see --help)\n", cmd, creds.RedactPatterns(fmt.Sprintf(format, a...)))
	return ExitUsage
}

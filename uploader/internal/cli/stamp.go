package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/stamp"
)

func init() {
	register(&command{name: "stamp", summary: "give a binary its own content-derived GNU build ID", run: runStamp})
}

const stampAbout = `Writes OUT, a copy of the ELF file IN whose GNU build ID is replaced by one derived
from the file's content (SHA-256 of the file with the ID zeroed, cut to the ID's length).
Nothing else changes, the program runs as before, and stamping is deterministic:
stamping the output again gives the same bytes. Use it on Go binaries linked with
-buildid=redacted (rules_go), which otherwise all share one GNU build ID.
OUT may equal IN; it keeps IN's mode bits and appears complete or not at all.`

func runStamp(env *Env, args []string) int {
	defer atomicfile.RemoveOnSignal()() // no temp left beside OUT by Ctrl-C
	fs := flags(env, "stamp IN -o OUT", stampAbout)
	out := fs.StringP("output", "o", "", "where to write the stamped binary (required; may be IN)")
	if code, done := parse(env, fs, args); done {
		return code
	}
	switch {
	case fs.NArg() != 1:
		return usageError(env, "stamp", "want exactly one IN, got %d", fs.NArg())
	case *out == "":
		return usageError(env, "stamp", "-o OUT is required")
	}
	if err := stampFile(env, fs.Arg(0), *out); err != nil {
		say(env.Stderr, "debuginfo stamp: %v\n", err)
		return ExitFailed
	}
	return ExitOK
}

func stampFile(env *Env, path, out string) error {
	env = env.quietOnStdout(out)
	in, fi, err := elfparse.OpenRegular(path)
	if err != nil {
		return err
	}
	defer in.Close()
	old, err := buildid.FromReaderAt(in, fi.Size())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var newID string
	mode := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	err = atomicfile.Write(out, mode, func(w io.Writer) error {
		var err error
		newID, err = stamp.Stamp(in, fi.Size(), w)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	note := ""
	if old.Redacted {
		note = " (the shared -buildid=redacted ID)"
	}
	say(env.Stdout, "%s: old build ID %s%s\n%s: new build ID %s\n", path, old.Value, note, out, newID)
	return nil
}

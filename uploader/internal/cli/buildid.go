package cli

import (
	"encoding/json"
	"os"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
)

func init() {
	register(&command{name: "buildid", summary: "print the build ID a store and a profiler would use for each file", run: runBuildID})
}

const buildIDAbout = `Prints the build ID of each ELF file PATH: its GNU build ID, else its Go build ID,
else the file hash profilers use for files without one. Output is one line per file,
"PATH  TYPE  ID  (source)", or one JSON object per line with --json.
Warns when an ID is the one every -buildid=redacted Go binary shares, and when two
files in one run share an ID. Exit status 1 when any file could not be read.`

type buildIDLine struct {
	Path        string `json:"path"`
	BuildID     string `json:"build_id,omitempty"`
	BuildIDType string `json:"build_id_type,omitempty"`
	Source      string `json:"source,omitempty"`
	Redacted    bool   `json:"redacted"`
	Error       string `json:"error,omitempty"`
}

func runBuildID(env *Env, args []string) int {
	fs := flags(env, "buildid [--json] PATH...", buildIDAbout)
	asJSON := fs.Bool("json", false, "print one JSON object per file: path, build_id, build_id_type, source, redacted (error on failure)")
	if code, done := parse(env, fs, args); done {
		return code
	}
	if fs.NArg() == 0 {
		return usageError(env, "buildid", "no PATH given")
	}
	code := ExitOK
	seen := map[string]string{} // build ID -> first path with it
	enc := json.NewEncoder(jsonOut{env.Stdout})
	for _, path := range fs.Args() {
		id, err := buildid.Read(path)
		if err != nil {
			say(env.Stderr, "debuginfo buildid: %v\n", err)
			if *asJSON {
				enc.Encode(buildIDLine{Path: path, Error: err.Error()})
			}
			code = ExitFailed
			continue
		}
		if *asJSON {
			enc.Encode(buildIDLine{Path: path, BuildID: id.Value, BuildIDType: id.Type.String(), Source: id.Source, Redacted: id.Redacted})
		} else {
			say(env.Stdout, "%s  %s  %s  (%s)\n", path, id.Type, id.Value, id.Source)
		}
		if id.Redacted {
			say(env.Stderr, "debuginfo buildid: warning: %s: %s\n", path, buildid.RedactedAdvice)
		}
		key := id.Type.String() + ":" + id.Value
		if first, ok := seen[key]; ok && !samePath(first, path) {
			say(env.Stderr, "debuginfo buildid: warning: %s and %s share build ID %s; a store keeps only one of them\n", first, path, id.Value)
		} else if !ok {
			seen[key] = path
		}
	}
	return code
}

// samePath reports whether a and b name the same file (the same path given
// twice, or a hard or symbolic link to it), which is not a collision.
func samePath(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

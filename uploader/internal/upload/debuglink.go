package upload

import (
	"fmt"
	"os"
	"syscall"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debugfile"
)

type fileKey struct{ dev, ino uint64 }

func keyOf(fi os.FileInfo) (fileKey, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	return fileKey{uint64(st.Dev), st.Ino}, true
}

// addDebugFiles adds to jobs the separate debug file of each program in
// them that has no DWARF of its own (objcopy --only-keep-debug, then strip;
// a distribution's debug package), found where gdb finds it, unless the run
// names it already: the program and its debug file then go as a pair (see
// markCollisions), the debug file with the program's segment offsets. A
// file found there is used only if it is a debug file of this very program
// (same build ID, same sections at the same addresses); one of another
// build is reported on the program and left alone.
func addDebugFiles(jobs []*job, opts Options) []*job {
	if opts.asGiven() || opts.BuildID != "" {
		return jobs
	}
	named := map[fileKey]*job{}
	for _, j := range jobs {
		if j.seen != nil {
			if k, ok := keyOf(j.seen); ok {
				named[k] = j
			}
		}
	}
	n := len(jobs)
	for _, j := range jobs[:n] {
		if j.prepared != nil || j.seen == nil || j.debugOnly || j.rank >= 3 || j.id.Value == "" || j.err != nil && !j.useless {
			continue
		}
		cands := debugfile.Candidates(j.path, j.id, j.debugLink, opts.DebugDirs)
		_, note := debugfile.Search(cands, j.debugLink, j.badDebugLink, "give that file's path too", func(c string, fi os.FileInfo) string {
			k, ok := keyOf(fi)
			if d := named[k]; ok && d != nil {
				if d == j {
					return "is the program itself: not used"
				}
				// "": in this run already, paired there (debugCompanion
				// compares the code of two programs).
				return debugfile.NotIts(jobFacts(j), jobFacts(d), reasonOf)
			}
			d := &job{path: c, content: c}
			inspect(candidate{path: c}, opts, d)
			if why := debugfile.NotItsFile(j.content, jobFacts(j), c, jobFacts(d), reasonOf); why != "" {
				return why
			}
			if ok {
				named[k] = d
			}
			d.foundFor = j.path
			jobs = append(jobs, d)
			return ""
		})
		if note != "" {
			if j.useless {
				j.err = fmt.Errorf("%w; %s", j.err, note)
			} else {
				j.debugNote = note // refused unless the run pairs it (refuseUnresolved)
			}
		}
	}
	return jobs
}

// refuseUnresolved fails each program that names a separate debug file the
// lookup did not find or could not use, and that the run does not serve
// otherwise: sent with its symbols only, it would keep its DWARF out of the
// store for good (a store takes one upload per build ID, and Parca keeps
// what it has read), while the build that forgot a --debug-file-directory
// passes (review s16-r3, finding 1).
func refuseUnresolved(jobs []*job) {
	for _, j := range jobs {
		if j.debugNote != "" && j.err == nil && j.dupOf == "" {
			j.err = fmt.Errorf("%s; not sent with symbols only, which would keep its debug file out of the store (one upload per build ID; "+
				"--no-extract sends the program as it is)", j.debugNote)
			j.warning = "" // its advice (build with -g) is not this
		}
	}
}

// jobFacts are what the lookup of a debug file judges an inspected job by
// (see debugfile.NotIts).
func jobFacts(j *job) debugfile.Facts {
	f := debugfile.Facts{ID: j.id, Layout: j.layout, DebugOnly: j.debugOnly, DWARF: j.rank >= 3, Useless: j.err != nil}
	if j.err != nil && !j.useless && j.id.Value == "" {
		f.ReadErr = j.err
	}
	return f
}

// Package upload is the pipeline behind `debuginfo upload`: it finds ELF
// files, reads their build IDs, refuses colliding IDs, extracts debug-only
// copies and hands them to a store, several files at a time.
package upload

import (
	"cmp"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debugfile"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/objhash"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/quality"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

// Options shape one run.
type Options struct {
	Concurrency int
	Force       bool
	NoExtract   bool                 // send files as they are
	Compress    elfdebug.Compression // how extraction compresses DWARF
	NoInitiate  bool                 // only ask the store, send nothing
	DryRun      bool                 // no store at all: identify and extract only
	Type        pb.DebuginfoType
	BuildID     string        // use this build ID instead of reading one (one file only)
	Timeout     time.Duration // per file, retries included; 0 = none
	// AllowSharedBuildID uploads files whose build ID is known to collide.
	AllowSharedBuildID bool
	// SkipSharedBuildID reports such files as skipped, with a warning,
	// instead of failed (the Bazel rules' default).
	SkipSharedBuildID bool
	// Sources, when set, writes the source archive of a binary; each
	// uploaded debuginfo then gets a SOURCES object under the same build ID.
	Sources func(ctx context.Context, binary string, w io.Writer) error
	// Progress is told about bytes sent (for a progress bar); may be nil.
	Progress store.Progress
	// Starting is told before a file of size bytes is sent; may be nil.
	Starting func(path string, size int64)
	// Journal records in-flight uploads so a rerun can take over one that a
	// killed process left "in progress" on the store; nil disables it.
	Journal *Journal
	// Waiting is told when an object has waited waitNotice for another
	// upload of its build ID on this machine (see Journal.lock); may be nil.
	Waiting func(path, buildID string)
	// DebugDirs are where the separate debug file of a program without
	// DWARF is looked for, besides its own directory (gdb's
	// debug-file-directory; see addDebugFiles).
	DebugDirs []string

	// Compressors are shared by the run's extractions; nil: the run has
	// its own.
	Compressors *elfdebug.Compressors
}

// asGiven says whether files are sent as they are rather than extracted:
// --no-extract, or a type other than debuginfo.
func (o Options) asGiven() bool {
	return o.NoExtract || o.Type != pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED
}

// Actions a Report can carry.
const (
	Uploaded = "uploaded"
	Skipped  = "skipped"
	DryRun   = "dry-run"
	Checked  = "checked" // --no-initiate: the store was asked, nothing sent
	Failed   = "failed"
	// Interrupted: the run was cancelled (Ctrl-C, SIGTERM) before this
	// object was done; nothing of it is marked finished on the store.
	Interrupted = "interrupted"
	// PassedOver: a relocatable object (.o) found in a directory; named on
	// the command line, one is uploaded like any ELF file.
	PassedOver = "passed-over"
)

// relocatableReason says why a walk passes over an object file.
const relocatableReason = "relocatable object (ET_REL): no profiler loads one; name it on the command line to upload it anyway"

// coreReason says why a walk passes over a core dump.
const coreReason = "core dump (ET_CORE): not a program"

// ErrNothingToSend (wrapped) from a write function turns the object into a
// skip: e.g. no source file of a binary exists on this machine.
var ErrNothingToSend = errors.New("nothing to send")

// Report is the outcome for one object: a line of human output or one
// --json object.
type Report struct {
	Path        string `json:"path"`
	BuildID     string `json:"build_id,omitempty"`
	BuildIDType string `json:"build_id_type,omitempty"`
	Type        string `json:"type"`
	Action      string `json:"action"`
	Bytes       int64  `json:"bytes"`
	Reason      string `json:"reason,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	// SymbolsOnly: the debuginfo has no DWARF, so profiles get names but no
	// file:line or sources. Warning is a message the user must act on: that
	// one, or why a shared build ID was skipped (with Action skipped).
	SymbolsOnly bool   `json:"symbols_only,omitempty"`
	Warning     string `json:"warning,omitempty"`
}

// Prepared is an object whose build ID is already known (from a record
// written by `debuginfo extract --record`): it is sent as it is.
type Prepared struct {
	Label       string // what reports call it (the record's binary)
	BuildID     string
	BuildIDType buildid.Type
	Files       []PreparedFile
}

// PreparedFile is one file of a Prepared object.
type PreparedFile struct {
	Path string
	Type pb.DebuginfoType
}

// job is one binary (or prepared object) on its way through the pipeline.
type job struct {
	path     string
	id       buildid.ID
	prepared *Prepared
	content  string // the file whose bytes stand for the job: the binary, or a record's debuginfo
	dupOf    string // same content as this earlier path: skip
	dupWhy   string // why dupOf stands for this file, when not the same content
	// segments: a debug file sent for its program (a companion in the run)
	// is extracted with the program's PT_LOAD offsets, which objcopy
	// --only-keep-debug rewrote (see elfdebug.Options.Segments).
	segments string
	// debugLink is the file name the program's .gnu_debuglink gives its
	// separate debug file; foundFor, on a debug file the run did not name,
	// is the program it was found for (see addDebugFiles).
	debugLink, foundFor string
	badDebugLink        string // a .gnu_debuglink that is not a file name
	debugNote           string // why the debug file the program names was not used (see refuseUnresolved)
	// unsure: a debug file whose program headers cannot map runtime
	// addresses (see elfdebug.SegmentsUnsure); fine when sent with its
	// program's (segments).
	unsure bool
	zdebug bool // DWARF in legacy .zdebug_* sections (elfdebug.LegacyZdebugWarning)
	// debugOnly: no code, only what a debug file holds (objcopy
	// --only-keep-debug, our own extraction); rank orders what a file gives
	// a profiler (3 DWARF, 2 symbol table or pclntab, 1 dynamic symbols).
	debugOnly bool
	rank      int
	// layout is the file's allocated sections (name, address, size), which
	// a debug file keeps from its program: equal layouts say "the same
	// program" where a build ID alone cannot.
	layout  string
	useless bool    // err is that the file gives a profiler nothing (id is still set)
	warning string  // the debuginfo gives symbols only
	err     error   // failed before reaching the store
	shared  bool    // err is a shared build ID (skippable with SkipSharedBuildID)
	asked   *answer // the store's answer to ShouldUpload, asked ahead
	// seen is the file as it was when id was read from it (nil: the ID
	// was given): see source.seen.
	seen os.FileInfo
}

// answer is what the store said to ShouldUpload.
type answer struct {
	should bool
	reason string
	err    error
}

// Run uploads paths (files or directories) and prepared objects to st
// (nil with DryRun) and calls report once per object, from one goroutine
// at a time. It returns the number of failures.
func Run(ctx context.Context, st store.Store, paths []string, prepared []Prepared, opts Options, report func(Report)) int {
	if opts.Compressors == nil {
		opts.Compressors = &elfdebug.Compressors{}
	}
	var mu sync.Mutex
	failed := 0
	emit := func(r Report) {
		mu.Lock()
		defer mu.Unlock()
		if r.Action == Failed || r.Action == Interrupted {
			failed++
		}
		report(r)
	}
	jobs, over := identify(paths, opts, func(e PathError) {
		emit(Report{Path: e.Path, Type: store.TypeName(opts.Type), Action: Failed, Reason: reasonOf(e.Err)})
	})
	for _, o := range over {
		emit(Report{Path: o.path, Type: store.TypeName(opts.Type), Action: PassedOver, Reason: o.reason})
	}
	jobs = addDebugFiles(jobs, opts)
	for i := range prepared {
		jobs = append(jobs, preparedJob(&prepared[i]))
	}
	// One guard for every job, whatever its origin.
	if !opts.AllowSharedBuildID {
		refuseRedacted(jobs)
	}
	markCollisions(jobs, opts.AllowSharedBuildID)
	refuseUnresolved(jobs)
	if !opts.DryRun {
		// Ask the store about every file first, more at once than -j: a
		// question is one small RPC whose time is the round trip, and a
		// re-run, where every file is skipped, is nothing but questions.
		parallel(askAhead*max(opts.Concurrency, 1), len(jobs), func(i int) {
			j := jobs[i]
			if j.err != nil || j.dupOf != "" || j.prepared != nil || ctx.Err() != nil {
				return
			}
			actx, cancel := fileContext(ctx, opts)
			defer cancel()
			a := &answer{}
			a.should, a.reason, a.err = st.ShouldUpload(actx, j.key(opts), opts.Force)
			if a.err != nil && ranOut(actx) && ctx.Err() == nil {
				a.err = timedOut(opts, a.err)
			}
			j.asked = a
		})
	}
	parallel(opts.Concurrency, len(jobs), func(i int) {
		if ctx.Err() != nil {
			// Cancelled: what has not started is not started now.
			emit(Report{Path: jobs[i].path, Type: store.TypeName(opts.Type), Action: Interrupted, Reason: NotStarted})
			return
		}
		process(ctx, st, jobs[i], opts, emit)
	})
	return failed
}

// askAhead is how many ShouldUpload questions are in flight per -j.
const askAhead = 4

func (j *job) key(opts Options) store.Key {
	return store.Key{BuildID: j.id.Value, BuildIDType: j.id.Type.Proto(), Type: opts.Type}
}

// alsoWarn is warning w with msg after it.
func alsoWarn(w, msg string) string {
	if w == "" {
		return msg
	}
	return w + "; " + msg
}

// unsureWarning is the warning on a debug file sent without its program
// whose program headers objcopy damaged.
const unsureWarning = elfdebug.UnsureWarning + "; upload it with its program (debuginfo upload PROGRAM DEBUGFILE)"

// NotStarted is the reason of an Interrupted report for an object the
// cancelled run never started on.
const NotStarted = "not started"

// passed is a file a directory walk found and passed over, and why.
type passed struct{ path, reason string }

// identify reads the build IDs of the files paths name, in parallel with
// the walk that finds them, and passes over what a directory walk found
// that is not ELF (dropped: a source tree may hold many such files, and
// nothing is kept for them) or is an object file or a core dump
// (returned). Both lists are in walk order.
func identify(paths []string, opts Options, fail func(PathError)) (jobs []*job, over []passed) {
	type result struct {
		seq, dir int
		k        kind
		j        *job
	}
	var mu sync.Mutex
	var results []result
	cands := make(chan candidate, 256)
	var wg sync.WaitGroup
	for range max(opts.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range cands {
				j := &job{path: c.path, content: c.path}
				k := inspect(c, opts, j)
				if k == notELF {
					continue
				}
				mu.Lock()
				results = append(results, result{c.seq, c.dir, k, j})
				mu.Unlock()
			}
		}()
	}
	isDir := collect(paths, func(c candidate) { cands <- c }, fail)
	close(cands)
	wg.Wait()
	slices.SortFunc(results, func(a, b result) int { return cmp.Compare(a.seq, b.seq) })
	found := make([]bool, len(paths))
	for _, r := range results {
		found[r.dir] = found[r.dir] || r.k == toUpload
	}
	for i, p := range paths {
		if isDir[i] && !found[i] {
			// Likely the wrong directory: say so rather than upload nothing.
			fail(PathError{p, errors.New("nothing to upload: no ELF program or library below this directory")})
		}
	}
	for _, r := range results {
		switch r.k {
		case object:
			over = append(over, passed{r.j.path, relocatableReason})
		case core:
			over = append(over, passed{r.j.path, coreReason})
		default:
			jobs = append(jobs, r.j)
		}
	}
	return jobs, over
}

// preparedJob is a record's object; its debuginfo file stands for it when
// contents are compared.
func preparedJob(p *Prepared) *job {
	j := &job{path: p.Label, prepared: p, id: buildid.ID{Value: p.BuildID, Type: p.BuildIDType}}
	j.id.Redacted = p.BuildIDType == buildid.GNU && buildid.IsRedacted(p.BuildID)
	for _, f := range p.Files {
		if f.Type == pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED {
			j.content = f.Path
			break
		}
	}
	if j.content == "" && len(p.Files) > 0 {
		j.content = p.Files[0].Path
	}
	return j
}

// refuseRedacted fails every job whose ID is one that all binaries linked
// with -buildid=redacted share.
func refuseRedacted(jobs []*job) {
	for _, j := range jobs {
		if j.err == nil && j.id.Redacted {
			j.err = fmt.Errorf("build ID %s: %s (override: --allow-shared-build-id)", j.id.Value, buildid.RedactedAdvice)
			j.shared = true
		}
	}
}

// markCollisions skips the second copy of a file seen twice in one run and
// refuses different files that claim the same build ID: uploading either
// would make the profiler symbolize the other with the wrong file.
func markCollisions(jobs []*job, allow bool) {
	byID := map[string][]*job{}
	var order []string
	for _, j := range jobs {
		if j.err != nil {
			continue
		}
		if _, ok := byID[j.id.Value]; !ok {
			order = append(order, j.id.Value)
		}
		byID[j.id.Value] = append(byID[j.id.Value], j)
	}
	for _, id := range order {
		group := byID[id]
		if len(group) < 2 {
			continue
		}
		first := group[0]
		var differ []string
		for _, j := range group[1:] {
			same, err := sameContent(first.content, j.content)
			switch {
			case err != nil:
				j.err = err
			case same:
				j.dupOf = first.path
			default:
				differ = append(differ, j.path)
			}
		}
		if len(differ) == 0 {
			continue // copies only, each skipped as the first one's
		}
		if best := debugCompanion(group); best != nil {
			// A program and its own debug file(s), or debug files of one
			// program: one upload serves them all; the one that gives the
			// profiler most is sent.
			for _, j := range group {
				if j != best && j.err == nil && j.dupOf == "" {
					j.dupOf, j.dupWhy = best.path, " (a program and its debug file: one upload serves both)"
					switch {
					case best.prepared != nil:
						j.dupWhy = " (the record's debuginfo was extracted from it: one upload serves both)"
					case !best.debugOnly && !j.debugOnly:
						j.dupWhy = " (the same program, one copy stripped: one upload serves both)"
					}
					if best.foundFor == j.path {
						j.dupWhy = " (its separate debug file, found where gdb looks: one upload serves both)"
					}
					if best.debugOnly && !j.debugOnly {
						best.segments = j.path
					}
				}
			}
			continue
		}
		if allow {
			for _, j := range group[1:] {
				if j.err == nil && j.dupOf == "" {
					j.dupOf = first.path // allowed: the first one wins
				}
			}
			continue
		}
		a, b := collidingPair(group, first.path, differ[0])
		msg := collision(id, a, b)
		if x, y := byPath(group, a), byPath(group, b); x != nil && y != nil && x.debugOnly != y.debugOnly && x.layout != y.layout {
			if x.debugOnly {
				x, y = y, x
			}
			msg = fmt.Errorf("build ID %s: %s, a debug file of it, %s: upload %s by itself if the program's code did not move (override: --allow-shared-build-id)",
				id, y.path, strings.Replace(debugfile.LayoutDiffers, "the program", x.path, 1), y.path)
		}
		for _, j := range group {
			if j.err == nil && j.dupOf == "" {
				j.err, j.shared = msg, true
			}
		}
	}
	// A stripped program gives nothing, but its debug file in the same run
	// (objcopy --only-keep-debug next to it) serves its build ID: a skip,
	// not a failure.
	for _, j := range jobs {
		if !j.useless {
			continue
		}
		for _, o := range byID[j.id.Value] {
			switch {
			case o.err != nil || o.dupOf != "":
			case o.layout != "" && o.layout == j.layout:
				j.err, j.useless, j.dupOf = nil, false, o.path
				j.dupWhy = " (its debug file; this copy has no symbols of its own)"
				if o.foundFor == j.path {
					j.dupWhy = " (its separate debug file, found where gdb looks; this copy has no symbols of its own)"
				}
				if o.debugOnly && !j.debugOnly {
					o.segments = j.path
				}
			case !allow:
				// Another program's file under this one's ID: sending it
				// would give this program's profiles its names.
				o.err, o.shared = collision(j.id.Value, o.path, j.path), true
			}
			if !j.useless {
				break
			}
		}
	}
}

// byPath is the job of group for path.
func byPath(group []*job, path string) *job {
	for _, j := range group {
		if j.path == path {
			return j
		}
	}
	return nil
}

// collision is the error for different files claiming build ID id.
func collision(id, a, b string) error {
	return fmt.Errorf("build ID %s is shared by different files (%s and %s): the store would mix them up; %s (override: --allow-shared-build-id)", id, a, b, buildid.UniqueIDAdvice)
}

// collidingPair names two files of a group that are not one program (their
// allocated sections differ), else the pair given.
func collidingPair(group []*job, a, b string) (string, string) {
	for _, x := range group {
		for _, y := range group {
			if x.err == nil && y.err == nil && x.layout != "" && y.layout != "" && x.layout != y.layout {
				return x.path, y.path
			}
		}
	}
	return a, b
}

// debugCompanion says which file to send for a build ID that different
// files carry, when they are one program: its debug files (no code), copies
// of it stripped or not (the same code), and a record extracted from it:
// the record (what the user made for upload, with its sources), else the
// highest rank, a program on a tie. nil otherwise.
func debugCompanion(group []*job) *job {
	var best *job
	var programs []*job
	want := ""
	for _, j := range group {
		if j.err != nil || j.dupOf != "" {
			continue
		}
		layout := j.layout
		switch {
		case j.prepared != nil:
			layout = fileLayout(j.content) // its debuginfo keeps the program's section headers
		case !j.debugOnly:
			programs = append(programs, j)
		}
		if layout == "" || want != "" && layout != want {
			return nil // not provably one program: a real collision
		}
		want = layout
		switch {
		case j.prepared != nil:
			if best != nil && best.prepared != nil {
				return nil // two records
			}
			best = j
		case best != nil && best.prepared != nil:
		case best == nil || j.rank > best.rank || j.rank == best.rank && best.debugOnly && !j.debugOnly:
			best = j
		}
	}
	for _, p := range programs[min(1, len(programs)):] {
		// Programs are one only with the same code: stripped copies. One
		// found for the other (addDebugFiles) was compared there already.
		if p.foundFor == programs[0].path || programs[0].foundFor == p.path {
			continue
		}
		if same, err := debugfile.SameCode(programs[0].content, p.content); err != nil || !same {
			return nil
		}
	}
	if best != nil && best.prepared != nil && len(programs) > 0 && filepath.Base(programs[0].path) != best.path {
		// A record's debuginfo has no code to compare: it must at least
		// name the program (two builds that differ in a string only have
		// one layout).
		return nil
	}
	return best
}

// fileLayout is the allocated sections of the ELF file at path ("" when it
// cannot be read).
func fileLayout(path string) string {
	f, st, err := elfparse.OpenRegular(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	p, err := elfparse.Parse(f, st.Size())
	if err != nil {
		return ""
	}
	return debugfile.Layout(p)
}

// sameContent compares two files cheaply first (same inode, size) and by
// hash only when it must.
func sameContent(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	if os.SameFile(sa, sb) {
		return true, nil
	}
	if sa.Size() != sb.Size() {
		return false, nil
	}
	ha, _, err := hashFile(a)
	if err != nil {
		return false, err
	}
	hb, _, err := hashFile(b)
	return ha == hb, err
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// parallel runs f(0..n-1) on at most c goroutines, which take the next
// index from a shared counter (a channel would wake one per index).
func parallel(c, n int, f func(i int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range min(max(c, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		}()
	}
	wg.Wait()
}

// fileContext bounds the work on one file by --timeout, when it is set.
func fileContext(ctx context.Context, opts Options) (context.Context, context.CancelFunc) {
	if opts.Timeout > 0 {
		return context.WithTimeout(ctx, opts.Timeout)
	}
	return ctx, func() {}
}

// ranOut says whether ctx's deadline has passed. gRPC fails a call as soon
// as its own clock passes the deadline, which can be before ctx's timer
// fires and sets ctx.Err(); asking the clock agrees with gRPC.
func ranOut(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// timedOut is err from a file that ran out of --timeout.
func timedOut(opts Options, err error) error {
	return fmt.Errorf("timed out after %s (--timeout): %v", opts.Timeout, err)
}

// process sends one job's objects and reports each.
func process(ctx context.Context, st store.Store, j *job, opts Options, emit func(Report)) {
	run := ctx // an interrupt stops an extraction; --timeout bounds the store's work
	ctx, cancel := fileContext(ctx, opts)
	defer cancel()
	base := Report{Path: j.path, Type: store.TypeName(opts.Type), SymbolsOnly: j.warning != "", Warning: j.warning}
	if j.prepared != nil {
		base.Type = store.TypeName(pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED)
	}
	if j.err == nil || j.shared {
		base.BuildID, base.BuildIDType = j.id.Value, j.id.Type.String()
	}
	switch {
	case j.err != nil && j.shared && opts.SkipSharedBuildID:
		base.Action, base.Reason, base.Warning = Skipped, j.err.Error(), j.err.Error()
		emit(base)
		return
	case j.err != nil && j.useless && !j.id.Redacted && storeHasIt(ctx, st, j.key(opts), opts):
		// Stripped after an earlier upload of the same build (strip keeps
		// the ID): what profiles need is on the store already.
		base.Action, base.Reason = Skipped, "the store already has this build ID; this copy itself has nothing to symbolize (stripped?)"
		emit(base)
		return
	case j.err != nil:
		// The report already names the path; the error need not again.
		base.Action, base.Reason = Failed, strings.TrimPrefix(reasonOf(j.err), j.path+": ")
		emit(base)
		return
	case j.dupOf != "":
		// The copy that is sent carries any warning about what it gives.
		base.Action, base.Reason = Skipped, "same build ID as "+j.dupOf+" in this run"+j.dupWhy
		base.SymbolsOnly, base.Warning = false, ""
		emit(base)
		return
	}
	if j.prepared != nil {
		for _, f := range j.prepared.Files {
			key := store.Key{BuildID: j.prepared.BuildID, BuildIDType: j.prepared.BuildIDType.Proto(), Type: f.Type}
			base := Report{Path: j.path, BuildID: key.BuildID, BuildIDType: j.prepared.BuildIDType.String(), Type: store.TypeName(f.Type)}
			if f.Type == pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED {
				warning, err := checkQuality(f.Path)
				if err != nil {
					base.Action, base.Reason = Failed, strings.TrimPrefix(reasonOf(err), f.Path+": ")
					emit(base)
					return
				}
				base.SymbolsOnly, base.Warning = warning != "", warning
			}
			send(ctx, st, key, base, opts, source{input: f.Path, asIs: true}, nil, emit)
		}
		return
	}
	if j.unsure && j.segments == "" && !opts.asGiven() {
		base.Warning = alsoWarn(base.Warning, unsureWarning)
	}
	if j.zdebug && !opts.asGiven() {
		base.Warning = alsoWarn(base.Warning, elfdebug.LegacyZdebugWarning)
	}
	key := j.key(opts)
	src := source{input: j.path, seen: j.seen, id: j.id, asIs: opts.asGiven(), extract: extractor(run, opts, j.segments)}
	sent := send(ctx, st, key, base, opts, src, j.asked, emit)
	if opts.Sources != nil && key.Type == pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED && sent {
		skey := key
		skey.Type = pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES
		sbase := base
		sbase.Type = store.TypeName(skey.Type)
		sbase.SymbolsOnly, sbase.Warning = false, ""
		if j.warning != "" {
			// No DWARF, so no line tables name any source: the warning
			// above already says why and how to fix it.
			sbase.Action, sbase.Reason = Skipped, "no DWARF line tables: no source files to archive"
			emit(sbase)
			return
		}
		send(ctx, st, skey, sbase, opts, source{write: func(w io.Writer) error { return opts.Sources(ctx, j.path, w) }}, nil, emit)
	}
}

// waitNotice is how long an upload waits for another of its build ID before
// the user is told why nothing seems to happen.
var waitNotice = 2 * time.Second

// inProgressWarning is the warning for a skip because the store says
// another upload of the object is under way: only the user can tell whether
// one is, or whether a run died mid-upload: on another machine, or on this
// one too when its journal could not record uploads (unrecorded).
func inProgressWarning(reason string, unrecorded bool) string {
	if !strings.HasSuffix(reason, ".") {
		reason += "."
	}
	if unrecorded {
		return reason + " If no other uploader is running (a run interrupted on this machine or another: this machine's in-flight journal cannot record uploads), rerun with --force."
	}
	return reason + " If no other uploader is running (an interrupted run on another machine), rerun with --force."
}

// storeHasIt says whether the store has a finished upload of key (asked
// only for a file refused as useless; a dry run asks nothing).
func storeHasIt(ctx context.Context, st store.Store, key store.Key, opts Options) bool {
	if opts.DryRun || opts.Force || st == nil {
		return false
	}
	should, reason, err := st.ShouldUpload(ctx, key, false)
	return err == nil && !should && !inProgress(reason)
}

// send asks the store (unless asked holds its answer already), writes the
// object to a temp file (hashing it on the way) and uploads it. It reports
// once and returns false only on failure.
func send(ctx context.Context, st store.Store, key store.Key, r Report, opts Options, src source, asked *answer, emit func(Report)) bool {
	start := time.Now()
	done := func(action, reason string) bool {
		r.Action, r.Reason = action, reason
		r.DurationMS = time.Since(start).Milliseconds()
		emit(r)
		return action != Failed
	}
	force := opts.Force
	if !opts.DryRun {
		if asked == nil {
			asked = &answer{}
			asked.should, asked.reason, asked.err = st.ShouldUpload(ctx, key, force)
		}
		should, reason, err := asked.should, asked.reason, asked.err
		if err == nil && (should || inProgress(reason)) {
			// One uploader of key at a time on this machine. Once another
			// had it, or the store said "in progress" (ours may have ended
			// since), the store's answer is asked again.
			var onWait func()
			if opts.Waiting != nil {
				onWait = func() { opts.Waiting(r.Path, key.BuildID) }
			}
			unlock, waited, lerr := opts.Journal.lock(ctx, key, onWait)
			defer unlock()
			switch {
			case lerr != nil && ctx.Err() == context.Canceled:
				return done(Interrupted, "interrupted")
			case lerr != nil:
				return done(Failed, timedOut(opts, errors.New("still waiting for another upload of this build ID on this machine")).Error())
			case waited || inProgress(reason):
				should, reason, err = st.ShouldUpload(ctx, key, force)
			}
		}
		if err != nil {
			if ctx.Err() == context.Canceled {
				return done(Interrupted, "interrupted")
			}
			return done(Failed, err.Error())
		}
		if !should && inProgress(reason) && opts.Journal.orphaned(key) {
			// Our own earlier attempt died mid-upload: restart it.
			should, force = true, true
		}
		if !should && inProgress(reason) {
			// Either another uploader is busy with it, or a run on another
			// machine died mid-upload: only the user can tell which, so it
			// is a warning (and "warning" in --json), not a quiet skip.
			r.SymbolsOnly, r.Warning = false, inProgressWarning(reason, !opts.Journal.records())
			return done(Skipped, r.Warning)
		}
		if !should {
			return done(Skipped, reason)
		}
		if opts.NoInitiate {
			return done(Checked, "store would accept it: "+reason)
		}
	}
	obj, release, err := src.measure(r.Path)
	defer release()
	if ctx.Err() == context.Canceled {
		// Interrupted while measuring: nothing was sent, nothing would be.
		return done(Interrupted, "interrupted")
	}
	if errors.Is(err, ErrNothingToSend) {
		return done(Skipped, err.Error())
	}
	if err != nil {
		return done(Failed, reasonOf(err))
	}
	r.Bytes = obj.Size
	if obj.Size == 0 {
		return done(Failed, "nothing to upload: the file is empty")
	}
	if opts.DryRun {
		// Read as a send would be, so that what would fail it (an input
		// that changed, corrupt DWARF) fails here too.
		if err := readObject(obj); err != nil {
			if ctx.Err() == context.Canceled {
				return done(Interrupted, "interrupted")
			}
			return done(Failed, reasonOf(err))
		}
		return done(DryRun, "would upload "+store.TypeName(key.Type)+" xxh64:"+obj.Hash)
	}
	if opts.Starting != nil {
		opts.Starting(r.Path, obj.Size)
	}
	opts.Journal.begin(key)
	err = st.Upload(ctx, key, obj, force, opts.Progress)
	var sk *store.Skipped
	if err == nil || errors.As(err, &sk) {
		opts.Journal.end(key)
	} else {
		// The marker stays, marked ended: a rerun, even by this process (a
		// persistent worker), takes over the upload the store still thinks
		// is running.
		opts.Journal.failed(key)
	}
	switch {
	case errors.As(err, &sk) && sk.InProgress:
		r.SymbolsOnly, r.Warning = false, inProgressWarning(sk.Reason, !opts.Journal.records())
		return done(Skipped, r.Warning)
	case errors.As(err, &sk):
		return done(Skipped, sk.Reason)
	case err != nil && ctx.Err() == context.Canceled:
		return done(Interrupted, "interrupted during the upload: the store keeps no finished copy")
	case err != nil:
		if ranOut(ctx) {
			return done(Failed, timedOut(opts, err).Error())
		}
		return done(Failed, reasonOf(err))
	}
	return done(Uploaded, "")
}

// source produces an object's bytes: a file sent as it is, an extraction
// of a file, or a source archive, which reads many files.
type source struct {
	// input is the one file the object comes from ("" for a source
	// archive). It is opened once, and both passes read that open file,
	// so nothing done to its path meanwhile changes what they read.
	input string
	// asIs sends input as it is; extract lays out its extraction (see
	// elfdebug.Open); otherwise write writes the object.
	asIs    bool
	extract func(in *os.File, size int64) (*elfdebug.Extraction, error)
	write   func(w io.Writer) error
	// seen is input as it was when id was read from it (nil: the ID was
	// not read from it). The hash pass must start from a file that still
	// has that ID and end with it unchanged (see unchanged), so that what
	// is stored under an ID carries that ID and is one version of the file.
	seen os.FileInfo
	id   buildid.ID
}

// extractor is a source's extract for opts; an interrupt (ctx) stops its
// compression. With segments, the program file whose PT_LOAD headers the
// extraction takes (the input is its debug file).
func extractor(ctx context.Context, opts Options, segments string) func(*os.File, int64) (*elfdebug.Extraction, error) {
	return func(in *os.File, size int64) (*elfdebug.Extraction, error) {
		o := elfdebug.Options{Compress: opts.Compress, Reuse: opts.Compressors, Context: ctx}
		if segments != "" {
			progs, err := programHeaders(segments)
			if err != nil {
				return nil, fmt.Errorf("reading the program headers of %s: %w", segments, err)
			}
			o.Segments = progs
		}
		return elfdebug.Open(in, size, o)
	}
}

// programHeaders reads the program headers of the ELF file at path.
func programHeaders(path string) ([]elfparse.Prog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	e, err := elfparse.Parse(f, fi.Size())
	if err != nil {
		return nil, err
	}
	return e.Progs, nil
}

// measure goes over the object once to learn its size and hash (the store
// wants both before the first byte), and returns an Object that reads it
// again for each attempt, so memory stays flat whatever the file's size:
// a file is read again; an extraction, laid out once (its sorted and
// compressed sections kept in its spools), is read again from those and
// from the file, straight into the send's buffers; a source archive is
// written again. Every send is hashed again on the way (see verify): bytes
// that differ from the hashed ones fail the send's last Read, so they are
// never marked finished. release closes what the Object reads from.
func (s source) measure(name string) (obj store.Object, release func(), err error) {
	in, before, err := s.open()
	release = func() {}
	if in != nil {
		release = func() { in.Close() }
	}
	if err != nil {
		return store.Object{}, release, err
	}
	// changed tells whether the input is no longer as it was before.
	changed := func() bool {
		if in == nil {
			return false
		}
		now, err := in.Stat()
		return err != nil || !unchanged(before, now)
	}
	switch {
	case s.asIs:
		sum, err := objhash.File(in, before.Size())
		if errors.Is(err, objhash.ErrShrank) || changed() {
			return store.Object{}, release, errChanged // cut short or rewritten while hashed
		}
		if err != nil {
			return store.Object{}, release, err
		}
		obj = store.Object{Name: name, Size: before.Size(), Hash: sum}
		obj.Open = func() (io.ReadCloser, error) {
			return verify(io.NopCloser(io.NewSectionReader(in, 0, obj.Size)), obj, nil), nil
		}
		return obj, release, nil
	case s.extract != nil:
		x, err := s.extract(in, before.Size())
		if err != nil {
			if changed() {
				err = errChanged // an input cut short says so, not "unexpected EOF"
			}
			return store.Object{}, release, err
		}
		closeIn := release
		release = func() { x.Close(); closeIn() }
		h := objhash.New()
		for _, p := range x.Parts() {
			if err = hashPart(h, p); err != nil {
				break
			}
		}
		if errors.Is(err, objhash.ErrShrank) || changed() {
			return store.Object{}, release, errChanged
		}
		if err != nil {
			return store.Object{}, release, err
		}
		obj = store.Object{Name: name, Size: x.Size(), Hash: objhash.Sum(h)}
		// Beside the send, before the store is told it finished: the
		// input's bytes as first read, and its DWARF (which Parca would
		// show nothing from if it were corrupt) checked once.
		var dwarfErr error
		var dwarfOnce sync.Once
		recheck := func() error {
			if err := x.InputUnchanged(); err != nil {
				return err
			}
			dwarfOnce.Do(func() { dwarfErr = x.CheckDWARF() })
			return dwarfErr
		}
		obj.Open = func() (io.ReadCloser, error) {
			return verify(io.NopCloser(&noticeChange{io.NewSectionReader(x, 0, obj.Size), changed}), obj, recheck), nil
		}
		return obj, release, nil
	}
	h := objhash.New()
	cw := &countWriter{}
	if err := s.write(io.MultiWriter(h, cw)); err != nil {
		return store.Object{}, release, err
	}
	obj = store.Object{Name: name, Size: cw.n, Hash: objhash.Sum(h)}
	obj.Open = func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(s.write(pw)) }()
		return verify(pr, obj, nil), nil
	}
	return obj, release, nil
}

// readObject reads obj once, as a send does, and returns what ended it.
func readObject(obj store.Object) error {
	rc, err := obj.Open()
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return err
}

// hashPart feeds an extraction's part to h: a part copied from the input
// is read ahead of the hash (objhash.Range).
// zeros is hashPart's source of zero bytes: a local array escapes through
// the io.Writer, 4 KiB for every gap of every file.
var zeros [4096]byte

func hashPart(h io.Writer, p elfdebug.Part) error {
	if p.Src != nil {
		return objhash.Range(h, p.Src, p.Off, p.N)
	}
	for left := p.N; left > 0; left -= int64(len(zeros)) {
		h.Write(zeros[:min(left, int64(len(zeros)))])
	}
	return nil
}

// noticeChange turns a read error of an input changed since it was hashed
// into errChanged: "changed while uploading", not "unexpected EOF".
type noticeChange struct {
	r       io.Reader
	changed func() bool
}

func (n *noticeChange) Read(p []byte) (int, error) {
	m, err := n.r.Read(p)
	if err != nil && err != io.EOF && n.changed() {
		err = errChanged
	}
	return m, err
}

// open opens the input, if there is one, and checks it against seen: a
// file that is not the one seen, or has changed since, must still carry
// the ID read from it (a chmod, a new hard link or a touch leave it so).
func (s source) open() (*os.File, os.FileInfo, error) {
	if s.input == "" {
		return nil, nil, nil
	}
	in, err := os.Open(s.input)
	if err != nil {
		return nil, nil, err
	}
	before, err := in.Stat()
	if err != nil || s.seen == nil || unchanged(s.seen, before) {
		return in, before, err
	}
	if id, err := buildid.FromReaderAt(in, before.Size()); err != nil || id.Value != s.id.Value {
		return in, before, errChanged
	}
	return in, before, nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// kind is what inspect found a candidate to be.
type kind int

const (
	toUpload kind = iota
	notELF        // found in a walk: not ours to upload
	object        // found in a walk: a relocatable object, passed over
	core          // found in a walk: a core dump, passed over
)

// inspect reads a candidate's build ID and, for debuginfo, its quality (see
// checkQuality) into j, through one open, one window over both ends of the
// file and one parse: on a re-run of many small files, where every file is
// skipped, these reads are most of the work.
func inspect(c candidate, opts Options, j *job) kind {
	given := opts.BuildID != ""
	if given && opts.asGiven() && !c.walked {
		// Sent as it is, under the given ID: the file need not be ELF.
		j.id, j.err = givenID(opts)
		return toUpload
	}
	r, st, done, err := elfparse.OpenWindow(c.path)
	defer done()
	if err != nil {
		j.err = err
		return toUpload
	}
	size := st.Size()
	isELF, etype := elfKind(r)
	switch {
	case c.walked && !isELF:
		return notELF
	case c.walked && etype == uint16(elf.ET_REL):
		return object
	case c.walked && etype == uint16(elf.ET_CORE):
		return core
	case etype == uint16(elf.ET_CORE):
		j.err = errors.New("a core dump (ET_CORE), not a program: upload the program that dumped it")
		return toUpload
	case !isELF && !opts.asGiven():
		j.err = fmt.Errorf("not an ELF file (use --no-extract --build-id=ID to upload other files)")
		return toUpload
	case given:
		j.id, j.err = givenID(opts)
		return toUpload
	}
	p, err := elfparse.Parse(r, size)
	if err == nil {
		j.id, err = buildid.FromParsed(p, r, size)
		j.seen = st
	}
	if err == nil && opts.Type == pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED {
		var q quality.Quality
		if q, err = quality.OfParsed(p, r); err == nil {
			j.warning, err = judge(q, opts.NoExtract)
			j.debugOnly, j.rank, j.layout = !debugfile.HasCode(p), q.Rank(), debugfile.Layout(p)
			if !j.debugOnly && j.rank < 3 {
				j.debugLink, j.badDebugLink = debugfile.Link(p, r)
			}
			j.unsure = j.debugOnly && elfdebug.SegmentsUnsure(p)
			j.zdebug = elfdebug.LegacyZdebug(p)
			if j.useless = err != nil; j.useless {
				j.err = err // the ID stays: another file of this run may serve it
				return toUpload
			}
		}
	}
	if err != nil {
		j.id, j.err = buildid.ID{}, fmt.Errorf("%s: %w", c.path, err)
	}
	return toUpload
}

// givenID is the build ID --build-id names.
func givenID(opts Options) (buildid.ID, error) {
	t, err := buildid.Classify(opts.BuildID)
	return buildid.ID{Value: opts.BuildID, Type: t, Source: "--build-id"}, err
}

// checkQuality refuses a debuginfo file from which nothing can be
// symbolized and returns a warning for one that gives names only.
func checkQuality(path string) (warning string, err error) {
	f, st, err := elfparse.OpenRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	q, err := quality.Of(f, st.Size())
	if err == nil {
		warning, err = judge(q, true) // a record's file is sent as it is
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return warning, nil
}

// judge refuses what gives a profiler nothing and warns of names only.
// asIs says the file is sent as it is, not extracted.
func judge(q quality.Quality, asIs bool) (warning string, err error) {
	switch {
	case q.Useless():
		return "", errors.New(quality.UselessError)
	case q.Skeletons && asIs:
		// Parca v0.28.0 shows no frame at all from skeleton units, not even
		// the symbol table's names, and the useless copy would then keep
		// a good upload of the same build ID out.
		return "", errors.New("split DWARF (-gsplit-dwarf) sent as it is: Parca shows no frame at all from it, not even names; " +
			"upload without --no-extract (names only) or build without -gsplit-dwarf (Bazel: --fission=no)")
	case q.SymbolsOnly():
		return q.SymbolsOnlyWarning(), nil
	}
	return "", nil
}

package cli

import (
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/atomicfile"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/record"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/sources"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

func init() {
	register(&command{name: "upload", summary: "upload debuginfo (and sources) of ELF files to a store", run: runUpload})
}

// DefaultStoreAddress is parca-debuginfo's default: Polar Signals Cloud.
const DefaultStoreAddress = "grpc.polarsignals.com:443"

// connFlags are the flags every command that talks to a store shares.
type connFlags struct {
	address            string
	insecure           bool
	insecureSkipVerify bool
	caFile             string
	creds              *creds.Options
}

func addConnFlags(fs *pflag.FlagSet) *connFlags {
	c := &connFlags{}
	fs.StringVar(&c.address, "store-address", DefaultStoreAddress, "gRPC address of the debuginfo store (host:port), or file:///abs/dir for the embedded local store")
	fs.BoolVar(&c.insecure, "insecure", false, "use plaintext gRPC (no TLS)")
	fs.BoolVar(&c.insecureSkipVerify, "insecure-skip-verify", false, "use TLS but do not verify the store's certificate")
	fs.StringVar(&c.caFile, "ca-file", "", "PEM file of CA certificates to trust instead of the system roots")
	c.creds = addCredFlags(fs)
	return c
}

// host is the store's host[:port] for credential lookups: the address
// without a gRPC resolver scheme (creds splits off the port itself).
func (c *connFlags) host() string {
	return strings.TrimPrefix(c.address, "dns:///")
}

// check refuses a --store-address that is not one (store.CheckAddress),
// before credentials are looked up or anything dials.
func (c *connFlags) check() error { return store.CheckAddress(c.address) }

// config is cfg with how the flags say to reach the store.
func (c *connFlags) config(cfg store.Config) store.Config {
	cfg.Insecure, cfg.InsecureSkipVerify, cfg.CAFile = c.insecure, c.insecureSkipVerify, c.caFile
	return cfg
}

// open connects to the store with cfg (the connection flags are added);
// the Provider (nil for file://) redacts errors.
func (c *connFlags) open(ctx context.Context, env *Env, cfg store.Config) (store.Store, *creds.Provider, error) {
	cfg = c.config(cfg)
	cfg.Pool = env.Pool
	if !store.IsFileAddress(c.address) {
		c.creds.UnverifiedTLS = c.insecureSkipVerify
		p, err := creds.ResolveContext(ctx, c.creds, c.host(), !c.insecure, env.Getenv)
		if err != nil {
			return nil, nil, err
		}
		cfg.Creds = p
	}
	s, err := store.Open(c.address, cfg)
	return s, cfg.Creds, err
}

func runUpload(env *Env, args []string) int {
	fs := flags(env, "upload [flags] PATH...",
		"Uploads the debuginfo of each ELF file (a debug-only copy, extracted on the fly) to a Parca-compatible\n"+
			"store under its build ID, skipping what the store already has. Directories are searched recursively;\n"+
			"non-ELF files, relocatable objects (.o) and core dumps inside them are passed over, and a named directory\n"+
			"with nothing to upload fails. Exit 130 when interrupted. Accepts parca-debuginfo's upload flags.")
	conn := addConnFlags(fs)
	var (
		noExtract   = fs.Bool("no-extract", false, "upload files as they are instead of a debug-only copy")
		noInitiate  = fs.Bool("no-initiate", false, "only ask the store whether it wants each file; send nothing")
		force       = fs.Bool("force", false, "upload even if the store already has the build ID")
		typ         = fs.String("type", "debuginfo", "what the files are: debuginfo, executable or sources")
		buildID     = fs.String("build-id", "", "use this build ID instead of reading it from the file (one PATH only)")
		concurrency = fs.IntP("concurrency", "j", max(4, runtime.NumCPU()), "files processed at once")
		timeout     = fs.Duration("timeout", 15*time.Minute, "give up on one file after this long, retries included (0: never)")
		retries     = fs.Int("retries", store.DefaultRetry.Attempts-1, "retries of a transient failure (store unavailable, stream cut, 5xx)")
		dryRun      = fs.Bool("dry-run", false, "identify and extract only; no network, no credentials")
		asJSON      = fs.Bool("json", false, "print one JSON object per file")
		receipt     = fs.String("receipt", "", "also write the JSON results to this file")
		records     = fs.StringArray("record", nil, "upload the files named by a record from 'debuginfo extract --record' (repeatable)")
		allowShared = fs.Bool("allow-shared-build-id", false, "upload files even when their build ID is shared (rules_go's -buildid=redacted, or two different files)")
		skipShared  = fs.Bool("skip-shared-build-id", false, "skip files whose build ID is shared, with a warning, instead of failing (the Bazel rules' default; --allow-shared-build-id wins)")
		compression = compressFlag(fs)
		debugDirs   = debugDirsFlag(fs)
		grpcComp    = fs.String("grpc-compression", store.NoCompression, "compress gRPC upload messages: none or gzip (pays below ~100 Mbit/s, mostly for Go binaries; a store without gzip gets the file uncompressed; signed-URL uploads are never compressed)")
	)
	srcFlags := addSourcesUploadFlags(fs)
	if code, done := parse(env, fs, args); done {
		return code
	}
	paths := fs.Args()
	if len(paths) == 0 && len(*records) == 0 {
		return usageError(env, "upload", "no PATH given")
	}
	if err := conn.check(); err != nil {
		return usageError(env, "upload", "%v", err)
	}
	if err := receiptClash(*receipt, paths, *records); err != nil {
		return usageError(env, "upload", "%v", err)
	}
	if err := env.oneStdout([]output{{"--receipt", *receipt}}); err != nil {
		return usageError(env, "upload", "%v", err)
	}
	if isStdout(*receipt) {
		if *asJSON {
			return usageError(env, "upload", "--json and --receipt %s both write to standard output: give --receipt a file", *receipt)
		}
		env = env.quietOnStdout(*receipt) // the receipt alone on stdout
	}
	t, err := store.ParseType(*typ)
	if err != nil {
		return usageError(env, "upload", "--type: want debuginfo, executable or sources (value not shown)")
	}
	if *buildID != "" && len(paths) != 1 {
		return usageError(env, "upload", "--build-id needs exactly one PATH")
	}
	if *buildID != "" {
		// One ID for whatever a walk finds would store one file under an
		// ID it does not have, or fail every file as sharing it.
		if fi, err := os.Stat(paths[0]); err == nil && fi.IsDir() {
			return usageError(env, "upload", "--build-id names one file's ID: PATH is a directory")
		}
	}
	if t == pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES && *buildID == "" {
		return usageError(env, "upload", "--type=sources needs --build-id (the build ID of the binary the sources belong to)")
	}
	if *concurrency < 1 {
		return usageError(env, "upload", "--concurrency must be at least 1")
	}
	if fit, limit := upload.FitConcurrency(*concurrency); fit < *concurrency {
		say(env.Stderr, "debuginfo: notice: -j %d lowered to %d: this process may have %d files open (ulimit -n), and each file uploaded at once holds several\n", *concurrency, fit, limit)
		*concurrency = fit
	}
	if *retries < 0 {
		return usageError(env, "upload", "--retries must not be negative")
	}
	comp, err := compression()
	if err != nil {
		return usageError(env, "upload", "%v", err)
	}
	if *grpcComp, err = store.ParseCompression(*grpcComp); err != nil {
		return usageError(env, "upload", "--grpc-compression: want %s or %s (value not shown)", store.NoCompression, store.GzipCompression)
	}
	opts := upload.Options{
		Concurrency: *concurrency, Force: *force, NoExtract: *noExtract, NoInitiate: *noInitiate,
		DryRun: *dryRun, Type: t, BuildID: *buildID, Timeout: *timeout,
		AllowSharedBuildID: *allowShared, SkipSharedBuildID: *skipShared, Compress: comp,
		DebugDirs: debugDirs(), Compressors: env.Compressors,
	}
	// The credential files and values the flags and environment name: read
	// once (token files are read to know their values).
	credFiles, credValues := credentialFiles(env, conn.creds), credentialValues(env, conn.creds)
	if opts.Sources, err = srcFlags.archiver(env, credFiles, credValues); err != nil {
		return usageError(env, "upload", "%v", err)
	}
	// Everything printed about the files passes through redact: a token
	// that a mis-quoted command line put among them must not reach the log
	// or a receipt.
	redact := creds.RedactorOf(credValues)
	var prepared []upload.Prepared
	for _, r := range *records {
		p, err := readPrepared(r, credFiles)
		if err != nil {
			say(env.Stderr, "debuginfo upload: %s\n", redact(err.Error()))
			return ExitFailed
		}
		prepared = append(prepared, p)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var st store.Store
	var out *reporter
	if !*dryRun {
		var p *creds.Provider
		warn := func(msg string) { out.warning(redact(msg)) } // called once uploads run
		st, p, err = conn.open(ctx, env, store.Config{Compression: *grpcComp, Retry: store.Retry{Attempts: *retries + 1}, Warn: warn})
		if p != nil {
			redact = p.Redact
		}
		if err != nil {
			if creds.IsUsage(err) {
				return usageError(env, "upload", "%s", redact(err.Error()))
			}
			say(env.Stderr, "debuginfo upload: %s\n", redact(err.Error()))
			if ctx.Err() != nil {
				return ExitInterrupted // waiting for a token file's writer, say
			}
			return ExitFailed
		}
		defer st.Close()
		if p != nil {
			srcFlags.tokens = p.Secrets(ctx) // a helper's token included: it has run now
			for _, w := range p.Warnings() {
				say(env.Stderr, "debuginfo: warning: %s\n", p.Redact(w))
			}
		}
		if st.MarksInProgress() {
			j, err := upload.OpenJournal(upload.DefaultJournalDir(), conn.address)
			if err != nil {
				say(env.Stderr, "debuginfo: notice: %s\n", noJournal(err))
			} else {
				defer j.Close()
				// Once a run, when uploads start: a full disk under the
				// journal leaves a killed upload as unrecorded as no journal.
				j.OnWriteError = func(err error) { out.notice(noJournal(err)) }
				opts.Journal = j
			}
		}
		// Say which credentials are in use; with none at all (a store without
		// auth) there is nothing to say, and the store explains a refusal.
		if p != nil && !*asJSON {
			if i := p.Info(); i.Kind != creds.KindNone || i.ProjectID != "" {
				say(env.Stderr, "debuginfo: %s\n", p.Redact(p.Summary())) // a project ID may be a token given by mistake
			}
		}
	}

	secrets := srcFlags.tokens
	if *dryRun {
		secrets = credValues
	}
	if err := scanPrepared(prepared, *records, secrets); err != nil {
		say(env.Stderr, "debuginfo upload: %s\n", redact(err.Error()))
		return ExitFailed
	}

	out = newReporter(env, *asJSON, redact)
	opts.Waiting = func(path, buildID string) {
		out.notice(fmt.Sprintf("%s: waiting for another upload of build ID %s to this store on this machine to end (--timeout bounds the wait)", redact(path), redact(buildID)))
	}
	if env.Terminal && !*asJSON {
		opts.Starting, opts.Progress = out.bar.starting, out.bar.add
	}
	start := time.Now()
	failed := upload.Run(ctx, st, paths, prepared, opts, out.report)
	out.finish(time.Since(start))
	if *receipt != "" {
		if err := out.writeReceipt(*receipt); err != nil {
			say(env.Stderr, "debuginfo upload: --receipt: %v\n", err)
			return ExitFailed
		}
	}
	if ctx.Err() != nil {
		return ExitInterrupted
	}
	if failed > 0 {
		return ExitFailed
	}
	return ExitOK
}

// readPrepared turns an extract record into an upload of its files. The
// files it names are plain names in its directory, but they may be symlinks
// (Bazel's sandbox is made of them), so what they lead to is checked before
// anything is sent: never a credential file (never lists them) or a system
// secret, and each file must be of the kind extract writes.
func readPrepared(path string, never []string) (upload.Prepared, error) {
	rec, dir, err := record.Read(path)
	if err != nil {
		return upload.Prepared{}, fmt.Errorf("--record %s: %w", path, err)
	}
	t, _ := buildid.ParseType(rec.BuildIDType) // ReadRecord checked it
	// ReadRecord also checked that a debuginfo file is named.
	p := upload.Prepared{Label: rec.Binary, BuildID: rec.BuildID, BuildIDType: t, Files: []upload.PreparedFile{
		{Path: filepath.Join(dir, rec.Debuginfo), Type: pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED},
	}}
	if rec.Sources != "" {
		p.Files = append(p.Files, upload.PreparedFile{Path: filepath.Join(dir, rec.Sources), Type: pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES})
	}
	for _, f := range p.Files {
		what := "debuginfo"
		check := checkELF
		if f.Type == pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES {
			what, check = "sources", sources.CheckArchive
		}
		if why := sources.NeverSent(f.Path, never); why != "" {
			return upload.Prepared{}, fmt.Errorf("--record %s: its %s file %s is %s; nothing of this record is uploaded", path, what, f.Path, why)
		}
		if err := check(f.Path); err != nil {
			return upload.Prepared{}, fmt.Errorf("--record %s: its %s file: %w; nothing of this record is uploaded", path, what, err)
		}
	}
	return p, nil
}

// scanPrepared reads each record's source archive through for secrets, the
// run's own credentials (sources.ScanArchive).
func scanPrepared(prepared []upload.Prepared, records, secrets []string) error {
	for i, p := range prepared {
		for _, f := range p.Files {
			if f.Type != pb.DebuginfoType_DEBUGINFO_TYPE_SOURCES {
				continue
			}
			if err := sources.ScanArchive(f.Path, secrets); err != nil {
				return fmt.Errorf("--record %s: its sources file: %w; nothing of this record is uploaded", records[i], err)
			}
		}
	}
	return nil
}

// checkELF refuses a record's debuginfo file unless it is an ELF file.
func checkELF(path string) error {
	ok, err := isELF(path)
	if err == nil && !ok {
		err = fmt.Errorf("%s is not an ELF file (`debuginfo extract` writes one)", path)
	}
	return err
}

// isELF says whether path is a regular file that starts as an ELF file
// does. A FIFO or a device is refused without a read, which would wait for
// a writer.
func isELF(path string) (bool, error) {
	f, _, err := elfparse.OpenRegular(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	return err == nil && string(magic[:]) == elf.ELFMAG, nil
}

// reporter prints results as they come and a summary at the end.
type reporter struct {
	env     *Env
	json    bool
	redact  func(string) string
	mu      sync.Mutex
	all     []upload.Report
	counts  map[string]int
	bytes   int64
	bar     *progress
	stdout  io.Writer
	batch   *batched // stdout when no progress bar is drawn; nil otherwise
	encoder *json.Encoder
}

func newReporter(env *Env, asJSON bool, redact func(string) string) *reporter {
	r := &reporter{env: env, json: asJSON, redact: redact, counts: map[string]int{}, stdout: env.Stdout}
	if !env.Terminal || asJSON {
		r.batch = newBatched(env.Stdout)
		r.stdout = r.batch
	}
	r.encoder = json.NewEncoder(jsonOut{r.stdout})
	r.bar = &progress{w: env.Stderr}
	return r
}

// notice prints msg on stderr at once (a progress note, not a result).
func (r *reporter) notice(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.toStderr()
	say(r.env.Stderr, "debuginfo: notice: %s\n", msg)
}

// warning is notice for what the user should act on.
func (r *reporter) warning(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.toStderr()
	say(r.env.Stderr, "debuginfo: warning: %s\n", msg)
}

// noJournal is the notice for a run whose uploads the in-flight journal
// cannot record, err saying why.
func noJournal(err error) string {
	return fmt.Sprintf("no in-flight journal (%v): a rerun after a killed upload may need --force", err)
}

// toStderr readies stderr for a message: what stdout holds goes first.
func (r *reporter) toStderr() {
	if r.batch != nil {
		r.batch.Flush()
	}
	r.bar.clear()
}

func (r *reporter) report(rep upload.Report) {
	rep.Path, rep.BuildID = r.redact(rep.Path), r.redact(rep.BuildID)
	rep.Reason, rep.Warning = r.redact(rep.Reason), r.redact(rep.Warning)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, rep)
	r.counts[rep.Action]++
	if rep.Action == upload.Uploaded {
		r.bytes += rep.Bytes
	}
	switch {
	case rep.Warning != "" && rep.Action == upload.Skipped:
		r.toStderr()
		say(r.env.Stderr, "debuginfo: warning: not uploading %s: %s\n", rep.Path, rep.Reason)
	case rep.Warning != "":
		r.toStderr()
		say(r.env.Stderr, "debuginfo: warning: %s: %s\n", rep.Path, rep.Warning)
	}
	if r.json {
		r.encoder.Encode(rep)
		return
	}
	if rep.Action == upload.PassedOver || rep.Action == upload.Interrupted && rep.Reason == upload.NotStarted {
		return // counted in the summary: a build directory holds many, a cancelled run may leave many
	}
	if rep.Warning != "" && rep.Action == upload.Skipped {
		rep.Reason = "see the warning on stderr" // one line per object on stdout, the message once
	}
	line := fmt.Sprintf("%-9s %-10s %s  %s", rep.Action, rep.Type, escape(orDash(rep.BuildID)), escape(rep.Path))
	switch {
	case rep.Action == upload.Uploaded || rep.Action == upload.DryRun:
		line += fmt.Sprintf("  (%s, %d ms)", humanBytes(rep.Bytes), rep.DurationMS)
	}
	if rep.Reason != "" && rep.Action != upload.Uploaded {
		line += ": " + escape(rep.Reason)
	}
	w := r.stdout
	if rep.Action == upload.Failed || rep.Action == upload.Interrupted {
		r.toStderr()
		w = r.env.Stderr
	} else {
		r.bar.clear()
	}
	fmt.Fprintln(w, line)
}

func (r *reporter) finish(elapsed time.Duration) {
	if r.batch != nil {
		r.batch.Flush()
	}
	r.bar.done()
	if r.json {
		return
	}
	var parts []string
	for _, a := range []string{upload.Uploaded, upload.Skipped, upload.Checked, upload.DryRun, upload.PassedOver, upload.Failed, upload.Interrupted} {
		if n := r.counts[a]; n > 0 || a == upload.Failed || a == upload.Uploaded {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	fmt.Fprintf(r.env.Stderr, "debuginfo: %s; %s stored in %.1fs\n", strings.Join(parts, ", "), humanBytes(r.bytes), elapsed.Seconds())
}

func (r *reporter) writeReceipt(path string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		enc := json.NewEncoder(jsonOut{w})
		for _, rep := range r.all {
			if err := enc.Encode(rep); err != nil {
				return err
			}
		}
		return nil
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// receiptClash is a usage error when --receipt names an input: a PATH, a
// record, or an ELF file (one inside a PATH that is a directory).
func receiptClash(receipt string, paths, records []string) error {
	if err := clash([]output{{"--receipt", receipt}}, append(append([]string(nil), paths...), records...)...); err != nil {
		return err
	}
	if receipt == "" || isStdout(receipt) {
		return nil
	}
	if elfFile, _ := isELF(receipt); elfFile {
		return fmt.Errorf("--receipt %s is an ELF file: it would be overwritten", receipt)
	}
	return nil
}

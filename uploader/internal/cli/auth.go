package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
)

func init() {
	register(&command{name: "auth", summary: "auth check: verify credentials against a store before relying on them", run: runAuth})
}

// authReport is the result of `auth check`, also its --json form.
type authReport struct {
	Store       string     `json:"store"`
	TLS         string     `json:"tls"`
	Credentials creds.Info `json:"credentials"`
	OK          bool       `json:"ok"`
	Code        string     `json:"code,omitempty"` // gRPC status code of the store's answer
	Verdict     string     `json:"verdict"`
	Warnings    []string   `json:"warnings,omitempty"`
}

func runAuth(env *Env, args []string) int {
	fs := flags(env, "auth check [flags]",
		"Shows which credentials an upload would use (kind, source, at most the last 4 characters; never\n"+
			"the token), the projectID header and TLS, then asks the store a harmless question\n"+
			"(ShouldInitiateUpload for the fake build ID "+store.AuthCheckBuildID+"; nothing is initiated)\n"+
			"and explains its verdict. Exit 0 only when uploads would work, 1 otherwise, 2 on usage errors.\n"+
			"Run it after switching to a service-account token, before revoking the old one.")
	conn := addConnFlags(fs)
	asJSON := fs.Bool("json", false, "print the result as one JSON object")
	timeout := fs.Duration("timeout", 20*time.Second, "how long to wait for the store's answer")
	if code, done := parse(env, fs, args); done {
		return code
	}
	if fs.NArg() != 1 || fs.Arg(0) != "check" {
		return usageError(env, "auth", "want 'debuginfo auth check [flags]'")
	}
	switch {
	case store.IsFileAddress(conn.address):
		return usageError(env, "auth check", "--store-address: a file:// store has no credentials to check")
	case conn.insecure && (conn.caFile != "" || conn.insecureSkipVerify):
		return usageError(env, "auth check", "--insecure (plaintext) cannot be combined with --ca-file or --insecure-skip-verify (TLS)")
	case *timeout <= 0:
		return usageError(env, "auth check", "--timeout must be positive")
	}
	if err := conn.check(); err != nil {
		return usageError(env, "auth check", "%v", err)
	}

	rep := &authReport{Store: conn.address, TLS: tlsMode(conn)}
	conn.creds.UnverifiedTLS = conn.insecureSkipVerify
	// --timeout bounds the whole check, the reading of a token file that
	// blocks (a FIFO) included.
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	p, err := creds.ResolveContext(ctx, conn.creds, conn.host(), !conn.insecure, env.Getenv)
	if err != nil {
		if creds.IsUsage(err) {
			return usageError(env, "auth check", "%s", creds.RedactPatterns(err.Error()))
		}
		rep.Credentials.Kind = "invalid"
		rep.Verdict = "credentials rejected before contacting the store: " + err.Error()
		return printAuth(env, nil, rep, *asJSON)
	}
	rep.Credentials = p.Info()
	rep.Warnings = p.Warnings()

	rep.Code, err = store.CheckAuth(ctx, conn.address, conn.config(store.Config{Creds: p}))
	if err != nil {
		rep.Verdict = err.Error()
	} else {
		rep.OK = true
		rep.Verdict = "the store accepts these credentials: uploads would work"
	}
	return printAuth(env, p, rep, *asJSON)
}

func tlsMode(c *connFlags) string {
	switch {
	case c.insecure:
		return "off (plaintext, --insecure)"
	case c.insecureSkipVerify:
		return "on, certificate NOT verified (--insecure-skip-verify)"
	case c.caFile != "":
		return "on, verified against --ca-file " + c.caFile
	}
	return "on, verified against the system roots"
}

func printAuth(env *Env, p *creds.Provider, rep *authReport, asJSON bool) int {
	redact := creds.RedactPatterns
	if p != nil {
		redact = p.Redact
	}
	rep.Verdict = redact(rep.Verdict)
	for i := range rep.Warnings {
		rep.Warnings[i] = redact(rep.Warnings[i])
	}
	code := ExitFailed
	if rep.OK {
		code = ExitOK
	}
	if asJSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintln(jsonOut{env.Stdout}, redact(string(b)))
		return code
	}
	for _, w := range rep.Warnings {
		say(env.Stderr, "debuginfo auth check: warning: %s\n", w)
	}
	i := rep.Credentials
	cred := "none"
	if i.Kind == creds.KindNone && i.Source != "" {
		cred = "no token from " + i.Source // a helper that answered without one
	} else if i.Kind != creds.KindNone && i.Source != "" {
		cred = string(i.Kind)
		if i.Last4 != "" {
			cred += " ..." + i.Last4
		}
		cred += " from " + i.Source
	} else if i.Kind != creds.KindNone && i.Kind != "" {
		cred = string(i.Kind)
	}
	proj := "none"
	if i.ProjectID != "" {
		proj = fmt.Sprintf("%s from %s (sent as the projectID header)", i.ProjectID, i.ProjectSource)
	}
	verdict := "OK: " + rep.Verdict
	if !rep.OK {
		verdict = "FAILED: " + rep.Verdict
	}
	// Each value escaped on its own: the store's message is in the verdict.
	out := fmt.Sprintf("store:       %s\ntls:         %s\ncredentials: %s\nproject:     %s\nverdict:     %s\n", escape(rep.Store), rep.TLS, escape(cred), escape(proj), escape(verdict))
	fmt.Fprint(env.Stdout, redact(out))
	return code
}

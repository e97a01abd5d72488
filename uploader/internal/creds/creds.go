// Package creds finds the bearer token and gRPC headers an upload sends,
// from flags, files, the environment or a Bazel-style credential helper,
// and never lets the secret reach logs or errors.
//
// Token precedence (first found wins): --bearer-token, --bearer-token-file,
// env PARCA_DEBUGINFO_BEARER_TOKEN, env POLARSIGNALS_TOKEN, env
// DEBUGINFO_TOKEN_FILE, then a credential helper (--credential-helper, else
// env DEBUGINFO_CREDENTIAL_HELPER). Project: --project-id or
// --grpc-headers=projectID=..., env POLARSIGNALS_PROJECT_ID, then a projectID
// header returned by the helper.
package creds

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/capped"
)

// Environment variables read by Resolve.
const (
	EnvBearerToken      = "PARCA_DEBUGINFO_BEARER_TOKEN"
	EnvPolarSignalsTok  = "POLARSIGNALS_TOKEN"
	EnvTokenFile        = "DEBUGINFO_TOKEN_FILE"
	EnvProjectID        = "POLARSIGNALS_PROJECT_ID"
	EnvCredentialHelper = "DEBUGINFO_CREDENTIAL_HELPER"
)

// ProjectHeader is the metadata key Polar Signals reads the project from
// (gRPC metadata keys are lower case on the wire).
const ProjectHeader = "projectid"

// MigrationDoc is where warnings about legacy tokens point.
const MigrationDoc = "https://github.com/rules-debuginfo/rules_debuginfo/blob/main/docs/credentials.md#migrating-to-service-accounts"

// Options are the credential flags shared by every command that talks to a store.
type Options struct {
	BearerToken     string
	BearerTokenFile string
	GRPCHeaders     []string
	ProjectID       string
	// CredentialHelpers are --credential-helper values: PATH or HOST_PATTERN=PATH.
	CredentialHelpers []string
	// CredentialHelperTimeout bounds one helper run (DefaultHelperTimeout if 0).
	CredentialHelperTimeout time.Duration
	// NoHelpers ignores credential helpers entirely (a helper must not call itself).
	NoHelpers bool

	// BearerTokenSet: --bearer-token was given, perhaps empty (an unset
	// $VARIABLE in CI), which must fail rather than fall through to the next source.
	BearerTokenSet bool
	// UnverifiedTLS: TLS without checking the store's certificate
	// (--insecure-skip-verify); credentials to a remote host then warn.
	UnverifiedTLS bool
}

// UsageError marks a mistake on the command line itself (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is a command-line mistake.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}

func usagef(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// Info describes the credentials without revealing them.
type Info struct {
	Kind          Kind   `json:"kind"`
	Source        string `json:"source,omitempty"`
	Last4         string `json:"last4,omitempty"`
	ProjectID     string `json:"project_id,omitempty"`
	ProjectSource string `json:"project_source,omitempty"`
	// Headers names the other metadata keys sent (values may be secret).
	Headers []string `json:"headers,omitempty"`
}

// Provider supplies per-RPC metadata; it implements grpc's
// credentials.PerRPCCredentials and is safe for concurrent use.
type Provider struct {
	static   map[string]string // from flags and environment; wins over the helper
	helper   *helper           // nil unless the token comes from a helper
	warnings []string

	now func() time.Time

	mu      sync.Mutex
	fetched map[string]string // last helper answer
	refresh time.Time         // zero: never
	expires time.Time
	info    Info

	smu     sync.Mutex // separate from mu: fetchLocked adds secrets under mu
	secrets []string
	tokens  []string // the bearer tokens among secrets: hidden in fragments too
	echoes  []*regexp.Regexp
}

// Resolve validates the options and builds a Provider for the store at host
// ("host" or "host:port"); getenv reads the environment; secure says whether
// the connection uses TLS. Nothing here touches the network, but a credential
// helper is run once so that its mistakes surface before any upload starts.
func Resolve(o *Options, host string, secure bool, getenv func(string) string) (*Provider, error) {
	return ResolveContext(context.Background(), o, host, secure, getenv)
}

// ResolveContext is Resolve with a context for the first credential-helper run.
func ResolveContext(ctx context.Context, o *Options, host string, secure bool, getenv func(string) string) (*Provider, error) {
	p := &Provider{static: map[string]string{}, now: time.Now}
	if err := p.resolve(ctx, o, host, secure, getenv); err != nil {
		// Callers print this error, some without a Provider to redact it
		// with (they get none): hide here what is known so far.
		return nil, p.redactError(err)
	}
	return p, nil
}

// redactError is err with p's secrets and token shapes hidden, still a
// UsageError if it was one.
func (p *Provider) redactError(err error) error {
	msg := p.Redact(err.Error())
	switch {
	case msg == err.Error():
		return err
	case IsUsage(err):
		return &UsageError{errors.New(msg)}
	}
	return errors.New(msg)
}

func (p *Provider) resolve(ctx context.Context, o *Options, host string, secure bool, getenv func(string) string) error {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	hostname := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		hostname = h
	}

	// Helper specs are checked even when a direct token makes them moot.
	for _, v := range o.CredentialHelpers {
		if _, err := parseHelperSpec(v); err != nil {
			return err
		}
	}
	hdrs, err := parseGRPCHeaders(o.GRPCHeaders)
	if err != nil {
		return err
	}
	for k, v := range hdrs {
		p.static[k] = v
		if redactable(k) {
			p.addSecret(v)
			p.addEcho(k, v)
		}
	}

	// Project. --project-id is trimmed like the variable (a secret pasted
	// with its newline); what is left must be sendable, or gRPC refuses it
	// only at the first call, after retries, in words that blame the store.
	projectFlag := strings.TrimSpace(o.ProjectID)
	if projectFlag == "" && o.ProjectID != "" {
		return usagef("--project-id is only whitespace (a secret that is empty but for its newline?)")
	}
	if !printableASCII(projectFlag) {
		return usagef("--project-id has characters gRPC cannot send (a line break or other control character, or non-ASCII) inside it (the value is not shown)")
	}
	switch gh := hdrs[ProjectHeader]; {
	case projectFlag != "" && gh != "" && gh != projectFlag:
		return usagef("--project-id %q and --grpc-headers projectID=%q disagree: give one", projectFlag, gh)
	case projectFlag != "":
		p.info.ProjectID, p.info.ProjectSource = projectFlag, "--project-id"
	case gh != "":
		p.info.ProjectID, p.info.ProjectSource = gh, "--grpc-headers"
	case strings.TrimSpace(getenv(EnvProjectID)) != "":
		p.info.ProjectID, p.info.ProjectSource = strings.TrimSpace(getenv(EnvProjectID)), "env "+EnvProjectID
		if !printableASCII(p.info.ProjectID) {
			return fmt.Errorf("env %s has characters gRPC cannot send (a line break or other control character, or non-ASCII) inside it (the value is not shown)", EnvProjectID)
		}
	}
	if p.info.ProjectID != "" {
		p.static[ProjectHeader] = p.info.ProjectID
	}

	// Token.
	tok, src, err := p.findToken(ctx, o, getenv)
	if err != nil {
		return err
	}
	if auth, ok := hdrs["authorization"]; ok {
		if tok != "" {
			return usagef("both %s and --grpc-headers authorization=... give a token: keep one", src)
		}
		tok, src = strings.TrimSpace(auth), "--grpc-headers authorization"
		if len(tok) > 7 && strings.EqualFold(tok[:7], "bearer ") {
			tok = strings.TrimSpace(tok[7:])
		} else {
			// Some other scheme (Basic, ...): pass it untouched, keep it secret.
			p.info.Kind, p.info.Source = KindOpaque, src
			tok = ""
		}
	}
	if tok != "" {
		if err := p.setToken(tok, src); err != nil {
			return err
		}
		if p.info.Kind == KindServiceAccount && tok != strings.ToLower(tok) {
			// Issued in lower case: an upper-cased copy is sent as issued.
			tok = strings.ToLower(tok)
			p.addToken(tok)
			p.warnings = append(p.warnings, fmt.Sprintf("the service-account token from %s has upper-case letters; it is sent in lower case, as Polar Signals issues it", src))
		}
		p.static["authorization"] = "Bearer " + tok
	} else if p.info.Kind == "" && !o.NoHelpers {
		values := o.CredentialHelpers
		if len(values) == 0 && getenv(EnvCredentialHelper) != "" {
			values = []string{getenv(EnvCredentialHelper)}
		}
		spec, ok, err := selectHelper(values, hostname)
		if err != nil {
			return err
		}
		if ok {
			timeout := o.CredentialHelperTimeout
			if timeout <= 0 {
				timeout = DefaultHelperTimeout
			}
			p.helper = &helper{spec: spec, uri: helperURI(host), timeout: timeout}
			p.info.Source = "credential helper " + spec.path
			p.mu.Lock()
			md, err := p.fetchLocked(ctx)
			expires := p.expires
			p.mu.Unlock()
			if err != nil {
				return err
			}
			if md["authorization"] == "" {
				names := slices.Sorted(maps.Keys(md))
				p.warnings = append(p.warnings, fmt.Sprintf("%s returned no Authorization header (only %s): no token is sent, and a store that wants one will refuse the uploads", p.info.Source, strings.Join(names, ", ")))
			}
			if !expires.IsZero() && !expires.After(p.now()) {
				p.warnings = append(p.warnings, fmt.Sprintf("%s answered with \"expires\" %s, already past: its headers are used all the same, and the store may refuse them (a stale cache in the helper?)", p.info.Source, expires.Format(time.RFC3339)))
			}
		}
	}
	if p.info.Kind == "" {
		p.info.Kind = KindNone
	}
	if p.info.Kind == KindServiceAccount && p.info.ProjectID == "" {
		return errNoProject(p.info.Source)
	}
	if p.info.Kind == KindLegacyJWT {
		p.warnings = append(p.warnings, fmt.Sprintf("the token from %s is a legacy project token (JWT); Polar Signals now issues service-account tokens (psc_v1_...) sent with a projectID header: see %s", p.info.Source, MigrationDoc))
	}
	for k := range p.static {
		if k != ProjectHeader && k != "authorization" {
			p.info.Headers = append(p.info.Headers, k)
		}
	}
	// Every header but projectID may be a secret (x-api-key, x-tenant).
	if (p.info.Kind != KindNone || len(p.info.Headers) > 0) && !isLoopback(hostname) {
		switch {
		case !secure:
			p.warnings = append(p.warnings, fmt.Sprintf("sending credentials to %s without TLS (--insecure): anyone on the path can read them", hostname))
		case o.UnverifiedTLS:
			p.warnings = append(p.warnings, fmt.Sprintf("sending credentials to %s without checking its certificate (--insecure-skip-verify): anyone on the path can pose as the store and take them", hostname))
		}
	}
	sort.Strings(p.info.Headers) // map order would make `auth check --json` differ run to run
	return nil
}

func errNoProject(src string) error {
	return fmt.Errorf("the token from %s is a service-account token (psc_v1_...), which needs the project to upload to: add --project-id=ID, --grpc-headers=projectID=ID or env %s (find the ID in the project settings)", src, EnvProjectID)
}

// tokenSource is one place a token may be given directly.
type tokenSource struct {
	name  string // as shown to users
	value string // the token as given, or
	file  string // the file that holds it
}

// findToken applies the precedence for a token given directly.
func (p *Provider) findToken(ctx context.Context, o *Options, getenv func(string) string) (tok, src string, err error) {
	if o.BearerToken == "" && o.BearerTokenSet {
		return "", "", usagef("--bearer-token is empty (an unset variable in --bearer-token=$VAR?): give a token or drop the flag")
	}
	srcs := []tokenSource{
		{name: "--bearer-token", value: o.BearerToken},
		{name: "--bearer-token-file " + o.BearerTokenFile, file: o.BearerTokenFile},
		{name: "env " + EnvBearerToken, value: getenv(EnvBearerToken)},
		{name: "env " + EnvPolarSignalsTok, value: getenv(EnvPolarSignalsTok)},
		{name: "env " + EnvTokenFile + " " + getenv(EnvTokenFile), file: getenv(EnvTokenFile)},
	}
	for i, s := range srcs {
		if s.value == "" && s.file == "" {
			continue
		}
		tok = s.value
		if s.file != "" {
			if tok, err = p.readTokenFile(ctx, s.file); err != nil {
				return "", s.name, err
			}
		}
		p.noteIgnored(tok, s.name, srcs[i+1:])
		return tok, s.name, nil
	}
	return "", "", nil
}

// noteIgnored warns, once, about the sources in rest that hold a token
// other than tok, from used. Precedence is documented, but while migrating,
// the new token (POLARSIGNALS_TOKEN) is easily added beside an old one that
// still wins: auth check would then pass on the old token, and revoking it
// would break the uploads.
func (p *Provider) noteIgnored(tok, used string, rest []tokenSource) {
	usedKind, _ := Classify(tok)
	var ignored []string
	newer := false
	for _, s := range rest {
		v := s.value
		if s.file != "" {
			v = peekTokenFile(s.file)
		}
		if v = strings.TrimSpace(v); v == "" || v == strings.TrimSpace(tok) {
			continue
		}
		p.addToken(v) // not sent, but a secret all the same
		ignored = append(ignored, s.name)
		if kind, _ := Classify(v); kind == KindServiceAccount {
			newer = true
		}
	}
	if len(ignored) == 0 {
		return
	}
	w := fmt.Sprintf("%s holds a different token, which is ignored: %s comes first", ignored[0], used)
	if len(ignored) > 1 {
		w = fmt.Sprintf("%s and %s hold different tokens, which are ignored: %s comes first", strings.Join(ignored[:len(ignored)-1], ", "), ignored[len(ignored)-1], used)
	}
	if newer && usedKind == KindLegacyJWT {
		w += fmt.Sprintf("; the one in use is a legacy project token and an ignored one a service-account token: %s so that the new token is used (and checked by `debuginfo auth check`) before you revoke the legacy one, or uploads will fail then", dropHow(used))
	}
	p.warnings = append(p.warnings, w)
}

// dropHow says how to stop using the token source named src.
func dropHow(src string) string {
	if v, ok := strings.CutPrefix(src, "env "); ok {
		return "unset " + strings.Fields(v)[0]
	}
	return "drop " + strings.Fields(src)[0]
}

// peekTokenFile is the token in a file that is not used, or "" when it
// cannot be read quietly (only regular files: a FIFO would block).
func peekTokenFile(path string) string {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	b, err := capped.ReadFile(path, maxTokenFile, "a token file")
	if err != nil {
		return ""
	}
	return string(b)
}

func (p *Provider) readTokenFile(ctx context.Context, path string) (string, error) {
	b, err := capped.ReadFileContext(ctx, path, maxTokenFile, "a token file")
	if err != nil {
		return "", fmt.Errorf("reading the bearer token file: %v", err)
	}
	p.addSecret(string(b)) // the untrimmed form too, should anything echo it
	if len(b) >= 2 && (b[0] == 0xff && b[1] == 0xfe || b[0] == 0xfe && b[1] == 0xff) {
		return "", fmt.Errorf("bearer token file %s is UTF-16 (it starts with a UTF-16 byte-order mark): save it as UTF-8 or plain ASCII", path)
	}
	// A leading byte-order mark is an editor's, as a trailing newline is.
	tok := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	if tok == "" {
		return "", fmt.Errorf("bearer token file %s is empty", path)
	}
	if shape := assignment(tok); shape != "" {
		return "", fmt.Errorf("bearer token file %s holds a line %s (of an env or YAML file?), not the token alone: put only the token in it", path, shape)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o044 != 0 {
		p.warnings = append(p.warnings, fmt.Sprintf("bearer token file %s is readable by group or others (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path))
	}
	return tok, nil
}

// assignment says how tok assigns a token to a name, "NAME=<token>" or
// "NAME: <token>" (with "export " before it or quotes around the token),
// or "" when it does not. The name is not repeated: the redactor would hide
// it, as part of the file that holds the token.
func assignment(tok string) string {
	line := strings.TrimPrefix(tok, "export ")
	for _, sep := range []string{"=", ":"} {
		name, val, ok := strings.Cut(line, sep)
		if !ok || !isEnvName(strings.TrimSpace(name)) {
			continue
		}
		// A value shaped like a token, well formed or not: the line is
		// no token either way.
		if kind, _ := Classify(strings.Trim(strings.TrimSpace(val), `"'`)); kind == KindServiceAccount || kind == KindLegacyJWT {
			return "NAME" + sep + "<token>"
		}
	}
	return ""
}

// isEnvName says whether s is shaped like an environment variable's name.
func isEnvName(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// maxTokenFile bounds a token file: tokens are a few hundred bytes, and a
// path like /dev/zero must not read without end.
const maxTokenFile = 64 << 10

// setToken validates tok and records what Summary may say about it.
func (p *Provider) setToken(tok, src string) error {
	p.addToken(tok)
	kind, err := Classify(tok)
	if err != nil {
		return fmt.Errorf("the token from %s: %w", src, err)
	}
	p.info.Kind, p.info.Source, p.info.Last4 = kind, src, last4(tok)
	return nil
}

// fetchLocked runs the helper and installs its answer; p.mu is held.
func (p *Provider) fetchLocked(ctx context.Context) (map[string]string, error) {
	md, exp, err := p.helper.get(ctx, p.redactHeaderValues)
	if err != nil {
		return nil, err
	}
	for k, v := range md {
		if redactable(k) {
			p.addSecret(v)
			p.addEcho(k, v)
		}
	}
	auth := strings.TrimSpace(md["authorization"])
	scheme, tok, _ := strings.Cut(auth, " ")
	switch {
	case auth == "":
		// No token: the kind stays none (Resolve warns), not "opaque",
		// which made a refusal read "token unknown or revoked".
	case strings.EqualFold(scheme, "bearer"):
		// "Bearer" and nothing after it would go out as is and fail as
		// Unauthenticated, with a summary claiming a token.
		if tok = strings.TrimSpace(tok); tok == "" {
			return nil, fmt.Errorf("%s returned an Authorization header with an empty bearer token", p.info.Source)
		}
		if err := p.setToken(tok, p.info.Source); err != nil {
			return nil, err
		}
	case tok == "":
		// One word is a scheme without credentials, in practice a bare
		// token: the store would call it unknown or revoked.
		p.addToken(auth)
		return nil, fmt.Errorf("%s returned an Authorization value without the \"Bearer \" prefix: answer \"Bearer TOKEN\" (the value is not shown)", p.info.Source)
	case p.info.Kind == "":
		p.info.Kind = KindOpaque // another scheme (Basic ...), sent as is
	}
	if p.info.ProjectSource == "" || p.info.ProjectSource == p.info.Source {
		if proj := md[ProjectHeader]; proj != "" {
			p.info.ProjectID, p.info.ProjectSource = proj, p.info.Source
		}
	}
	if p.info.Kind == KindServiceAccount && p.info.ProjectID == "" {
		return nil, errNoProject(p.info.Source)
	}
	now := p.now()
	p.fetched, p.expires, p.refresh = md, exp, refreshAt(now, exp)
	if !exp.IsZero() && !exp.After(now) {
		// Already expired: running the helper again at every call (the
		// refresh time is past) would only get the same answer.
		p.refresh = now.Add(expiredRetry)
	}
	return md, nil
}

// expiredRetry is how long an answer that came already expired is used
// before the helper is asked again.
const expiredRetry = time.Minute

// GetRequestMetadata implements credentials.PerRPCCredentials. With a
// credential helper it re-runs the helper once its answer nears expiry;
// concurrent callers wait for one run rather than each starting their own.
func (p *Provider) GetRequestMetadata(ctx context.Context, uri ...string) (map[string]string, error) {
	out := make(map[string]string, len(p.static)+4)
	if p.helper != nil {
		p.mu.Lock()
		md := p.fetched
		if md == nil || !p.refresh.IsZero() && !p.now().Before(p.refresh) {
			fresh, err := p.fetchLocked(ctx)
			switch {
			case err == nil:
				md = fresh
			case md != nil && p.now().Before(p.expires):
				// Keep using the old answer while it is still valid.
			default:
				p.mu.Unlock()
				return nil, errors.New(p.Redact(err.Error()))
			}
		}
		p.mu.Unlock()
		for k, v := range md {
			out[k] = v
		}
	}
	for k, v := range p.static {
		out[k] = v
	}
	return out, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials; plaintext
// is the user's explicit choice (--insecure), so it is allowed.
func (p *Provider) RequireTransportSecurity() bool { return false }

// Warnings are the things worth telling the user once (legacy token, token
// file readable by others, credentials over plaintext).
func (p *Provider) Warnings() []string { return append([]string(nil), p.warnings...) }

// Info describes the credentials without revealing them.
func (p *Provider) Info() Info {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.info
	i.Headers = append([]string(nil), p.info.Headers...)
	return i
}

// Summary describes the credentials for humans without revealing them, e.g.
// "service-account token ...1a2b from env POLARSIGNALS_TOKEN; project 42 from --project-id".
func (p *Provider) Summary() string {
	i := p.Info()
	var b strings.Builder
	if i.Kind == KindNone {
		b.WriteString("no token")
		if i.Source != "" { // a helper that answered without one
			b.WriteString(" from " + i.Source)
		}
	} else {
		b.WriteString(string(i.Kind))
		if i.Last4 != "" {
			b.WriteString(" ..." + i.Last4)
		}
		b.WriteString(" from " + i.Source)
	}
	if i.ProjectID != "" {
		fmt.Fprintf(&b, "; project %s from %s", i.ProjectID, i.ProjectSource)
	} else {
		b.WriteString("; no project")
	}
	return b.String()
}

// Redact replaces every secret the provider knows, and anything shaped like
// a bearer token, in s with "[REDACTED]".
func (p *Provider) Redact(s string) string {
	if p != nil {
		p.smu.Lock()
		secrets, tokens, echoes := p.secrets, p.tokens, p.echoes
		p.smu.Unlock()
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
		for _, re := range echoes {
			s = re.ReplaceAllString(s, "${1}"+Redacted+"${2}")
		}
		s = redactFragments(s, tokens)
	}
	return RedactPatterns(s)
}

// RedactorOf hides values known before a Provider exists (the flags, the
// environment, token files) as a Provider hides its own: where they appear
// exactly, changed (see redactFragments), and anything shaped like a token.
// For what a command prints before its Provider is made, or without one (a
// dry run).
func RedactorOf(values []string) func(string) string {
	p := &Provider{}
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			p.addToken(v)
		}
	}
	return p.Redact
}

// Secrets lists every secret p sends (tokens, header values but
// projectID), a credential helper's included: it is run first if it has
// not been.
func (p *Provider) Secrets(ctx context.Context) []string {
	if _, err := p.GetRequestMetadata(ctx); err != nil {
		return nil
	}
	p.smu.Lock()
	defer p.smu.Unlock()
	return slices.Clone(p.secrets)
}

// Fragments: a store or proxy may echo a token changed: without its psc_v1_
// prefix (the 64 hex digits are the whole secret), cut short, upper-cased,
// or URL-encoded (which splits it at + / =). So a run of token characters
// that shares minFragment characters in a row, in any case, with a bearer
// token of at least minFragmentSecret is hidden whole. Other header values
// (a tenant like team-payments-production) are hidden only where they
// appear exactly: their fragments are words that other text shares.
const (
	minFragment       = 12
	minFragmentSecret = 16
)

func redactFragments(s string, secrets []string) string {
	var long []string
	for _, sec := range secrets {
		if len(sec) >= minFragmentSecret {
			long = append(long, strings.ToLower(sec))
		}
	}
	if len(long) == 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && isTokenChar(s[j]) {
			j++
		}
		if j == i {
			b.WriteByte(s[i])
			i++
			continue
		}
		run := s[i:j]
		decoded := run
		if d, err := url.PathUnescape(run); err == nil {
			decoded = d
		}
		if len(decoded) >= minFragment && sharesFragment(strings.ToLower(decoded), long) {
			run = Redacted
		}
		b.WriteString(run)
		i = j
	}
	return b.String()
}

func isTokenChar(c byte) bool {
	// '%': a URL-encoded token is one run, decoded before it is compared.
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("._~+/=-%", c) >= 0
}

// sharesFragment says whether run and one of secrets have minFragment
// characters in a row in common.
func sharesFragment(run string, secrets []string) bool {
	for i := 0; i+minFragment <= len(run); i++ {
		for _, sec := range secrets {
			if strings.Contains(sec, run[i:i+minFragment]) {
				return true
			}
		}
	}
	return false
}

// redactHeaderValues hides, in a helper's stderr, every header value the
// flags or an earlier helper answer gave, secret-looking name or not (the
// helper knows them all and may echo any); p.mu is held.
func (p *Provider) redactHeaderValues(s string) string {
	var vals []string
	for _, md := range []map[string]string{p.static, p.fetched} {
		for _, v := range md {
			vals = append(vals, v, strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(v, "Bearer "), "bearer ")))
		}
	}
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return p.Redact(s)
}

// Redacted replaces secrets in text.
const Redacted = "[REDACTED]"

var secretPatterns = []*regexp.Regexp{
	// At least 8 token characters, so that prose like "bearer token file" survives.
	regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}`),
	regexp.MustCompile(`(?i)psc_v1_[0-9a-z]+`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`),
}

// RedactPatterns hides anything shaped like a credential: the word after
// "Bearer", service-account tokens and JWTs. It is the fallback for text
// (a helper's stderr, a server's message) that may hold secrets we never saw.
// A value found so is hidden wherever else it appears in s too: a helper
// that prints "using token X; Authorization: Bearer X" shows X bare once.
func RedactPatterns(s string) string {
	if !mayHoldPatternFunc(s) {
		return s // most text: six regexp passes per report line were a tenth of a re-run's CPU
	}
	var found []string
	for _, m := range secretPatterns[0].FindAllStringSubmatchIndex(s, -1) {
		found = append(found, s[m[3]:m[1]]) // the token after "bearer "
	}
	for _, re := range secretPatterns[1:] {
		found = append(found, re.FindAllString(s, -1)...)
	}
	// Longest first, so a value holding another is replaced whole. A short
	// one ("bearer credentials", "Bearer realm=parca") is a word, not a
	// token: hidden where the pattern found it, not everywhere.
	sort.Slice(found, func(i, j int) bool { return len(found[i]) > len(found[j]) })
	for _, v := range found {
		if len(v) >= minFragmentSecret {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	s = secretPatterns[0].ReplaceAllString(s, "${1}"+Redacted)
	for _, re := range secretPatterns[1:] {
		s = re.ReplaceAllString(s, Redacted)
	}
	return s
}

// mayHoldPatternFunc is mayHoldPattern; a test turns it off.
var mayHoldPatternFunc = mayHoldPattern

// mayHoldPattern says whether one of secretPatterns could match s: whether
// s holds "eyJ", or "bearer" or "psc_v1_" in any case, folded as (?i)
// folds them ("ſ" is an "s" to it).
func mayHoldPattern(s string) bool {
	return strings.Contains(s, "eyJ") || containsFold(s, "bearer") || containsFold(s, "psc_v1_")
}

// containsFold says whether s holds sub under Unicode simple case folding.
func containsFold(s, sub string) bool {
	for i := range s {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	for _, want := range prefix {
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 || !foldEqual(r, want) {
			return false
		}
		s = s[n:]
	}
	return true
}

// foldEqual says whether a and b are one rune under simple case folding.
func foldEqual(a, b rune) bool {
	for f := a; ; {
		if f == b {
			return true
		}
		if f = unicode.SimpleFold(f); f == a {
			return false
		}
	}
}

// addToken remembers a bearer token for Redact, whose changed echoes
// (fragments, another case) are hidden too.
func (p *Provider) addToken(tok string) {
	p.addSecret(tok)
	p.addEcho("bearer", tok) // as sent: authorization: "Bearer Xq7"
	p.smu.Lock()
	p.tokens = append(p.tokens, tok)
	p.tokens = append(p.tokens, base64Forms(tok)...)
	p.smu.Unlock()
}

var base64URL = strings.NewReplacer("+", "-", "/", "_")

// base64Forms are what tok looks like inside any base64 text: a proxy may
// echo a request's header base64-encoded ("Authorization: Bearer tok", or
// Basic credentials). tok encodes one of three ways, by its offset in the
// encoded bytes modulo 3; each form is the part that depends on tok alone.
// Their fragments are hidden as a token's are.
func base64Forms(tok string) []string {
	if len(tok) < minFragmentSecret {
		return nil
	}
	var forms []string
	for k := 0; k < 3; k++ {
		n := k + len(tok)
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, k), tok...))
		start, end := 0, n/3*4
		if k > 0 {
			start = 4 // the first group mixes in the bytes before tok
		}
		forms = append(forms, enc[start:end], base64URL.Replace(enc[start:end]))
	}
	return forms
}

// addEcho hides a value shorter than addSecret's minimum where it follows
// its header's name, as a store quotes a request ("x-api-key=s3c",
// `x-api-key: "s3c"`), or "Bearer" for a token: there it is no word of
// other text.
func (p *Provider) addEcho(name, v string) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) >= 4 {
		return
	}
	lead, sep := "", `\s*[=:]\s*"?`
	if c := name[0]; 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' {
		lead = `\b`
	}
	if name == "bearer" {
		sep = `\s+`
	}
	re := regexp.MustCompile(`(?i)(` + lead + regexp.QuoteMeta(name) + sep + `)` + regexp.QuoteMeta(v) + `([^A-Za-z0-9._~+/=%-]|$)`)
	p.smu.Lock()
	defer p.smu.Unlock()
	for _, e := range p.echoes {
		if e.String() == re.String() {
			return // each helper refresh gives the same headers again
		}
	}
	p.echoes = append(p.echoes, re)
}

// addSecret remembers v for Redact, longest first so that a secret holding
// another is replaced whole. Very short values are skipped: replacing them
// would shred ordinary text and they hide nothing.
func (p *Provider) addSecret(v string) {
	p.smu.Lock()
	defer p.smu.Unlock()
	for _, cand := range []string{v, strings.TrimSpace(v)} {
		// The bare scheme word ("Bearer " with an unset variable after
		// it) hides nothing, and hiding it garbles the error about it.
		if len(cand) < 4 || strings.EqualFold(strings.TrimSpace(cand), "bearer") {
			continue
		}
		dup := false
		for _, s := range p.secrets {
			dup = dup || s == cand
		}
		if !dup {
			p.secrets = append(p.secrets, cand)
		}
	}
	for i := 1; i < len(p.secrets); i++ {
		for j := i; j > 0 && len(p.secrets[j]) > len(p.secrets[j-1]); j-- {
			p.secrets[j], p.secrets[j-1] = p.secrets[j-1], p.secrets[j]
		}
	}
}

// redactable says whether the value of header k is hidden wherever it
// could show (a store's error echoing the request, a helper's stderr): any
// header may carry a secret (x-tenant, x-api-key, a custom scheme), so all
// are, except projectID, which messages show on purpose.
func redactable(k string) bool {
	return !strings.EqualFold(k, ProjectHeader)
}

// parseGRPCHeaders reads --grpc-headers values: k=v;k2=v2, repeatable.
// A projectID given twice with different values is an error returned with
// the complete md (Values still wants the other headers).
func parseGRPCHeaders(values []string) (map[string]string, error) {
	md := map[string]string{}
	var twice error
	n := 0
	for _, h := range values {
		for _, kv := range strings.Split(h, ";") {
			n++
			if strings.TrimSpace(kv) == "" {
				continue
			}
			// "Authorization: Basic ..." (the HTTP form) puts the credential
			// where the name should be, with or without an "=" in it (base64
			// padding): say so the same way, and never print the entry.
			if c := strings.IndexByte(kv, ':'); c >= 0 && (c < strings.IndexByte(kv, '=') || !strings.Contains(kv, "=")) {
				return nil, usagef("--grpc-headers: entry %d is in the HTTP form \"Name: value\"; the form is name=value (the entry is not shown)", n)
			}
			k, v, ok := strings.Cut(kv, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if !ok {
				// The entry itself may be a secret: point at it, don't print it.
				return nil, usagef("--grpc-headers: entry %d is not key=value", n)
			}
			if err := checkMetadataKey(k); err != nil {
				// Not quoted: a mistyped name may hold the credential.
				return nil, usagef("--grpc-headers: entry %d: %v (the form is name=value)", n, err)
			}
			if !printableASCII(v) {
				return nil, usagef("--grpc-headers: the value of %q has characters gRPC cannot send (control or non-ASCII)", k)
			}
			// The last one winning would upload to a project nobody
			// chose; any other header may carry several values.
			if old, ok := md[k]; ok && k == ProjectHeader && old != v {
				twice = usagef("--grpc-headers: projectID is given more than once with different values (header names are case-insensitive): give one (the values are not shown)")
			}
			md[k] = v
		}
	}
	return md, twice
}

// helperURI is what a credential helper is asked about. Bazel's protocol is
// URI based; the port is kept unless it is the HTTPS default.
func helperURI(host string) string {
	if h, port, err := net.SplitHostPort(host); err == nil && port == "443" {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	return "https://" + host + ServicePath
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

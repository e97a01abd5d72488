package store

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

// Target is what an explanation of a store error is tailored to.
type Target struct {
	Address  string     // the store's address, as given
	Insecure bool       // plaintext (--insecure) rather than TLS
	Creds    creds.Info // the credentials sent (zero: none)
	Retried  bool       // transient failures were retried before giving up
	Answered bool       // the store answered an earlier call of this run
	Proxy    string     // host:port of the proxy gRPC went through ("": none)
	// OursRanOut: the call's own deadline (--timeout) had passed, which a
	// store that enforces it answers with DeadlineExceeded of its own.
	OursRanOut bool
}

// Explain puts the store's answer in err into the sentence a user sees:
// what went wrong and what to change, ending with the store's own words
// (which may echo a credential: callers redact). `upload` and `auth check`
// both show it. Errors that hold no gRPC status pass unchanged; the result
// wraps err.
func Explain(err error, t Target) error {
	if err == nil {
		return nil
	}
	var done *explained
	if errors.As(err, &done) {
		return err
	}
	var gu *givenUp
	if errors.As(err, &gu) {
		// This call was never made: say so, then why, in the words the
		// file that gave up got.
		return &explained{"not sent: this run gave up on the store after an earlier failure: " + Explain(gu.err, t).Error(), err}
	}
	st, ok := statusOf(err)
	if !ok {
		return err
	}
	var cut *cutOff
	if errors.As(err, &cut) && st.Code() == codes.Unavailable {
		return &explained{cutSentence(cut, st, t), err}
	}
	return &explained{sentence(st, tlsHint(err), t), err}
}

// cutSentence explains a stream dropped mid-upload. A store killed then
// ends it too, so both causes are named.
func cutSentence(c *cutOff, st *status.Status, t Target) string {
	retried := ""
	if t.Retried {
		retried = "; every attempt was, the last"
	}
	return fmt.Sprintf("the store at %s dropped the upload%s %.1fs and %s into it: %s; "+
		"a store that limits how long one request may take cuts off long uploads "+
		"(Parca: raise --http-read-timeout and --http-write-timeout, 5s by default), else check that the store is running",
		t.Address, retried, c.after.Seconds(), fmt.Sprintf("%.1f MiB", float64(c.sent)/(1<<20)), clip(st.Message()))
}

// maxSaid bounds how much of a store's message is repeated: a hostile or
// broken store can answer with megabytes, once per file.
const maxSaid = 1024

// clip cuts msg to maxSaid bytes at a character boundary and says so.
func clip(msg string) string {
	if len(msg) <= maxSaid {
		return msg
	}
	cut := maxSaid
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", msg[:cut], len(msg)-cut)
}

func sentence(st *status.Status, tlsHint string, t Target) string {
	msg := clip(st.Message())
	said := " (store said: " + msg + ")"
	c := t.Creds
	if tlsHint != "" {
		return fmt.Sprintf("cannot connect to the store at %s: %s (%s)", t.Address, tlsHint, msg)
	}
	switch st.Code() {
	case codes.Unauthenticated:
		if c.Kind == "" || c.Kind == creds.KindNone {
			// The same words reach Bazel's upload actions, where the shell's
			// environment does not: name the rules' settings too.
			return fmt.Sprintf("the store at %s wants a token and none was given: use --bearer-token-file, env %s or a credential helper "+
				"(Bazel's aspect: --@rules_debuginfo//rules:bearer_token_file or :credential_helper)%s", t.Address, creds.EnvPolarSignalsTok, said)
		}
		return fmt.Sprintf("token unknown or revoked: the store at %s rejected the %s%s; use a current token%s", t.Address, c.Kind, from(c.Source, " from %s"), said)
	case codes.PermissionDenied:
		switch {
		case c.Kind == creds.KindLegacyJWT && c.ProjectID != "":
			return fmt.Sprintf("this legacy project token is not valid for project %s: it works only for its own project; drop the projectID header%s or use a service-account token%s", c.ProjectID, from(c.ProjectSource, " (from %s)"), said)
		case c.ProjectID != "":
			return fmt.Sprintf("no Debug Info Writer role on project %s: bind the role to the service account (unscoped, or scoped to this project), and check the project ID%s in the project settings%s", c.ProjectID, from(c.ProjectSource, " (from %s)"), said)
		}
		return "permission denied: the token lacks the Debug Info Writer role" + said
	case codes.InvalidArgument:
		switch {
		case strings.Contains(msg, "exceeds maximum allowed size"):
			return "file too large for this store: raise the store's limit (Parca: --debuginfo-upload-max-size) or upload a smaller debug file" + said
		case c.Kind == creds.KindServiceAccount && c.ProjectID == "":
			return "the store needs a projectID header with a service-account token: add --project-id=ID, --grpc-headers=projectID=ID or env " + creds.EnvProjectID + said
		}
		return "the store refused the request" + said
	case codes.Unavailable:
		over, retried := "TLS", ""
		if t.Insecure {
			over = "plaintext"
		}
		if t.Proxy != "" {
			over += " through the proxy " + t.Proxy
		}
		if t.Retried {
			retried = ", gave up after retries"
		}
		switch {
		case t.Answered:
			return fmt.Sprintf("store unavailable at %s (%s%s): %s; it answered earlier calls of this run, so the address is right: "+
				"it went down, is restarting or overloaded, or a proxy or load balancer in front of it is failing", t.Address, over, retried, msg)
		case t.Proxy != "":
			return fmt.Sprintf("store unavailable at %s (%s%s): %s; check the proxy (HTTPS_PROXY, or NO_PROXY to bypass it), --store-address and that the store is running", t.Address, over, retried, msg)
		}
		return fmt.Sprintf("store unavailable at %s (%s%s): %s; check --store-address and that the store is running", t.Address, over, retried, msg)
	case codes.DeadlineExceeded:
		// A store that hangs and an upload too large for the time allowed end
		// the same way: say what is known, not which. gRPC's own deadline
		// says "context deadline exceeded"; anything else is the store's
		// answer, which no --timeout would change.
		if !strings.Contains(msg, "context deadline exceeded") && !t.OursRanOut {
			return fmt.Sprintf("the store at %s answered DeadlineExceeded itself (no --timeout of ours ran out)%s", t.Address, said)
		}
		if !strings.Contains(msg, "context deadline exceeded") {
			// Our deadline, enforced by the store (grpc-go servers do).
			return fmt.Sprintf("the call to %s did not finish in time (see --timeout), and the store ended it%s", t.Address, said)
		}
		return fmt.Sprintf("the call to %s did not finish in time (see --timeout): %s", t.Address, msg)
	case codes.Unimplemented:
		return fmt.Sprintf("%s does not serve this call of the Parca debuginfo API: check --store-address%s", t.Address, said)
	}
	return fmt.Sprintf("store error (%s) from %s%s", st.Code(), t.Address, said)
}

// from names where a credential came from, "" when that is unknown.
func from(source, format string) string {
	if source == "" {
		return ""
	}
	return fmt.Sprintf(format, source)
}

// statusOf finds the store's answer in err however it was wrapped, with
// its own message (status.FromError would give err's whole text).
func statusOf(err error) (*status.Status, bool) {
	var gs interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &gs) || gs.GRPCStatus() == nil {
		return nil, false
	}
	return gs.GRPCStatus(), true
}

// givenUp is the error of a call not made because an earlier one gave up
// on the store for this run; it wraps that one's error.
type givenUp struct{ err error }

func (e *givenUp) Error() string { return e.err.Error() }
func (e *givenUp) Unwrap() error { return e.err }

// explained is a store error put in words; it wraps the error it explains.
type explained struct {
	text string
	err  error
}

func (e *explained) Error() string { return e.text }
func (e *explained) Unwrap() error { return e.err }

package creds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DefaultHelperTimeout bounds one run of a credential helper.
const DefaultHelperTimeout = 10 * time.Second

// ServicePath is the path part of the URI a credential helper is asked about.
const ServicePath = "/parca.debuginfo.v1alpha1.DebuginfoService"

// helperSpec is one --credential-helper value: [PATTERN=]PATH.
type helperSpec struct {
	pattern string // "" (any host), "host" or "*.domain"
	path    string
}

func parseHelperSpec(s string) (helperSpec, error) {
	s = strings.TrimSpace(s)
	// A pattern never holds a path separator, so "a/b=c" is a path.
	if i := strings.IndexByte(s, '='); i >= 0 && !strings.ContainsAny(s[:i], `/\`) {
		pat, path := strings.ToLower(s[:i]), s[i+1:]
		if path == "" {
			return helperSpec{}, usagef("--credential-helper %q: no helper path after %q", s, pat+"=")
		}
		if pat == "" || strings.Contains(strings.TrimPrefix(pat, "*."), "*") || strings.ContainsAny(pat, ":") {
			return helperSpec{}, usagef("--credential-helper %q: the pattern must be a host name or *.domain (no port)", s)
		}
		return helperSpec{pattern: pat, path: path}, nil
	}
	if s == "" {
		return helperSpec{}, usagef("--credential-helper: empty value")
	}
	return helperSpec{path: s}, nil
}

// selectHelper picks the helper for host the way Bazel's --credential_helper
// does: an exact host beats a wildcard, a longer wildcard beats a shorter
// one, and both beat a bare path; among equals the last one given wins.
// *.example.com matches example.com itself and every subdomain.
func selectHelper(values []string, host string) (helperSpec, bool, error) {
	host = strings.ToLower(host)
	var best helperSpec
	bestScore := -1
	for _, v := range values {
		h, err := parseHelperSpec(v)
		if err != nil {
			return helperSpec{}, false, err
		}
		score := -1
		switch {
		case h.pattern == "":
			score = 0
		case strings.HasPrefix(h.pattern, "*."):
			d := h.pattern[2:]
			if host == d || strings.HasSuffix(host, "."+d) {
				score = 1 + len(d)
			}
		case h.pattern == host:
			score = 1 << 20
		}
		if score >= 0 && score >= bestScore {
			best, bestScore = h, score
		}
	}
	return best, bestScore >= 0, nil
}

// helper runs one credential helper for one URI.
type helper struct {
	spec    helperSpec
	uri     string
	timeout time.Duration
}

type helperResponse struct {
	Headers map[string][]string `json:"headers"`
	Expires string              `json:"expires"`
}

// maxHelperOutput caps what is kept of a helper's stdout and stderr.
const maxHelperOutput = 1 << 20

// cappedBuffer keeps at most maxHelperOutput bytes and then fails the
// write, which ends the copy from the helper's pipe (the helper gets
// SIGPIPE). It deliberately does not embed bytes.Buffer: io.Copy would use
// the embedded ReadFrom and read without any cap.
type cappedBuffer struct {
	buf  bytes.Buffer
	over bool
}

var errHelperOutput = fmt.Errorf("more than %d bytes of output", maxHelperOutput)

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.buf.Len()+len(p) > maxHelperOutput {
		b.over = true
		b.buf.Write(p[:maxHelperOutput-b.buf.Len()])
		return 0, errHelperOutput
	}
	return b.buf.Write(p)
}

// helperOutput reads a helper's stdout and stderr through pipes of our own
// (not exec's copying goroutines, which Wait would wait for).
type helperOutput struct {
	readers []*os.File
	done    chan struct{}
}

// startReading starts cmd with its stdout and stderr copied into the two
// buffers. A buffer over its cap closes its pipe (the helper gets SIGPIPE).
func startReading(cmd *exec.Cmd, stdout, stderr *cappedBuffer) (*helperOutput, error) {
	o := &helperOutput{done: make(chan struct{}, 2)}
	var writers []*os.File
	closeAll := func() {
		for _, f := range append(o.readers, writers...) {
			f.Close()
		}
	}
	for range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll()
			return nil, err
		}
		o.readers, writers = append(o.readers, r), append(writers, w)
	}
	cmd.Stdout, cmd.Stderr = writers[0], writers[1]
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, err
	}
	for _, w := range writers {
		w.Close() // the helper holds its own copies
	}
	for i, buf := range []*cappedBuffer{stdout, stderr} {
		go func(r *os.File) {
			io.Copy(buf, r)
			r.Close()
			o.done <- struct{}{}
		}(o.readers[i])
	}
	return o, nil
}

// finish waits up to grace for both pipes to reach their end, then closes
// them, which ends the copies with what was read.
func (o *helperOutput) finish(grace time.Duration) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for n := 0; n < 2; n++ {
		select {
		case <-o.done:
		case <-timer.C:
			for _, r := range o.readers {
				r.Close()
			}
			for ; n < 2; n++ {
				<-o.done
			}
			return
		}
	}
}

// get runs `PATH get` and returns its headers (lower-case keys, several
// values joined with ", " as HTTP does) and their expiry (zero if none).
// The helper's stderr is redacted by redact (the header values known so
// far) and by pattern: the helper may print secrets we do not know.
func (h *helper) get(ctx context.Context, redact func(string) string) (map[string]string, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	req, _ := json.Marshal(map[string]string{"uri": h.uri})
	cmd := exec.CommandContext(ctx, h.spec.path, "get")
	cmd.Stdin = bytes.NewReader(req)
	// The helper leads a process group of its own, and a timeout kills the
	// whole group: a helper script's children (a login flow, a sleep) would
	// otherwise outlive it and hold its pipes open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	name := "credential helper " + h.spec.path
	var stdout, stderr cappedBuffer
	out, err := startReading(cmd, &stdout, &stderr)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%s could not run: %v", name, err)
	}
	// Wait returns when the helper exits, whoever still holds its pipes.
	err = cmd.Wait()
	// Its children go with it: a background child ("(sleep 300 &)") would
	// otherwise hold stdout open for good. One that left the group cannot
	// be killed; its pipes are closed after a grace period instead.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	out.finish(time.Second)
	if stdout.over || stderr.over {
		return nil, time.Time{}, fmt.Errorf("%s printed %v: not a credential helper answer", name, errHelperOutput)
	}
	if ctx.Err() == context.DeadlineExceeded {
		return nil, time.Time{}, fmt.Errorf("%s timed out after %s (raise it with --credential-helper-timeout)", name, h.timeout)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.TrimSpace(stderr.buf.String())
			if len(msg) > 2000 {
				msg = msg[:2000] + "..."
			}
			if msg == "" {
				msg = "(no stderr)"
			}
			if redact != nil {
				msg = redact(msg)
			}
			return nil, time.Time{}, fmt.Errorf("%s failed (%s): %s", name, ee.ProcessState, redactHexRuns(RedactPatterns(msg)))
		}
		return nil, time.Time{}, fmt.Errorf("%s could not run: %v", name, err)
	}
	return parseHelperResponse(name, h.uri, stdout.buf.Bytes())
}

// hexRun is a run of hex digits long enough to be a secret.
var hexRun = regexp.MustCompile(`[0-9A-Fa-f]{16,}`)

// redactHexRuns hides, in a helper's stderr, every run of 16 or more hex
// digits with a digit and a letter in it, standing alone: the 64 hex
// digits of a psc_v1_ token are the whole secret, and on a first run no
// token is known yet to hide its fragments. Store messages are spared
// this: they may name build IDs.
func redactHexRuns(s string) string {
	return hexRun.ReplaceAllStringFunc(s, func(m string) string {
		if !strings.ContainsAny(m, "0123456789") || !strings.ContainsAny(m, "abcdefABCDEF") {
			return m
		}
		return Redacted
	})
}

// parseHelperResponse reads a helper's answer: headers as lower-case gRPC
// metadata (several values joined) and the optional expiry. Errors never
// quote a value: a header value is a secret.
func parseHelperResponse(name, uri string, out []byte) (map[string]string, time.Time, error) {
	var resp helperResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(&resp); err != nil {
		// json errors name offsets and types, never the text itself.
		return nil, time.Time{}, fmt.Errorf("%s printed invalid JSON (want {\"headers\": {\"Name\": [\"value\"]}}): %v", name, err)
	}
	// Header names are case-insensitive: "Authorization" and
	// "authorization" are one header, whose values are gathered before
	// they are judged (taking one key's would leave the token to map order).
	vals := map[string][]string{}
	for _, k := range slices.Sorted(maps.Keys(resp.Headers)) {
		key := strings.ToLower(strings.TrimSpace(k))
		if err := checkMetadataKey(key); err != nil {
			return nil, time.Time{}, fmt.Errorf("%s returned header %q: %v", name, k, err)
		}
		for _, v := range resp.Headers[k] {
			if !printableASCII(v) {
				return nil, time.Time{}, fmt.Errorf("%s returned a value for header %q with characters gRPC cannot send (control or non-ASCII)", name, k)
			}
			if v != "" {
				vals[key] = append(vals[key], v)
			}
		}
	}
	md := map[string]string{}
	for key, keep := range vals {
		if (key == ProjectHeader || key == "authorization") && len(keep) > 1 {
			// Joined, "a, b" would name no project, and "Bearer x, Bearer
			// y" no token (it was reported as whitespace in a token).
			switch n := distinct(keep); {
			case n > 1 && key == ProjectHeader:
				return nil, time.Time{}, fmt.Errorf("%s returned %d projectID values: one project per run, answer one", name, n)
			case n > 1:
				return nil, time.Time{}, fmt.Errorf("%s returned %d Authorization values, one is expected (the values are not shown)", name, n)
			}
			keep = keep[:1]
		}
		md[key] = strings.Join(keep, ", ")
	}
	if len(md) == 0 {
		return nil, time.Time{}, fmt.Errorf("%s returned no headers for %s (is it configured for this host?)", name, uri)
	}
	var exp time.Time
	if resp.Expires != "" {
		var err error
		exp, err = time.Parse(time.RFC3339, resp.Expires)
		if err != nil {
			// time.Parse quotes its input, which a mixed-up variable can
			// make the token itself: give only the length.
			return nil, time.Time{}, fmt.Errorf("%s returned an \"expires\" that is not RFC 3339, like 2030-01-01T00:00:00Z (the value, %d characters, is not shown)", name, len(resp.Expires))
		}
	}
	return md, exp, nil
}

// distinct counts the different strings in vs.
func distinct(vs []string) int {
	seen := map[string]bool{}
	for _, v := range vs {
		seen[v] = true
	}
	return len(seen)
}

// printableASCII is gRPC's rule for the values of non-binary metadata.
func printableASCII(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// checkMetadataKey enforces gRPC's rules for metadata keys.
func checkMetadataKey(k string) error {
	if k == "" {
		return errors.New("empty header name")
	}
	if strings.HasPrefix(k, "grpc-") || k == "content-type" || k == "te" || k == "user-agent" || strings.HasPrefix(k, ":") {
		return errors.New("reserved header name")
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("character %q is not allowed in a gRPC metadata key", c)
		}
	}
	return nil
}

// refreshAt is when headers fetched at fetched and expiring at exp should be
// fetched again: a minute early, or halfway for short-lived credentials.
func refreshAt(fetched, exp time.Time) time.Time {
	if exp.IsZero() {
		return time.Time{}
	}
	margin := exp.Sub(fetched) / 2
	if margin > time.Minute {
		margin = time.Minute
	}
	if margin < 0 {
		margin = 0
	}
	return exp.Add(-margin)
}

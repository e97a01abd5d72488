package sources

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

// The content rule. A file's name and identity do not say what it holds: a
// copy of the CI token (ci/old-token), or the token file itself when the
// token came from the environment, looks like any other file. So every file
// is read before it goes in, and one holding a credential stays out: the
// exact value of a credential this run holds (Options.Secrets), or anything
// shaped like a Polar Signals service-account token or a JWT, which may be
// an old token or another project's.

// minSecret: a shorter value would match ordinary text, and hides little.
const minSecret = 8

// scanChunk is how much of a file is read at a time. Memory stays at
// scanChunk plus the overlap whatever the file's size (the package keeps
// under 100 MB on any input).
const scanChunk = 256 << 10

// maxJWT bounds the JWTs found wherever they lie in a file: a longer one is
// missed when it spans two reads. A bearer token travels in a request
// header, which servers cap at 8 to 16 KiB.
const maxJWT = 16 << 10

var (
	pscPrefix = []byte(creds.ServiceAccountPrefix)
	jsonPart  = []byte("eyJ") // `{"` in base64url: a JWT's header and payload
)

// hasServiceAccountToken reports whether b holds a service-account token's
// shape: its prefix and 64 hex digits (creds.Classify's format).
func hasServiceAccountToken(b []byte) bool {
	for {
		i := bytes.Index(b, pscPrefix)
		if i < 0 {
			return false
		}
		b = b[i+len(pscPrefix):]
		if runLen(b[:min(len(b), creds.ServiceAccountHexLen)], isHexDigit) == creds.ServiceAccountHexLen {
			return true
		}
	}
}

// hasJWT reports whether b holds three base64url parts joined by dots, the
// first two starting "eyJ" and at least 13 long, the signature at least 16
// (an unsigned JWT authenticates nothing). Written out rather than as a
// regexp: Go's took a second per 2 MB of "eyJeyJ...".
func hasJWT(b []byte) bool {
	for {
		i := bytes.Index(b, jsonPart)
		if i < 0 {
			return false
		}
		b = b[i:]
		n1 := runLen(b, isBase64URL)
		if rest := b[n1:]; n1 >= 13 && len(rest) > 0 && rest[0] == '.' {
			rest = rest[1:]
			n2 := runLen(rest, isBase64URL)
			if n2 >= 13 && bytes.HasPrefix(rest, jsonPart) && n2 < len(rest) && rest[n2] == '.' &&
				runLen(rest[n2+1:min(len(rest), n2+1+16)], isBase64URL) == 16 {
				return true
			}
		}
		// A later "eyJ" in the same part ends where this one does, with
		// less before the dot: go on after the part, so each byte is
		// looked at a bounded number of times.
		b = b[n1:]
	}
}

// runLen is the length of the longest prefix of b whose bytes satisfy in.
func runLen(b []byte, in func(byte) bool) int {
	for i, c := range b {
		if !in(c) {
			return i
		}
	}
	return len(b)
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isBase64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// scanner finds credentials in file contents. It reads a chunk at a time
// and keeps the last overlap bytes of the previous chunk in front of the
// next one, so a secret split between two reads is still seen whole.
type scanner struct {
	secrets [][]byte
	overlap int // the longest pattern: no match can span more
	buf     []byte
}

func newScanner(secrets []string) *scanner {
	s := &scanner{overlap: maxJWT}
	add := func(v string) {
		if len(v) >= minSecret {
			// Compared in lower case: an upper-cased copy is the same secret.
			s.secrets = append(s.secrets, []byte(strings.ToLower(v)))
			s.overlap = max(s.overlap, len(v))
		}
	}
	for _, v := range secrets {
		// Token files end in a newline the token does not have.
		v = strings.TrimSpace(v)
		add(v)
		// A service-account token's 64 hex digits are the whole secret:
		// the prefix is public.
		if len(v) > len(pscPrefix) && strings.EqualFold(v[:len(pscPrefix)], string(pscPrefix)) {
			add(v[len(pscPrefix):])
		}
	}
	return s
}

// find says what credential b holds, or "". The secret itself is never
// part of the answer.
func (s *scanner) find(b []byte) string {
	if len(s.secrets) > 0 {
		lower := bytes.ToLower(b)
		for _, v := range s.secrets {
			if bytes.Contains(lower, v) {
				return "its content holds a credential given to this run (never archived)"
			}
		}
	}
	if hasServiceAccountToken(b) {
		return "its content holds a service-account token, psc_v1_... (never archived)"
	}
	if hasJWT(b) {
		return "its content holds a JWT, such as a legacy project token (never archived)"
	}
	if what := otherSecret(b); what != "" {
		return "its content holds " + what + " (never archived)"
	}
	return ""
}

// Other well-known credential shapes that source trees end up holding: a
// deploy key or a cloud service-account JSON (PEM private keys), a .env of
// AWS keys, a GitHub token (actions/checkout writes one into .git/config).
var (
	pemBegin      = []byte("-----BEGIN ")
	pemPrivate    = []byte("PRIVATE KEY-----")
	awsIDs        = [][]byte{[]byte("AKIA"), []byte("ASIA")}
	awsDocExample = []byte("AKIAIOSFODNN7EXAMPLE") // AWS's own documentation key, in SDK sources
	githubPrefix  = []byte("gh")
	githubPAT     = []byte("github_pat_")
)

// otherSecret names the credential shape b holds, or "".
func otherSecret(b []byte) string {
	for rest := b; ; {
		i := bytes.Index(rest, pemBegin)
		if i < 0 {
			break
		}
		rest = rest[i+len(pemBegin):]
		// "-----BEGIN RSA PRIVATE KEY-----", "...ENCRYPTED PRIVATE KEY-----",
		// then the key's base64 (after a newline, a "\n" in a JSON or C
		// string, or a legacy Proc-Type/DEK-Info header): code that parses
		// PEM names the header alone.
		if j := bytes.Index(rest[:min(len(rest), 40)], pemPrivate); j >= 0 && hasBase64Run(rest[j+len(pemPrivate):min(len(rest), j+len(pemPrivate)+200)], 40) {
			return "a PEM private key"
		}
	}
	for _, id := range awsIDs {
		for rest := b; ; {
			i := bytes.Index(rest, id)
			if i < 0 {
				break
			}
			key := rest[i:min(len(rest), i+20)]
			if len(key) == 20 && runLen(key[4:], isUpperOrDigit) == 16 && distinct(key[4:]) >= 6 && !bytes.Equal(key, awsDocExample) &&
				(i == 0 || !isUpperOrDigit(rest[i-1])) && (i+20 == len(rest) || !isUpperOrDigit(rest[i+20])) {
				return "an AWS access key ID"
			}
			rest = rest[i+len(id):]
		}
	}
	for rest := b; ; {
		i := bytes.Index(rest, githubPrefix)
		if i < 0 {
			break
		}
		// ghp_, gho_, ghu_, ghs_, ghr_ and 36 alphanumerics.
		t := rest[i:]
		if len(t) >= 40 && bytes.IndexByte([]byte("pousr"), t[2]) >= 0 && t[3] == '_' && runLen(t[4:40], isAlnum) == 36 && distinct(t[4:40]) >= 8 &&
			(len(t) == 40 || !isAlnum(t[40])) {
			return "a GitHub token"
		}
		rest = rest[i+len(githubPrefix):]
	}
	if i := bytes.Index(b, githubPAT); i >= 0 && runLen(b[i+len(githubPAT):], isBase64URL) >= 80 {
		return "a GitHub token"
	}
	return ""
}

// distinct counts the different bytes in b: a real key is random, a
// placeholder (AKIAXXXXXXXXXXXXXXXX, ghp_aaaa...) is not.
func distinct(b []byte) int {
	var seen [256]bool
	n := 0
	for _, c := range b {
		if !seen[c] {
			seen[c], n = true, n+1
		}
	}
	return n
}

// hasBase64Run says whether b holds a run of at least n base64 characters.
func hasBase64Run(b []byte, n int) bool {
	run := 0
	for _, c := range b {
		if isAlnum(c) || c == '+' || c == '/' || c == '=' {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func isUpperOrDigit(c byte) bool { return 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isUpperOrDigit(c) || 'a' <= c && c <= 'z' }

// scanBufs holds released scanners' buffers: over a quarter of a MiB each,
// about half of what an upload worker's request allocated.
var scanBufs sync.Pool

// release gives the scanner's buffer back for another scanner's use.
func (s *scanner) release() {
	if s.buf != nil {
		b := s.buf
		scanBufs.Put(&b)
		s.buf = nil
	}
}

// scan reads r to its end and writes it to w, stopping at the first
// credential and saying what it is. The last overlap bytes read are held
// back until the next read shows no secret runs through them, so no byte
// of a secret found is ever written. n counts the bytes read.
func (s *scanner) scan(w io.Writer, r io.Reader) (n int64, why string, err error) {
	if s.buf == nil {
		if b, _ := scanBufs.Get().(*[]byte); b != nil && cap(*b) >= s.overlap+scanChunk {
			s.buf = (*b)[:s.overlap+scanChunk]
		} else {
			s.buf = make([]byte, s.overlap+scanChunk)
		}
	}
	kept := 0 // bytes carried over from the previous read
	for {
		m, rerr := io.ReadFull(r, s.buf[kept:kept+scanChunk])
		n += int64(m)
		win := s.buf[:kept+m]
		if why := s.find(win); why != "" {
			return n, why, nil
		}
		end := errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF)
		if rerr != nil && !end {
			return n, "", rerr
		}
		out := win
		if !end {
			out = win[:max(0, len(win)-s.overlap)]
		}
		if _, err := w.Write(out); err != nil {
			return n, "", err
		}
		if end {
			return n, "", nil
		}
		kept = copy(s.buf, win[len(out):])
	}
}

package creds

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Kind is what a bearer token looks like; it decides what else the store needs.
type Kind string

// Token kinds, as shown to users.
const (
	KindNone           Kind = "none"
	KindServiceAccount Kind = "service-account token"
	KindLegacyJWT      Kind = "legacy project token (JWT)"
	KindOpaque         Kind = "opaque bearer token"
)

// ServiceAccountPrefix starts every Polar Signals service-account token.
const ServiceAccountPrefix = "psc_v1_"

// ServiceAccountHexLen is how many hex digits follow the prefix: the
// secret itself.
const ServiceAccountHexLen = 64

// Classify tells the kind of tok and reports a token that cannot work as
// given. Errors describe the problem by position and never include the token.
func Classify(tok string) (Kind, error) {
	if tok == "" {
		return KindNone, nil
	}
	// ">=": "Bearer " alone is "Bearer $TOKEN" with an unset variable.
	if len(tok) >= 7 && strings.EqualFold(tok[:7], "bearer ") {
		return "", fmt.Errorf("the token starts with %q: give only the token, the \"Bearer \" prefix is added for you", tok[:7])
	}
	// Line breaks and other control characters cannot travel in a header
	// value; catching them here beats an obscure transport error later.
	n := 0 // characters, not bytes, for the messages
	for i, r := range tok {
		n++
		switch {
		case r == '\ufeff':
			return "", fmt.Errorf("the token contains a byte-order mark (U+FEFF) at character %d: save it without one (an editor's \"UTF-8 with BOM\")", n)
		case r > 0x7e:
			return "", fmt.Errorf("the token contains a character that is not ASCII (U+%04X) at character %d: gRPC cannot send it in a header", r, n)
		case r == '\n' || r == '\r':
			where := fmt.Sprintf("at character %d", n)
			if i == len(strings.TrimRight(tok, "\r\n")) {
				where = "at its end"
			}
			return "", fmt.Errorf("the token contains a line break %s (copied with a newline? a file given with --bearer-token-file is trimmed for you)", where)
		case unicode.IsControl(r):
			return "", fmt.Errorf("the token contains a control character at character %d", n)
		}
	}
	// Upper-cased as a whole too (a copy through a tool that shouts): the
	// caller sends it in lower case, as issued.
	if len(tok) >= len(ServiceAccountPrefix) && strings.EqualFold(tok[:len(ServiceAccountPrefix)], ServiceAccountPrefix) {
		return KindServiceAccount, checkServiceAccount(tok[len(ServiceAccountPrefix):])
	}
	if isJWT(tok) {
		return KindLegacyJWT, nil
	}
	return KindOpaque, checkBearerSyntax(tok)
}

// checkBearerSyntax holds an opaque token to RFC 6750's b64token (letters,
// digits, "-._~+/" and "="; "=" is let through anywhere, as some tokens have
// it inside). A space, quote or colon means more than the token was copied (a
// "declare -x" or "Authorization:" line, JSON), which a store would only
// answer with "unauthenticated", after retries.
func checkBearerSyntax(tok string) error {
	if shape := assignment(tok); shape != "" {
		return fmt.Errorf("the token is a line %s (of an env or YAML file?), not the token alone: give only the token", shape)
	}
	if len(tok) > 14 && strings.EqualFold(tok[:14], "authorization:") {
		return fmt.Errorf("the token is a header line \"Authorization: ...\": give only the token, the header is made for you")
	}
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~+/=", c) >= 0 {
			continue
		}
		switch c {
		case ' ', '\t':
			return fmt.Errorf("the token contains a space at character %d, which a bearer token cannot hold: more than the token was copied (a line such as \"Authorization: Bearer ...\" or \"declare -x NAME=...\"?); give only the token", i+1)
		case '"', '\'':
			return fmt.Errorf("the token contains a quote (%c) at character %d: give the token without quotes", c, i+1)
		}
		return fmt.Errorf("the token contains %q at character %d, which a bearer token cannot hold (RFC 6750: letters, digits and \"-._~+/=\"): give only the token", c, i+1)
	}
	return nil
}

func checkServiceAccount(rest string) error {
	for i, r := range rest {
		if unicode.IsSpace(r) {
			return fmt.Errorf("malformed service-account token: whitespace at character %d after %s (a copy-paste error?)", i+1, ServiceAccountPrefix)
		}
	}
	if len(rest) != ServiceAccountHexLen {
		return fmt.Errorf("malformed service-account token: %s must be followed by %d hex characters, this one has %d", ServiceAccountPrefix, ServiceAccountHexLen, len(rest))
	}
	for i := 0; i < len(rest); i++ {
		if !isHex(rest[i]) {
			return fmt.Errorf("malformed service-account token: character %d after %s is not a hex digit (0-9, a-f as issued; A-F is accepted too)", i+1, ServiceAccountPrefix)
		}
	}
	return nil
}

// isHex accepts upper case too: tokens are issued in lower case, but one
// upper-cased on the way is still recognised as a service-account token
// (whose project check then applies), and the store has the last word.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isJWT reports whether tok is a compact JWS: three base64url parts whose
// first decodes to a JSON header naming an algorithm.
func isJWT(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return false
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	return json.Unmarshal(raw, &hdr) == nil && hdr.Alg != ""
}

// last4 returns the token's last four characters, or nothing when the token
// is too short for that to leave it secret.
func last4(tok string) string {
	if len(tok) < 16 {
		return ""
	}
	return tok[len(tok)-4:]
}

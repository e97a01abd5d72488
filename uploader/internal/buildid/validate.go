package buildid

import (
	"fmt"
	"strings"
)

// Limits on a build ID. A store turns the ID into an object path
// (debuginfo/<id>/debuginfo in Parca's bucket), so every ID that leaves this
// program passes Check first, whatever it came from: a note in a file, a
// file hash, --build-id or a record file.
const (
	// MaxLen caps every ID. Real ones are far shorter: 40 hex digits for
	// gcc's SHA-1 IDs, about 83 characters for a Go build ID.
	MaxLen = 256
	// MinHexLen and MaxHexLen bound a GNU ID: 2 to 64 bytes of note data
	// (lld's fast IDs have 8, -B 0x... may give any length; Parca wants more
	// than 2 characters).
	MinHexLen = 4
	MaxHexLen = 128
	// hashHexLen is the length of a file-hash ID (16 bytes).
	hashHexLen = 2 * hashBytes
	// MaxPartLen caps each "/"-separated part of a Go build ID: every part
	// becomes a directory name on a store (at most 255 bytes on most file
	// systems). The linker's parts are 20 to 32 characters.
	MaxPartLen = 128
)

// objectNames are the names a store gives the objects and metadata it keeps
// under debuginfo/<build ID>/. A Go build ID part equal to one (or to one
// of their ".metadata" and temporary ".NAME.tmp-" siblings) would make
// "<other ID>/metadata" a directory where another build ID's object belongs,
// blocking that ID for good.
var objectNames = []string{"debuginfo", "executable", "sources", "metadata"}

func reservedPart(seg string) bool {
	seg = strings.TrimPrefix(seg, ".")
	for _, n := range objectNames {
		if seg == n || strings.HasPrefix(seg, n+".") {
			return true
		}
	}
	return false
}

// Check reports whether v is a build ID of type t that may be sent to a
// store; t == 0 accepts any of the types. The error shows v escaped, so a
// hostile ID cannot drive a terminal.
func Check(v string, t Type) error {
	var err error
	switch t {
	case GNU:
		err = checkHex(v, MinHexLen, MaxHexLen)
	case Hash:
		err = checkHex(v, hashHexLen, hashHexLen)
	case Go:
		err = checkGo(v)
	case 0:
		if isLowerHex(v) {
			err = checkHex(v, MinHexLen, MaxHexLen)
		} else {
			err = checkGo(v)
		}
	default:
		err = fmt.Errorf("unknown build ID type %d", int(t))
	}
	if err != nil {
		what := "build ID"
		if t != 0 {
			what = t.String() + " build ID"
		}
		return fmt.Errorf("invalid %s %s: %w", what, Quote(v), err)
	}
	return nil
}

// Classify returns the type of an ID given by hand (--build-id), as
// docs/cli.md says: lower-case hex is a GNU ID (and must then have a GNU
// ID's length), anything else must be a valid Go build ID.
func Classify(v string) (Type, error) {
	if isLowerHex(v) {
		if err := checkHex(v, MinHexLen, MaxHexLen); err != nil {
			return 0, fmt.Errorf("invalid build ID %s: %w (lower-case hex is a GNU build ID)", Quote(v), err)
		}
		return GNU, nil
	}
	if err := checkGo(v); err != nil {
		return 0, fmt.Errorf("invalid build ID %s: %w (want lower-case hex, or a Go build ID)", Quote(v), err)
	}
	return Go, nil
}

func isLowerHex(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return v != ""
}

// Quote shows an untrusted ID in messages: Go-quoted (control characters and
// invalid UTF-8 escaped) and cut short when long.
func Quote(v string) string {
	if len(v) > MaxLen+16 {
		return fmt.Sprintf("%q... (%d bytes)", v[:MaxLen], len(v))
	}
	return fmt.Sprintf("%q", v)
}

func checkHex(v string, minLen, maxLen int) error {
	switch {
	case len(v) < minLen || len(v) > maxLen:
		if minLen == maxLen {
			return fmt.Errorf("%d characters, want %d hex digits", len(v), minLen)
		}
		return fmt.Errorf("%d characters, want %d to %d hex digits", len(v), minLen, maxLen)
	case len(v)%2 != 0:
		return fmt.Errorf("odd number of hex digits (%d)", len(v))
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return fmt.Errorf("character %d is not a lower-case hex digit", i+1)
		}
	}
	return nil
}

// goIDChar is the Go build ID alphabet: the linker writes base64url hashes
// (A-Z a-z 0-9 - _) joined by "/", and -buildid=TEXT takes any text, of
// which letters, digits and "-_.+=" are allowed here.
func goIDChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.+=", c) >= 0
}

func checkGo(v string) error {
	if len(v) == 0 || len(v) > MaxLen {
		return fmt.Errorf("%d characters, want 1 to %d", len(v), MaxLen)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c != '/' && !goIDChar(c) {
			return fmt.Errorf("character %d (%q) is not allowed (letters, digits, \"-_.+=\" and \"/\" between parts)", i+1, c)
		}
	}
	if len(v) < 3 {
		return fmt.Errorf("%d characters, want at least 3", len(v))
	}
	for i, seg := range strings.Split(v, "/") {
		switch seg {
		case "":
			return fmt.Errorf("part %d is empty (a leading, trailing or doubled \"/\")", i+1)
		case ".", "..":
			return fmt.Errorf("part %d is %q", i+1, seg)
		}
		if len(seg) > MaxPartLen {
			return fmt.Errorf("part %d has %d characters, want at most %d", i+1, len(seg), MaxPartLen)
		}
		if reservedPart(seg) {
			return fmt.Errorf("part %d is %q, the name of a store object (it would block another build ID's objects)", i+1, seg)
		}
	}
	return nil
}

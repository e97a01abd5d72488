// Package objhash is the hash announced to the store for every uploaded
// object: xxhash64 of its bytes, hex-encoded, the function Parca's own
// pkg/hash (and so parca-debuginfo) uses. Parca treats the hash as opaque and
// compares it only to decide whether a copy it marked invalid is worth
// receiving again, so using its convention makes equal bytes look equal to
// it whichever tool sent them. Integrity on the wire is TLS's and gRPC's job,
// with the size and re-read checks of the upload package.
package objhash

import (
	"encoding/hex"
	"hash"

	"github.com/cespare/xxhash/v2"
)

// New returns a running hash; Sum gives its value.
func New() hash.Hash64 { return xxhash.New() }

// Sum is h's value as the store expects it.
func Sum(h hash.Hash64) string { return hex.EncodeToString(h.Sum(nil)) }

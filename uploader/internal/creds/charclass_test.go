package creds

import (
	"encoding/base64"
	"testing"
)

// The ends of every character range are accepted: a JWT whose parts use
// a, z, A, Z, 0 and 9 is a JWT, and a metadata key may use a, z, 0 and 9.
func TestCharacterRangeEnds(t *testing.T) {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`))
	for _, part := range []string{"a", "z", "A", "Z", "0", "9", "-", "_"} {
		if tok := hdr + ".x" + part + "." + part + "y"; !isJWT(tok) {
			t.Errorf("isJWT(%q) = false, want true", tok)
		}
	}
	for _, k := range []string{"a", "z", "0", "9", "x-a.z_09"} {
		if err := checkMetadataKey(k); err != nil {
			t.Errorf("checkMetadataKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range []string{"A", "x y", "x/y"} {
		if err := checkMetadataKey(k); err == nil {
			t.Errorf("checkMetadataKey(%q) = nil, want an error", k)
		}
	}
}

package objhash

import (
	"strings"
	"testing"
)

// Known xxhash64 values (seed 0), in Parca's hex encoding (big-endian).
func TestSum(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "ef46db3751d8e999",
		"a":                               "d24ec4f1a98c6e5b",
		"abc":                             "44bc2cf5ad770999",
		strings.Repeat("debuginfo", 1000): "", // filled below: streaming must equal one write
	} {
		h := New()
		h.Write([]byte(in))
		got := Sum(h)
		if want == "" {
			h2 := New()
			for i := 0; i < len(in); i += 7 {
				h2.Write([]byte(in[i:min(i+7, len(in))]))
			}
			want = Sum(h2)
		}
		if got != want {
			t.Errorf("Sum(%.10q) = %s, want %s", in, got, want)
		}
	}
}

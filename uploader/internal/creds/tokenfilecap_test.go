package creds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The token file cap (64 KiB) is inclusive: a file of exactly that size is
// read, one byte more is refused as not a token file.
func TestTokenFileCapBoundary(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "at")
	over := filepath.Join(dir, "over")
	tok := strings.Repeat("t", maxTokenFile)
	if err := os.WriteFile(at, []byte(tok), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, []byte(tok+"t"), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Resolve(&Options{BearerTokenFile: at}, "grpc.example.com:443", true, env())
	if err != nil {
		t.Fatalf("a %d-byte token file: %v", maxTokenFile, err)
	}
	if k := p.Info().Kind; k != KindOpaque {
		t.Errorf("kind %q, want %q", k, KindOpaque)
	}
	if _, err := Resolve(&Options{BearerTokenFile: over}, "grpc.example.com:443", true, env()); err == nil || !strings.Contains(err.Error(), "not a token file") {
		t.Errorf("a %d-byte token file: err = %v, want it refused", maxTokenFile+1, err)
	}
}

package creds

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets check more than "no panic": whatever the input, an error
// must not quote the secret it was given.

func FuzzClassify(f *testing.F) {
	for _, s := range []string{
		"", "psc_v1_" + strings.Repeat("ab", 32), "psc_v1_" + strings.Repeat("g", 64), "psc_v1_short",
		"eyJhbGciOiJIUzI1NiJ9.eyJwcm9qZWN0X2lkIjoiYSJ9.c2ln", "Bearer abc", "abc\ndef", "opaque-token",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		_, err := Classify(tok)
		// Messages may name the prefix; the secret part must not appear. A
		// long run without spaces cannot be a word of the message itself.
		secret := strings.TrimPrefix(tok, "psc_v1_")
		if err != nil && len(secret) >= 16 && !strings.ContainsAny(secret, " \t") && strings.Contains(err.Error(), secret) {
			t.Fatalf("error quotes the token: %v", err)
		}
	})
}

func FuzzParseGRPCHeaders(f *testing.F) {
	for _, s := range []string{"projectID=abc", "a=1;b=2", "novalue", "=x", ";;", "k=v=w", "K=\x00", "x-secret=s3cr3t-v4lue;bad"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		md, err := parseGRPCHeaders([]string{h})
		if err != nil {
			// Keys may be quoted, values never: check values that are not
			// also part of a key.
			var keys string
			for _, kv := range strings.Split(h, ";") {
				k, _, _ := strings.Cut(kv, "=")
				keys += k + "\x00" + strconv.Quote(strings.ToLower(strings.TrimSpace(k))) + "\x00"
			}
			for _, kv := range strings.Split(h, ";") {
				if _, v, ok := strings.Cut(kv, "="); ok && len(v) >= 8 && !strings.Contains(keys, v) && strings.Contains(err.Error(), v) {
					t.Fatalf("error quotes a header value: %v", err)
				}
			}
			return
		}
		for k, v := range md {
			if checkMetadataKey(k) != nil || !printableASCII(v) {
				t.Fatalf("accepted header %q=%q that gRPC cannot send", k, v)
			}
		}
	})
}

func FuzzHelperResponse(f *testing.F) {
	for _, s := range []string{
		`{"headers": {"Authorization": ["Bearer s3cr3t-t0ken"]}}`,
		`{"headers": {"Authorization": ["Bearer x"], "projectID": ["p"]}, "expires": "2030-01-01T00:00:00Z"}`,
		`{"headers": {}}`, `{}`, `not json`, `{"headers": {"Bad Key": ["v"]}}`,
		`{"headers": {"a": ["line\nbreak-s3cr3t"]}}`, `{"expires": "tomorrow", "headers": {"a": ["b"]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		md, _, err := parseHelperResponse("credential helper h", "https://store/x", out)
		if err != nil {
			// Header names may be quoted in errors, values never.
			var resp helperResponse
			inKey := false
			if json.Unmarshal(out, &resp) == nil {
				for k := range resp.Headers {
					inKey = inKey || strings.Contains(strconv.Quote(k)+k, "s3cr3t")
				}
			}
			if !inKey && strings.Contains(err.Error(), "s3cr3t") {
				t.Fatalf("error quotes a header value: %v", err)
			}
			return
		}
		if len(md) == 0 {
			t.Fatal("success with no headers")
		}
		for k, v := range md {
			if checkMetadataKey(k) != nil || !printableASCII(v) {
				t.Fatalf("accepted header %q=%q that gRPC cannot send", k, v)
			}
		}
	})
}

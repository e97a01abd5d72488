package creds

import "testing"

// Values under 4 characters are not hidden everywhere (they would shred
// ordinary text), but a store quoting the request shows them after their
// header's name: there they are hidden.
func TestRedactShortValuesWhereEchoed(t *testing.T) {
	p, err := Resolve(&Options{BearerToken: "Xq7", GRPCHeaders: []string{"x-api-key=s3c;x-b=Zz"}}, "h:443", true, env())
	if err != nil {
		t.Fatal(err)
	}
	for said, want := range map[string]string{
		`invalid token (authorization: "Bearer Xq7")`:       `invalid token (authorization: "Bearer [REDACTED]")`,
		`(you sent x-api-key=s3c)`:                          `(you sent x-api-key=[REDACTED])`,
		`x-api-key: "s3c", X-B = Zz`:                        `x-api-key: "[REDACTED]", X-B = [REDACTED]`,
		`the s3c and Zz words stay; x-api-key=s3cret stays`: `the s3c and Zz words stay; x-api-key=s3cret stays`,
	} {
		if got := p.Redact(said); got != want {
			t.Errorf("Redact(%q) = %q, want %q", said, got, want)
		}
	}
}

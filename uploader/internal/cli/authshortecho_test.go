package cli

import (
	"strings"
	"testing"
)

// A store echoing the request shows short values after their names; the
// review saw "Bearer Xq7" and "x-api-key=s3c" printed.
func TestAuthCheckHidesShortEchoedValues(t *testing.T) {
	w := newIAMWorld(t, nil)
	w.iam.EchoCredentials = true
	code, out, errOut := authRun(t, nil, "", "auth", "check", "--store-address="+w.srv.Addr(), "--insecure", "--bearer-token=Xq7", "--grpc-headers=x-api-key=s3c")
	if code != 1 || !strings.Contains(out, "[REDACTED]") {
		t.Fatalf("exit %d, want 1 and an echo:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "Xq7") || strings.Contains(out+errOut, "s3c") {
		t.Errorf("a short value shows:\n%s%s", out, errOut)
	}
}

package cli

import (
	"strings"
	"testing"
)

// Usage errors never show a value from the command line: a token typed
// after a single dash, or into the wrong flag, would land in a CI log. The
// flag's name still shows, so the error stays actionable.
func TestUsageErrorsShowNoValues(t *testing.T) {
	const secret = "opaqueSECRETtok4242"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"upload", "--insecure", "-bearer-token=" + secret, "x"}, `unknown shorthand flag "b" in -bearer-token=(value not shown); long flags take two dashes: --bearer-token`},
		{[]string{"upload", "-bearer-token", secret, "x"}, `long flags take two dashes: --bearer-token`},
		{[]string{"upload", "-grpc-headers=authorization=Bearer " + secret, "x"}, `in -grpc-headers=(value not shown)`},
		{[]string{"upload", "-b" + secret, "x"}, `unknown shorthand flag "b" in -(not shown)`},
		{[]string{"upload", "--timeout=" + secret, "x"}, `invalid value for --timeout (value not shown): want a duration such as 30s or 15m`},
		{[]string{"upload", "--concurrency=" + secret, "x"}, `invalid value for --concurrency (value not shown): want a whole number`},
		{[]string{"upload", "-j" + secret, "x"}, `invalid value for --concurrency (value not shown)`},
		{[]string{"upload", "--retries", secret, "x"}, `invalid value for --retries`},
		{[]string{"upload", "--insecure=" + secret, "x"}, `invalid value for --insecure (value not shown): want true or false`},
		{[]string{"upload", "--type=" + secret, "x"}, `--type: want debuginfo, executable or sources (value not shown)`},
		{[]string{"upload", "--grpc-compression=" + secret, "x"}, `--grpc-compression: want none or gzip (value not shown)`},
		{[]string{"upload", "--compress-debug-sections=" + secret, "x"}, `--compress-debug-sections: want none|zlib|zstd (value not shown)`},
		{[]string{"upload", "---bearer-token=" + secret, "x"}, `bad flag syntax: ---bearer-token (value not shown)`},
		{[]string{"upload", "---" + secret, "x"}, `bad flag syntax: (not shown) (value not shown)`},
		{[]string{"upload", "--bearer-tokn=" + secret, "x"}, `unknown flag: --bearer-tokn`},
		{[]string{"auth", "check", "--insecure", "-bearer-token=" + secret}, `long flags take two dashes: --bearer-token`},
		{[]string{"auth", "check", "--timeout=" + secret}, `invalid value for --timeout`},
		{[]string{"extract", "-bearer-token=" + secret, "x"}, `unknown shorthand flag`},
		{[]string{"sources", "-bearer-token=" + secret, "x"}, `unknown shorthand flag`},
		{[]string{"buildid", "-bearer-token=" + secret, "x"}, `unknown shorthand flag`},
		{[]string{"stamp", "-bearer-token=" + secret, "x"}, `unknown shorthand flag`},
		{[]string{"credential-helper", "-bearer-token=" + secret, "get"}, `unknown shorthand flag`},
		{[]string{"credential-helper", "get", secret}, `only the 'get' command of the protocol is supported (got 2 arguments; not shown)`},
		// A password in the store address (review s12-auto, finding 2).
		{[]string{"upload", "--store-address=https://u:" + secret + "@127.0.0.1:7070", "x"}, `--store-address must not hold a user name or password`},
		{[]string{"upload", "--store-address=u:" + secret + "@127.0.0.1:7070", "--dry-run", "x"}, `--store-address must not hold a user name or password`},
		{[]string{"auth", "check", "--store-address=https://u:" + secret + "@127.0.0.1:7070"}, `--store-address must not hold a user name or password`},
		{[]string{"auth", "check", "--store-address=https://127.0.0.1:7070/" + secret}, `--store-address takes host:port, not a URL: use 127.0.0.1:7070`},
		{[]string{"auth", "check", "--store-address=127.0.0.1:7070/" + secret}, `--store-address takes host:port, without a path, query or fragment: use 127.0.0.1:7070`},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and %q", c.args, code, stderr, c.want)
		}
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("%q: the value shows: %s%s", c.args, stdout, stderr)
		}
	}
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/creds"
)

func init() {
	register(&command{name: "credential-helper", summary: "a Bazel-protocol credential helper serving the store token and projectID", run: runCredHelper})
}

func runCredHelper(env *Env, args []string) int {
	fs := flags(env, "credential-helper [flags] get",
		"Speaks Bazel's credential-helper protocol: reads {\"uri\": ...} on stdin and prints\n"+
			"{\"headers\": {\"Authorization\": [\"Bearer TOKEN\"], \"projectID\": [\"ID\"]}}. The token comes from\n"+
			"--bearer-token-file, env "+creds.EnvBearerToken+", env "+creds.EnvPolarSignalsTok+" or the file named by env\n"+
			creds.EnvTokenFile+"; the project from --project-id or env "+creds.EnvProjectID+".\n"+
			"Bazel:     --credential_helper=grpc.polarsignals.com=/path/to/debuginfo-credential-helper\n"+
			"Uploader:  --credential-helper=grpc.polarsignals.com=/path/to/debuginfo-credential-helper\n"+
			"(a wrapper script running 'debuginfo credential-helper \"$@\"'). Exits non-zero when it has no token.")
	tokenFile := fs.String("bearer-token-file", "", "file holding the token (default: env "+creds.EnvTokenFile+")")
	project := fs.String("project-id", "", "project ID to answer as the projectID header (default: env "+creds.EnvProjectID+")")
	if code, done := parse(env, fs, args); done {
		return code
	}
	if fs.NArg() != 1 || fs.Arg(0) != "get" {
		return usageError(env, "credential-helper", "only the 'get' command of the protocol is supported (got %d arguments; not shown)", fs.NArg())
	}
	fail := func(format string, a ...any) int {
		say(env.Stderr, "debuginfo credential-helper: %s\n", creds.RedactPatterns(fmt.Sprintf(format, a...)))
		return ExitFailed
	}

	// Bazel always sends a request; an empty one is tolerated for manual runs.
	var req struct {
		URI string `json:"uri"`
	}
	raw, err := io.ReadAll(io.LimitReader(env.Stdin, 1<<20))
	if err != nil {
		return fail("reading the request: %v", err)
	}
	host := "localhost"
	if strings.TrimSpace(string(raw)) != "" {
		if err := json.Unmarshal(raw, &req); err != nil {
			return fail("the request on stdin is not JSON like {\"uri\": \"https://host/path\"}: %v", err)
		}
		if u, err := url.Parse(req.URI); err == nil && u.Host != "" {
			host = u.Host
		}
	}

	// Resolve applies the usual precedence; NoHelpers stops us asking ourselves.
	o := &creds.Options{BearerTokenFile: *tokenFile, ProjectID: *project, NoHelpers: true}
	p, err := creds.Resolve(o, host, true, env.Getenv)
	if err != nil {
		return fail("%v", err)
	}
	md, err := p.GetRequestMetadata(context.Background())
	if err != nil {
		return fail("%s", p.Redact(err.Error()))
	}
	if md["authorization"] == "" {
		return fail("no token: set %s (or %s), or give --bearer-token-file / env %s", creds.EnvPolarSignalsTok, creds.EnvBearerToken, creds.EnvTokenFile)
	}
	for _, w := range p.Warnings() {
		say(env.Stderr, "debuginfo credential-helper: warning: %s\n", p.Redact(w))
	}
	resp := map[string]map[string][]string{"headers": {"Authorization": {md["authorization"]}}}
	if pid := md[creds.ProjectHeader]; pid != "" {
		resp["headers"]["projectID"] = []string{pid}
	}
	b, _ := json.Marshal(resp)
	fmt.Fprintln(env.Stdout, string(b))
	return ExitOK
}

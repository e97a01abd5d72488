package cli

import (
	"bytes"
	"strings"
	"testing"
)

// runCLI runs the CLI with a test Env and an empty environment.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return cliRun(t, nil, args...)
}

// cliRun runs the CLI with the given environment variables.
func cliRun(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(&Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(k string) string { return env[k] }}, args)
	return code, o.String(), e.String()
}

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// cliArgsEnv, when set (to a JSON list of arguments), makes the test binary
// run the CLI instead of the tests: asNobody rows run it as a process of
// user nobody, since a file's permissions are checked for whichever thread
// opens it, and the upload opens files on worker goroutines.
const cliArgsEnv = "DEBUGINFO_TEST_CLI_ARGS"

// childCLI is a command that runs the CLI with args in a process of its
// own (see TestMain), with env added to this process's environment.
func childCLI(env []string, args ...string) *exec.Cmd {
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), cliArgsEnv+"="+string(a)), env...)
	return cmd
}

func TestMain(m *testing.M) {
	if a := os.Getenv(cliArgsEnv); a != "" {
		if n := os.Getenv(nofileEnv); n != "" {
			setNofile(n) // as `ulimit -n N` before the CLI starts
		}
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Exit(Main(OSEnv(), args))
	}
	code := m.Run()
	if nobodyDir != "" {
		os.RemoveAll(nobodyDir)
	}
	os.Exit(code)
}

// nobodyDir holds the copy of the test binary that nobody may run.
var nobodyDir string

var nobodyCopy = sync.OnceValues(func() (string, error) {
	// The test binary sits in a directory only its owner may enter.
	dir, err := os.MkdirTemp("", "cli-as-nobody")
	if err != nil {
		return "", err
	}
	nobodyDir = dir
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "cli.test")
	return p, os.WriteFile(p, self, 0o755)
})

// runAsNobody runs the CLI with args as user nobody (the caller is root).
func runAsNobody(t *testing.T, args []string, env map[string]string) (code int, stdout, stderr string) {
	t.Helper()
	bin, err := nobodyCopy()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(args)
	cmd := exec.Command(bin)
	cmd.Env = []string{cliArgsEnv + "=" + string(a), "PATH=" + os.Getenv("PATH"), "HOME=/nonexistent"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return code, o.String(), e.String()
}

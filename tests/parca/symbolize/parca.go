// Package symbolize checks what a real Parca server shows for profiles of
// binaries uploaded with the debuginfo CLI: it writes pprof profiles whose
// locations carry only addresses through Parca's profilestore API, queries
// them back through its QueryService, and compares function names,
// file:line, inlined frames and source files with what the binary holds.
package symbolize

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	profilestorepb "github.com/parca-dev/parca/gen/proto/go/parca/profilestore/v1alpha1"
	querypb "github.com/parca-dev/parca/gen/proto/go/parca/query/v1alpha1"
)

// Server is a Parca server started for the suite, logging at debug level so
// that symbolization failures (logged at debug level only) can be seen.
//
// uploader/internal/e2e (StartParca) has a second starter. They are not
// one package because every way to share one links two Go modules at a
// cost higher than the ~100 lines it saves:
//   - this module importing a package of the uploader's module (one
//     outside uploader/internal: Go's internal rule keeps this module's
//     import path out of that tree) means requiring that module, and MVS
//     then lifts this go.mod's grpc (v1.80.0), protobuf, x/net, x/sys and
//     genproto to the uploader's newer versions. build.sh builds the pinned
//     Parca server from this go.mod, so the server would no longer be built
//     with the dependencies its release uses (and build.sh's per-version
//     cache would not notice the change);
//   - the uploader's module requiring this one puts Parca's ~265 modules
//     into the uploader's go.mod, which this module exists to prevent
//     (tools.go);
//   - a third, dependency-free module for the starter needs a local replace
//     directive in the root go.mod, and `go install
//     .../uploader/cmd/debuginfo@latest` (the README's install) refuses a
//     module whose go.mod has one; tagging that module separately instead
//     would make every change to the starter a release.
//
// The two also differ in what they are for: this one logs at debug level
// and probes readiness through the QueryService; the e2e one kills and
// restarts the server mid-test and sets upload limits.
type Server struct {
	Addr string
	Log  string // path of its log file

	cmd  *exec.Cmd
	done chan struct{}
}

// RepoRoot finds the repository root above the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "tests/parca/build.sh")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no tests/parca/build.sh above %s", dir)
		}
	}
}

// ParcaBinary is $PARCA_BIN, else what tests/parca/build.sh builds and prints.
func ParcaBinary(root string) (string, error) {
	if p := os.Getenv("PARCA_BIN"); p != "" {
		return p, nil
	}
	cmd := exec.Command(filepath.Join(root, "tests/parca/build.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("tests/parca/build.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Start runs Parca on a free 127.0.0.1 port with a filesystem bucket and a
// debuginfo cache directory under dir (the cache must exist beforehand:
// Parca does not create it, and every symbolization fails without it).
func Start(bin, dir string) (*Server, error) {
	for _, d := range []string{"bucket", "data", "cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	cfg := fmt.Sprintf("object_storage:\n  bucket:\n    type: FILESYSTEM\n    config:\n      directory: %s\n", filepath.Join(dir, "bucket"))
	if err := os.WriteFile(filepath.Join(dir, "parca.yaml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &Server{Addr: addr, Log: filepath.Join(dir, "parca.log"), done: make(chan struct{})}
	logf, err := os.Create(s.Log)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin,
		"--config-path="+filepath.Join(dir, "parca.yaml"),
		"--http-address="+addr,
		"--storage-path="+filepath.Join(dir, "data"),
		"--debuginfo-cache-dir="+filepath.Join(dir, "cache"),
		"--debuginfod-upstream-servers=",
		"--http-read-timeout=10m", "--http-write-timeout=10m",
		"--log-level=debug")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		b, _ := os.ReadFile(s.Log)
		return nil, fmt.Errorf("%v; log:\n%s", err, tail(string(b), 2000))
	}
	return s, nil
}

func (s *Server) waitReady() error {
	conn, err := Dial(s.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	q := querypb.NewQueryServiceClient(conn)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return errors.New("parca exited before it was ready")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := q.ProfileTypes(ctx, &querypb.ProfileTypesRequest{})
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("parca not ready on %s after 60s: %v", s.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 10 s).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// LogSize is how much of the log exists now: SymbolizeFailures reads from there.
func LogSize(logPath string) int64 {
	fi, err := os.Stat(logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// SymbolizeFailures are the log lines after offset from in which Parca says
// it could not symbolize (it logs them at debug level only, so nobody else
// notices).
func SymbolizeFailures(logPath string, from int64) ([]string, error) {
	return SymbolizeFailuresExcept(logPath, from, nil)
}

// SymbolizeFailuresExcept is SymbolizeFailures without the failures for
// the build IDs in expected. A "failed to get lines" line names no build
// ID: it is the one of the "symbolizing" line before it (so this holds for
// queries made one at a time).
func SymbolizeFailuresExcept(logPath string, from int64, expected map[string]bool) ([]string, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return nil, err
	}
	b = b[min(from, int64(len(b))):]
	var out []string
	current := ""
	for _, line := range strings.Split(string(b), "\n") {
		if _, id, ok := strings.Cut(line, "msg=symbolizing build_id="); ok {
			current, _, _ = strings.Cut(id, " ")
		}
		if strings.Contains(line, "failed to symbolize") || strings.Contains(line, "failed to get lines") {
			if !expected[current] {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// Dial connects to a plaintext Parca on addr.
func Dial(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
}

// Clients are the two Parca services the checks use.
type Clients struct {
	Store profilestorepb.ProfileStoreServiceClient
	Query querypb.QueryServiceClient
}

// NewClients wraps a connection.
func NewClients(conn *grpc.ClientConn) Clients {
	return Clients{Store: profilestorepb.NewProfileStoreServiceClient(conn), Query: querypb.NewQueryServiceClient(conn)}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

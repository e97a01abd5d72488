// Package e2e runs the debuginfo CLI, as a subprocess, against the real Parca
// server (the pinned build of tests/parca) and checks what the server stored.
// This file holds the harness; the tests are in *_test.go.
package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
)

// ParcaOptions shape one server.
type ParcaOptions struct {
	MaxUploadSize int64    // --debuginfo-upload-max-size; 0 keeps Parca's default (1e9)
	Args          []string // more flags
}

// Parca is one running server on 127.0.0.1 with a filesystem bucket.
type Parca struct {
	Addr   string // 127.0.0.1:PORT, gRPC and HTTP
	Bucket string // the bucket directory

	t    testing.TB
	bin  string
	dir  string
	args []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	runs int
}

var (
	parcaOnce sync.Once
	parcaBin  string
	parcaErr  error
)

// ParcaBinary returns the server binary: $PARCA_BIN, else what
// tests/parca/build.sh builds (once per machine) and prints.
func ParcaBinary() (string, error) {
	parcaOnce.Do(func() {
		if p := os.Getenv("PARCA_BIN"); p != "" {
			if _, err := os.Stat(p); err != nil {
				parcaErr = fmt.Errorf("PARCA_BIN: %w", err)
			}
			parcaBin = p
			return
		}
		root, err := RepoRoot()
		if err != nil {
			parcaErr = err
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(filepath.Join(root, "tests/parca/build.sh"))
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			parcaErr = fmt.Errorf("tests/parca/build.sh: %v\n%s", err, tail(stderr.String(), 2000))
			return
		}
		parcaBin = strings.TrimSpace(string(out))
	})
	return parcaBin, parcaErr
}

// RequireParca returns the server binary, or skips the test when there is
// none (and fails it in CI, where a skip would hide the missing proof).
func RequireParca(t testing.TB) string {
	t.Helper()
	bin, err := ParcaBinary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Parca server unavailable (set PARCA_BIN or run tests/parca/build.sh): %v", err)
		}
		t.Skipf("Parca server unavailable (set PARCA_BIN or run tests/parca/build.sh): %v", err)
	}
	return bin
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

// StartParca starts a server with a fresh bucket and stops it when the test ends.
// tests/parca/symbolize has a second starter (a separate Go module); its
// parca.go says why the two cannot share one package.
func StartParca(t testing.TB, opts ParcaOptions) *Parca {
	t.Helper()
	bin := RequireParca(t)
	dir := t.TempDir()
	p := &Parca{t: t, bin: bin, dir: dir, Bucket: filepath.Join(dir, "bucket")}
	cfg := fmt.Sprintf("object_storage:\n  bucket:\n    type: FILESYSTEM\n    config:\n      directory: %s\n", p.Bucket)
	if err := os.WriteFile(filepath.Join(dir, "parca.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"bucket", "data", "cache"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.args = []string{
		"--config-path=" + filepath.Join(dir, "parca.yaml"),
		"--debuginfod-upstream-servers=",
		"--http-read-timeout=10m", "--http-write-timeout=10m",
		"--storage-path=" + filepath.Join(dir, "data"),
		"--debuginfo-cache-dir=" + filepath.Join(dir, "cache"),
		"--log-level=warn",
	}
	if opts.MaxUploadSize > 0 {
		p.args = append(p.args, "--debuginfo-upload-max-size="+strconv.FormatInt(opts.MaxUploadSize, 10))
	}
	p.args = append(p.args, opts.Args...)
	t.Cleanup(p.Stop)
	// A free port can be taken between our probe and Parca's bind: retry.
	var err error
	for range 3 {
		p.Addr = freeAddr(t)
		if err = p.start(); err == nil {
			return p
		}
	}
	t.Fatalf("starting Parca: %v", err)
	return nil
}

func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the server on p.Addr and waits until it answers gRPC.
func (p *Parca) start() error {
	p.mu.Lock()
	p.runs++
	logf, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("parca-%d.log", p.runs)))
	if err != nil {
		p.mu.Unlock()
		return err
	}
	cmd := exec.Command(p.bin, append([]string{"--http-address=" + p.Addr}, p.args...)...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	if err := p.waitReady(done); err != nil {
		p.Kill()
		return fmt.Errorf("%v; log:\n%s", err, tail(p.Log(), 2000))
	}
	return nil
}

// waitReady polls until a gRPC call succeeds; the server's exit ends it early.
func (p *Parca) waitReady(exited chan struct{}) error {
	conn, err := grpc.NewClient(p.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	client := pb.NewDebuginfoServiceClient(conn)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-exited:
			return errors.New("parca exited before it was ready")
		default:
		}
		if c, err := net.Dial("tcp", p.Addr); err == nil {
			c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			// An unknown build ID: answered without side effects.
			_, err = client.ShouldInitiateUpload(ctx, &pb.ShouldInitiateUploadRequest{BuildId: "e2e-readiness-probe"})
			cancel()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("parca not ready on %s after 60s", p.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL and waits for it to be gone.
func (p *Parca) Kill() { p.signal(syscall.SIGKILL) }

// Stop stops the server gracefully (SIGTERM, then SIGKILL after 10 s).
func (p *Parca) Stop() { p.signal(syscall.SIGTERM) }

func (p *Parca) signal(sig syscall.Signal) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// Restart starts the server again on the same address and bucket.
func (p *Parca) Restart() {
	p.t.Helper()
	p.Kill()
	var err error
	for range 20 { // the port may linger for a moment after a kill
		if err = p.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Fatalf("restarting Parca: %v", err)
}

// Log is what the current (or last) server run printed.
func (p *Parca) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, fmt.Sprintf("parca-%d.log", p.runs)))
	return string(b)
}

// ObjectPath is where the bucket keeps an object: kind is debuginfo,
// executable, sources or sourcemap.
func (p *Parca) ObjectPath(buildID, kind string) string {
	return filepath.Join(p.Bucket, "debuginfo", buildID, kind)
}

// Object reads a stored object.
func (p *Parca) Object(buildID, kind string) ([]byte, bool) {
	b, err := os.ReadFile(p.ObjectPath(buildID, kind))
	if err != nil {
		return nil, false
	}
	return b, true
}

// Metadata reads the protojson metadata beside an object.
func (p *Parca) Metadata(buildID, kind string) (*pb.Debuginfo, bool) {
	p.t.Helper()
	name := kind + ".metadata"
	if kind == "debuginfo" {
		name = "metadata"
	}
	b, err := os.ReadFile(filepath.Join(p.Bucket, "debuginfo", buildID, name))
	if err != nil {
		return nil, false
	}
	m := &pb.Debuginfo{}
	if err := protojson.Unmarshal(b, m); err != nil {
		p.t.Fatalf("metadata of %s/%s: %v\n%s", buildID, kind, err, b)
	}
	return m, true
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

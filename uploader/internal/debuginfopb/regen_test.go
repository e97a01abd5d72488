package debuginfopb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsCurrent regenerates the stubs with the pinned generators
// and fails when the committed files differ, so the .proto and the Go code
// cannot drift apart.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("protoc not found; CI must install protobuf-compiler")
		}
		t.Skip("protoc not installed (apt-get install protobuf-compiler)")
	}
	out, workerOut := t.TempDir(), t.TempDir()
	cmd := exec.Command("bash", "../../../tools/genproto.sh")
	cmd.Env = append(os.Environ(), "OUT="+out, "WORKER_OUT="+workerOut)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genproto.sh: %v\n%s", err, b)
	}
	for _, f := range []struct{ committed, generated string }{
		{"debuginfo.pb.go", filepath.Join(out, "debuginfo.pb.go")},
		{"debuginfo_grpc.pb.go", filepath.Join(out, "debuginfo_grpc.pb.go")},
		{"../workerpb/worker_protocol.pb.go", filepath.Join(workerOut, "worker_protocol.pb.go")},
	} {
		name := f.committed
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(f.generated)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run tools/genproto.sh and commit the result", name)
		}
	}
}

package e2e

import (
	"bufio"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// --grpc-compression=gzip against Parca (which registers gzip): the stored
// object is byte for byte what extract writes, and fewer bytes cross the
// wire than for the same upload uncompressed (a Go debug file's pclntab and
// symbol tables take gzip well).
func TestGRPCGzipToParca(t *testing.T) {
	t.Parallel()
	p := StartParca(t, ParcaOptions{})
	bin := testbin.Go(t, "gzipped", "gzipped")
	want, err := os.ReadFile(extract(t, bin))
	if err != nil {
		t.Fatal(err)
	}
	sent := map[string]int64{}
	for _, c := range []string{"gzip", "none"} {
		proxy := startCutProxy(t, p.Addr, math.MaxInt64) // counts, never cuts
		r := cli(t, "upload", "--store-address="+proxy.Addr(), "--insecure", "--json", "--force", "--grpc-compression="+c, bin)
		if r.code != 0 {
			t.Fatalf("%s: %v", c, r)
		}
		rep := one(t, r.reports(t))
		if rep.Action != upload.Uploaded {
			t.Fatalf("%s: %+v, want uploaded", c, rep)
		}
		stored, _ := p.Object(rep.BuildID, "debuginfo")
		if !slices.Equal(stored, want) {
			t.Fatalf("%s: stored debuginfo (%d bytes) differs from extract's output (%d bytes)", c, len(stored), len(want))
		}
		sent[c] = proxy.sent.Load()
	}
	t.Logf("client bytes on the wire: gzip %d, none %d (debug file %d)", sent["gzip"], sent["none"], len(want))
	if sent["gzip"] > sent["none"]*85/100 || sent["none"] < int64(len(want)) {
		t.Errorf("gzip sent %d bytes, none %d, for a %d-byte debug file: want gzip at most 85%% of none", sent["gzip"], sent["none"], len(want))
	}
}

// --grpc-compression=gzip against a real grpc-go server that lacks the gzip
// decompressor (teststored, a process of its own that registers no gzip,
// unlike any test binary that links the client): every file is uploaded,
// the first after the store's refusal, and the store then holds each.
func TestGRPCGzipStoreWithoutDecompressor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ts := filepath.Join(dir, "teststored")
	if out, err := exec.Command("go", "build", "-o", ts, "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore/teststored").CombinedOutput(); err != nil {
		t.Fatalf("go build teststored: %v\n%s", err, out)
	}
	cmd := exec.Command(ts, "-token-file", filepath.Join(dir, "token"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("teststored printed no address: %v", err)
	}
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"POLARSIGNALS_TOKEN=" + strings.TrimSpace(string(token)), "POLARSIGNALS_PROJECT_ID=proj-a"}
	bins := []string{testbin.Go(t, "plain1", "plain one"), testbin.Go(t, "plain2", "plain two")}
	args := []string{"upload", "--store-address=" + strings.TrimSpace(addr), "--insecure", "--json", "--concurrency=1"}
	r := startCLI(t, env, append(append(args, "--grpc-compression=gzip"), bins...)...).wait()
	if r.code != 0 {
		t.Fatalf("upload with gzip to a store without it: %v", r)
	}
	for _, rep := range r.reports(t) {
		if rep.Action != upload.Uploaded {
			t.Errorf("%+v, want uploaded", rep)
		}
	}
	r = startCLI(t, env, append(append(args, "--no-initiate"), bins...)...).wait()
	for _, rep := range r.reports(t) {
		if rep.Action != upload.Skipped {
			t.Errorf("after the upload the store still wants %s: %+v", rep.Path, rep)
		}
	}
}

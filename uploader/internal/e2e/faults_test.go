package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// waitForBytes polls until the bucket holds at least n bytes of the object
// (the upload is mid-stream). It returns false if p exits first.
func waitForBytes(t testing.TB, pa *Parca, id string, n int64, p *proc) bool {
	t.Helper()
	path := pa.ObjectPath(id, "debuginfo")
	for !p.exited() {
		if st, err := os.Stat(path); err == nil && st.Size() >= n {
			return true
		}
		time.Sleep(2 * time.Millisecond)
	}
	return false
}

// The server is killed (-9) and restarted mid-stream: the run retries,
// re-initiating over its own dead "in progress" upload, and completes.
func TestServerKilledMidUpload(t *testing.T) {
	heavy(t)
	bin, debug, hash := bigBinary(t)
	id := mustID(t, bin)
	pa := StartParca(t, ParcaOptions{})
	p := startCLI(t, nil, "upload", "--store-address="+pa.Addr, "--insecure", "--json", bin)
	if !waitForBytes(t, pa, id, 32<<20, p) {
		t.Fatalf("the upload ended before the server could be killed: %v", p.wait())
	}
	before, _ := pa.Metadata(id, "debuginfo")
	if before.GetUpload().GetState() != pb.DebuginfoUpload_STATE_UPLOADING {
		t.Fatalf("mid-upload metadata: %v, want uploading", before)
	}
	pa.Kill()
	if st, err := os.Stat(pa.ObjectPath(id, "debuginfo")); err == nil {
		t.Logf("killed the server with %d MiB of %d MiB stored", st.Size()>>20, bigSize(t)>>20)
	}
	pa.Restart()
	r := p.wait()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	rep := one(t, r.reports(t))
	if rep.Action != upload.Uploaded {
		t.Fatalf("%+v, want uploaded", rep)
	}
	m := checkStored(t, pa, id, "debuginfo", debug)
	if m.GetUpload().GetHash() != hash || m.GetUpload().GetId() == before.GetUpload().GetId() {
		t.Fatalf("metadata %v: want hash %s and a new upload id (was %s)", m, hash, before.GetUpload().GetId())
	}
}

func bigSize(t testing.TB) int64 {
	_, debug, _ := bigBinary(t)
	st, err := os.Stat(debug)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// cutProxy forwards 127.0.0.1 connections to target and, once, closes both
// sides of a connection after cutAfter bytes went from client to server.
type cutProxy struct {
	l        net.Listener
	target   string
	cutAfter int64
	sent     atomic.Int64
	cut      atomic.Bool
	accepted atomic.Int32

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startCutProxy(t testing.TB, target string, cutAfter int64) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutProxy{l: l, target: target, cutAfter: cutAfter}
	c.wg.Add(1)
	go c.serve()
	t.Cleanup(c.close)
	return c
}

func (c *cutProxy) Addr() string { return c.l.Addr().String() }

func (c *cutProxy) serve() {
	defer c.wg.Done()
	for {
		client, err := c.l.Accept()
		if err != nil {
			return
		}
		c.accepted.Add(1)
		server, err := net.Dial("tcp", c.target)
		if err != nil {
			client.Close()
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, client, server)
		c.mu.Unlock()
		kill := func() { client.Close(); server.Close() }
		c.wg.Add(2)
		go func() { // client -> server, counted
			defer c.wg.Done()
			defer kill()
			buf := make([]byte, 32<<10)
			for {
				n, err := client.Read(buf)
				if n > 0 {
					if _, werr := server.Write(buf[:n]); werr != nil {
						return
					}
					if c.sent.Add(int64(n)) >= c.cutAfter && !c.cut.Swap(true) {
						return // the cut: both sides close mid-stream
					}
				}
				if err != nil {
					return
				}
			}
		}()
		go func() { // server -> client
			defer c.wg.Done()
			defer kill()
			io.Copy(client, server)
		}()
	}
}

func (c *cutProxy) close() {
	c.l.Close()
	c.mu.Lock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	c.wg.Wait()
}

// A connection cut mid-stream (a loopback proxy closes both sides once):
// the upload retries and lands intact.
func TestConnectionCutMidStream(t *testing.T) {
	heavy(t)
	bin, debug, _ := bigBinary(t)
	id := mustID(t, bin)
	pa := StartParca(t, ParcaOptions{})
	proxy := startCutProxy(t, pa.Addr, 48<<20)
	r := cli(t, "upload", "--store-address="+proxy.Addr(), "--insecure", "--json", bin)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	if rep := one(t, r.reports(t)); rep.Action != upload.Uploaded {
		t.Fatalf("%+v, want uploaded", rep)
	}
	if !proxy.cut.Load() || proxy.accepted.Load() < 2 {
		t.Fatalf("the proxy did not cut a stream (cut %v, %d connections)", proxy.cut.Load(), proxy.accepted.Load())
	}
	checkStored(t, pa, id, "debuginfo", debug)
	t.Logf("%d connections, %d MiB through the proxy", proxy.accepted.Load(), proxy.sent.Load()>>20)
}

// Two uploader processes send the same build ID at the same moment: both
// exit 0, exactly one uploads, and the other, which waited for this machine's
// lock on the build ID, is told by the store that it has it (before the lock
// both sent the whole file, and Parca's metadata, written in place by both,
// was once left torn: every call for that ID then failed). The stored file is
// intact. Three rounds with 24 MiB files, then 20 with small ones (where the
// two initiations collide most often).
func TestConcurrentUploadersSameBuildID(t *testing.T) {
	t.Parallel()
	pa := StartParca(t, ParcaOptions{})
	dir := t.TempDir()
	large := junkBinary(t, dir, "shared", 24<<20)
	small := testbin.GCC(t, dir, "small", "int main(void) { return 3; }\n", "-g")
	for round := range 23 {
		src := large
		if round >= 3 {
			src = small
		}
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		_, off := gnuBuildID(t, src)
		// Each round: its own build ID, the same bytes on two paths.
		a := filepath.Join(dir, fmt.Sprintf("a%d", round))
		id := withBuildID(t, data, off, fmt.Sprint("concurrent", round), a)
		b := filepath.Join(dir, fmt.Sprintf("b%d", round))
		if err := os.Link(a, b); err != nil {
			t.Fatal(err)
		}
		args := []string{"upload", "--store-address=" + pa.Addr, "--insecure", "--json"}
		p1 := startCLI(t, nil, append(args, a)...)
		p2 := startCLI(t, nil, append(args, b)...)
		r1, r2 := p1.wait(), p2.wait()
		var actions []string
		uploaded := 0
		for _, r := range []result{r1, r2} {
			if r.code != 0 {
				t.Fatalf("round %d:\n%v\n---\n%v", round, r1, r2)
			}
			rep := one(t, r.reports(t))
			actions = append(actions, rep.Action+": "+rep.Reason)
			switch {
			case rep.Action == upload.Uploaded:
				uploaded++
			case rep.Action != upload.Skipped || rep.Warning != "" || !strings.Contains(rep.Reason, "already exists"):
				t.Fatalf("round %d: %+v, want uploaded, or skipped as already stored", round, rep)
			}
		}
		if uploaded != 1 {
			t.Fatalf("round %d: %d uploaded, want 1: %q", round, uploaded, actions)
		}
		checkStored(t, pa, id, "debuginfo", extract(t, a))
		if round < 3 {
			t.Logf("round %d: %q", round, actions)
		}
	}
}

// The uploader is killed (-9) mid-upload; a rerun must complete. Parca
// keeps the dead upload "in progress" (blocking all but forced requests)
// until it is stale, 15m + 2m after it started; the uploader's in-flight
// journal (in the user cache dir) lets a rerun on the same machine take over.
func TestUploaderKilledThenRerun(t *testing.T) {
	heavy(t)
	bin, debug, _ := bigBinary(t)
	id := mustID(t, bin)
	var pa *Parca
	var args []string
	killMidUpload := func() {
		t.Helper()
		pa = StartParca(t, ParcaOptions{}) // an empty bucket each time
		args = []string{"upload", "--store-address=" + pa.Addr, "--insecure", "--json"}
		p := startCLI(t, nil, append(args, bin)...)
		if !waitForBytes(t, pa, id, 32<<20, p) {
			t.Fatalf("the upload ended before it could be killed: %v", p.wait())
		}
		p.cmd.Process.Kill()
		p.wait()
		if m, _ := pa.Metadata(id, "debuginfo"); m.GetUpload().GetState() != pb.DebuginfoUpload_STATE_UPLOADING {
			t.Fatalf("after the kill: %v, want uploading", m)
		}
	}

	// A plain rerun on the same machine (a retried CI step): completes.
	killMidUpload()
	r := cli(t, append(args, bin)...)
	if rep := one(t, r.reports(t)); r.code != 0 || rep.Action != upload.Uploaded {
		t.Fatalf("plain rerun after a killed upload: %v", r)
	}
	checkStored(t, pa, id, "debuginfo", debug)

	// A rerun elsewhere (no journal: another CI runner) cannot tell a dead
	// upload from a live one: today it skips, saying why, and exits 0...
	killMidUpload()
	elsewhere := []string{"XDG_CACHE_HOME=" + t.TempDir()}
	r = startCLI(t, elsewhere, append(args, bin)...).wait()
	rep := one(t, r.reports(t))
	if r.code != 0 || rep.Action != upload.Skipped || !strings.Contains(rep.Reason, reasonInProgress) {
		t.Fatalf("rerun without the journal: %v", r)
	}
	t.Logf("rerun without the journal: %s: %s", rep.Action, rep.Reason)
	// ...and --force takes over.
	r = startCLI(t, elsewhere, append(append(args, "--force"), bin)...).wait()
	if rep := one(t, r.reports(t)); r.code != 0 || rep.Action != upload.Uploaded {
		t.Fatalf("--force rerun: %v", r)
	}
	checkStored(t, pa, id, "debuginfo", debug)
}

// Load: 5,000 small files in one run against Parca: all land; peak RSS and
// open files stay bounded.
func TestLoad5000Files(t *testing.T) {
	heavy(t)
	const n = 5000
	pa := StartParca(t, ParcaOptions{})
	dir := t.TempDir()
	src := testbin.GCC(t, dir, "seed", "int main(void) { return 0; }\n")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	_, off := gnuBuildID(t, src)
	files := filepath.Join(dir, "files")
	for i := range n {
		sub := filepath.Join(files, fmt.Sprintf("%02d", i%50)) // nested dirs
		if i < 50 {
			os.MkdirAll(sub, 0o755)
		}
		withBuildID(t, data, off, fmt.Sprint("load", i), filepath.Join(sub, fmt.Sprintf("bin%04d", i)))
	}
	os.Remove(src)

	p := startCLI(t, nil, "upload", "--store-address="+pa.Addr, "--insecure", "--json", "-j", "8", files)
	maxFDs := 0
	for !p.exited() {
		if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.cmd.Process.Pid)); err == nil {
			maxFDs = max(maxFDs, len(ents))
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := p.wait()
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	reps := r.reports(t)
	uploaded := 0
	for _, rep := range reps {
		if rep.Action == upload.Uploaded {
			uploaded++
		}
	}
	ents, _ := os.ReadDir(filepath.Join(pa.Bucket, "debuginfo"))
	t.Logf("%d files: %d reports, %d uploaded, %d stored; peak RSS %d MiB, max open fds %d",
		n, len(reps), uploaded, len(ents), r.maxRSSKB>>10, maxFDs)
	if len(reps) != n || uploaded != n || len(ents) != n {
		t.Fatalf("want %d uploaded and stored", n)
	}
	for _, i := range []int{0, 1234, n - 1} {
		path := filepath.Join(files, fmt.Sprintf("%02d", i%50), fmt.Sprintf("bin%04d", i))
		checkStored(t, pa, mustID(t, path), "debuginfo", extract(t, path))
	}
	if r.maxRSSKB > 200<<10 {
		t.Errorf("peak RSS %d MiB, want under 200 MiB", r.maxRSSKB>>10)
	}
	if maxFDs > 100 {
		t.Errorf("up to %d open files, want a bound near -j", maxFDs)
	}
}

// TestDeadProxyIsNamed: gRPC reaches a non-loopback store through
// HTTPS_PROXY, so when that proxy is dead the message names it (never its
// credentials) instead of blaming only the store's address.
func TestDeadProxyIsNamed(t *testing.T) {
	bin := testbin.GCC(t, t.TempDir(), "proxied", "int main(void) { return 0; }\n", "-g")
	env := []string{"HTTPS_PROXY=http://someone:proxypass@127.0.0.1:1", "NO_PROXY=", "no_proxy=",
		"POLARSIGNALS_TOKEN=", "PARCA_DEBUGINFO_BEARER_TOKEN="}
	r := startCLI(t, env, "upload", "--store-address=store.invalid:443", "--retries=0", bin).wait()
	if r.code == 0 || !strings.Contains(r.stderr, "through the proxy 127.0.0.1:1") || !strings.Contains(r.stderr, "check the proxy (HTTPS_PROXY") {
		t.Fatalf("want the dead proxy named:\n%v", r)
	}
	if strings.Contains(r.stderr+r.stdout, "proxypass") {
		t.Errorf("the proxy's password is printed:\n%v", r)
	}
}

package e2e

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/cespare/xxhash/v2"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// debuginfoBin is the CLI under test, built once per test binary.
var (
	debuginfoBin string
	sharedDir    string // artifacts shared by tests (the big binary)
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "debuginfo-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	debuginfoBin = filepath.Join(dir, "debuginfo")
	build := exec.Command("go", "build", "-o", debuginfoBin, "github.com/rules-debuginfo/rules_debuginfo/uploader/cmd/debuginfo")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building debuginfo: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished CLI run.
type result struct {
	args           []string
	stdout, stderr string
	code           int
	maxRSSKB       int64
}

func (r result) String() string {
	return fmt.Sprintf("debuginfo %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, tail(r.stdout, 4000), tail(r.stderr, 4000))
}

// reports parses --json output: one object per line.
func (r result) reports(t testing.TB) []upload.Report {
	t.Helper()
	var out []upload.Report
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rep upload.Report
		if err := json.Unmarshal(sc.Bytes(), &rep); err != nil {
			t.Fatalf("stdout line %q is not a JSON report: %v", sc.Text(), err)
		}
		out = append(out, rep)
	}
	return out
}

// proc is a CLI run in the background.
type proc struct {
	cmd            *exec.Cmd
	args           []string
	stdout, stderr bytes.Buffer
	done           chan struct{}
	res            result
}

func startCLI(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{args: args, done: make(chan struct{})}
	p.cmd = exec.Command(debuginfoBin, args...)
	// The uploader's in-flight journal goes to the user cache dir: keep it
	// in the test's shared dir.
	p.cmd.Env = append(append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(sharedDir, "cache")), env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		p.res = result{args: args, stdout: p.stdout.String(), stderr: p.stderr.String(), code: p.cmd.ProcessState.ExitCode()}
		if ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			p.res.maxRSSKB = ru.Maxrss
		}
		if err != nil && p.res.code == 0 {
			p.res.code = -1
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) wait() result { <-p.done; return p.res }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// cli runs the CLI to completion.
func cli(t testing.TB, args ...string) result {
	t.Helper()
	return startCLI(t, nil, args...).wait()
}

// mustUpload runs an upload that must exit 0 and returns its reports
// (--json is added).
func mustUpload(t testing.TB, p *Parca, args ...string) []upload.Report {
	t.Helper()
	r := cli(t, append([]string{"upload", "--store-address=" + p.Addr, "--insecure", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("%v", r)
	}
	return r.reports(t)
}

func one(t testing.TB, reps []upload.Report) upload.Report {
	t.Helper()
	if len(reps) != 1 {
		t.Fatalf("want 1 report, got %d: %+v", len(reps), reps)
	}
	return reps[0]
}

// extract runs `debuginfo extract` and returns the output's path.
func extract(t testing.TB, bin string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(bin)+".debug")
	if r := cli(t, "extract", bin, "-o", out); r.code != 0 {
		t.Fatalf("%v", r)
	}
	return out
}

func sha256File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// xxh64File is Parca's pkg/hash.File: xxhash64 of the bytes, hex.
func xxh64File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := xxhash.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkStored asserts that object kind of id holds the bytes of want
// (compared by SHA-256) and that its metadata says uploaded with the hash
// Parca's own pkg/hash gives those bytes (xxhash64, hex).
func checkStored(t testing.TB, p *Parca, id, kind, want string) *pb.Debuginfo {
	t.Helper()
	wantHash := sha256File(t, want)
	if _, err := os.Stat(p.ObjectPath(id, kind)); err != nil {
		t.Fatalf("%s/%s not stored: %v", id, kind, err)
	}
	if got := sha256File(t, p.ObjectPath(id, kind)); got != wantHash {
		t.Fatalf("%s/%s: stored sha256 %s, want %s (%s)", id, kind, got, wantHash, want)
	}
	m, ok := p.Metadata(id, kind)
	if !ok {
		t.Fatalf("%s/%s: no metadata", id, kind)
	}
	if m.GetSource() != pb.Debuginfo_SOURCE_UPLOAD || m.GetUpload().GetState() != pb.DebuginfoUpload_STATE_UPLOADED {
		t.Fatalf("%s/%s: metadata %v, want source upload, state uploaded", id, kind, m)
	}
	if h := xxh64File(t, want); m.GetUpload().GetHash() != h {
		t.Fatalf("%s/%s: metadata hash %s, want xxhash64 %s", id, kind, m.GetUpload().GetHash(), h)
	}
	if m.GetBuildId() != id {
		t.Fatalf("metadata build_id %q, want %q", m.GetBuildId(), id)
	}
	return m
}

// gnuBuildID reads the GNU build-ID note with debug/elf (independently of
// the product's parser).
func gnuBuildID(t testing.TB, path string) (id string, descOff int64) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		data, err := s.Data()
		if err != nil {
			continue
		}
		for off := 0; off+12 <= len(data); {
			nameSz := int(f.ByteOrder.Uint32(data[off:]))
			descSz := int(f.ByteOrder.Uint32(data[off+4:]))
			typ := f.ByteOrder.Uint32(data[off+8:])
			name := off + 12
			desc := name + (nameSz+3)&^3
			next := desc + (descSz+3)&^3
			if next > len(data) {
				break
			}
			if typ == 3 && nameSz == 4 && string(data[name:name+3]) == "GNU" {
				return hex.EncodeToString(data[desc : desc+descSz]), int64(s.Offset) + int64(desc)
			}
			off = next
		}
	}
	return "", -1
}

// fileHashID is the profilers' ID of a file without a build ID: SHA-256
// of the first and last 4 KiB and the size (big-endian), cut to 16 bytes.
func fileHashID(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	h.Write(b[:min(4096, len(b))])
	h.Write(b[max(0, len(b)-4096):])
	binary.Write(h, binary.BigEndian, uint64(len(b)))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// withBuildID writes a copy of the ELF file src whose GNU build ID is
// derived from seed: a cheap way to make many distinct binaries.
func withBuildID(t testing.TB, src []byte, descOff int64, seed string, out string) string {
	t.Helper()
	id := sha1.Sum([]byte(seed))
	b := bytes.Clone(src)
	copy(b[descOff:descOff+20], id[:])
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(id[:])
}

func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// junkBinary builds a gcc -g program carrying an extra debug section of
// size bytes (varied, hard to compress), in dir.
func junkBinary(t testing.TB, dir, name string, size int64) string {
	t.Helper()
	if _, err := exec.LookPath("objcopy"); err != nil {
		skipOrFail(t, "objcopy not installed")
	}
	base := testbin.GCC(t, dir, name+".base", fmt.Sprintf("#include <stdio.h>\nint main(void) { puts(%q); return 0; }\n", name), "-g")
	junk := filepath.Join(dir, name+".junk")
	f, err := os.Create(junk)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for n := int64(0); n < size; n += int64(len(block)) {
		binary.LittleEndian.PutUint64(block, uint64(n)) // every block differs
		w.Write(block[:min(int64(len(block)), size-n)])
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out := filepath.Join(dir, name)
	cmd := exec.Command("objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=noload,readonly", base, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("objcopy: %v\n%s", err, b)
	}
	os.Remove(junk)
	return out
}

// The big binary (320 MiB of debuginfo) and its extracted copy are made
// once per test binary and shared.
var (
	bigOnce              sync.Once
	bigBin, bigDebug     string
	bigDebugHash, bigErr string
)

func bigBinary(t testing.TB) (bin, debug, hash string) {
	t.Helper()
	bigOnce.Do(func() {
		ok := false
		defer func() {
			if !ok {
				bigErr = "generating the big binary failed (see the first test that asked)"
			}
		}()
		dir := filepath.Join(sharedDir, "big")
		os.MkdirAll(dir, 0o755)
		bigBin = junkBinary(t, dir, "big", 320<<20)
		bigDebug = filepath.Join(dir, "big.debug")
		if r := cli(t, "extract", bigBin, "-o", bigDebug); r.code != 0 {
			t.Fatalf("%v", r)
		}
		bigDebugHash = xxh64File(t, bigDebug)
		ok = true
	})
	if bigErr != "" {
		t.Fatal(bigErr)
	}
	return bigBin, bigDebug, bigDebugHash
}

func heavy(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("heavy case: skipped with -short")
	}
}

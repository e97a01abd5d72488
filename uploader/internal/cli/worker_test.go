package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/buildid"
	pb "github.com/rules-debuginfo/rules_debuginfo/uploader/internal/debuginfopb"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/teststore"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/workerpb"
)

// runWorkerWith feeds requests to a worker and returns its exit code,
// responses and log.
func runWorkerWith(t *testing.T, startup []string, reqs ...*workerpb.WorkRequest) (int, []*workerpb.WorkResponse, string) {
	t.Helper()
	var in bytes.Buffer
	for _, r := range reqs {
		if _, err := protodelim.MarshalTo(&in, r); err != nil {
			t.Fatal(err)
		}
	}
	var out, log bytes.Buffer
	code := Main(&Env{Stdin: &in, Stdout: &out, Stderr: &log, Getenv: func(string) string { return "" }}, startup)
	var resps []*workerpb.WorkResponse
	r := bytes.NewReader(out.Bytes())
	for r.Len() > 0 {
		resp := &workerpb.WorkResponse{}
		if err := protodelim.UnmarshalFrom(r, resp); err != nil {
			t.Fatalf("response %d: %v", len(resps), err)
		}
		resps = append(resps, resp)
	}
	return code, resps, log.String()
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWorkerServesUploadsOverOneConnection(t *testing.T) {
	srv, seen := headerStore(t, teststore.Options{})
	addr, accepted := teststore.CountingProxy(t, srv.Addr())
	dir := t.TempDir()
	bin1 := testbin.C(t, "w1", "one", "-g")
	bin2 := testbin.C(t, "w2", "two", "-g")
	tok1 := writeFile(t, filepath.Join(dir, "tok1"), "worker-token-one\n")
	tok2 := writeFile(t, filepath.Join(dir, "tok2"), "worker-token-two\n")
	// The second upload comes as Bazel sends it: its flags in a flag file.
	flagfile := writeFile(t, filepath.Join(dir, "upload.params"), strings.Join([]string{
		"--store-address=" + addr, "--insecure", "--json", "--bearer-token-file=" + tok2, bin2}, "\n")+"\n")

	code, resps, log := runWorkerWith(t, []string{"upload", "--persistent_worker"},
		&workerpb.WorkRequest{Arguments: []string{"--store-address=" + addr, "--insecure", "--json", "--bearer-token-file=" + tok1, bin1}},
		&workerpb.WorkRequest{Arguments: []string{"--store-address=" + addr, "--insecure", filepath.Join(dir, "missing")}},
		&workerpb.WorkRequest{Arguments: []string{"--flagfile=" + flagfile}},
		&workerpb.WorkRequest{Arguments: []string{"--persistent_worker"}},
		&workerpb.WorkRequest{Arguments: []string{"--no-such-flag"}},
	)
	if code != ExitOK {
		t.Fatalf("worker exit %d when stdin closed; log:\n%s", code, log)
	}
	if len(resps) != 5 {
		t.Fatalf("%d responses, want 5; log:\n%s", len(resps), log)
	}
	for i, want := range []int32{ExitOK, ExitFailed, ExitOK, ExitUsage, ExitUsage} {
		if resps[i].ExitCode != want {
			t.Errorf("request %d: exit %d, want %d; output:\n%s", i, resps[i].ExitCode, want, resps[i].Output)
		}
	}
	// The upload's stdout (its JSON report) is the response's output.
	for i, bin := range map[int]string{0: bin1, 2: bin2} {
		id, _ := buildid.Read(bin)
		reps := jsonReports(t, resps[i].Output)
		if len(reps) != 1 || reps[0].Action != upload.Uploaded || reps[0].BuildID != id.Value {
			t.Errorf("request %d reports %+v, want %s uploaded", i, reps, id.Value)
		}
		if _, ok := srv.Uploaded(id.Value, pb.DebuginfoType_DEBUGINFO_TYPE_DEBUGINFO_UNSPECIFIED); !ok {
			t.Errorf("request %d: %s not in the store", i, id.Value)
		}
	}
	if !strings.Contains(resps[1].Output, "missing") {
		t.Errorf("failing request's output does not say what failed:\n%s", resps[1].Output)
	}
	if !strings.Contains(resps[4].Output, "no-such-flag") {
		t.Errorf("usage error not in the output:\n%s", resps[4].Output)
	}
	if n := accepted(); n != 1 {
		t.Errorf("%d store connections for two uploads, want 1", n)
	}
	// Each request's calls carry its own token: credentials are not mixed.
	var one, two int
	for _, md := range seen() {
		switch a := md.Get("authorization"); {
		case len(a) == 1 && a[0] == "Bearer worker-token-one":
			one++
		case len(a) == 1 && a[0] == "Bearer worker-token-two":
			two++
		case len(a) == 0:
			// the failing request had no token and made no call with one
		default:
			t.Errorf("unexpected authorization %v", a)
		}
	}
	if one == 0 || two == 0 {
		t.Errorf("calls with token one: %d, token two: %d; want both", one, two)
	}
	all := log
	for _, r := range resps {
		all += r.Output
	}
	if strings.Contains(all, "worker-token-") {
		t.Error("a token reached the worker's log or a response")
	}
	if !strings.Contains(log, "new store connection 1") || strings.Contains(log, "connection 2") {
		t.Errorf("worker log:\n%s", log)
	}
}

func TestWorkerOutputMatchesOneShot(t *testing.T) {
	bin := testbin.C(t, "same", "same", "-g")
	// Two empty stores, so both runs really upload.
	wantCode, stdout, stderr := cliRun(t, nil, "upload", "--store-address=file://"+t.TempDir(), bin)
	_, resps, _ := runWorkerWith(t, []string{"upload", "--persistent_worker"},
		&workerpb.WorkRequest{Arguments: []string{"--store-address=file://" + t.TempDir(), bin}, RequestId: 0})
	if len(resps) != 1 || resps[0].ExitCode != int32(wantCode) {
		t.Fatalf("responses %v, want one with exit %d", resps, wantCode)
	}
	// Durations differ from run to run; the rest must not.
	norm := func(s string) string { return duration.ReplaceAllString(s, "T") }
	if got, want := norm(resps[0].Output), norm(stdout+stderr); got != want {
		t.Errorf("worker output:\n%s\none-shot output:\n%s", got, want)
	}
}

// An extraction served by a worker writes what a one-shot run writes, and a
// failing request leaves the next one unharmed. The worker keeps its
// compressors and archive encoders from request to request: an extraction
// after another program's writes the same debug file and source archive.
func TestWorkerExtractMatchesOneShot(t *testing.T) {
	bin := testbin.C(t, "wx", "wx", "-g")
	other := testbin.C(t, "wy", "another program", "-g3", "-O2")
	dir := t.TempDir()
	manifest := writeFile(t, filepath.Join(dir, "sources.tsv"), "wx.c\t"+filepath.Join(filepath.Dir(bin), "wx.c")+"\n")
	outs := func(name string) []string {
		return []string{filepath.Join(dir, name+".debug"), filepath.Join(dir, name+".tar.zst")}
	}
	args := func(bin, name string) string {
		o := outs(name)
		return strings.Join([]string{bin, "-o", o[0], "--sources-manifest", manifest, "--sources-out", o[1]}, "\n") + "\n"
	}
	one := outs("one")
	if code, _, stderr := cliRun(t, nil, "extract", bin, "-o", one[0], "--sources-manifest", manifest, "--sources-out", one[1]); code != ExitOK {
		t.Fatalf("one-shot extract: exit %d: %s", code, stderr)
	}
	var reqs []*workerpb.WorkRequest
	reqs = append(reqs, &workerpb.WorkRequest{Arguments: []string{filepath.Join(dir, "missing"), "-o", filepath.Join(dir, "x")}, RequestId: 1})
	for i, a := range []string{args(bin, "first"), args(other, "other"), args(bin, "again")} {
		f := writeFile(t, filepath.Join(dir, fmt.Sprint("args", i)), a)
		reqs = append(reqs, &workerpb.WorkRequest{Arguments: []string{"--flagfile=" + f}, RequestId: int32(i + 2)})
	}
	_, resps, log := runWorkerWith(t, []string{"extract", "--persistent_worker"}, reqs...)
	if len(resps) != 4 || resps[0].ExitCode == 0 || resps[1].ExitCode != 0 || resps[2].ExitCode != 0 || resps[3].ExitCode != 0 {
		t.Fatalf("responses %v (log %s), want a failure then three successes", resps, log)
	}
	for _, name := range []string{"first", "again"} {
		for i, got := range outs(name) {
			a, _ := os.ReadFile(one[i])
			b, err := os.ReadFile(got)
			if err != nil || !bytes.Equal(a, b) || len(a) == 0 {
				t.Errorf("the worker's %s (%d bytes, %v) differs from the one-shot one (%d bytes)", got, len(b), err, len(a))
			}
		}
	}
}

var duration = regexp.MustCompile(`[0-9.]+ ?(ns|µs|ms|s)\b`)

func TestWorkerRefusesOtherCommandsAndBadInput(t *testing.T) {
	if code, _, log := runWorkerWith(t, []string{"sources", "--persistent_worker"}); code != ExitUsage || !strings.Contains(log, "'debuginfo upload' and 'debuginfo extract' only") {
		t.Errorf("sources worker: exit %d, log %q", code, log)
	}
	// A truncated request: the worker says so and exits non-zero.
	var log bytes.Buffer
	code := Main(&Env{Stdin: bytes.NewReader([]byte{0x20, 0x0a}), Stdout: io.Discard, Stderr: &log, Getenv: os.Getenv},
		[]string{"upload", "--persistent_worker"})
	if code != ExitFailed || !strings.Contains(log.String(), "reading a request") {
		t.Errorf("truncated request: exit %d, log %q", code, log.String())
	}
}

func TestExpandFlagfiles(t *testing.T) {
	dir := t.TempDir()
	ok := writeFile(t, filepath.Join(dir, "ok"), "--a\n\n--b=c d\n")
	nested := writeFile(t, filepath.Join(dir, "nested"), "--flagfile="+ok+"\n")
	big := writeFile(t, filepath.Join(dir, "big"), strings.Repeat("x", maxFlagfile+1))
	got, err := expandFlagfiles([]string{"upload", "--flagfile=" + ok, "p"})
	if err != nil || strings.Join(got, "|") != "upload|--a|--b=c d|p" {
		t.Errorf("got %q, %v", got, err)
	}
	for _, f := range []string{nested, big, filepath.Join(dir, "absent")} {
		if code, _, stderr := cliRun(t, nil, "upload", "--flagfile="+f); code != ExitUsage || !strings.Contains(stderr, "--flagfile=") {
			t.Errorf("%s: exit %d, stderr %q", f, code, stderr)
		}
	}
}

// A request whose output names standard output is refused: in a worker
// process that is the stream of responses Bazel reads, and an ELF or a
// receipt written there broke it for every later request (review s17-r1).
// Run as a process of its own, so that standard output is the protocol's.
func TestWorkerRefusesOutputsOnStandardOutput(t *testing.T) {
	bin := testbin.C(t, "wso", "wso", "-g")
	dir := t.TempDir()
	store := "--store-address=file://" + filepath.Join(dir, "store")
	next := func(cmd string) []string {
		if cmd == "extract" {
			return []string{bin, "-o", filepath.Join(dir, "next.debug")}
		}
		return []string{store, "--force", bin}
	}
	for _, c := range []struct {
		cmd  string
		args []string
		flag string
	}{
		{"extract", []string{bin, "-o", "-"}, "-o -"},
		{"extract", []string{bin, "-o", "/dev/stdout"}, "-o /dev/stdout"},
		{"extract", []string{bin, "-o", filepath.Join(dir, "a.debug"), "--sources-out", "/proc/self/fd/1"}, "--sources-out /proc/self/fd/1"},
		{"extract", []string{bin, "-o", filepath.Join(dir, "b.debug"), "--record", "-"}, "--record -"},
		{"upload", []string{store, "--receipt", "-", bin}, "--receipt -"},
		{"upload", []string{store, "--receipt=/dev/stdout", bin}, "--receipt /dev/stdout"},
	} {
		var in bytes.Buffer
		for i, args := range [][]string{c.args, next(c.cmd)} {
			if _, err := protodelim.MarshalTo(&in, &workerpb.WorkRequest{Arguments: args, RequestId: int32(i + 1)}); err != nil {
				t.Fatal(err)
			}
		}
		cmd := childCLI(nil, c.cmd, "--persistent_worker")
		cmd.Stdin = &in
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("%s %q: worker: %v", c.cmd, c.args, err)
			continue
		}
		r := bytes.NewReader(out)
		var resps []*workerpb.WorkResponse
		for r.Len() > 0 {
			resp := &workerpb.WorkResponse{}
			if err := protodelim.UnmarshalFrom(r, resp); err != nil {
				break
			}
			resps = append(resps, resp)
		}
		if len(resps) != 2 || r.Len() != 0 {
			t.Errorf("%s %q: %d responses and %d bytes of something else on the worker's stdout, want 2 responses", c.cmd, c.args, len(resps), r.Len())
			continue
		}
		if resps[0].ExitCode != ExitUsage || !strings.Contains(resps[0].Output, c.flag+" names standard output") {
			t.Errorf("%s %q: exit %d, %q; want a usage error naming %s", c.cmd, c.args, resps[0].ExitCode, resps[0].Output, c.flag)
		}
		if resps[1].ExitCode != ExitOK {
			t.Errorf("%s: the request after it: exit %d: %s", c.cmd, resps[1].ExitCode, resps[1].Output)
		}
	}
}

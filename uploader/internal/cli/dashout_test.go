package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// "-o -" is standard output, as for most tools: the output alone on stdout,
// messages on stderr, and no file named "-" (review s10-r1 found
// `extract p -o - > p.debug` gave a file "-" and a summary line in p.debug).
func TestDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	want := filepath.Join(dir, "want.debug")
	if code, _, stderr := runCLI(t, "extract", bin, "-o", want); code != ExitOK {
		t.Fatalf("extract: %d %s", code, stderr)
	}
	wantBytes, _ := os.ReadFile(want)
	for _, args := range [][]string{
		{"extract", bin, "-o", "-"},
		{"sources", bin, "-o", "-", "--source-root", dir},
	} {
		cwd := t.TempDir()
		code, o, e := runIn(t, cwd, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", args[0], code, e)
		}
		if _, err := os.Stat(filepath.Join(cwd, "-")); err == nil {
			t.Errorf("%s -o - wrote a file named -", args[0])
		}
		switch args[0] {
		case "extract":
			if !bytes.Equal(o, wantBytes) || !strings.Contains(string(e), "dwarf=true") {
				t.Errorf("extract -o -: %d bytes on stdout (want the %d of -o FILE); stderr %q", len(o), len(wantBytes), e)
			}
		case "sources":
			if !bytes.HasPrefix(o, zstdMagic) {
				t.Errorf("sources -o -: stdout is not a zstd stream (%d bytes); stderr %q", len(o), e)
			}
		}
	}
}

// zstdMagic starts a zstd frame: a source archive's first bytes.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// runIn runs the CLI with args as a process of its own in dir, so that its
// standard output is a real one.
func runIn(t *testing.T, dir string, args ...string) (code int, stdout, stderr []byte) {
	t.Helper()
	cmd := childCLI(nil, args...)
	cmd.Dir = dir
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), o.Bytes(), e.Bytes()
}

// Outputs that would share standard output are refused before anything is
// written, a record that would name "-" too; one output on stdout gets it
// alone, the messages on stderr (review s11-r1).
func TestDashCombinations(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	sub := func(args ...string) (int, []byte, []byte) { return runIn(t, dir, args...) }
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"extract", bin, "-o", "-", "--sources-out", "-", "--source-root", dir}, "--sources-out, -o all name standard output"},
		{[]string{"extract", bin, "-o", "-", "--record", filepath.Join(dir, "r.json")}, "give -o a file"},
		{[]string{"extract", bin, "-o", filepath.Join(dir, "x.debug"), "--record", filepath.Join(dir, "r.json"), "--sources-out", "-", "--source-root", dir}, "give --sources-out a file"},
		{[]string{"upload", "--dry-run", "--json", "--receipt", "-", bin}, "--json and --receipt - both write to standard output"},
	} {
		code, stdout, stderr := sub(c.args...)
		if code != ExitUsage || len(stdout) != 0 || !strings.Contains(string(stderr), c.want) {
			t.Errorf("%v: exit %d, %d bytes on stdout, stderr %q; want exit %d and %q", c.args, code, len(stdout), stderr, ExitUsage, c.want)
		}
	}
	// The archive alone on stdout, the debug file beside.
	code, stdout, stderr := sub("extract", bin, "-o", filepath.Join(dir, "y.debug"), "--sources-out", "-", "--source-root", dir)
	if code != 0 || !bytes.HasPrefix(stdout, zstdMagic) || !strings.Contains(string(stderr), "y.debug") {
		t.Errorf("extract --sources-out -: exit %d, stdout starts %q, stderr %q", code, stdout[:min(8, len(stdout))], stderr)
	}
	// The receipt alone on stdout: one JSON object per file.
	code, stdout, stderr = sub("upload", "--dry-run", "--receipt", "-", bin)
	alone := code == 0 && len(bytes.TrimSpace(stdout)) > 0
	for _, l := range bytes.Split(bytes.TrimSpace(stdout), []byte("\n")) {
		alone = alone && json.Valid(l)
	}
	if !alone || !strings.Contains(string(stderr), "dry-run") {
		t.Errorf("upload --receipt -: exit %d, stdout %q is not the receipt alone (stderr %q)", code, stdout, stderr)
	}
}

// An output that names an input or another output is refused before
// anything is written, and the files stay as they were (review s11-r3:
// --sources-out and --record given the binary's path replaced it).
func TestOutputsDoNotClobber(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	want, _ := os.ReadFile(bin)
	dbg := filepath.Join(dir, "hello.debug")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"extract", bin, "-o", dbg, "--sources-out", bin, "--source-root", dir}, "--sources-out " + bin + " is an input"},
		{[]string{"extract", bin, "-o", dbg, "--record", bin}, "--record " + bin + " is an input"},
		{[]string{"extract", bin, "-o", dbg, "--record", dbg}, "-o and --record name the same file"},
		{[]string{"extract", bin, "-o", dbg, "--sources-out", "./hello.debug", "--source-root", dir}, "-o and --sources-out name the same file"},
		{[]string{"sources", bin, "-o", bin}, "-o " + bin + " is an input"},
		{[]string{"upload", "--dry-run", "--receipt", bin, bin}, "--receipt " + bin + " is an input"},
		{[]string{"upload", "--dry-run", "--receipt", bin, dir}, "is an ELF file"},
	} {
		code, stdout, stderr := runIn(t, dir, c.args...)
		if code != ExitUsage || len(stdout) != 0 || !strings.Contains(string(stderr), c.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, stdout, stderr, ExitUsage, c.want)
		}
		if got, _ := os.ReadFile(bin); !bytes.Equal(got, want) {
			t.Fatalf("%v: the binary was overwritten", c.args)
		}
	}
}

// SIGINT or SIGTERM while extract writes a large OUT leaves no temp file
// beside it, and OUT as it was (review s11-r3 found a .OUT.tmp of hundreds
// of MB after each Ctrl-C).
func TestInterruptedExtractLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	// 256 MiB of compressible DWARF: about a second of compression here.
	junk := filepath.Join(dir, "junk")
	f, _ := os.Create(junk)
	line := bytes.Repeat([]byte("DW_AT_name main.c 0123456789\n"), 1<<10)
	for range 256 << 20 / len(line) {
		f.Write(line)
	}
	f.Close()
	big := filepath.Join(dir, "big")
	testbin.Run(t, dir, "objcopy", "--add-section", ".debug_junk="+junk, "--set-section-flags", ".debug_junk=readonly", bin, big)
	os.Remove(junk)
	// SIGKILL cannot be caught: only a temp file without a name (O_TMPFILE)
	// leaves nothing (review s14-r2, finding 5).
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		out := filepath.Join(dir, "out", "big.debug")
		os.MkdirAll(filepath.Dir(out), 0o755)
		cmd := childCLI(nil, "extract", big, "-o", out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Once the temp file is there, the extraction is under way.
		for i := 0; i < 500 && !hasTemp(cmd.Process.Pid, filepath.Dir(out)); i++ {
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
		cmd.Wait()
		code := cmd.ProcessState.ExitCode()
		if code == 0 {
			t.Skipf("%v: the extraction ended before the signal", sig)
		}
		if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); sig == syscall.SIGKILL && !ws.Signaled() {
			t.Errorf("%v: exit %d, want killed", sig, code)
		} else if want := 128 + int(sig); sig != syscall.SIGKILL && code != want {
			t.Errorf("%v: exit %d, want %d", sig, code, want)
		}
		if ents, _ := os.ReadDir(filepath.Dir(out)); len(ents) != 0 {
			t.Errorf("%v: left %v beside OUT", sig, ents)
		}
	}
}

// hasTemp says whether process pid has a temp file in dir: a name there,
// or an open file with none (O_TMPFILE: /proc shows "DIR/#INODE (deleted)").
func hasTemp(pid int, dir string) bool {
	if ents, _ := os.ReadDir(dir); len(ents) > 0 {
		return true
	}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, dir+"/") {
			return true
		}
	}
	return false
}

// --receipt may name a FIFO, as any output may: the check that a receipt
// would not overwrite an ELF file must not open it for reading, which waits
// for a writer that is this very process (a hang the re-read found).
func TestReceiptToFIFO(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "hello", testbin.HelloC, "-g")
	fifo := filepath.Join(dir, "receipt")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		b, _ := os.ReadFile(fifo) // the reader: waits for the CLI to open it
		got <- b
	}()
	done := make(chan int, 1)
	go func() {
		code, _, _ := runIn(t, dir, "upload", "--dry-run", "--receipt", fifo, bin)
		done <- code
	}()
	select {
	case code := <-done:
		b := <-got
		if code != 0 || !bytes.Contains(b, []byte(`"dry-run"`)) {
			t.Errorf("exit %d, receipt %q", code, b)
		}
	case <-time.After(time.Minute):
		os.WriteFile(fifo, nil, 0) // let the reader go
		t.Fatal("upload --receipt FIFO hangs")
	}
}

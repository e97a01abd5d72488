package cli

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// bombSize is what the zlib bomb inflates to.
const bombSize = 1 << 30

// zlibBomb returns a zlib stream of bombSize zero bytes, about 1 MB: one
// megabyte of zeros compressed and sync-flushed gives a byte-aligned run of
// non-final blocks that is valid after itself (its matches look back one
// byte, at a zero), so 1024 copies of it, an empty final block and the
// Adler-32 make the whole stream without compressing a gigabyte.
func zlibBomb(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zlib.NewWriterLevel(&b, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	run := b.Bytes()[2:] // after the zlib header
	out := append([]byte(nil), b.Bytes()[:2]...)
	for range bombSize >> 20 {
		out = append(out, run...)
	}
	out = append(out, 0x03, 0x00) // final fixed-Huffman block holding only end-of-block
	return binary.BigEndian.AppendUint32(out, uint32(bombSize%65521)<<16|1)
}

// chdr is an Elf64_Chdr for zlib data of size bytes.
func chdr(size uint64) []byte {
	h := binary.LittleEndian.AppendUint32(nil, 1) // ELFCOMPRESS_ZLIB
	h = binary.LittleEndian.AppendUint32(h, 0)
	h = binary.LittleEndian.AppendUint64(h, size)
	return binary.LittleEndian.AppendUint64(h, 1)
}

// withSection runs objcopy on bin with args, then sets SHF_COMPRESSED on
// section name of the result when compressed is set.
func withSection(t *testing.T, bin, name string, compressed bool, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(bin)+"-bomb")
	testbin.Run(t, "", "objcopy", append(args, bin, out)...)
	if !compressed {
		return out
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	idx := -1
	for i, s := range f.Sections {
		if s.Name == name {
			idx = i
		}
	}
	f.Close()
	if idx < 0 {
		t.Fatalf("objcopy made no section %s", name)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	flags := int(binary.LittleEndian.Uint64(b[offShoff:])) + idx*shdrSize + 8
	binary.LittleEndian.PutUint64(b[flags:], binary.LittleEndian.Uint64(b[flags:])|uint64(elf.SHF_COMPRESSED))
	if err := os.WriteFile(out, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMemoryBombs runs each command on ELF files of about 1 MB carrying a
// zlib stream that inflates to 1 GiB, in a child process (this test binary,
// re-run) so that its peak memory can be measured: whatever the result,
// the peak must stay under 100 MB.
func TestMemoryBombs(t *testing.T) {
	if os.Getenv("DEBUGINFO_BOMB_ARGS") != "" {
		t.Skip("child")
	}
	testbin.Need(t, "gcc", "objcopy")
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "prog", testbin.HelloC, "-g", "-gdwarf-5")
	bombFile := filepath.Join(dir, "bomb.z")
	bomb := zlibBomb(t)
	if err := os.WriteFile(bombFile, append(chdr(bombSize), bomb...), 0o644); err != nil {
		t.Fatal(err)
	}
	lying := filepath.Join(dir, "lying.z")
	if err := os.WriteFile(lying, append(chdr(4096), bomb...), 0o644); err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(dir, "legacy.z")
	if err := os.WriteFile(legacy, append(append([]byte("ZLIB"), binary.BigEndian.AppendUint64(nil, 1<<40)...), bomb...), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := map[string]string{
		// In a section nothing reads: sources must not inflate it at all.
		"unused": withSection(t, bin, ".debug_junk", true, "--add-section", ".debug_junk="+bombFile),
		// In a section line tables need: refused for its declared size.
		"used": withSection(t, bin, ".debug_str", true, "--update-section", ".debug_str="+bombFile),
		// Declaring 4 KiB: only 4 KiB is inflated.
		"lying": withSection(t, bin, ".debug_str", true, "--update-section", ".debug_str="+lying),
		// Legacy .zdebug_ compression declaring 1 TiB.
		"legacy": withSection(t, bin, "", false, "--remove-section", ".debug_line", "--add-section", ".zdebug_line="+legacy),
	}
	for name, in := range inputs {
		if fi, err := os.Stat(in); err != nil || fi.Size() > 2<<20 {
			t.Fatalf("%s: %v (size %d)", name, err, fi.Size())
		}
	}
	for _, c := range []struct {
		input string
		args  []string
		exit  int
		want  string
	}{
		{"unused", []string{"sources", "IN", "-o", "OUT", "--source-root", dir}, ExitOK, ": 1 files"},
		{"used", []string{"sources", "IN", "-o", "OUT"}, ExitFailed, "a compression bomb?"},
		{"lying", []string{"sources", "IN", "-o", "OUT"}, -1, ""},
		{"legacy", []string{"sources", "IN", "-o", "OUT"}, ExitFailed, "section .zdebug_line takes 1099511627776 bytes decompressed"},
		{"unused", []string{"extract", "IN", "-o", "OUT"}, ExitOK, ""},
		{"unused", []string{"buildid", "IN"}, ExitOK, ""},
		{"unused", []string{"upload", "--dry-run", "--include-sources", "--source-root", dir, "IN"}, ExitOK, "2 dry-run"},
	} {
		t.Run(c.input+"-"+c.args[0], func(t *testing.T) {
			args := strings.Join(c.args, "\x1f")
			args = strings.ReplaceAll(args, "IN", inputs[c.input])
			args = strings.ReplaceAll(args, "OUT", filepath.Join(t.TempDir(), "out"))
			cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryBombChild$")
			cmd.Env = append(os.Environ(), "DEBUGINFO_BOMB_ARGS="+args)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if cmd.ProcessState == nil {
				t.Fatal(err)
			}
			rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB
			t.Logf("%q: peak RSS %d MiB, %v\n%s%s", c.args, rss>>10, err, stdout.String(), stderr.String())
			if rss > 100<<10 {
				t.Errorf("peak RSS %d MiB, want under 100 MiB", rss>>10)
			}
			got := -2
			if m := strings.Index(stdout.String(), "bomb-exit="); m >= 0 {
				fmt.Sscanf(stdout.String()[m:], "bomb-exit=%d", &got)
			}
			if c.exit >= 0 && got != c.exit {
				t.Errorf("exit %d, want %d", got, c.exit)
			}
			if got != ExitOK && got != ExitFailed {
				t.Errorf("exit %d: the child crashed or misbehaved", got)
			}
			if !strings.Contains(stdout.String()+stderr.String(), c.want) {
				t.Errorf("output lacks %q", c.want)
			}
		})
	}
}

// TestMemoryBombChild is TestMemoryBombs' child: it runs one command,
// with its address space capped at 3 GiB so that a regression fails fast
// instead of exhausting the machine.
func TestMemoryBombChild(t *testing.T) {
	args := os.Getenv("DEBUGINFO_BOMB_ARGS")
	if args == "" {
		t.Skip("run by TestMemoryBombs")
	}
	lim := &syscall.Rlimit{Cur: 3 << 30, Max: 3 << 30}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
		t.Fatal(err)
	}
	var o, e bytes.Buffer
	code := Main(&Env{Stdin: strings.NewReader(""), Stdout: &o, Stderr: &e, Getenv: func(string) string { return "" }}, strings.Split(args, "\x1f"))
	fmt.Printf("%s%s\nbomb-exit=%d\n", o.String(), e.String(), code)
}

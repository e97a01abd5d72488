package e2e

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestOutputToStdout: `-o /dev/stdout` into a pipe and into a file is the
// output alone and whole: messages go to stderr, and the output is written
// through the process's own descriptor (a second open of /dev/stdout had
// its own offset, and the summary overwrote the start of the archive).
func TestOutputToStdout(t *testing.T) {
	dir := t.TempDir()
	bin := testbin.GCC(t, dir, "prog", testbin.HelloC, "-g")
	for _, c := range []struct {
		args  []string
		check func(t *testing.T, b []byte)
	}{
		{[]string{"sources", bin, "--source-root", dir, "-o", "/dev/stdout"}, func(t *testing.T, b []byte) {
			d, err := zstd.NewReader(nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.DecodeAll(b, nil); err != nil {
				t.Errorf("not a zstd stream (%d bytes): %v", len(b), err)
			}
		}},
		{[]string{"extract", bin, "-o", "/dev/stdout"}, func(t *testing.T, b []byte) {
			if _, err := elf.NewFile(bytes.NewReader(b)); err != nil {
				t.Errorf("not an ELF file (%d bytes): %v", len(b), err)
			}
		}},
	} {
		// Into a pipe.
		var out, errb bytes.Buffer
		cmd := exec.Command(debuginfoBin, c.args...)
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, errb.String())
		}
		c.check(t, out.Bytes())
		// Into a file, as `> FILE` does.
		f, err := os.Create(filepath.Join(t.TempDir(), "out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(debuginfoBin, c.args...)
		cmd.Stdout, cmd.Stderr = f, &errb
		err = cmd.Run()
		f.Close()
		if err != nil {
			t.Fatalf("%v > file: %v\n%s", c.args, err, errb.String())
		}
		b, _ := os.ReadFile(f.Name())
		c.check(t, b)
	}
}

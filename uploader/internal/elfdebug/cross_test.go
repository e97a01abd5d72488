package elfdebug

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestExtractCrossArch covers ELF32 and big-endian files with Go's cross
// compiler: the line table must map main.main's address to the same
// file:line in the extracted copy.
func TestExtractCrossArch(t *testing.T) {
	testbin.Need(t, "go", "readelf")
	for _, arch := range []string{"386", "mips", "s390x"} {
		t.Run(arch, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "main.go"), []byte(testbin.HelloGo(arch)), 0o644)
			os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n\ngo 1.24\n"), 0o644)
			bin := filepath.Join(dir, "hello")
			cmd := exec.Command("go", "build", "-ldflags=-compressdwarf=false", "-o", bin, ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			out, st := extractFile(t, bin)
			if !st.HasDWARF || !st.HasSymtab || !st.HasGoPclntab {
				t.Errorf("stats: %+v", st)
			}
			testbin.Run(t, "", "readelf", "-S", "-l", "-n", out)
			if st.Compressed == 0 {
				t.Error("no section compressed")
			}
			for _, p := range chdrProblems(t, bin, out) {
				t.Error(p)
			}
			if want, got := lineOf(t, bin), lineOf(t, out); want != got {
				t.Errorf("main.main: %s -> %s", want, got)
			}
		})
	}
}

func lineOf(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var pc uint64
	for _, s := range syms {
		if s.Name == "main.main" {
			pc = s.Value
		}
	}
	d, err := f.DWARF()
	if err != nil {
		t.Fatal(err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil || e == nil {
			t.Fatalf("no compile unit for %#x (%v)", pc, err)
		}
		if e.Tag != dwarf.TagCompileUnit {
			r.SkipChildren()
			continue
		}
		lr, err := d.LineReader(e)
		if err != nil || lr == nil {
			continue
		}
		var le dwarf.LineEntry
		if lr.SeekPC(pc, &le) == nil {
			return fmt.Sprintf("%s %#x %s:%d", f.Class, pc, le.File.Name, le.Line)
		}
	}
}

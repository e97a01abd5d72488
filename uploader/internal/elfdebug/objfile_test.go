package elfdebug

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// An object file (gcc -c) has no program headers: its debug file must say
// so the way the ELF spec asks (e_phoff 0 with e_phnum 0), or readelf calls
// the header corrupt.
func TestObjectFileHasNoProgramHeaderTable(t *testing.T) {
	testbin.Need(t, "gcc", "readelf")
	src := testbin.File(t, "o.c", []byte("int twice(int x) { return 2 * x; }\n"))
	dir := filepath.Dir(src)
	obj := filepath.Join(dir, "o.o")
	testbin.Run(t, dir, "gcc", "-g", "-c", src, "-o", obj)
	out, _ := extractFile(t, obj)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var hdr elf.Header64
	if err := binary.Read(bytes.NewReader(b), binary.LittleEndian, &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Phoff != 0 || hdr.Phnum != 0 {
		t.Errorf("e_phoff %d, e_phnum %d; want 0 and 0", hdr.Phoff, hdr.Phnum)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("readelf", "-a", "-W", out)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Errorf("readelf -a: %v\n%s", err, stderr.String())
	}
}

package elfdebug

import (
	"bytes"
	"debug/elf"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
)

// FuzzExtract feeds arbitrary bytes (seeded from testdata/fuzz); Extract
// must not panic, must report what it wrote, and what it writes must parse.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x7fELF\x01\x02\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		st, err := Extract(bytes.NewReader(data), int64(len(data)), &out)
		if err != nil {
			return
		}
		if st.Bytes != int64(out.Len()) {
			t.Fatalf("Stats.Bytes %d, wrote %d", st.Bytes, out.Len())
		}
		fo, err := elfparse.Parse(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		// Parca opens it with debug/elf (a dropped SHF_COMPRESSED section
		// made it fail: split DWARF from ld --compress-debug-sections).
		if _, err := elf.NewFile(bytes.NewReader(data)); err == nil {
			if _, err := elf.NewFile(bytes.NewReader(out.Bytes())); err != nil {
				t.Fatalf("debug/elf opens the input but not the output: %v", err)
			}
		}
		// Symbolizers map runtime addresses through PT_LOAD p_offset/p_vaddr/p_memsz.
		fi, _ := elfparse.Parse(bytes.NewReader(data), int64(len(data)))
		if len(fi.Progs) != len(fo.Progs) {
			t.Fatalf("%d program headers -> %d", len(fi.Progs), len(fo.Progs))
		}
		for i, p := range fi.Progs {
			q := fo.Progs[i]
			if p.Type == uint32(elf.PT_LOAD) && (q.Off != p.Off || q.Vaddr != p.Vaddr || q.Memsz != p.Memsz || q.Filesz > p.Filesz) {
				t.Fatalf("PT_LOAD %d: %+v -> %+v", i, p, q)
			}
		}
	})
}

package testbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"testing"
)

// SectionHeader returns the raw header of the section called name in the
// ELF file b (either class, either byte order), as a slice of b: tests patch
// it in place to make hostile inputs out of real binaries.
func SectionHeader(t testing.TB, b []byte, name string) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if f.Data == elf.ELFDATA2MSB {
		order = binary.BigEndian
	}
	shoff, shentsize := order.Uint64(b[0x28:]), uint64(order.Uint16(b[0x3a:]))
	if f.Class == elf.ELFCLASS32 {
		shoff, shentsize = uint64(order.Uint32(b[0x20:])), uint64(order.Uint16(b[0x2e:]))
	}
	for i, s := range f.Sections {
		if s.Name == name {
			off := shoff + uint64(i)*shentsize
			return b[off : off+shentsize]
		}
	}
	t.Fatalf("no section %s", name)
	return nil
}

// MoveCodeSegment rewrites the executable PT_LOAD of the ELF64
// little-endian file at path to address vaddr, its memory size grown by
// grow: what objcopy --only-keep-debug does to the code segment llvm-bolt
// adds.
func MoveCodeSegment(t testing.TB, path string, vaddr, grow uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			ph := int(binary.LittleEndian.Uint64(b[0x20:])) + i*56
			binary.LittleEndian.PutUint64(b[ph+16:], vaddr)        // p_vaddr
			binary.LittleEndian.PutUint64(b[ph+40:], p.Memsz+grow) // p_memsz
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// OpenELF opens the ELF file at path for the rest of the test.
func OpenELF(t testing.TB, path string) *elf.File {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

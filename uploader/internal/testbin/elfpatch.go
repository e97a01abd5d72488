package testbin

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
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

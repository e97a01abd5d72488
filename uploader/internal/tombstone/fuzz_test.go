package tombstone

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
	"time"
)

// FuzzFind: whatever the sections hold, Find returns (patches within their
// sections, or an error) without panicking or running on.
func FuzzFind(f *testing.F) {
	// A DWARF 5 unit: one DIE with low_pc 0 and high_pc 16, and its table.
	info := []byte{0, 0, 0, 0, 5, 0, 1, 8, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0}
	binary.LittleEndian.PutUint32(info, uint32(len(info)-4))
	abbrev := []byte{1, 0x11, 0, 0x11, 0x01, 0x12, 0x0b, 0, 0, 0}
	f.Add(info, abbrev, []byte{5, 0, 0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 0})
	f.Fuzz(func(t *testing.T, info, abbrev, lists []byte) {
		sec := func(b []byte) Section { return Section{R: bytes.NewReader(b), Size: int64(len(b))} }
		s := Sections{Info: sec(info), Abbrev: sec(abbrev), Rnglists: sec(lists), Ranges: sec(lists), Aranges: sec(lists), Addr: sec(lists)}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := Find(ctx, s, binary.LittleEndian, func(a uint64) bool { return a == 0 })
		if ctx.Err() != nil {
			t.Fatal("Find ran on for 10 s")
		}
		if err != nil {
			return
		}
		for _, c := range []struct {
			l    *List
			size int
		}{{&p.Info, len(info)}, {&p.Rnglists, len(lists)}, {&p.Ranges, len(lists)}, {&p.Aranges, len(lists)}} {
			for i := range c.l.Len() {
				if off, b := c.l.At(i); off < 0 || off+int64(len(b)) > int64(c.size) {
					t.Fatalf("patch at %d (%d bytes) outside a %d-byte section", off, len(b), c.size)
				}
			}
		}
	})
}

package sources

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// header builds a DWARF 5 line-table header (32-bit format) whose
// directory and file tables use DW_FORM_string names.
func header(dirCount, fileCount []byte, dirs, files string) []byte {
	var h []byte
	h = append(h, 8, 0)          // address_size, segment_selector_size
	h = append(h, 1, 1, 1, 0xfb) // min_inst_length, max_ops, default_is_stmt, line_base
	h = append(h, 14, 13)        // line_range, opcode_base
	h = append(h, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)
	h = append(h, 1, 1, 0x08) // directory format: DW_LNCT_path, DW_FORM_string
	h = append(h, dirCount...)
	h = append(h, dirs...)
	h = append(h, 1, 1, 0x08) // file format: DW_LNCT_path, DW_FORM_string
	h = append(h, fileCount...)
	h = append(h, files...)
	body := binary.LittleEndian.AppendUint16(nil, 5)
	body = append(body, h[:2]...)
	body = binary.LittleEndian.AppendUint32(body, uint32(len(h)-2))
	body = append(body, h[2:]...)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestCheckLineHeader(t *testing.T) {
	uleb := func(v uint64) []byte {
		var b []byte
		for {
			c := byte(v & 0x7f)
			v >>= 7
			if v != 0 {
				b = append(b, c|0x80)
				continue
			}
			return append(b, c)
		}
	}
	for _, c := range []struct {
		name string
		sec  []byte
		want string // "" = valid
	}{
		{"valid", header(uleb(1), uleb(2), "/src\x00", "a.c\x00b.h\x00"), ""},
		// debug/dwarf would make([]string, 1<<40) and the runtime would die.
		{"huge directory count", header(uleb(1<<40), uleb(1), "/src\x00", "a.c\x00"), "claims"},
		{"huge file count", header(uleb(1), uleb(1<<40), "/src\x00", "a.c\x00"), "claims"},
		{"count past the header", header(uleb(9), uleb(1), "/src\x00", "a.c\x00"), "truncated"},
		{"truncated", header(uleb(1), uleb(1), "/src\x00", "a.c\x00")[:20], "longer than"},
	} {
		err := checkLineHeader(c.sec, 0, binary.LittleEndian)
		if (err == nil) != (c.want == "") || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if err := checkLineHeader([]byte{1, 2, 3}, 10, binary.LittleEndian); err == nil {
		t.Error("offset past the section accepted")
	}
}

// Every line table gcc and Go really write passes the check.
func TestCheckLineHeaderAcceptsRealTables(t *testing.T) {
	for _, bin := range []string{
		testbin.C(t, "dwarf5", "x", "-g"),
		testbin.C(t, "dwarf4", "x", "-g", "-gdwarf-4"),
		testbin.Go(t, "gobin", "x"),
	} {
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		sec, err := f.Section(".debug_line").Data()
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.DWARF()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for r := d.Reader(); ; {
			e, err := r.Next()
			if err != nil || e == nil {
				break
			}
			r.SkipChildren()
			if off, ok := e.Val(dwarf.AttrStmtList).(int64); ok {
				n++
				if err := checkLineHeader(sec, off, f.ByteOrder); err != nil {
					t.Errorf("%s: unit at %#x: %v", bin, off, err)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no line tables checked", bin)
		}
		f.Close()
	}
}

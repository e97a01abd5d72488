package sources

import (
	"bytes"
	"compress/zlib"
	"debug/elf"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/dwarfform"
)

// Hand-made DWARF in a minimal ELF file, for inputs no compiler writes:
// the exact byte layouts that the streaming reader's bounds are for.

// enc appends little-endian DWARF values.
type enc struct{ b []byte }

func (e *enc) u8(v ...byte) *enc { e.b = append(e.b, v...); return e }
func (e *enc) u16(v uint16) *enc { e.b = binary.LittleEndian.AppendUint16(e.b, v); return e }
func (e *enc) u32(v uint32) *enc { e.b = binary.LittleEndian.AppendUint32(e.b, v); return e }
func (e *enc) u64(v uint64) *enc { e.b = binary.LittleEndian.AppendUint64(e.b, v); return e }
func (e *enc) str(s string) *enc { e.b = append(append(e.b, s...), 0); return e }
func (e *enc) pad(n int) *enc    { e.b = append(e.b, make([]byte, n)...); return e }

func (e *enc) uleb(v uint64) *enc {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		e.b = append(e.b, c)
		if v == 0 {
			return e
		}
	}
}

func (e *enc) sleb(v int64) *enc {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0
		if !done {
			c |= 0x80
		}
		e.b = append(e.b, c)
		if done {
			return e
		}
	}
}

// unit32 is a 32-bit DWARF unit: its initial length, then body.
func unit32(body []byte) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// abbrevTable is one abbreviation table whose abbreviation code 1 is a
// DW_TAG_compile_unit with the given (attribute, form) pairs.
func abbrevTable(attrs ...[2]uint64) []byte {
	e := (&enc{}).uleb(1).uleb(tagCompileUnit).u8(0)
	for _, a := range attrs {
		e.uleb(a[0]).uleb(a[1])
	}
	return e.u8(0, 0, 0).b
}

// cuV4 is a DWARF 4 compile unit (abbreviation table at 0, code 1) whose
// first entry's attribute values are entry.
func cuV4(entry []byte) []byte {
	return unit32((&enc{}).u16(4).u32(0).u8(8).uleb(1).u8(entry...).b)
}

// nullUnit is a DWARF 4 unit of size bytes in all whose first entry is a
// null entry: skipped by every reader, it moves what follows.
func nullUnit(size int) []byte {
	return unit32((&enc{}).u16(4).u32(0).u8(8).u8(0).pad(size - 4 - 8).b)
}

// lineV4 is a DWARF 4 line table with the given include directories and
// files (each file in directory 0, the comp_dir) and an empty program.
func lineV4(dirs []string, files []string) []byte {
	h := (&enc{}).u8(1, 1, 1).sleb(-5).u8(14, 13).u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)
	for _, d := range dirs {
		h.str(d)
	}
	h.u8(0)
	for _, f := range files {
		h.str(f).uleb(0).uleb(0).uleb(0)
	}
	h.u8(0)
	body := (&enc{}).u16(4).u32(uint32(len(h.b))).u8(h.b...).b
	return unit32(body)
}

// lineV5 is a DWARF 5 line table whose directory and file tables are given
// as encoded, after the standard fields; hlen < 0 makes header_length
// cover exactly the tables.
func lineV5(tables []byte, hlen int) []byte {
	h := (&enc{}).u8(1, 1, 1).sleb(-5).u8(14, 13).u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1).u8(tables...)
	if hlen < 0 {
		hlen = len(h.b)
	}
	body := (&enc{}).u16(5).u8(8, 0).u32(uint32(hlen)).u8(h.b...).b
	return unit32(body)
}

// v5Tables encodes DWARF 5 directory and file tables: paths as inline
// strings, each file's directory index as udata.
func v5Tables(dirs []string, files []string, fileDirs []uint64) []byte {
	e := (&enc{}).u8(1).uleb(lnctPath).uleb(dwarfform.String).uleb(uint64(len(dirs)))
	for _, d := range dirs {
		e.str(d)
	}
	e.u8(2).uleb(lnctPath).uleb(dwarfform.String).uleb(lnctDirIndex).uleb(dwarfform.Udata).uleb(uint64(len(files)))
	for i, f := range files {
		e.str(f).uleb(fileDirs[i])
	}
	return e.b
}

// withProgram appends n bytes of line-number program to a 32-bit line
// table (never decoded: only headers name files).
func withProgram(table []byte, n int) []byte {
	out := append(slices.Clone(table), make([]byte, n)...)
	binary.LittleEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// unitsWithCompDirs is one DWARF 4 compile unit per comp_dir, all with the
// line table at offset 0.
func unitsWithCompDirs(dirs []string) []byte {
	var info []byte
	for _, d := range dirs {
		info = append(info, cuV4((&enc{}).u32(0).str(d).b)...)
	}
	return info
}

// dwarfELF is a little-endian ELF64 executable holding the given sections
// (name, contents), in order, and nothing else.
func dwarfELF(secs ...any) []byte {
	var list []craftSec
	for i := 0; i < len(secs); i += 2 {
		list = append(list, craftSec{name: secs[i].(string), data: secs[i+1].([]byte)})
	}
	return craftELF(elf.ET_EXEC, list...)
}

// craftSec is one section of a crafted ELF file.
type craftSec struct {
	name  string
	data  []byte
	flags elf.SectionFlag
}

// compressed is a SHF_COMPRESSED section declaring size bytes once
// decompressed, with data after its header (zlib, or anything: the
// declared size is checked before data is read).
func compressed(name string, size uint64, data []byte) craftSec {
	hdr := (&enc{}).u32(uint32(elf.COMPRESS_ZLIB)).u32(0).u64(size).u64(1).b
	return craftSec{name: name, data: append(hdr, data...), flags: elf.SHF_COMPRESSED}
}

// zlibZeros is size zero bytes, zlib-compressed.
func zlibZeros(size int) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestSpeed)
	w.Write(make([]byte, size))
	w.Close()
	return b.Bytes()
}

// craftELF is a little-endian x86-64 ELF64 file of type typ holding the
// given sections, in order, then .shstrtab.
func craftELF(typ elf.Type, list ...craftSec) []byte {
	shstr := []byte{0}
	var names []uint32
	for _, s := range append(list, craftSec{name: ".shstrtab"}) {
		names = append(names, uint32(len(shstr)))
		shstr = append(append(shstr, s.name...), 0)
	}
	list = append(list, craftSec{name: ".shstrtab", data: shstr})
	body := make([]byte, 64)
	var offs []uint64
	for _, s := range list {
		offs = append(offs, uint64(len(body)))
		body = append(body, s.data...)
	}
	for len(body)%8 != 0 {
		body = append(body, 0)
	}
	shoff := uint64(len(body))
	e := &enc{b: body}
	e.pad(64) // the null section header
	for i, s := range list {
		st := uint32(elf.SHT_PROGBITS)
		if s.name == ".shstrtab" {
			st = uint32(elf.SHT_STRTAB)
		}
		e.u32(names[i]).u32(st).u64(uint64(s.flags)).u64(0).u64(offs[i]).u64(uint64(len(s.data))).u32(0).u32(0).u64(1).u64(0)
	}
	h := &enc{}
	h.u8(0x7f, 'E', 'L', 'F', 2, 1, 1).pad(9)
	h.u16(uint16(typ)).u16(uint16(elf.EM_X86_64)).u32(1).u64(0).u64(0).u64(shoff).u32(0)
	h.u16(64).u16(0).u16(0).u16(64).u16(uint16(len(list) + 1)).u16(uint16(len(list)))
	copy(e.b, h.b)
	return e.b
}

// listCrafted lists the line-table files of a crafted file as an upload
// does.
func listCrafted(file []byte) ([]dwarfFile, error) {
	return lineTableFiles(bytes.NewReader(file), int64(len(file)))
}

// referenceFiles lists them with debug/dwarf.
func referenceFiles(t *testing.T, file []byte) ([]dwarfFile, error) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return lineTableFilesDWARF(f, int64(len(file)))
}

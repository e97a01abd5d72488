// Command mkbins writes N copies of a small ELF binary, each with its own GNU
// build ID (the note's descriptor overwritten), so benchmarks and load tests
// get many distinct inputs without running N links.
package main

import (
	"crypto/sha256"
	"debug/elf"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

func main() {
	n := flag.Int("n", 1000, "copies to write")
	out := flag.String("out", "", "output directory")
	seed := flag.String("seed", "bench", "makes the IDs of one run differ from another's")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" {
		log.Fatal("usage: mkbins -n N -out DIR [-seed S] TEMPLATE")
	}
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	off, size, err := gnuNote(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for i := 0; i < *n; i++ {
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", *seed, i))
		copy(data[off:off+size], sum[:size])
		if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("bin%05d", i)), data, 0o755); err != nil {
			log.Fatal(err)
		}
	}
}

// gnuNote finds the file offset and length of the GNU build-ID descriptor.
func gnuNote(path string) (off, size int, err error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOTE {
			continue
		}
		b, err := s.Data()
		if err != nil {
			return 0, 0, err
		}
		for p := 0; p+12 <= len(b); {
			namesz := int(f.ByteOrder.Uint32(b[p:]))
			descsz := int(f.ByteOrder.Uint32(b[p+4:]))
			typ := f.ByteOrder.Uint32(b[p+8:])
			name := p + 12
			desc := name + (namesz+3)&^3
			if desc+descsz > len(b) {
				break
			}
			if typ == 3 && string(b[name:name+namesz]) == "GNU\x00" {
				return int(s.Offset) + desc, min(descsz, sha256.Size), nil
			}
			p = desc + (descsz+3)&^3
		}
	}
	return 0, 0, fmt.Errorf("%s has no GNU build-ID note", path)
}

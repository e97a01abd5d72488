// Command mkbins writes N copies of a small ELF binary, each with its own GNU
// build ID (the note's descriptor overwritten), so benchmarks and load tests
// get many distinct inputs without running N links.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfparse"
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

// gnuNote finds the file offset and length of the GNU build-ID descriptor
// (at most 32 bytes are rewritten: a SHA-256's worth).
func gnuNote(path string) (off, size int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	ef, err := elfparse.Parse(f, fi.Size())
	if err != nil {
		return 0, 0, err
	}
	notes, err := ef.Notes(f)
	if err != nil {
		return 0, 0, err
	}
	for _, n := range notes {
		if n.Type == 3 && n.Name == "GNU" && len(n.Desc) > 0 {
			return int(n.DescOff), min(len(n.Desc), sha256.Size), nil
		}
	}
	return 0, 0, fmt.Errorf("%s has no GNU build-ID note", path)
}

// Command codeclevels prints, for each ELF file given, how fast and how far
// each candidate setting compresses its uncompressed .debug_* sections, one
// goroutine, best of 7: the figures behind the zlib and zstd levels the
// extraction uses (docs/performance.md).
package main

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	kflate "github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

func main() {
	for _, path := range os.Args[1:] {
		fmt.Println(path)
		levels(path)
	}
}

func levels(path string) {
	f, err := elf.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	var secs [][]byte
	total := 0
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") && s.Flags&elf.SHF_COMPRESSED == 0 {
			d, err := s.Data()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			secs = append(secs, d)
			total += len(d)
		}
	}
	type cfg struct {
		name string
		mk   func(w io.Writer) io.WriteCloser
	}
	cfgs := []cfg{
		{"zlib1", func(w io.Writer) io.WriteCloser { z, _ := zlib.NewWriterLevel(w, 1); return z }},
		{"zlib2", func(w io.Writer) io.WriteCloser { z, _ := zlib.NewWriterLevel(w, 2); return z }},
		{"zlib-huff", func(w io.Writer) io.WriteCloser { z, _ := zlib.NewWriterLevel(w, kflate.HuffmanOnly); return z }},
		{"zstd-fastest", func(w io.Writer) io.WriteCloser {
			z, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(zstd.SpeedFastest))
			return z
		}},
		{"zstd-default", func(w io.Writer) io.WriteCloser {
			z, _ := zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20))
			return z
		}},
	}
	for _, c := range cfgs {
		best := time.Hour
		var out int
		for r := 0; r < 7; r++ {
			t0 := time.Now()
			out = 0
			for _, d := range secs {
				var b bytes.Buffer
				z := c.mk(&b)
				z.Write(d)
				z.Close()
				out += b.Len()
			}
			best = min(best, time.Since(t0))
		}
		fmt.Printf("  %-14s %8d -> %8d (%.2fx) %6.1f ms  %4.0f MB/s one core\n", c.name, total, out, float64(total)/float64(out), best.Seconds()*1000, float64(total)/best.Seconds()/1e6)
	}
}

package objhash

import (
	"os"
	"testing"
)

// BenchmarkFile hashes OBJHASH_BENCH_FILE (best kept in the page cache) read
// ahead, as File does, and through readRange's serial 128 KiB reads.
func BenchmarkFile(b *testing.B) {
	name := os.Getenv("OBJHASH_BENCH_FILE")
	if name == "" {
		b.Skip("OBJHASH_BENCH_FILE not set")
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	for name, hash := range map[string]func(*os.File, int64) error{
		"read-ahead": func(f *os.File, n int64) error { return fileRange(New(), f, 0, n) },
		"serial":     func(f *os.File, n int64) error { return readRange(New(), f, 0, n) },
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				if err := hash(f, st.Size()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package objhash

import (
	"fmt"
	"os"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// BenchmarkFileWindows times File's mapped hash pass with other window
// sizes and depths than the chosen ones (file_linux.go), over the file
// OBJHASH_BENCH_FILE names (a large one, in the page cache): smaller
// windows save resident memory and cost time, because every window is an
// madvise pair and a hand-off between goroutines. 256 MiB on the project's
// 2-core machines, 2026-12-01: 1 MiB 33-35 ms, 512 KiB 42-48 ms, 256 KiB
// 50-56 ms, 128 KiB 66-70 ms, each with 1 or 2 windows ahead.
func BenchmarkFileWindows(b *testing.B) {
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
	defer func(w, a int) { window, ahead = w, a }(window, ahead)
	for _, w := range []int{1 << 20, 512 << 10, 256 << 10, 128 << 10} {
		for _, a := range []int{1, 2} {
			b.Run(fmt.Sprintf("window=%dK/ahead=%d", w>>10, a), func(b *testing.B) {
				window, ahead = w, a
				b.SetBytes(st.Size())
				for b.Loop() {
					if err := fileRange(xxhash.New(), f, 0, st.Size()); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

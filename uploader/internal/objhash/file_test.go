package objhash

import (
	"bufio"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// writeRandom writes n pseudo-random bytes to a new file, 1 MiB at a time
// (the test must not hold the file in memory), and returns it open with the
// hash of its bytes.
func writeRandom(t *testing.T, n int64) (*os.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "obj")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	h := New()
	r := rand.New(rand.NewPCG(uint64(n), 7))
	buf := make([]byte, 1<<20)
	for left := n; left > 0; left -= int64(len(buf)) {
		b := buf[:min(int64(len(buf)), left)]
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	return f, Sum(h)
}

// File gives Sum of the bytes for sizes around the one-read/read-ahead
// boundary and around every chunk edge, whatever the file's offset.
func TestFileEqualsSum(t *testing.T) {
	const w = 1 << 20
	for _, n := range []int64{0, 1, 4095, w - 1, w, w + 1, 3*w + 4097, 5 * w} {
		f, want := writeRandom(t, n)
		got, err := File(f, n)
		if err != nil || got != want {
			t.Errorf("%d bytes: File = %q, %v; want %s", n, got, err, want)
		}
	}
}

// Range gives the hash of exactly the bytes asked for, from any offset
// and of any length, in one read or read ahead.
func TestRangeEqualsSum(t *testing.T) {
	const w = 1 << 20
	f, _ := writeRandom(t, 6*w)
	all, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 1, 4095, 4096, 4097, w + 123} {
		for _, n := range []int64{0, 1, w - 1, w, w + 1, 3*w + 4097, 5*w - off} {
			h := New()
			if err := Range(h, f, off, n); err != nil {
				t.Fatalf("Range(%d, %d): %v", off, n, err)
			}
			want := New()
			want.Write(all[off : off+n])
			if Sum(h) != Sum(want) {
				t.Errorf("Range(%d, %d) hashed other bytes", off, n)
			}
		}
	}
	if err := Range(New(), f, 5*w, 2*w); !errors.Is(err, ErrShrank) {
		t.Errorf("Range past the end: %v, want ErrShrank", err)
	}
}

// A file that holds fewer bytes than its stat said (cut short after it)
// is an error that says where it ended, not the hash of what was there:
// cut inside its last chunk, by whole chunks and to empty.
func TestFileShrank(t *testing.T) {
	const w = 1 << 20
	for _, c := range []struct {
		real, claimed int64
		says          string
	}{
		{3*w + 50, 3*w + 100, "at byte 3145778 of 3145828"},
		{3 * w, 5 * w, "at byte 3145728 of 5242880"},
		{0, 2 * w, "at byte 0 of"},
		{100, 200, "100 of 200"},
	} {
		f, _ := writeRandom(t, c.real)
		got, err := File(f, c.claimed)
		if !errors.Is(err, ErrShrank) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%d bytes hashed as %d: File = %q, %v; want ErrShrank saying %q", c.real, c.claimed, got, err, c.says)
		}
	}
}

// Hashing a file does not keep it in memory: 64 MiB hashed raise the
// process's peak resident set by a few chunks at most.
func TestFileMemoryStaysFlat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	f, want := writeRandom(t, 64<<20)
	before := peakRSS(t)
	if got, err := File(f, 64<<20); err != nil || got != want {
		t.Fatalf("File = %q, %v; want %s", got, err, want)
	}
	if grew := peakRSS(t) - before; grew > 16<<20 {
		t.Errorf("peak RSS grew by %d MiB hashing 64 MiB", grew>>20)
	}
}

func peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// The same for a range that does not start at a page boundary (an
// extraction's section).
func TestRangeMemoryStaysFlat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM is Linux's")
	}
	f, _ := writeRandom(t, 64<<20)
	before := peakRSS(t)
	if err := Range(New(), f, 12345, 60<<20); err != nil {
		t.Fatal(err)
	}
	if grew := peakRSS(t) - before; grew > 16<<20 {
		t.Errorf("peak RSS grew by %d MiB hashing 60 MiB from byte 12345", grew>>20)
	}
}

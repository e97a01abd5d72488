package upload

import (
	"bytes"
	"io"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// TestSpill: staged bytes read back the same below and above spillMax
// (memory, then an unlinked temp file), in odd-sized writes.
func TestSpill(t *testing.T) {
	for _, size := range []int{0, 100, spillMax, spillMax + 1, 3*spillMax + 7} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(i * 7)
		}
		s := &spill{}
		for off := 0; off < size; off += 4099 {
			s.Write(want[off:min(off+4099, size)])
		}
		if s.err != nil {
			t.Fatal(s.err)
		}
		if (s.f != nil) != (size > spillMax) {
			t.Errorf("size %d: in a file = %v", size, s.f != nil)
		}
		for range 2 { // every attempt reads from the start
			got, err := io.ReadAll(s.reader(int64(size)))
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d: read back %d bytes, err %v; equal %v", size, len(got), err, bytes.Equal(got, want))
			}
		}
		before := testbin.OpenFiles(t)
		s.close()
		if size > spillMax && testbin.OpenFiles(t) != before-1 {
			t.Errorf("size %d: close left the temp file open", size)
		}
	}
}

package elfdebug

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
)

// readCounter counts the reads that reach the file.
type readCounter struct {
	r     io.ReaderAt
	reads int
}

func (c *readCounter) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// A small binary's headers, notes, tables and DWARF are all near its ends:
// extracting it must not cost a read per section (a run over a thousand
// small binaries is bound by those reads).
func TestSmallBinaryIsReadOnce(t *testing.T) {
	b, err := os.ReadFile(testbin.C(t, "reads", "hi", "-g", "-O1"))
	if err != nil {
		t.Fatal(err)
	}
	c := &readCounter{r: bytes.NewReader(b)}
	if _, err := Extract(c, int64(len(b)), io.Discard); err != nil {
		t.Fatal(err)
	}
	if c.reads > 2 {
		t.Errorf("extracting a %d-byte binary made %d reads of it, want at most 2", len(b), c.reads)
	}
}

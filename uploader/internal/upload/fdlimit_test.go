package upload_test

import (
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// TestOutOfDescriptorsSaysWhatToDo: a file that fails because the process
// ran out of descriptors says to lower -j or raise ulimit -n, not just
// "too many open files" as if the file were at fault (review s14-r2,
// finding 3).
func TestOutOfDescriptorsSaysWhatToDo(t *testing.T) {
	got := upload.ReasonOf(&fs.PathError{Op: "open", Path: "d/bin1", Err: syscall.EMFILE})
	if !strings.HasPrefix(got, "open d/bin1: too many open files") || !strings.Contains(got, "lower -j or raise ulimit -n") {
		t.Errorf("reason: %s", got)
	}
	if got := upload.ReasonOf(&fs.PathError{Op: "open", Path: "d/bin1", Err: syscall.ENOENT}); got != "open d/bin1: no such file or directory" {
		t.Errorf("other errors changed: %s", got)
	}
}

package upload_test

import (
	"strings"
	"testing"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/testbin"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/upload"
)

// Legacy .zdebug_* DWARF (gcc -gz=zlib-gnu) is sent as it is, without the
// fixes the extraction makes to .debug_* sections: the report says so
// (review s15-r2, finding 1). Plain -gz gets no such warning.
func TestLegacyZdebugWarned(t *testing.T) {
	legacy := testbin.C(t, "zgnu", "z", "-g", "-gz=zlib-gnu")
	plain := testbin.C(t, "gz", "z", "-g", "-gz")
	got, failed := run(t, nil, []string{legacy, plain}, upload.Options{DryRun: true})
	if r := got[legacy+"#debuginfo"]; failed != 0 || r.Action != upload.DryRun || r.SymbolsOnly || !strings.Contains(r.Warning, "legacy .zdebug_* sections") {
		t.Errorf("-gz=zlib-gnu: %+v", r)
	}
	if r := got[plain+"#debuginfo"]; r.Warning != "" {
		t.Errorf("-gz: %+v", r)
	}
}

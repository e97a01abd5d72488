package upload

import (
	"os"
	"testing"
)

// FailMarkerWrites makes every journal marker write fail with err (a full
// disk) until t ends.
func FailMarkerWrites(t testing.TB, err error) {
	old := writeMarker
	writeMarker = func(*os.File, []byte) (int, error) { return 0, err }
	t.Cleanup(func() { writeMarker = old })
}

var ReasonOf = reasonOf

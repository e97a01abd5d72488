package store

import (
	"testing"
	"time"
)

// The wait before retry n doubles from Base, stops at Max, and keeps at
// least half of that (equal jitter): never an immediate retry, never more
// than the ceiling.
func TestBackoffDoublesWithinBounds(t *testing.T) {
	r := Retry{Attempts: 10, Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		full *= time.Millisecond
		for range 200 {
			d := r.backoff(attempt)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: waited %v, want within [%v, %v]", attempt, d, full/2, full)
			}
		}
	}
	if d := r.backoff(100); d < r.Max/2 || d > r.Max {
		t.Errorf("attempt 100 (shift overflow): %v", d)
	}
}

// Zero (or negative) fields of a Retry take the defaults; set ones stay, a
// single attempt included (--retries=0).
func TestRetryDefaultsFillOnlyUnsetFields(t *testing.T) {
	if got := (Retry{}).orDefault(); got != DefaultRetry {
		t.Errorf("zero Retry: %+v, want %+v", got, DefaultRetry)
	}
	if got := (Retry{Attempts: -1, Base: -1, Max: -1}).orDefault(); got != DefaultRetry {
		t.Errorf("negative Retry: %+v, want %+v", got, DefaultRetry)
	}
	set := Retry{Attempts: 1, Base: time.Nanosecond, Max: time.Nanosecond}
	if got := set.orDefault(); got != set {
		t.Errorf("%+v became %+v", set, got)
	}
}

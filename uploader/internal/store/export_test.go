package store

import "time"

// SlowReconnect makes gRPC wait d between reconnect attempts of cfg's
// connections (tests only).
func SlowReconnect(cfg Config, d time.Duration) Config {
	cfg.reconnectDelay = d
	return cfg
}

// CutOffAfter sets how long a stream must run to count as cut off by the
// store, until the test ends.
func CutOffAfter(t interface{ Cleanup(func()) }, d time.Duration) {
	old := cutOffAfter
	cutOffAfter = d
	t.Cleanup(func() { cutOffAfter = old })
}

// QuickKeepalive makes cfg's connections ping the store after d without a
// read, and give up on it d after that (tests only).
func QuickKeepalive(cfg Config, d time.Duration) Config {
	cfg.keepalive = d
	return cfg
}

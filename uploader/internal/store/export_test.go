package store

import "time"

// SlowReconnect makes gRPC wait d between reconnect attempts of cfg's
// connections (tests only).
func SlowReconnect(cfg Config, d time.Duration) Config {
	cfg.reconnectDelay = d
	return cfg
}

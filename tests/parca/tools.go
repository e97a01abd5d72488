//go:build tools

// Package parca pins the open-source Parca server used by the end-to-end
// tests. It is a module of its own so Parca's dependencies stay out of the
// uploader's go.mod.
package parca

import _ "github.com/parca-dev/parca/cmd/parca"

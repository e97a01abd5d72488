// Command debuginfo finds build IDs, extracts debug-only ELF files, builds
// source archives and uploads them to a Parca-compatible debuginfo store.
package main

import (
	"os"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/cli"
)

func main() {
	os.Exit(cli.Main(cli.OSEnv(), os.Args[1:]))
}

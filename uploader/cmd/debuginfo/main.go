// Command debuginfo finds build IDs, extracts debug-only ELF files, builds
// source archives and uploads them to a Parca-compatible debuginfo store.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/cli"
)

func main() {
	// DEBUGINFO_CPUPROFILE=FILE writes a pprof CPU profile of the run, for
	// performance reports (go tool pprof FILE).
	if path := os.Getenv("DEBUGINFO_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "debuginfo: DEBUGINFO_CPUPROFILE:", err)
			os.Exit(cli.ExitUsage)
		}
		code := cli.Main(cli.OSEnv(), os.Args[1:])
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(cli.Main(cli.OSEnv(), os.Args[1:]))
}

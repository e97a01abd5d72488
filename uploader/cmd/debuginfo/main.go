// Command debuginfo finds build IDs, extracts debug-only ELF files, builds
// source archives and uploads them to a Parca-compatible debuginfo store.
package main

import (
	"fmt"
	"os"
	"runtime"
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
	// DEBUGINFO_MEMPROFILE=FILE writes a pprof profile of every allocation
	// of the run (go tool pprof -sample_index=alloc_space FILE).
	if path := os.Getenv("DEBUGINFO_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 4096
		code := cli.Main(cli.OSEnv(), os.Args[1:])
		runtime.GC() // the profile holds what the last completed GC saw
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "debuginfo: DEBUGINFO_MEMPROFILE:", err)
			os.Exit(cli.ExitUsage)
		}
		os.Exit(code)
	}
	os.Exit(cli.Main(cli.OSEnv(), os.Args[1:]))
}

// Command symbolize-check asks a real Parca what it shows for a binary that
// was uploaded to it: for each named function it writes a profile at the
// function's entry (both address forms: ELF addresses with an empty mapping,
// and runtime addresses inside the text segment's mapping), queries it back,
// and checks the function name, its file:line against the binary's own line
// table, and (with -source-root) that the SOURCE report returns each file
// Parca names byte for byte. The Make and Bazel end-to-end scripts call it:
//
//	symbolize-check -parca ADDR -binary LINKED [-uploaded FILE] [-source-root DIR] [-parca-log LOG] FUNC...
//
// FUNC is a function symbol of LINKED, or SYMBOL=SHOWN when Parca shows
// another name (C++ methods: the bare DWARF name). Exit 0 when all is seen.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rules-debuginfo/rules_debuginfo/tests/parca/symbolize"
)

func main() {
	addr := flag.String("parca", os.Getenv("PARCA_ADDR"), "Parca's host:port (plaintext)")
	binary := flag.String("binary", "", "the linked, unstripped binary (addresses and line tables come from it)")
	uploaded := flag.String("uploaded", "", "the file uploaded, whose GNU build ID profiles carry (default: -binary; e.g. a stamped copy)")
	sourceRoot := flag.String("source-root", "", "check the SOURCE report of every file Parca names against the file under this directory")
	parcaLog := flag.String("parca-log", os.Getenv("PARCA_LOG"), "fail on any 'failed to symbolize' line in Parca's log (debug level)")
	flag.Parse()
	if *addr == "" || *binary == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: symbolize-check -parca ADDR -binary PATH [-uploaded PATH] [-source-root DIR] [-parca-log LOG] FUNC...")
		os.Exit(2)
	}
	if *uploaded == "" {
		*uploaded = *binary
	}
	if err := check(*addr, *binary, *uploaded, *sourceRoot, *parcaLog, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "symbolize-check %s: %v\n", *binary, err)
		os.Exit(1)
	}
}

func check(addr, binary, uploaded, sourceRoot, parcaLog string, funcs []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	logFrom := symbolize.LogSize(parcaLog)
	buildID, err := symbolize.GNUBuildID(uploaded)
	if err != nil {
		return err
	}
	conn, err := symbolize.Dial(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	c := symbolize.NewClients(conn)
	var problems []string
	for _, form := range symbolize.Forms {
		m, err := symbolize.MappingFor(binary, buildID, form)
		if err != nil {
			return err
		}
		var addrs []uint64
		var shown []string
		for _, f := range funcs {
			sym, name, ok := strings.Cut(f, "=")
			if !ok {
				name = sym
			}
			a, err := symbolize.FuncAddr(binary, sym)
			if err != nil {
				return err
			}
			addrs = append(addrs, a)
			shown = append(shown, name)
		}
		series := fmt.Sprintf("check-%s-%s-%d", buildID, form, time.Now().UnixNano())
		now := time.Now()
		var runtime []uint64
		for _, a := range addrs {
			runtime = append(runtime, m.Address(a))
		}
		if err := symbolize.Write(ctx, c, series, m, runtime, now); err != nil {
			return err
		}
		got, err := symbolize.Query(ctx, c, series, now)
		if err != nil {
			return err
		}
		for i, a := range addrs {
			frames := got[runtime[i]]
			file, line, err := symbolize.LineOf(binary, a)
			if err != nil {
				return err
			}
			if len(frames) != 1 || frames[0].Function != shown[i] || frames[0].Line != int64(line) ||
				filepath.Base(frames[0].File) != filepath.Base(file) {
				problems = append(problems, fmt.Sprintf("%s addresses: %s at %#x: Parca shows %v, want %s %s:%d",
					form, shown[i], runtime[i], frames, shown[i], file, line))
			}
		}
		if sourceRoot == "" {
			continue
		}
		for _, name := range symbolize.FileNames(got) {
			src, err := symbolize.Source(ctx, c, series, now, buildID, name)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			local, err := localFile(sourceRoot, name)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if src != string(local) {
				problems = append(problems, fmt.Sprintf("SOURCE report for %q (%d bytes) differs from the file (%d bytes)", name, len(src), len(local)))
			}
		}
	}
	if parcaLog != "" {
		fails, err := symbolize.SymbolizeFailures(parcaLog, logFrom)
		if err != nil {
			return err
		}
		problems = append(problems, fails...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "\n  "))
	}
	fmt.Printf("Parca shows %s with file:line%s in both address forms\n", strings.Join(funcs, ", "),
		map[bool]string{true: " and sources", false: ""}[sourceRoot != ""])
	return nil
}

// localFile reads the file Parca names: the name itself when it exists, else
// the longest tail of it found under root (DWARF names may carry a build
// directory such as Bazel's /proc/self/cwd).
func localFile(root, name string) ([]byte, error) {
	if filepath.IsAbs(name) {
		if b, err := os.ReadFile(name); err == nil {
			return b, nil
		}
	}
	parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
	for i := range parts {
		if b, err := os.ReadFile(filepath.Join(root, filepath.Join(parts[i:]...))); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s: not found under %s", name, root)
}

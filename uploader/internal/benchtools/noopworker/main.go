// Command noopworker stands in for the debuginfo tool in bench/bazel.sh to
// measure Bazel's own cost of the aspect's actions: as a persistent worker
// (or a one-shot process) it creates the files a request names as outputs
// (-o, --record, --sources-out, --receipt), empty, and answers success at
// once. A build with it is the floor of any aspect that keeps one
// extraction and one upload action per binary.
package main

import (
	"bufio"
	"os"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/workerpb"
)

func main() {
	args := os.Args[1:]
	if !slices.Contains(args, "--persistent_worker") {
		if err := touchOutputs(args); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		return
	}
	in := bufio.NewReader(os.Stdin)
	for {
		req := &workerpb.WorkRequest{}
		if err := protodelim.UnmarshalFrom(in, req); err != nil {
			return // stdin closed: Bazel is done with the worker
		}
		resp := &workerpb.WorkResponse{RequestId: req.GetRequestId()}
		if err := touchOutputs(req.GetArguments()); err != nil {
			resp.ExitCode, resp.Output = 1, err.Error()
		}
		if _, err := protodelim.MarshalTo(os.Stdout, resp); err != nil {
			os.Exit(1)
		}
	}
}

// touchOutputs creates the output files args name, expanding --flagfile=.
func touchOutputs(args []string) error {
	var all []string
	for _, a := range args {
		path, ok := strings.CutPrefix(a, "--flagfile=")
		if !ok {
			all = append(all, a)
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		all = append(all, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	for i, a := range all {
		switch a {
		case "-o", "--record", "--sources-out", "--receipt":
			if i+1 < len(all) && (a != "--record" || slices.Contains(all, "-o")) { // upload reads --record
				if err := os.WriteFile(all[i+1], nil, 0o644); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/capped"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/elfdebug"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/store"
	"github.com/rules-debuginfo/rules_debuginfo/uploader/internal/workerpb"
)

// persistentWorkerFlag is what Bazel appends to a worker's startup arguments.
const persistentWorkerFlag = "--persistent_worker"

// flagfilePrefix names a file of arguments, one a line (Bazel's "multiline"
// param file). Bazel passes it through to workers unexpanded, so one-shot
// runs and worker requests expand it here, the same way.
const flagfilePrefix = "--flagfile="

// maxFlagfile and maxRequest bound what a hostile flag file or request can
// make the worker hold in memory; real ones are a few hundred bytes.
const (
	maxFlagfile = 1 << 20
	maxRequest  = 16 << 20
)

// expandFlagfiles replaces each --flagfile=PATH with the lines of PATH.
func expandFlagfiles(args []string) ([]string, error) {
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, flagfilePrefix) }) {
		return args, nil
	}
	var out []string
	for _, a := range args {
		path, ok := strings.CutPrefix(a, flagfilePrefix)
		if !ok {
			out = append(out, a)
			continue
		}
		b, err := capped.ReadFile(path, maxFlagfile, "a flag file")
		if err != nil {
			return nil, fmt.Errorf("%s%s: %v", flagfilePrefix, path, err)
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			if strings.HasPrefix(line, flagfilePrefix) {
				return nil, fmt.Errorf("%s%s: flag files do not nest", flagfilePrefix, path)
			}
			if line != "" {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

// runWorker serves Bazel's proto worker protocol: length-delimited
// WorkRequests on stdin, WorkResponses on stdout, one request at a time,
// until stdin closes. args are the startup arguments ("upload
// --persistent_worker" or "extract --persistent_worker"); each request's
// arguments are appended to them and
// run through Main with an Env of its own, so a request's flags, output and
// store state never reach another's. Only the store connections persist.
func runWorker(env *Env, args []string) int {
	prefix := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == persistentWorkerFlag })
	if len(prefix) != 1 || prefix[0] != "upload" && prefix[0] != "extract" {
		say(env.Stderr, "debuginfo: %s is supported for 'debuginfo upload' and 'debuginfo extract' only (got %q)\n", persistentWorkerFlag, strings.Join(prefix, " "))
		return ExitUsage
	}
	pool := &store.Pool{Log: env.Stderr}
	compressors := &elfdebug.Compressors{}
	defer pool.Close()
	in := bufio.NewReader(env.Stdin)
	for {
		req := &workerpb.WorkRequest{}
		err := protodelim.UnmarshalOptions{MaxSize: maxRequest}.UnmarshalFrom(in, req)
		if errors.Is(err, io.EOF) {
			return ExitOK // Bazel closed stdin: shut down cleanly
		}
		if err != nil {
			say(env.Stderr, "debuginfo worker: reading a request: %v\n", err)
			return ExitFailed
		}
		resp := serveRequest(env, pool, compressors, prefix, req)
		if _, err := protodelim.MarshalTo(env.Stdout, resp); err != nil {
			say(env.Stderr, "debuginfo worker: writing a response: %v\n", err)
			return ExitFailed
		}
	}
}

// serveRequest runs one request; a failure (even a panic) becomes the
// response's exit code and output, never the worker's end.
func serveRequest(env *Env, pool *store.Pool, compressors *elfdebug.Compressors, prefix []string, req *workerpb.WorkRequest) (resp *workerpb.WorkResponse) {
	var out bytes.Buffer
	resp = &workerpb.WorkResponse{RequestId: req.GetRequestId()}
	if req.GetCancel() {
		resp.WasCancelled = true // singleplex: nothing runs concurrently to cancel
		return resp
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(&out, "debuginfo worker: internal error: %v\n%s", r, debug.Stack())
			resp.ExitCode = ExitFailed
		}
		resp.Output = out.String()
	}()
	if slices.Contains(req.GetArguments(), persistentWorkerFlag) {
		fmt.Fprintf(&out, "debuginfo worker: a request must not contain %s\n", persistentWorkerFlag)
		resp.ExitCode = ExitUsage
		return resp
	}
	reqEnv := &Env{
		Stdin:  strings.NewReader(""), // stdin is the protocol's, not the request's
		Stdout: &out,
		Stderr: &out,
		Getenv: env.Getenv,
		Pool:   pool,

		Compressors: compressors,
		InWorker:    true,
	}
	resp.ExitCode = int32(Main(reqEnv, append(slices.Clone(prefix), req.GetArguments()...)))
	return resp
}

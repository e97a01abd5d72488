#!/usr/bin/env bash
# Runs a pinned gazelle (built once from the Go module proxy, the version
# MODULE.bazel names) over the repository: it writes the uploader's
# BUILD.bazel files. `tools/gazelle.sh -mode=diff` (make lint) fails when they
# are stale. With bzlmod, `bazel run //:gazelle` does the same.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^bazel_dep(name = "gazelle", version = "\([^"]*\)".*/\1/p' MODULE.bazel)
bin=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/gazelle-v$version
if [ ! -x "$bin/gazelle" ]; then
  GOBIN=$bin GOWORK=off GOFLAGS=-mod=mod go install "github.com/bazelbuild/bazel-gazelle/cmd/gazelle@v$version" >&2
fi
exec "$bin/gazelle" -repo_root=. -go_prefix=github.com/rules-debuginfo/rules_debuginfo "$@"

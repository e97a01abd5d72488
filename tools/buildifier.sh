#!/usr/bin/env bash
# Runs a pinned buildifier (built once from the Go module proxy) over every
# Starlark file in the repository. Arguments go to buildifier.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.0.0-20260904073137-eaa4d125b423
bin=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/buildifier-$version
if [ ! -x "$bin/buildifier" ]; then
  GOBIN=$bin GOWORK=off GOFLAGS=-mod=mod go install "github.com/bazelbuild/buildtools/buildifier@$version" >&2
fi
mapfile -t files < <(git ls-files '*.bzl' '*.bazel' '*BUILD' '*WORKSPACE' '*.bzlmod')
[ ${#files[@]} -gt 0 ] || exit 0
exec "$bin/buildifier" "$@" "${files[@]}"

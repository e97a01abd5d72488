#!/usr/bin/env bash
# Prepares a copy of examples/bazel on this machine, offline except for the Go module proxy:
#   - builds the debuginfo CLI with `go build` (the prebuilt-binary toolchain path);
#   - fetches rules_go v0.34.0 and a Go 1.26 SDK as Go modules, and adapts the SDK to
#     rules_go 0.34 (see go_sdk below);
#   - writes WORKSPACE_DIR/local_paths.bzl (gitignored) with their absolute paths.
# Usage: tests/bazel/setup_examples.sh [WORKSPACE_DIR]   (default examples/bazel;
#        DEBUGINFO_TOOL=/path skips the go build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${RULES_DEBUGINFO_CACHE:-${HOME}/.cache/rules_debuginfo}"
MOCK_REPOS="${BAZEL_MOCK_REPOS:-/usr/src/bazel-bootstrap/mock_repos}"
SKYLIB="${BAZEL_SKYLIB:-/usr/share/bazel/tools/skylib}"
WS="${1:-${ROOT}/examples/bazel}"
GO_SDK_VERSION=1.26.8
RULES_GO_VERSION=v0.34.0
mkdir -p "${CACHE}/bin"

for d in "${MOCK_REPOS}/rules_cc" "${SKYLIB}"; do
  if [[ ! -d "$d" ]]; then
    echo "setup_examples: $d is missing (apt-get install bazel-bootstrap-source bazel-skylib)" >&2
    exit 1
  fi
done

tool="${DEBUGINFO_TOOL:-}"
if [[ -z "${tool}" ]]; then
  (cd "${ROOT}" && go build -o "${CACHE}/bin/debuginfo.tmp" ./uploader/cmd/debuginfo)
  # A content-addressed name: a new binary is a new path, so Bazel re-creates the
  # toolchain repository instead of keeping the old binary.
  sum="$(sha256sum "${CACHE}/bin/debuginfo.tmp" | cut -c1-16)"
  tool="${CACHE}/bin/debuginfo-${sum}"
  mv -f "${CACHE}/bin/debuginfo.tmp" "${tool}"
  # Keep the five newest.
  ls -t "${CACHE}"/bin/debuginfo-* 2>/dev/null | tail -n +6 | xargs -r rm -f
fi

# rules_go as a Go module: the module cache directory is a complete repository.
rules_go="$(cd "${CACHE}" && go mod download -json "github.com/bazelbuild/rules_go@${RULES_GO_VERSION}" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
[[ -f "${rules_go}/go/def.bzl" ]] || { echo "setup_examples: rules_go not found" >&2; exit 1; }

# A Go >= 1.24 SDK, so the e2e meets what rules_go users meet: every go_binary linked
# with -buildid=redacted gets the same GNU build ID. rules_go 0.34 (the newest for
# Bazel 4.2) predates Go 1.20; three adaptations make it work:
#   - it uses the SDK's precompiled std (pkg/linux_amd64/*.a), which Go >= 1.20 no
#     longer ships: install it with GODEBUG=installgoroot=all;
#   - its go_tool_binary compiles the builder without -p, which Go >= 1.20 needs: bin/go
#     becomes a wrapper adding -p main (the real go hides in bin/gofmt.go-real, a
#     name the SDK's `bin/gofmt*` glob brings into the sandbox);
#   - it runs `pack`, which Go >= 1.24 builds only on demand: build it.
# The toolchain module comes from the Go module proxy; the module cache strips exec bits.
sdk="${CACHE}/go${GO_SDK_VERSION}-rules_go0.34"
if [[ ! -f "${sdk}/.ready" ]]; then
  src="$(cd "${CACHE}" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go mod download -json "golang.org/toolchain@v0.0.1-go${GO_SDK_VERSION}.linux-amd64" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -x "${src}/bin/go" || -f "${src}/bin/go" ]] || { echo "setup_examples: Go ${GO_SDK_VERSION} not found" >&2; exit 1; }
  tmp="${sdk}.tmp"
  rm -rf "${tmp}" "${sdk}"
  cp -r "${src}" "${tmp}"
  chmod -R u+w "${tmp}"
  chmod +x "${tmp}"/bin/* "${tmp}"/pkg/tool/linux_amd64/*
  (cd "${tmp}" && GOROOT="${tmp}" GOTOOLCHAIN=local GOFLAGS= GODEBUG=installgoroot=all ./bin/go install std &&
    GOROOT="${tmp}" GOTOOLCHAIN=local GOFLAGS= ./bin/go build -o pkg/tool/linux_amd64/pack cmd/pack)
  mv "${tmp}/bin/go" "${tmp}/bin/gofmt.go-real"
  cat >"${tmp}/bin/go" <<'EOS'
#!/bin/sh
# rules_go 0.34's go_tool_binary compiles without -p, which Go >= 1.20 needs.
real="$(dirname "$0")/gofmt.go-real"
if [ "$1" = tool ] && [ "$2" = compile ]; then
  shift 2
  exec "$real" tool compile -p main "$@"
fi
exec "$real" "$@"
EOS
  chmod +x "${tmp}/bin/go"
  touch "${tmp}/.ready"
  mv "${tmp}" "${sdk}"
fi

cat >"${WS}/local_paths.bzl" <<EOT
"""Absolute paths of this machine, written by tests/bazel/setup_examples.sh. Not committed."""

LOCAL_PATHS = {
    "bazel_skylib": "${SKYLIB}",
    "debuginfo": "${tool}",
    "go_sdk": "${sdk}",
    "mock_repos": "${MOCK_REPOS}",
    "rules_go": "${rules_go}",
}
EOT
echo "setup_examples: wrote ${WS}/local_paths.bzl (debuginfo: ${tool})"

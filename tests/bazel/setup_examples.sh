#!/usr/bin/env bash
# Prepares examples/bazel on this machine, offline except for the Go module proxy:
#   - builds the debuginfo CLI with `go build` (the prebuilt-binary toolchain path);
#   - fetches rules_go v0.34.0 and the Go 1.19.13 SDK as Go modules;
#   - writes examples/bazel/local_paths.bzl (gitignored) with their absolute paths.
# Usage: tests/bazel/setup_examples.sh   (DEBUGINFO_TOOL=/path skips the go build)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${RULES_DEBUGINFO_CACHE:-${HOME}/.cache/rules_debuginfo}"
MOCK_REPOS="${BAZEL_MOCK_REPOS:-/usr/src/bazel-bootstrap/mock_repos}"
SKYLIB="${BAZEL_SKYLIB:-/usr/share/bazel/tools/skylib}"
GO_SDK_VERSION=1.19.13
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

# Go 1.19 SDK (rules_go 0.34 cannot use Go >= 1.20): the toolchain module, copied with
# its exec bits restored (the module cache strips them).
sdk="${CACHE}/go${GO_SDK_VERSION}"
if [[ ! -x "${sdk}/bin/go" ]]; then
  src="$(cd "${CACHE}" && GOTOOLCHAIN=local go mod download -json "golang.org/toolchain@v0.0.1-go${GO_SDK_VERSION}.linux-amd64" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "${sdk}.tmp"
  cp -r "${src}" "${sdk}.tmp"
  chmod -R u+w "${sdk}.tmp"
  chmod +x "${sdk}.tmp"/bin/* "${sdk}.tmp"/pkg/tool/linux_amd64/*
  mv "${sdk}.tmp" "${sdk}"
fi

cat >"${ROOT}/examples/bazel/local_paths.bzl" <<EOT
"""Absolute paths of this machine, written by tests/bazel/setup_examples.sh. Not committed."""

LOCAL_PATHS = {
    "bazel_skylib": "${SKYLIB}",
    "debuginfo": "${tool}",
    "go_sdk": "${sdk}",
    "mock_repos": "${MOCK_REPOS}",
    "rules_go": "${rules_go}",
}
EOT
echo "setup_examples: wrote examples/bazel/local_paths.bzl (debuginfo: ${tool})"

#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: compilers
# and binutils for test inputs, protoc for the stub check, Debian's Bazel for
# the rules' e2e, Go modules, and the pinned Parca server. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
pkgs=(gcc g++ binutils make git protobuf-compiler bazel-bootstrap bazel-bootstrap-source bazel-skylib time zstd python3 cmake ninja-build)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
go mod download
tests/parca/build.sh >/dev/null

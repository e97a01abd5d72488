#!/usr/bin/env bash
# Builds the pinned Parca server once per machine (the Go build cache makes
# later runs fast) and prints the binary's path.
set -euo pipefail
cd "$(dirname "$0")"
version=$(awk '$0 ~ /github.com\/parca-dev\/parca / {print $NF}' go.mod)
out=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/parca-$version/parca
if [ ! -x "$out" ]; then
  echo "building Parca $version (the first time takes several minutes)..." >&2
  GOWORK=off GOFLAGS=-mod=mod go build -o "$out.tmp" github.com/parca-dev/parca/cmd/parca >&2
  mv "$out.tmp" "$out"
fi
echo "$out"

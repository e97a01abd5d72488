#!/usr/bin/env bash
# Runs every benchmark area and prints one markdown table per area, with the
# machine's own baselines (objcopy, a minimal gRPC client, a plain Bazel
# build) measured in the same run. docs/performance.md records the latest.
set -euo pipefail
cd "$(dirname "$0")"
echo "## Benchmarks: $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | awk '{print $3}')"
echo
for area in elf.sh upload.sh sources.sh bazel.sh; do
  [ -x "$area" ] || continue
  bash "$area"
  echo
done

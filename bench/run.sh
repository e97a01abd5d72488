#!/usr/bin/env bash
# Runs every benchmark area and prints one markdown table per area, with the
# machine's own baselines (objcopy, a minimal gRPC client, a plain Bazel
# build) measured in the same run. docs/performance.md records the latest.
set -euo pipefail
cd "$(dirname "$0")"
echo "## Benchmarks: $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(go version | awk '{print $3}')"
echo
for area in elf.sh upload.sh compress.sh network.sh sources.sh bazel.sh; do
  if [ "$area" = network.sh ] && [ "$(id -u)" != 0 ]; then echo "(network.sh skipped: it needs root for unshare -n and tc)"; echo; continue; fi
  [ -x "$area" ] || continue
  bash "$area"
  echo
done

#!/usr/bin/env bash
# Sizes and costs of DWARF compression: extracts a C, a C++ and a Go binary
# (all built with -g here) with --compress-debug-sections=none|zlib|zstd and
# prints bytes and wall time for each, plus what gzip -6 over 1 MiB chunks
# (what gRPC's gzip compressor does to each Upload message) takes off each
# output, and its CPU time. Byte counts do not depend on machine load.
# Usage: bench/compress.sh   (needs go, gcc, g++, gzip)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
(cd "$root" && go build -o "$work/debuginfo" ./uploader/cmd/debuginfo)

source "$(dirname "$0")/inputs.sh"
build_inputs

now() { date +%s%N; }
echo "| input | input bytes | none | zlib | zstd | extract ms none / zlib / zstd | gzip-6 of none / zlib (bytes) | gzip ms none / zlib |"
echo "|---|---|---|---|---|---|---|---|"
for b in c cxx go; do
  declare -A size ms gz gzms
  for c in none zlib zstd; do
    t0=$(now); "$work/debuginfo" extract --compress-debug-sections=$c "$work/$b" -o "$work/$b.$c" >/dev/null; t1=$(now)
    size[$c]=$(stat -c %s "$work/$b.$c"); ms[$c]=$(( (t1 - t0) / 1000000 ))
  done
  for c in none zlib; do
    rm -rf "$work/chunks"; mkdir "$work/chunks"; split -b 1M "$work/$b.$c" "$work/chunks/x"
    t0=$(now); gz[$c]=$(for f in "$work"/chunks/x*; do gzip -6 -c "$f" | wc -c; done | awk '{s+=$1} END {print s}'); t1=$(now)
    gzms[$c]=$(( (t1 - t0) / 1000000 ))
  done
  echo "| $b | $(stat -c %s "$work/$b") | ${size[none]} | ${size[zlib]} ($(awk -v a="${size[zlib]}" -v b="${size[none]}" 'BEGIN{printf "%.2f", a/b}')) | ${size[zstd]} ($(awk -v a="${size[zstd]}" -v b="${size[none]}" 'BEGIN{printf "%.2f", a/b}')) | ${ms[none]} / ${ms[zlib]} / ${ms[zstd]} | ${gz[none]} / ${gz[zlib]} | ${gzms[none]} / ${gzms[zlib]} |"
done

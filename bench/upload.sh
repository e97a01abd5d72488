#!/usr/bin/env bash
# Upload benchmarks against the real Parca server over loopback: one 256 MB
# debug file beside the server's own ceiling, and 1,000 small binaries at
# several concurrencies, first run and re-run. Prints markdown tables.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build_tools
start_parca big "$work"
pids+=("$PARCA_PID")

# A gcc binary with 256 MB of incompressible DWARF-like payload.
printf 'int main(void){return 0;}\n' >"$work/big.c"
gcc -g -o "$work/big" "$work/big.c"
head -c $((256 << 20)) /dev/urandom >"$work/junk"
objcopy --add-section .debug_junk="$work/junk" --set-section-flags .debug_junk=readonly "$work/big" "$work/big.bin"
rm "$work/junk"
"$work/debuginfo" extract --compress-debug-sections=none "$work/big.bin" -o "$work/big.debug" >/dev/null
size=$(stat -c %s "$work/big.debug")

read -r csecs cmbs < <("$work/ceiling" -addr "$PARCA_ADDR" -file "$work/big.debug")
timed ours "$work/debuginfo" upload --insecure --store-address="$PARCA_ADDR" --no-extract --build-id=b1b1b1b1b1b1b1b1 "$work/big.debug"
read -r osecs orss <<<"$ours"
timed full "$work/debuginfo" upload --compress-debug-sections=none --insecure --store-address="$PARCA_ADDR" "$work/big.bin"
read -r fsecs frss <<<"$full"

echo "### Upload of one $((size >> 20)) MiB debug file to Parca over loopback"
echo
echo "| client | seconds | MB/s | % of ceiling | peak RSS |"
echo "|---|---:|---:|---:|---:|"
echo "| minimal gRPC client, 1 MiB chunks from memory (ceiling) | $csecs | $cmbs | 100% | (holds the file) |"
o=$(mb_per_s "$size" "$osecs")
echo "| debuginfo upload --no-extract | $osecs | $o | $(awk -v a="$o" -v b="$cmbs" 'BEGIN{printf "%.0f%%", 100*a/b}') | $((orss / 1024)) MB |"
f=$(mb_per_s "$size" "$fsecs")
echo "| debuginfo upload (extract + hash + upload) | $fsecs | $f | $(awk -v a="$f" -v b="$cmbs" 'BEGIN{printf "%.0f%%", 100*a/b}') | $((frss / 1024)) MB |"
echo

# Many small files: a fresh set of build IDs per concurrency level.
gcc -g -O1 -o "$work/small" "$root/examples/demo/src/main.c" "$root/examples/demo/src/greet/greet.c" -I"$root/examples/demo/include"
echo "### 1,000 small binaries to Parca"
echo
echo "| -j | first run (s) | files/s | re-run, all skipped (s) | peak RSS |"
echo "|---:|---:|---:|---:|---:|"
for j in 1 2 4 8 16; do
  "$work/mkbins" -n 1000 -seed "j$j-$RANDOM" -out "$work/many-$j" "$work/small"
  timed first "$work/debuginfo" upload --insecure --store-address="$PARCA_ADDR" -j "$j" "$work/many-$j"
  read -r s1 r1 <<<"$first"
  grep -q '1000 uploaded' "$work/err" || { echo "first run did not upload all 1000:" >&2; tail -3 "$work/err" >&2; exit 1; }
  timed again "$work/debuginfo" upload --insecure --store-address="$PARCA_ADDR" -j "$j" "$work/many-$j"
  read -r s2 _ <<<"$again"
  grep -q '1000 skipped' "$work/err" || { echo "re-run did not skip all 1000" >&2; exit 1; }
  echo "| $j | $s1 | $(awk -v s="$s1" 'BEGIN{printf "%.0f", 1000/s}') | $s2 | $((r1 / 1024)) MB |"
  rm -rf "$work/many-$j"
done

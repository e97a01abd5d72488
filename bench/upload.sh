#!/usr/bin/env bash
# Upload benchmarks against the real Parca server over loopback (issue 18):
# one 268 MB ELF with a 256 MiB debug section, every client side by side in
# one run (best of BENCH_N, process wall time and peak RSS, forced uploads),
# then 1,000 small binaries at several concurrencies, first run and re-run.
# parca-debuginfo is measured only when PARCA_DEBUGINFO names its binary: it
# is not installable here, and this script never builds or fetches it.
# The machine may be shared: compare ratios within one run, not across runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
build_tools
start_parca big "$work"
pids+=("$PARCA_PID")
n=${BENCH_N:-5}

# A gcc binary with 256 MiB of incompressible DWARF-like payload.
printf 'int main(void){return 0;}\n' >"$work/big.c"
gcc -g -o "$work/big" "$work/big.c"
head -c $((256 << 20)) /dev/urandom >"$work/junk"
objcopy --add-section .debug_junk="$work/junk" --set-section-flags .debug_junk=readonly "$work/big" "$work/big.bin"
rm "$work/junk"
"$work/debuginfo" extract --compress-debug-sections=none "$work/big.bin" -o "$work/big.debug" >/dev/null
size=$(stat -c %s "$work/big.bin")

# best VAR CMD...: best wall time of n runs of CMD; VAR="seconds peak_rss_kb"
# (the peak RSS is the largest of the runs).
best() {
  local _var=$1 _i _t _r _bs="" _br=0; shift
  for ((_i = 0; _i < n; _i++)); do
    timed _one "$@"
    read -r _t _r <<<"$_one"
    if [ -z "$_bs" ] || awk -v a="$_t" -v b="$_bs" 'BEGIN{exit !(a < b)}'; then _bs=$_t; fi
    if ((_r > _br)); then _br=$_r; fi
  done
  printf -v "$_var" '%s %s' "$_bs" "$_br"
}
up=("$work/debuginfo" upload --insecure --store-address="$PARCA_ADDR" --force)
rows=()
row() { # row LABEL RESULT
  local s r; read -r s r <<<"$2"
  rows+=("$1|$s|$r")
}
best ceil "$work/ceiling" -addr "$PARCA_ADDR" -file "$work/big.debug"
row "minimal gRPC client, bytes already in memory (ceiling; sends the uncompressed debug file)" "$ceil"
# The ceiling's own timer around the send alone (no process start or exit,
# no mapping): a stricter bar than its process wall time.
send=""
for ((i = 0; i < n; i++)); do
  read -r t _ < <("$work/ceiling" -addr "$PARCA_ADDR" -file "$work/big.debug")
  if [ -z "$send" ] || awk -v a="$t" -v b="$send" 'BEGIN{exit !(a < b)}'; then send=$t; fi
done
best r "${up[@]}" --compress-debug-sections=none "$work/big.bin"
row "\`debuginfo upload --compress-debug-sections=none\` (extract)" "$r"
best r "${up[@]}" --compress-debug-sections=none --no-extract --build-id=b1b1b1b1b1b1b1b1 "$work/big.debug"
row "\`debuginfo upload --no-extract\` (the same debug file)" "$r"
best r "${up[@]}" "$work/big.bin"
row "\`debuginfo upload\` (extract, default zlib; random payload: worst case)" "$r"
if [ -n "${PARCA_DEBUGINFO:-}" ]; then
  best r "$PARCA_DEBUGINFO" upload --insecure --store-address="$PARCA_ADDR" --force "$work/big.bin"
  row "parca-debuginfo (extract)" "$r"
  best r "$PARCA_DEBUGINFO" upload --insecure --store-address="$PARCA_ADDR" --force --no-extract --build-id=b2b2b2b2b2b2b2b2 "$work/big.debug"
  row "parca-debuginfo \`--no-extract\`" "$r"
fi

read -r csecs _ <<<"$ceil"
echo "### Upload of a $((size / 1000000)) MB ELF ($(($(stat -c %s "$work/big.debug") >> 20)) MiB debug file) to Parca over loopback, best of $n"
echo
echo "| client | seconds | speed vs ceiling | vs its send phase ($send s) | peak RSS |"
echo "|---|---:|---:|---:|---:|"
for x in "${rows[@]}"; do
  IFS='|' read -r label s r <<<"$x"
  echo "| $label | $s | $(awk -v c="$csecs" -v s="$s" 'BEGIN{printf "%.0f%%", 100*c/s}') | $(awk -v c="$send" -v s="$s" 'BEGIN{printf "%.0f%%", 100*c/s}') | $((r / 1024)) MB |"
done
echo

[ "${BENCH_UPLOAD_MANY:-1}" = 1 ] || exit 0
# Many small files: a fresh set of build IDs per concurrency level.
gcc -g -O1 -o "$work/small" "$root/examples/demo/src/main.c" "$root/examples/demo/src/greet/greet.c" -I"$root/examples/demo/include"
echo "### 1,000 small binaries to Parca"
echo
echo "| -j | first run (s) | files/s | re-run, all skipped (s) | peak RSS |"
echo "|---:|---:|---:|---:|---:|"
for j in ${BENCH_JOBS:-1 2 4 8 16}; do
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

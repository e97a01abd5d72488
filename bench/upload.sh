#!/usr/bin/env bash
# Upload benchmarks against the real Parca server over loopback (issue 18):
# one 268 MB ELF with a 256 MiB debug section, every client side by side in
# one run (BENCH_N rounds of every client in turn; best and median process
# wall time, peak RSS; forced uploads),
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
# The same with 256 MiB of real DWARF (this tool's own .debug_info, over and
# over): what zlib and zstd compress, so their compressors and spools are
# busy for the whole file, the memory worst case.
objcopy --decompress-debug-sections --dump-section .debug_info="$work/dwarf" "$work/debuginfo" "$work/dwarf.elf"
while (($(stat -c %s "$work/junk" 2>/dev/null || echo 0) < (256 << 20))); do cat "$work/dwarf" >>"$work/junk"; done
truncate -s $((256 << 20)) "$work/junk"
objcopy --add-section .debug_junk="$work/junk" --set-section-flags .debug_junk=readonly "$work/big" "$work/dwarf.bin"
rm "$work/junk" "$work/dwarf" "$work/dwarf.elf"
"$work/debuginfo" extract --compress-debug-sections=none "$work/big.bin" -o "$work/big.debug" >/dev/null
# Copied again in 64 MiB writes, as objcopy wrote big.bin: the page cache then
# holds it in large pieces, which the ceiling maps in 4x faster than a file
# written in small pieces (docs/performance.md, "The hash pass").
dd if="$work/big.debug" of="$work/big.debug.tmp" bs=64M status=none && mv "$work/big.debug.tmp" "$work/big.debug"
size=$(stat -c %s "$work/big.bin")

up="$work/debuginfo upload --insecure --store-address=$PARCA_ADDR --force"
labels=() cmds=()
client() { labels+=("$1"); cmds+=("$2"); }
client "minimal gRPC client, bytes already in memory (ceiling; sends the uncompressed debug file)" \
  "$work/ceiling -addr $PARCA_ADDR -file $work/big.debug"
client "\`debuginfo upload --compress-debug-sections=none\` (extract)" "$up --compress-debug-sections=none $work/big.bin"
client "\`debuginfo upload --no-extract\` (the same debug file)" "$up --no-extract --build-id=b1b1b1b1b1b1b1b1 $work/big.debug"
client "\`debuginfo upload\` (extract, default zlib; random payload: worst case for time)" "$up $work/big.bin"
client "\`debuginfo upload\` (extract, default zlib; 256 MiB of real DWARF, compressed: worst case for memory)" "$up $work/dwarf.bin"
client "\`debuginfo upload --compress-debug-sections=zstd\` (the same real DWARF)" "$up --compress-debug-sections=zstd $work/dwarf.bin"
if [ -n "${PARCA_DEBUGINFO:-}" ]; then
  client "parca-debuginfo (extract)" "$PARCA_DEBUGINFO upload --insecure --store-address=$PARCA_ADDR --force $work/big.bin"
  client "parca-debuginfo \`--no-extract\`" \
    "$PARCA_DEBUGINFO upload --insecure --store-address=$PARCA_ADDR --force --no-extract --build-id=b2b2b2b2b2b2b2b2 $work/big.debug"
fi

# n rounds, each client once per round in turn, Parca's bucket emptied and
# synced before every run: each upload adds 256 MiB of dirty pages, and
# clients run after them (as in a client-by-client order) paid for their
# writeback. Per client: best seconds and largest peak RSS; for the ceiling
# also the best of its own timer around the send alone (no process start or
# exit, no mapping): a stricter bar than its process wall time.
best=() rss=() all=() send=""
for ((i = 0; i < n; i++)); do
  for k in "${!cmds[@]}"; do
    rm -rf "${PARCA_BUCKET:?}"/*
    sync
    # shellcheck disable=SC2086 # each command is words without spaces in them
    timed one ${cmds[k]}
    read -r t r <<<"$one"
    all[k]="${all[k]:-} $t"
    if [ -z "${best[k]:-}" ] || awk -v a="$t" -v b="${best[k]}" 'BEGIN{exit !(a < b)}'; then best[k]=$t; fi
    if ((r > ${rss[k]:-0})); then rss[k]=$r; fi
    if ((k == 0)); then
      read -r t _ <"$work/out"
      if [ -z "$send" ] || awk -v a="$t" -v b="$send" 'BEGIN{exit !(a < b)}'; then send=$t; fi
    fi
  done
done
median() { tr ' ' '\n' <<<"$1" | sed '/^$/d' | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
rows=()
for k in "${!cmds[@]}"; do rows+=("${labels[k]}|${best[k]}|$(median "${all[k]}")|${rss[k]}"); done
csecs=${best[0]} cmed=$(median "${all[0]}")
echo "### Upload of a $((size / 1000000)) MB ELF ($(($(stat -c %s "$work/big.debug") >> 20)) MiB debug file) to Parca over loopback, $n rounds"
echo
echo "| client | best (s) | speed vs ceiling | vs its send phase ($send s) | median (s) | speed vs ceiling, medians | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
pct() { awk -v c="$1" -v s="$2" 'BEGIN{printf "%.0f%%", 100*c/s}'; }
for x in "${rows[@]}"; do
  IFS='|' read -r label s m r <<<"$x"
  echo "| $label | $s | $(pct "$csecs" "$s") | $(pct "$send" "$s") | $m | $(pct "$cmed" "$m") | $((r / 1024)) MiB |"
done
echo

[ "${BENCH_UPLOAD_MANY:-1}" = 1 ] || exit 0
# The last large upload's 256 MiB are still being written back: the first
# set of small files paid for it (344 files/s against 444-511 after).
rm -rf "${PARCA_BUCKET:?}"/*
sync
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
  echo "| $j | $s1 | $(awk -v s="$s1" 'BEGIN{printf "%.0f", 1000/s}') | $s2 | $((r1 / 1024)) MiB |"
  rm -rf "$work/many-$j"
done

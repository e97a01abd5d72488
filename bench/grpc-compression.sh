#!/usr/bin/env bash
# What gRPC gzip (--grpc-compression) saves and costs on top of DWARF
# section compression: uploads a C, a C++ and two Go binaries (a small one
# and the debuginfo tool itself), built with -g here, to a real Parca on
# loopback, with --compress-debug-sections=none|zlib x
# --grpc-compression=none|gzip. Runs in a network namespace of its own, so
# the loopback byte count (both directions, headers included) is this
# upload's alone. Prints bytes on the wire, client and Parca CPU seconds and
# wall seconds (best of $REPS), and the ratio gzip/none of each. Bytes do not
# depend on machine load; times do, so read the ratios.
# Usage: bench/grpc-compression.sh   (needs root for unshare -n; go, gcc, g++)
set -euo pipefail
if [ -z "${IN_NETNS:-}" ]; then
  exec env IN_NETNS=1 unshare -n "$0" "$@"
fi
ip link set lo up
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/inputs.sh"
REPS=${REPS:-3}
(cd "$root" && go build -o "$work/debuginfo" ./uploader/cmd/debuginfo)
build_inputs >/dev/null
cp "$work/debuginfo" "$work/go-large"
start_parca bench "$work"
pids+=("$PARCA_PID")

lo_bytes() { awk '$1 == "lo:" {print $2}' /proc/net/dev; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run INPUT SECTIONS GRPC: sets bytes, ccpu, pcpu, wall (best of REPS).
run() {
  local b0 c0 t
  bytes=0 ccpu=9e9 pcpu=9e9 wall=9e9
  for _ in $(seq "$REPS"); do
    rm -rf "${PARCA_BUCKET:?}"/*
    b0=$(lo_bytes) c0=$(cpu_ticks "$PARCA_PID")
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$work/debuginfo" upload --insecure --store-address="$PARCA_ADDR" \
      --compress-debug-sections="$2" --grpc-compression="$3" "$work/$1" >"$work/out" 2>&1 || { cat "$work/out" >&2; return 1; }
    grep -q uploaded "$work/out" || { echo "not uploaded:" >&2; cat "$work/out" >&2; return 1; }
    bytes=$(($(lo_bytes) - b0))
    t=$(tail -n 1 "$work/time")
    read -r wall ccpu pcpu < <(awk -v t="$t" -v w="$wall" -v c="$ccpu" -v p="$pcpu" -v pt="$(( $(cpu_ticks "$PARCA_PID") - c0 ))" -v hz="$hz" \
      'BEGIN { split(t, a, " "); cw = a[1]; cc = a[2] + a[3]; cp = pt / hz
               printf "%s %s %s\n", (cw < w ? cw : w), (cc < c ? cc : c), (cp < p ? cp : p) }')
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2f", a / b }'; }

echo "| input | sections | wire bytes none / gzip (ratio) | client CPU s none / gzip (ratio) | Parca CPU s none / gzip (ratio) | wall s none / gzip (ratio) |"
echo "|---|---|---|---|---|---|"
for b in c cxx go go-large; do
  for s in none zlib; do
    run "$b" "$s" none
    nb=$bytes nc=$ccpu np=$pcpu nw=$wall
    run "$b" "$s" gzip
    echo "| $b ($(stat -c %s "$work/$b") B) | $s | $nb / $bytes ($(ratio "$bytes" "$nb")) | $nc / $ccpu ($(ratio "$ccpu" "$nc")) | $np / $pcpu ($(ratio "$pcpu" "$np")) | $nw / $wall ($(ratio "$wall" "$nw")) |"
  done
done

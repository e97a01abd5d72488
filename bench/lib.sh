# Shared helpers for the bench scripts (sourced, not run).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build_tools() {
  (cd "$root" && go build -o "$work/debuginfo" ./uploader/cmd/debuginfo &&
    go build -o "$work/ceiling" ./uploader/internal/benchtools/ceiling &&
    go build -o "$work/mkbins" ./uploader/internal/benchtools/mkbins)
}

source "$root/tests/parca/lib.sh"
# Parca as it is deployed: at its default log level. The tests run it at
# debug (the only level at which it reports failed symbolization), which
# made a first upload of 1,000 small binaries 5-30% slower (2026-12-02).
export PARCA_LOG_LEVEL=${PARCA_LOG_LEVEL:-info}

# timed OUTVAR CMD...: runs CMD, sets OUTVAR to "seconds peak_rss_kb", the
# seconds to the millisecond (/usr/bin/time's own figure has 10 ms steps,
# too coarse to tell 95% of a 0.4 s run from 100%).
timed() {
  local var=$1 t0 t1; shift
  t0=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  t1=$EPOCHREALTIME
  printf -v "$var" '%s %s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b - a}')" "$(tail -n 1 "$work/time")"
}

mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", b / s / 1e6 }'; }

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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_parca NAME: a Parca server with its own bucket; sets PARCA_ADDR.
start_parca() {
  local dir=$work/parca-$1 port bin
  bin=$("$root/tests/parca/build.sh")
  port=$(free_port)
  mkdir -p "$dir/bucket"
  printf 'object_storage:\n  bucket:\n    type: FILESYSTEM\n    config:\n      directory: %s\n' "$dir/bucket" >"$dir/parca.yaml"
  (cd "$dir" && exec "$bin" --config-path="$dir/parca.yaml" --http-address="127.0.0.1:$port" \
    --debuginfod-upstream-servers= --http-read-timeout=10m --http-write-timeout=10m >"$dir/log" 2>&1) &
  pids+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { PARCA_ADDR=127.0.0.1:$port; PARCA_BUCKET=$dir/bucket; return; }
    sleep 0.1
  done
  echo "Parca did not start; log:" >&2; cat "$dir/log" >&2; return 1
}

# timed OUTVAR CMD...: runs CMD, sets OUTVAR to "seconds peak_rss_kb".
timed() {
  local var=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; return 1; }
  printf -v "$var" '%s' "$(tail -n 1 "$work/time")"
}

mb_per_s() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.0f", b / s / 1e6 }'; }

# Starts the pinned Parca server for scripts (sourced, not run): start_parca
# NAME DIR runs one on a free 127.0.0.1 port with a filesystem bucket under
# DIR and sets PARCA_ADDR, PARCA_BUCKET, PARCA_LOG and PARCA_PID. The caller
# stops it. It logs at debug level: the only level at which Parca says that it
# failed to symbolize (tests/parca/cmd/symbolize-check reads PARCA_LOG).
# PARCA_PORT=N picks the port instead (to restart a killed server on the same
# address and bucket).
start_parca() {
  local name=$1 dir=$2/parca-$1 port bin
  bin=$("$(dirname "${BASH_SOURCE[0]}")/build.sh")
  port=${PARCA_PORT:-}
  [ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/bucket" "$dir/data" "$dir/cache" # Parca does not create its cache dir
  printf 'object_storage:\n  bucket:\n    type: FILESYSTEM\n    config:\n      directory: %s\n' "$dir/bucket" >"$dir/parca.yaml"
  (cd "$dir" && exec "$bin" --config-path="$dir/parca.yaml" --http-address="127.0.0.1:$port" \
    --storage-path="$dir/data" --debuginfo-cache-dir="$dir/cache" --debuginfod-upstream-servers= \
    --log-level="${PARCA_LOG_LEVEL:-debug}" --http-read-timeout=10m --http-write-timeout=10m >"$dir/log" 2>&1) &
  PARCA_PID=$!
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      PARCA_ADDR=127.0.0.1:$port
      PARCA_BUCKET=$dir/bucket
      PARCA_LOG=$dir/log
      return 0
    fi
    sleep 0.1
  done
  echo "Parca did not start; its log:" >&2
  cat "$dir/log" >&2
  return 1
}

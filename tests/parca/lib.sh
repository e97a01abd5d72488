# Starts the pinned Parca server for scripts (sourced, not run): start_parca
# NAME DIR runs one on a free 127.0.0.1 port with a filesystem bucket under
# DIR and sets PARCA_ADDR, PARCA_BUCKET and PARCA_PID. The caller stops it.
# PARCA_PORT=N picks the port instead (to restart a killed server on the same
# address and bucket).
start_parca() {
  local name=$1 dir=$2/parca-$1 port bin
  bin=$("$(dirname "${BASH_SOURCE[0]}")/build.sh")
  port=${PARCA_PORT:-}
  [ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$dir/bucket" "$dir/data"
  printf 'object_storage:\n  bucket:\n    type: FILESYSTEM\n    config:\n      directory: %s\n' "$dir/bucket" >"$dir/parca.yaml"
  (cd "$dir" && exec "$bin" --config-path="$dir/parca.yaml" --http-address="127.0.0.1:$port" \
    --storage-path="$dir/data" --debuginfod-upstream-servers= \
    --http-read-timeout=10m --http-write-timeout=10m >"$dir/log" 2>&1) &
  PARCA_PID=$!
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      PARCA_ADDR=127.0.0.1:$port
      PARCA_BUCKET=$dir/bucket
      return 0
    fi
    sleep 0.1
  done
  echo "Parca did not start; its log:" >&2
  cat "$dir/log" >&2
  return 1
}

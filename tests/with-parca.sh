#!/usr/bin/env bash
# Runs a command with a fresh Parca server on 127.0.0.1, its address in
# PARCA_ADDR, stops the server afterwards and exits with the command's
# status: tests/with-parca.sh CMD...
set -euo pipefail
source "$(dirname "$0")/parca/lib.sh"
tmp=$(mktemp -d)
stop() {
  kill "$PARCA_PID" 2>/dev/null || true
  wait "$PARCA_PID" 2>/dev/null || true # a killed server's status is not ours
  rm -rf "$tmp"
}
trap stop EXIT
start_parca run "$tmp"
export PARCA_ADDR PARCA_BUCKET
rc=0
"$@" || rc=$?
exit "$rc"

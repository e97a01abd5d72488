#!/usr/bin/env bash
# Runs a command with a fresh Parca server on 127.0.0.1, its address in
# PARCA_ADDR, and stops the server afterwards: tests/with-parca.sh CMD...
set -euo pipefail
source "$(dirname "$0")/parca/lib.sh"
tmp=$(mktemp -d)
start_parca run "$tmp"
trap 'kill "$PARCA_PID" 2>/dev/null; wait "$PARCA_PID" 2>/dev/null; rm -rf "$tmp"' EXIT
export PARCA_ADDR
"$@"

#!/usr/bin/env bash
# Runs every Go fuzz target for a bounded time each (default 10s). Minimizing
# an interesting input is capped too: uncapped, it can eat the whole budget
# (the fuzzer then reports 0 execs/s, which looks like a hang but is not).
# The committed seed corpora also run in plain `go test`.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-10s}
status=0
while IFS= read -r line; do
  file=${line%%:*}
  name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*).*/\1/' <<<"$line")
  pkg=./$(dirname "$file")
  echo "fuzz $pkg $name for $time"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$time" -fuzzminimizetime=2s "$pkg" >/tmp/fuzz.$$ 2>&1 || { cat /tmp/fuzz.$$; status=1; }
done < <(git grep -n -E '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' -- '*_test.go')
rm -f /tmp/fuzz.$$
exit $status

#!/usr/bin/env bash
# Mutation testing with gremlins: for each package, gremlins makes small
# plausible bugs (flipped comparisons, off-by-ones, negated conditions) one at
# a time and runs the package's tests; a mutant the tests still pass on
# "lived". Prints one row per package and the survivors, and fails when a
# package's efficacy (killed / (killed + lived)) is under MUTATION_MIN
# (default 90). Usage: make mutation [PKGS="store upload"] (default: the
# core packages; the Makefile pins the gremlins version). See docs/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
GREMLINS_VERSION=${GREMLINS_VERSION:?run it through make mutation, which pins the gremlins version}
min=${MUTATION_MIN:-90}
bin=$PWD/.cache/gremlins-$GREMLINS_VERSION
if [ ! -x "$bin/gremlins" ]; then
  GOBIN=$bin go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"
fi
pkgs=("$@")
if [ ${#pkgs[@]} -eq 0 ]; then
  pkgs=(creds buildid store upload elfdebug sources)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
rows=() survivors=() failed=0
for p in "${pkgs[@]}"; do
  dir=$p
  [ -d "$dir" ] || dir=uploader/internal/$p
  start=$SECONDS
  # gremlins must run from the module root; a test run that exceeds its
  # timeout (coverage time times the coefficient) counts as TIMED OUT, not lived.
  "$bin/gremlins" unleash --workers "${MUTATION_WORKERS:-1}" --timeout-coefficient "${MUTATION_TIMEOUT_COEFFICIENT:-10}" --output "$out/r.json" "./$dir" >"$out/log" 2>&1 || {
    cat "$out/log" >&2; echo "gremlins failed on $dir" >&2; exit 1; }
  secs=$((SECONDS - start))
  if [ -n "${MUTATION_LOGS:-}" ]; then mkdir -p "$MUTATION_LOGS" && cp "$out/log" "$MUTATION_LOGS/$p.log"; fi
  line=$(grep -E '^Killed: ' "$out/log" || true)
  eff=$(grep -oE 'Test efficacy: [0-9.]+%' "$out/log" | grep -oE '[0-9.]+' || echo 0)
  killed=$(grep -oE 'Killed: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  lived=$(grep -oE 'Lived: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  nc=$(grep -oE 'Not covered: [0-9]+' <<<"$line" | grep -oE '[0-9]+' || echo 0)
  to=$(grep -oE 'Timed out: [0-9]+' "$out/log" | grep -oE '[0-9]+' || echo 0)
  rows+=("$(printf '| %-9s | %6s | %5s | %11s | %9s | %8s%% | %5ss |' "$p" "$killed" "$lived" "$nc" "$to" "$eff" "$secs")")
  while read -r s; do survivors+=("$p: $s"); done < <(grep -E '^ +LIVED ' "$out/log" | sed 's/^ *//' || true)
  if awk -v e="$eff" -v m="$min" 'BEGIN { exit !(e < m) }'; then failed=1; fi
done
echo "| package   | killed | lived | not covered | timed out | efficacy | time |"
echo "|-----------|--------|-------|-------------|-----------|----------|------|"
printf '%s\n' "${rows[@]}"
if [ ${#survivors[@]} -gt 0 ]; then
  echo
  echo "Survivors (a test run passed with this change made):"
  printf '  %s\n' "${survivors[@]}"
fi
if [ "$failed" = 1 ]; then
  echo "efficacy under ${min}% in at least one package" >&2
  exit 1
fi

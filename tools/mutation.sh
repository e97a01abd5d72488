#!/usr/bin/env bash
# Mutation testing with gremlins: for each package, gremlins makes small
# plausible bugs (flipped comparisons, off-by-ones, negated conditions) one at
# a time and runs the package's tests; a mutant the tests still pass on
# "lived". Prints one row per package and the survivors, and fails when a
# package's efficacy (killed / (killed + lived)) is under MUTATION_MIN
# (default 90). Usage: make mutation [PKGS="store upload"] (default: the
# core packages; the Makefile pins the gremlins version). See docs/testing.md.
# Knobs: MUTATION_TIMEOUT (seconds per package, default 3600: a package cut
# short gets a "partial" row counted from what ran), MUTATION_EXCLUDE (a regexp
# of files to leave out, e.g. code being rewritten), MUTATION_LOGS (a
# directory to keep each package's gremlins log in).
set -euo pipefail
cd "$(dirname "$0")/.."
GREMLINS_VERSION=${GREMLINS_VERSION:?run it through make mutation, which pins the gremlins version}
min=${MUTATION_MIN:-90}
bin=$PWD/.cache/gremlins-$GREMLINS_VERSION
if [ ! -x "$bin/gremlins" ]; then
  GOBIN=$bin go install "github.com/go-gremlins/gremlins/cmd/gremlins@$GREMLINS_VERSION"
fi
# gremlins times each mutant's test run against its coverage run; a coverage
# run answered from Go's test cache takes a fraction of a second and would
# make every mutant "time out".
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-count=1"
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
  # Generated code (*.pb.go) is never worth mutating.
  excl=(-E '\.pb\.go$')
  if [ -n "${MUTATION_EXCLUDE:-}" ]; then excl+=(-E "$MUTATION_EXCLUDE"); fi
  rc=0
  timeout -k 30 "${MUTATION_TIMEOUT:-3600}" nice -n "${MUTATION_NICE:-10}" \
    "$bin/gremlins" unleash --workers "${MUTATION_WORKERS:-1}" --timeout-coefficient "${MUTATION_TIMEOUT_COEFFICIENT:-10}" \
    "${excl[@]}" --output "$out/r.json" "./$dir" >"$out/log" 2>&1 || rc=$?
  partial=
  if [ "$rc" = 124 ] || [ "$rc" = 130 ] || [ "$rc" = 137 ]; then
    partial=" (partial: cut at ${MUTATION_TIMEOUT:-3600}s)"
  elif [ "$rc" != 0 ]; then
    cat "$out/log" >&2; echo "gremlins failed on $dir" >&2; exit 1
  fi
  secs=$((SECONDS - start))
  if [ -n "${MUTATION_LOGS:-}" ]; then mkdir -p "$MUTATION_LOGS" && cp "$out/log" "$MUTATION_LOGS/$p.log"; fi
  # Counted from the per-mutant lines, so that a run cut short still counts;
  # once gremlins is told to stop, the mutant it was running reports LIVED
  # whatever the tests would have said, so lines from there on are dropped.
  sed -i '/Shutting down/,$d' "$out/log"
  count() { grep -cE "^ *$1 " "$out/log" || true; }
  killed=$(count KILLED) lived=$(count LIVED) nc=$(count 'NOT COVERED') to=$(count 'TIMED OUT')
  eff=$(awk -v k="$killed" -v l="$lived" 'BEGIN { if (k + l == 0) print "0.00"; else printf "%.2f", 100 * k / (k + l) }')
  rows+=("$(printf '| %-9s | %6s | %5s | %11s | %9s | %8s%% | %5ss |%s' "$p" "$killed" "$lived" "$nc" "$to" "$eff" "$secs" "$partial")")
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

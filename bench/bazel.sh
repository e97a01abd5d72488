#!/usr/bin/env bash
# Bazel benchmark: a generated workspace of 100 cc_binary targets, built from
# a clean output tree with no disk cache, in BENCH_BAZEL_ROUNDS rounds
# (default 3) of three builds each, so that the machine's drift hits all
# three alike: plain; with debuginfo_aspect (extracts and uploads in their
# persistent workers, uploading to the embedded file store); and with the
# aspect running a no-op tool (benchtools/noopworker: the same actions, which
# only create their outputs), the floor of any aspect with an extraction and
# an upload action per binary. Then once each: extracts sandboxed
# (--strategy=DebuginfoExtract=sandboxed), both as one process each (also
# --strategy=DebuginfoUpload=local), and a no-op rebuild whose
# DebuginfoExtract/DebuginfoUpload spawns are counted from the execution
# log. Prints markdown tables, then the per-kind sums of the last round's
# --profile of the aspect builds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command -v bazel >/dev/null || { echo "bazel not installed (tools/deps.sh)" >&2; exit 1; }
"$root/tests/bazel/setup_examples.sh" >/dev/null

ws=$work/ws
n=${BENCH_BAZEL_TARGETS:-100}
mkdir -p "$ws"
cp "$root/examples/bazel/local_paths.bzl" "$ws/"
cp -r "$root/examples/bazel/third_party" "$ws/"
cp "$root/examples/bazel/.bazelrc" "$ws/"
# Bazel 4.2.3 leaves the temp file of --execution_log_json_file in the JVM's temp directory.
mkdir -p "$work/jvm-tmp"
echo "startup --host_jvm_args=-Djava.io.tmpdir=$work/jvm-tmp" >>"$ws/.bazelrc"
sed -e "s|path = \"../..\"|path = \"$root\"|" -e '/^# rules_go/,$d' "$root/examples/bazel/WORKSPACE" >"$ws/WORKSPACE"
# The tool the aspect runs is $work/tool: the real one or the no-op one,
# copied there before each build (a new file, so running workers keep theirs).
real_tool=$(sed -n 's|^ *"debuginfo": "\(.*\)",|\1|p' "$ws/local_paths.bzl")
sed -i "s|^\( *\"debuginfo\": \"\).*\",|\1$work/tool\",|" "$ws/local_paths.bzl"
(cd "$root" && go build -o "$work/noopworker" ./uploader/internal/benchtools/noopworker)
tool() { cp --remove-destination "$1" "$work/tool"; }
tool "$real_tool"
: >"$ws/BUILD.bazel"
for i in $(seq -w 1 "$n"); do
  mkdir -p "$ws/p$i"
  cat >"$ws/p$i/main.c" <<C
#include <stdio.h>
#include "lib.h"
int main(void) { printf("p$i %d\n", work_$i(1000)); return 0; }
C
  cat >"$ws/p$i/lib.h" <<C
int work_$i(int n);
C
  cat >"$ws/p$i/lib.c" <<C
#include "lib.h"
int work_$i(int n) { int s = 0; for (int i = 0; i < n; i++) s += i % 7; return s; }
C
  printf 'cc_binary(\n    name = "bin",\n    srcs = ["main.c", "lib.c", "lib.h"],\n)\n' >"$ws/p$i/BUILD.bazel"
done

bz() { (cd "$ws" && bazel "$@"); }
secs() { local t0; t0=$(date +%s%N); "$@" >"$work/bz.log" 2>&1 || { tail -20 "$work/bz.log" >&2; return 1; }; awk -v d="$(($(date +%s%N) - t0))" 'BEGIN { printf "%.1f", d / 1e9 }'; }
common=(-c dbg "--repository_cache=${XDG_CACHE_HOME:-$HOME/.cache}/rules_debuginfo/repository_cache")
upload=(--config=debuginfo "--@rules_debuginfo//rules:store_address=file://$work/store")
sandboxed=(--config=debuginfo "--@rules_debuginfo//rules:store_address=file://$work/store-sandboxed" --strategy=DebuginfoExtract=sandboxed)
local=(--config=debuginfo "--@rules_debuginfo//rules:store_address=file://$work/store-local" --strategy=DebuginfoExtract=sandboxed --strategy=DebuginfoUpload=local)

bz info >/dev/null 2>&1 # start the server and fetch repositories outside the timings
bz build "${common[@]}" "${upload[@]}" --nobuild //... >/dev/null 2>&1
rounds=${BENCH_BAZEL_ROUNDS:-3}
pct() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%+.0f%%", 100*(a-b)/b}'; }
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "### Bazel: $n cc_binary targets, clean builds, no disk cache (Bazel 4.2.3), $rounds rounds"
echo
echo "| round | plain (s) | with the aspect (s) | over plain | aspect running a no-op tool (s) | over plain | binaries stored |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
: >"$work/rounds"
for r in $(seq 1 "$rounds"); do
  prof=()
  [ "$r" = "$rounds" ] && prof=(--profile="$work/worker.profile.json")
  bz clean >/dev/null 2>&1
  plain=$(secs bz build "${common[@]}" //...)
  bz clean >/dev/null 2>&1
  rm -rf "$work/store"
  tool "$real_tool"
  with=$(secs bz build "${common[@]}" "${upload[@]}" "${prof[@]}" //...)
  stored=$(find "$work/store/debuginfo" -type f -name debuginfo | wc -l)
  bz clean >/dev/null 2>&1
  [ "$r" = "$rounds" ] && prof=(--profile="$work/noop.profile.json")
  tool "$work/noopworker"
  noop=$(secs bz build "${common[@]}" "${upload[@]}" "${prof[@]}" //...)
  tool "$real_tool"
  echo "$plain $with $noop" >>"$work/rounds"
  echo "| $r | $plain | $with | $(pct "$with" "$plain") | $noop | $(pct "$noop" "$plain") | $stored |"
done
mp=$(cut -d' ' -f1 "$work/rounds" | median)
mw=$(cut -d' ' -f2 "$work/rounds" | median)
mn=$(cut -d' ' -f3 "$work/rounds" | median)
echo "| median | $mp | $mw | $(pct "$mw" "$mp") | $mn | $(pct "$mn" "$mp") | |"
# Each round's builds ran back to back, so the median of the rounds' own
# ratios drifts less with the machine than the ratio of the medians.
ratio_median() { awk -v c="$1" '{printf "%.4f\n", ($c - $1) / $1}' "$work/rounds" | median | awk '{printf "%+.0f%%", 100 * $1}'; }
echo "| median of the rounds' ratios | | | $(ratio_median 2) | | $(ratio_median 3) | |"
echo

bz clean >/dev/null 2>&1
plain=$(secs bz build "${common[@]}" //...)
bz clean >/dev/null 2>&1
sandbox=$(secs bz build "${common[@]}" "${sandboxed[@]}" --profile="$work/sandboxed.profile.json" //...)
stored_sandboxed=$(find "$work/store-sandboxed/debuginfo" -type f -name debuginfo | wc -l)
bz clean >/dev/null 2>&1
nowork=$(secs bz build "${common[@]}" "${local[@]}" --profile="$work/local.profile.json" //...)
stored_local=$(find "$work/store-local/debuginfo" -type f -name debuginfo | wc -l)
bz build "${common[@]}" "${upload[@]}" //... >/dev/null 2>&1
noop=$(secs bz build "${common[@]}" "${upload[@]}" --execution_log_json_file="$work/exec.json" //...)
spawns=$(grep -c -E '"mnemonic": "Debuginfo(Extract|Upload)"' "$work/exec.json" || true)
bz shutdown >/dev/null 2>&1 || true

echo "| build (once each) | wall time (s) | note |"
echo "|---|---:|---|"
echo "| plain \`bazel build //...\` | $plain | |"
over() { awk -v a="$1" -v b="$plain" 'BEGIN{printf "%+.1f s (%+.0f%%)", a-b, 100*(a-b)/b}'; }
echo "| with the aspect, \`--strategy=DebuginfoExtract=sandboxed\` (uploads in the worker) | $sandbox | $(over "$sandbox") over plain; $stored_sandboxed binaries stored |"
echo "| with the aspect, also \`--strategy=DebuginfoUpload=local\` (no worker) | $nowork | $(over "$nowork") over plain; $stored_local binaries stored |"
echo "| no-op rebuild with the aspect | $noop | $spawns DebuginfoExtract/DebuginfoUpload spawns executed |"

# Per-mnemonic sums of the JSON trace: "action processing" events (one per
# action, named by its progress message: grouped by its first word), local
# spawns (named by mnemonic) and the sandboxed runner's steps.
for p in worker noop sandboxed local; do
  echo
  echo "#### --profile of the aspect build ($p): summed durations (s) by category and action kind"
  echo
  python3 - "$work/$p.profile.json" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"] if isinstance(d, dict) else d
sums = collections.Counter()
counts = collections.Counter()
for e in ev:
    if e.get("ph") != "X" or "dur" not in e:
        continue
    cat = e.get("cat", "")
    name = e.get("name", "")
    if cat == "action processing":  # named by the progress message
        key = (cat, (name.split() or ["?"])[0])
    elif cat == "local action execution":  # named by the mnemonic
        key = (cat, name)
    elif name.startswith("sandbox.") or name in ("subprocess.run", "context.prefetchInputs"):
        key = (cat, name)  # the sandboxed runner's steps (no mnemonic)
    else:
        continue
    sums[key] += e["dur"] / 1e6
    counts[key] += 1
print("| category | action kind | events | sum (s) |")
print("|---|---|---:|---:|")
for (cat, kind), v in sorted(sums.items(), key=lambda kv: -kv[1])[:16]:
    print(f"| {cat} | {kind} | {counts[(cat, kind)]} | {v:.1f} |")
PY
done

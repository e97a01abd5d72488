#!/usr/bin/env bash
# Remote execution end to end: Bazel's own remote worker (tests/remote/build-worker.sh),
# real Parca servers and the Bazel client (Debian's 4.2.3) in a network namespace of
# this script's own, where only loopback exists. Builds a copy of examples/bazel (C, C++,
# Go) with the debuginfo aspect and checks, from Bazel's execution logs and from the
# worker's own storage (its action cache and CAS directories):
#   1. --remote_executor: extracts run remotely, uploads locally, Parca has everything.
#   2. remote_upload: uploads run on the worker and reach Parca; the token (a file given
#      by path) is in no Action, Command or blob, execution log, aquery or output base.
#   3. a fresh output base against the same worker: extracts are remote cache hits,
#      uploads run again (never from a cache) and send nothing the store has.
#   4. build without the bytes (minimal, toplevel; also `bazel run`): uploads fetch only
#      the extracted files and succeed; the bytes fetched per binary are printed.
#   5. --remote_cache without an executor: extracts are cached remotely, uploads never.
#   6. the worker, then Parca, killed mid-build: the build fails with a clear message, a
#      rerun completes, and no receipt claims what the store does not hold.
#   7. a shared library (a cc_library that a cc_binary(linkstatic = False) and a cc_test
#      load): extracted once on the worker, uploaded once from here, in Parca under the
#      build ID of the .so the binaries load; from a fresh output base its extract is a
#      remote cache hit and its upload sends nothing.
# Prints "N passed, N failed" last; exits non-zero on any failure. Needs root (or user
# namespaces) for `unshare -n`. Usage: tests/remote/e2e.sh   (KEEP_TMP=1 keeps the logs)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="${ROOT}/tests/remote"

# --- Outside the namespace: everything that may need the Go module proxy. ---
if [[ "${1:-}" != --inside ]]; then
  start=${SECONDS}
  TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-remote.XXXXXX")"
  cleanup_outer() { if [[ -z "${KEEP_TMP:-}" ]]; then rm -rf "${TMP}"; else echo "# kept ${TMP}"; fi; }
  trap cleanup_outer EXIT
  set -e
  worker="$("${HERE}/build-worker.sh")"
  "${ROOT}/tests/parca/build.sh" >/dev/null
  tool="${DEBUGINFO_TOOL:-${ROOT}/bin/debuginfo}"
  [[ -x "${tool}" ]] || (cd "${ROOT}" && go build -o "${tool}" ./uploader/cmd/debuginfo)
  # A private copy of the examples and of the rules (examples/ is never edited): the
  # examples load the rules from "../..", so the copy keeps the repository's layout.
  repo="${TMP}/repo"
  mkdir -p "${repo}/examples" "${repo}/tests/bazel"
  cp "${ROOT}"/{WORKSPACE,BUILD.bazel} "${repo}/"
  cp -r "${ROOT}/rules" "${repo}/"
  cp -r "${ROOT}/examples/bazel" "${repo}/examples/"
  rm -f "${repo}"/examples/bazel/{local_paths.bzl,user.bazelrc} "${repo}"/examples/bazel/bazel-*
  # Bazel 4.2.3 leaves a temp file per --execution_log_json_file in the JVM's temp
  # directory (/tmp by default): keep them in this run's.
  mkdir -p "${TMP}/jvm-tmp"
  printf 'startup --host_jvm_args=-Djava.io.tmpdir=%s\n' "${TMP}/jvm-tmp" >>"${repo}/examples/bazel/.bazelrc"
  cp "${ROOT}/tests/bazel/setup_examples.sh" "${repo}/tests/bazel/"
  # Case 7's package, in this copy only: libshapes.so (the cc_library :shapes), loaded at
  # run time by a cc_binary with linkstatic = False and by a cc_test (dynamic by default).
  # Tagged manual, so that the //... builds of the other cases stay as they are.
  sol="${repo}/examples/bazel/e2e_solib"
  mkdir -p "${sol}"
  printf 'double Hypot2(double a, double b);\n' >"${sol}/shapes.h"
  printf '#include "e2e_solib/shapes.h"\n\ndouble Hypot2(double a, double b) { return a * a + b * b; }\n' \
    >"${sol}/shapes.cc"
  cat >"${sol}/main.cc" <<'EOF'
#include <cstdio>

#include "e2e_solib/shapes.h"

int main(int argc, char**) {
  std::printf("%f\n", Hypot2(argc, 2));
  return 0;
}
EOF
  cat >"${sol}/shapes_test.cc" <<'EOF'
#include "e2e_solib/shapes.h"

int main() { return Hypot2(3, 4) == 25 ? 0 : 1; }
EOF
  cat >"${sol}/BUILD.bazel" <<'EOF'
cc_library(name = "shapes", srcs = ["shapes.cc"], hdrs = ["shapes.h"], tags = ["manual"])

cc_binary(name = "area_dyn", srcs = ["main.cc"], linkstatic = False, tags = ["manual"], deps = [":shapes"])

cc_test(name = "shapes_test", srcs = ["shapes_test.cc"], tags = ["manual"], deps = [":shapes"])
EOF
  DEBUGINFO_TOOL="${tool}" "${repo}/tests/bazel/setup_examples.sh" >"${TMP}/setup.log" 2>&1 ||
    { cat "${TMP}/setup.log"; exit 1; }
  set +e
  echo "# setup took $((SECONDS - start)) s"
  ns=(unshare -n)
  [[ "$(id -u)" == 0 ]] || ns=(unshare -rn)
  rc=0
  "${ns[@]}" "$0" --inside "${TMP}" "${worker}" || rc=$?
  echo "# remote e2e took $((SECONDS - start)) s"
  exit "${rc}"
fi

# --- Inside the namespace. ---
TMP="$2"
WORKER_BIN="$3"
WS="${TMP}/repo/examples/bazel"
ip link set lo up || { echo "FAIL - ip link set lo up"; exit 1; }
# shellcheck source=../parca/lib.sh
source "${ROOT}/tests/parca/lib.sh"

# shellcheck source=../lib.sh
source "${ROOT}/tests/lib.sh"

# The namespace is ours alone: fixed ports cannot collide with anything.
WORKER_PORT=8980 # remote executor + cache (cases 1-4, 6)
CACHE_PORT=8981  # a second worker used as a cache only (case 5)
OUTPUT_BASES=()
WORKER_PIDS=()
PARCA_PIDS=()
shutdown_all() {
  local ob pid
  for ob in "${OUTPUT_BASES[@]}"; do
    (cd "${WS}" && timeout 60 bazel "--output_base=${ob}" shutdown >/dev/null 2>&1)
  done
  for pid in "${WORKER_PIDS[@]}" "${PARCA_PIDS[@]}"; do
    kill -9 "${pid}" 2>/dev/null
    wait "${pid}" 2>/dev/null
  done
  OUTPUT_BASES=()
  WORKER_PIDS=()
  PARCA_PIDS=()
}
trap shutdown_all EXIT
trap 'exit 143' TERM INT # so that the EXIT trap stops the servers
finish() {
  shutdown_all
  report
  exit $?
}

# start_worker NAME PORT: Bazel's remote worker with its storage under $TMP/NAME; sets
# WORKER_PID. Restarting on the same NAME keeps its CAS and action cache.
start_worker() {
  local dir="${TMP}/$1"
  mkdir -p "${dir}/work" "${dir}/cas"
  "${WORKER_BIN}" "--work_path=${dir}/work" "--cas_path=${dir}/cas" "--listen_port=$2" \
    >>"${dir}/log" 2>&1 &
  WORKER_PID=$!
  WORKER_PIDS+=("${WORKER_PID}")
  for _ in $(seq 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
    kill -0 "${WORKER_PID}" 2>/dev/null || break
    sleep 0.1
  done
  echo "the remote worker did not start; its log:" >&2
  cat "${dir}/log" >&2
  return 1
}

# new_parca NAME [PORT]: a Parca server with its bucket under $TMP/parca-NAME; sets
# PARCA_ADDR, PARCA_BUCKET, PARCA_PID.
new_parca() {
  PARCA_PORT="${2:-}" start_parca "$1" "${TMP}" || return 1
  PARCA_PIDS+=("${PARCA_PID}")
}

TOKEN="remote-e2e-secret-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "${TOKEN}" >"${TMP}/token"
chmod 600 "${TMP}/token"

# go/hello is tagged no-debuginfo-upload (its build ID is the one every rules_go
# binary shares); go/hello_stamped is what ships.
TARGETS=(c/hello cc/hello go/hello_stamped)
N=${#TARGETS[@]}
# Where each linked binary is under bazel-bin (rules_go puts go_binary in NAME_/NAME).
declare -A LINKED=([c/hello]=c/hello [cc/hello]=cc/hello [go/hello_stamped]=go/hello_stamped)
AQ=(--include_aspects --aspects=@rules_debuginfo//rules:defs.bzl%debuginfo_aspect --output_groups=+debuginfo_upload)

OB="" # the output base of the current case
bz() {
  (cd "${WS}" && timeout "${E2E_BAZEL_TIMEOUT:-900}" bazel "--output_base=${OB}" --max_idle_secs=900 "$@")
}
# build NAME FLAGS...: bazel build //... (BUILD_TARGETS) with the aspect; the log and
# execution log are $TMP/NAME.{log,json}.
BUILD_TARGETS=(//...)
build() {
  local name="$1"
  shift
  bz build -c dbg --config=debuginfo --symlink_prefix=/ "--execution_log_json_file=${TMP}/${name}.json" \
    "$@" "${BUILD_TARGETS[@]}" >"${TMP}/${name}.log" 2>&1
}
use_output_base() {
  OB="${TMP}/ob-$1"
  OUTPUT_BASES+=("${OB}")
}
bin_dir() { echo "${OB}/execroot/rules_debuginfo_examples/bazel-out/k8-dbg/bin"; }
dbg_dir() { echo "$(bin_dir)/$(dirname "$1")/_debuginfo/$(basename "$1")"; }
# The extracted files of a target as output base a downloaded them (build without the
# bytes leaves none behind): REF is set once they are known.
REF=""
ref_dir() { if [[ -n "${REF}" ]]; then echo "${REF}/$1"; else dbg_dir "$1"; fi; }
store_flags() {
  local addr="$1"
  echo "--@rules_debuginfo//rules:store_address=${addr}"
  [[ "${addr}" == file://* ]] || echo "--@rules_debuginfo//rules:insecure"
  echo "--@rules_debuginfo//rules:bearer_token_file=${TMP}/token"
}

# spawns LOG MNEMONIC [OUTPUT]: "RUNNER HIT" per executed spawn of MNEMONIC (of those
# with OUTPUT in the path of one of their outputs).
spawns() { python3 "${HERE}/spawns.py" "$1" "$2" "${3:-}" | cut -d' ' -f2-; }
# all_spawns LOG MNEMONIC N EXPECTED [OUTPUT]: exactly N spawns (writing OUTPUT), each
# "RUNNER HIT" matching the regular expression EXPECTED.
all_spawns() {
  local s
  s="$(spawns "$1" "$2" "${5:-}")"
  [[ "$(grep -c . <<<"${s}")" == "$3" ]] || { echo "  $2 spawns: ${s//$'\n'/, }"; return 1; }
  ! grep -qvE "^($4)\$" <<<"${s}" || { echo "  $2 spawns: ${s//$'\n'/, }"; return 1; }
}
# Where a local DebuginfoUpload runs: in the persistent upload worker (the default) or, with
# --strategy=DebuginfoUpload=local, as a plain local spawn; either way on this machine.
ON_CLIENT="(worker|local) run"
# ac_entries WORKER PATTERN: action cache entries (ActionResult protos) of a worker
# naming an output file that matches PATTERN.
ac_entries() {
  local ac="${TMP}/$1/cas/ac"
  [[ -d "${ac}" ]] || { echo 0; return; }
  grep -rlaE "$2" "${ac}" | wc -l
}
# in_cas WORKER FILE: the worker's CAS holds FILE's bytes.
in_cas() {
  local h
  h="$(sha256sum "$2" | cut -d' ' -f1)"
  [[ -f "${TMP}/$1/cas/cas/${h:0:2}/${h}" ]]
}
record_id() { sed -n 's/.*"build_id": *"\([^"]*\)".*/\1/p' "$1/record.json"; }
# stored BUCKET ID TYPE FILE: Parca holds FILE as ID's TYPE, marked uploaded, with the
# hash Parca's pkg/hash gives the stored object (xxhash64, computed by parca_object.py).
stored() {
  local meta="$1/debuginfo/$2/$3.metadata"
  [[ "$3" != debuginfo ]] || meta="$1/debuginfo/$2/metadata"
  cmp -s "$1/debuginfo/$2/$3" "$4" &&
    python3 "${HERE}/parca_object.py" "${meta}" "$1/debuginfo/$2/$3"
}
# all_stored BUCKET: every example binary's debuginfo and sources are in BUCKET.
all_stored() {
  local t d id bad=""
  for t in "${TARGETS[@]}"; do
    d="$(ref_dir "$t")"
    id="$(record_id "$d")"
    stored "$1" "${id}" debuginfo "$d/$(basename "$t").debuginfo" || bad+=" $t:debuginfo"
    stored "$1" "${id}" sources "$d/$(basename "$t").sources.tar.zst" || bad+=" $t:sources"
  done
  [[ -z "${bad}" ]] || { echo "  not stored:${bad}"; return 1; }
}
# receipts_say ACTION: every receipt has ACTION for its build ID's debuginfo and sources.
receipts_say() {
  local t d id r bad=""
  for t in "${TARGETS[@]}"; do
    id="$(record_id "$(ref_dir "$t")")"
    r="$(dbg_dir "$t")/upload.receipt.json"
    for ty in debuginfo sources; do
      grep -q "\"build_id\":\"${id}\".*\"type\":\"${ty}\",\"action\":\"$1\"" "$r" || bad+=" $t:${ty}"
    done
  done
  [[ -z "${bad}" ]] || { echo "  receipts without '$1':${bad}"; return 1; }
}
# honest_receipts BUCKET...: no receipt line says uploaded/skipped for an object that
# none of the stores holds (a failed action may leave its receipt behind).
honest_receipts() {
  local r id ty b found bad=""
  while IFS= read -r r; do
    while IFS=$'\t' read -r id ty; do
      found=""
      for b in "$@"; do
        [[ "${ty}" == debuginfo ]] && m="$b/debuginfo/${id}/metadata" || m="$b/debuginfo/${id}/${ty}.metadata"
        grep -qs '"state": *"STATE_UPLOADED"' "$m" && found=1
      done
      [[ -n "${found}" ]] || bad+=" ${id}/${ty}"
    done < <(sed -n 's/.*"build_id":"\([^"]*\)".*"type":"\([a-z]*\)","action":"\(uploaded\|skipped\)".*/\1\t\2/p' "$r")
  done < <(find "$(bin_dir)" -name upload.receipt.json)
  [[ -z "${bad}" ]] || { echo "  receipts claim objects no store holds:${bad}"; return 1; }
}
show_log() { tail -"${2:-30}" "${TMP}/$1.log" | sed 's/^/  | /'; }
# wait_for SECONDS COMMAND...: polls COMMAND every 20 ms.
wait_for() {
  local end=$((SECONDS + $1))
  shift
  while ((SECONDS < end)); do
    "$@" && return 0
    sleep 0.02
  done
  return 1
}
# The worker has an action in flight (one build-* directory per running action).
worker_busy() { compgen -G "${TMP}/worker/work/build-*" >/dev/null; }
# A client holds an established TCP connection to PORT (this namespace's sockets).
connected_to() {
  local hex
  hex="$(printf ':%04X' "$1")"
  awk -v p="${hex}" '$4 == "01" && substr($3, length($3) - 4) == p {f = 1} END {exit !f}' /proc/net/tcp
}

start_worker worker "${WORKER_PORT}" || { not_ok "start the remote worker"; finish; }
ok "Bazel's remote worker serves on 127.0.0.1:${WORKER_PORT} (namespace only)"
REMOTE=(--remote_executor=grpc://127.0.0.1:${WORKER_PORT})

# 1. --remote_executor: extracts remote, uploads local.
new_parca p1 || { not_ok "start Parca"; finish; }
P1_ADDR="${PARCA_ADDR}" P1_BUCKET="${PARCA_BUCKET}" P1_PID="${PARCA_PID}"
P1_PORT="${P1_ADDR##*:}"
use_output_base a
mapfile -t S1 < <(store_flags "${P1_ADDR}")
t0=${SECONDS}
if build case1 "${REMOTE[@]}" "${S1[@]}"; then
  ok "1: bazel build --config=debuginfo --remote_executor //... ($((SECONDS - t0)) s, cold worker)"
else
  show_log case1 40
  not_ok "1: bazel build --config=debuginfo --remote_executor //..."
  finish
fi
check "1: every DebuginfoExtract ran on the worker (exec log runner 'remote', not a cache hit)" \
  all_spawns "${TMP}/case1.json" DebuginfoExtract "${N}" "remote run"
check "1: every DebuginfoUpload ran on this machine (runner 'worker': the persistent upload worker; or 'local')" \
  all_spawns "${TMP}/case1.json" DebuginfoUpload "${N}" "${ON_CLIENT}"
check "1: the worker's action cache holds every extract (by their record.json)" \
  test "$(ac_entries worker '_debuginfo/[^/]+/record\.json')" == "${N}"
check "1: the worker's action cache holds no upload (no upload.receipt.json)" \
  test "$(ac_entries worker 'upload\.receipt\.json')" == 0
# extracted_remotely TARGET: the worker's CAS holds the target's debuginfo and sources
# (outputs of an action it ran), never its receipt (the local upload's output).
extracted_remotely() {
  local d b
  d="$(dbg_dir "$1")"
  b="$(basename "$1")"
  in_cas worker "$d/$b.debuginfo" && in_cas worker "$d/$b.sources.tar.zst" && ! in_cas worker "$d/upload.receipt.json"
}
for t in "${TARGETS[@]}"; do
  check "1: $t: the worker's CAS holds its debuginfo and sources, not its receipt" extracted_remotely "$t"
done
check "1: Parca holds every build ID's debuginfo and sources (same bytes, marked uploaded, Parca's hash)" all_stored "${P1_BUCKET}"
check "1: the receipts say uploaded" receipts_say uploaded

# 2. remote_upload: the uploads run on the worker and reach Parca.
new_parca p2 || { not_ok "start Parca"; finish; }
P2_BUCKET="${PARCA_BUCKET}"
mapfile -t S2 < <(store_flags "${PARCA_ADDR}")
t0=${SECONDS}
if build case2 "${REMOTE[@]}" "${S2[@]}" --@rules_debuginfo//rules:remote_upload; then
  ok "2: bazel build --@rules_debuginfo//rules:remote_upload ($((SECONDS - t0)) s)"
else
  show_log case2 40
  not_ok "2: bazel build --@rules_debuginfo//rules:remote_upload"
fi
check "2: every DebuginfoUpload ran on the worker (runner 'remote', not a cache hit)" \
  all_spawns "${TMP}/case2.json" DebuginfoUpload "${N}" "remote run"
check "2: Parca holds every build ID's debuginfo and sources" all_stored "${P2_BUCKET}"
check "2: the receipts say uploaded" receipts_say uploaded
uploaded_remotely() {
  local t
  for t in "${TARGETS[@]}"; do in_cas worker "$(dbg_dir "$t")/upload.receipt.json" || return 1; done
  test "$(ac_entries worker 'upload\.receipt\.json')" == 0
}
check "2: the worker's CAS holds the receipts it produced; its action cache none" uploaded_remotely
bz aquery -c dbg "${AQ[@]}" "${REMOTE[@]}" "${S2[@]}" --@rules_debuginfo//rules:remote_upload \
  'mnemonic("DebuginfoUpload", //...)' >"${TMP}/aquery.txt" 2>"${TMP}/aquery.err"
check "2: aquery shows the upload actions with the token file's path" \
  grep -qF -- "--bearer-token-file=${TMP}/token" "${TMP}/aquery.txt"
# (the token scan runs at the end, over every output base, log and worker directory)

# 6. The worker, then Parca, killed mid-build (on output base a: only c/hello changes).
edit_c() { sed -i "s/hello from C[^\"]*/hello from C, edit $1/" "${WS}/c/greeting.h"; }
edit_c worker-kill
mapfile -t S1 < <(store_flags "${P1_ADDR}")
build case6a "${REMOTE[@]}" "${S1[@]}" &
bpid=$!
if wait_for 300 worker_busy; then
  kill -9 "${WORKER_PID}"
  wait "${WORKER_PID}" 2>/dev/null
  killed=1
else
  killed=""
fi
wait "${bpid}"
rc=$?
check "6: the worker was killed while it ran an action" test -n "${killed}"
check "6: the build fails when the worker dies (exit ${rc})" test "${rc}" != 0
msg="$(grep -m1 -E 'UNAVAILABLE|Connection refused|connection refused' "${TMP}/case6a.log")"
check "6: Bazel says the remote executor is unavailable: ${msg:0:160}" test -n "${msg}"
find "$(bin_dir)" -name upload.receipt.json -exec cat {} + >"${TMP}/receipts-6a.txt"
start_worker worker "${WORKER_PORT}" || not_ok "restart the worker"
if build case6a-rerun "${REMOTE[@]}" "${S1[@]}"; then ok "6: a rerun with the worker back completes"; else
  show_log case6a-rerun
  not_ok "6: a rerun with the worker back completes"
fi
id="$(record_id "$(dbg_dir c/hello)")"
check "6: c/hello's new build ID is in Parca and its receipt says uploaded" \
  bash -c "grep -q '\"build_id\":\"${id}\".*\"action\":\"uploaded\"' '$(dbg_dir c/hello)/upload.receipt.json' &&
    test -s '${P1_BUCKET}/debuginfo/${id}/debuginfo'"
check "6: no receipt of the failed build named c/hello's new build ID" \
  bash -c "! grep -q '${id}' '${TMP}/receipts-6a.txt'"
check "6: no receipt claims an object no store holds" honest_receipts "${P1_BUCKET}" "${P2_BUCKET}"

# Parca frozen (SIGSTOP) before the build, killed once the upload has connected: the
# upload is certainly in flight when the store dies.
edit_c parca-kill
kill -STOP "${P1_PID}"
build case6b "${REMOTE[@]}" "${S1[@]}" &
bpid=$!
if wait_for 300 connected_to "${P1_PORT}"; then killed=1; else killed=""; fi
kill -9 "${P1_PID}"
wait "${P1_PID}" 2>/dev/null
wait "${bpid}"
rc=$?
check "6: the upload was connected to Parca when it was killed" test -n "${killed}"
check "6: the build fails when Parca dies (exit ${rc})" test "${rc}" != 0
msg="$(grep -m1 -E '^(failed|debuginfo upload).*' "${TMP}/case6b.log")"
check "6: the upload says what failed: ${msg:0:160}" \
  grep -qE "Uploading debuginfo of //c:hello failed|DebuginfoUpload.*//c:hello" "${TMP}/case6b.log"
check "6: no receipt claims an object no store holds (Parca down)" honest_receipts "${P1_BUCKET}" "${P2_BUCKET}"
id="$(record_id "$(dbg_dir c/hello)")"
check "6: Parca has not marked c/hello's new build ID (${id:-none}) uploaded" \
  bash -c "test -n '${id}' && ! grep -qs STATE_UPLOADED '${P1_BUCKET}/debuginfo/${id}/metadata'"
new_parca p1 "${P1_PORT}" || not_ok "restart Parca"
P1_PID="${PARCA_PID}"
if build case6b-rerun "${REMOTE[@]}" "${S1[@]}"; then ok "6: a rerun with Parca back completes"; else
  show_log case6b-rerun
  not_ok "6: a rerun with Parca back completes"
fi
check "6: Parca holds every build ID after the rerun" all_stored "${P1_BUCKET}"
check "6: no receipt claims an object no store holds (after the rerun)" honest_receipts "${P1_BUCKET}" "${P2_BUCKET}"
# 7. Shared libraries (output base a, Parca p1): //e2e_solib:shapes is linked dynamically
# into a cc_binary (linkstatic = False) and a cc_test; its libshapes.so is extracted and
# uploaded once per build, by actions of the cc_library's own target.
SOLIB=(//e2e_solib:area_dyn //e2e_solib:shapes_test)
build_solib() {
  local BUILD_TARGETS=("${SOLIB[@]}")
  build "$@"
}
LIB=e2e_solib/_debuginfo/shapes/libshapes.so # the library's outputs, under bazel-bin
LIB_RE='e2e_solib/_debuginfo/shapes/libshapes\.so'
lib_dir() { echo "$(bin_dir)/${LIB}"; }
# lib_receipt_says ID ACTION: the library's receipt has ACTION for ID's debuginfo and sources.
lib_receipt_says() {
  local ty
  for ty in debuginfo sources; do
    grep -q "\"build_id\":\"$1\".*\"type\":\"${ty}\",\"action\":\"$2\"" "$(lib_dir)/upload.receipt.json" ||
      { echo "  libshapes.so's receipt: no '$2' for ${1:-?}/${ty}"; return 1; }
  done
}
# lib_in_worker: the worker's CAS holds the library's debuginfo and sources (outputs of the
# extract it ran), not its receipt (the local upload's output).
lib_in_worker() {
  in_cas worker "$(lib_dir)/libshapes.so.debuginfo" && in_cas worker "$(lib_dir)/libshapes.so.sources.tar.zst" &&
    ! in_cas worker "$(lib_dir)/upload.receipt.json"
}
# lib_stored BUCKET ID: BUCKET holds the library's debuginfo and sources as ID's.
lib_stored() {
  stored "$1" "$2" debuginfo "$(lib_dir)/libshapes.so.debuginfo" &&
    stored "$1" "$2" sources "$(lib_dir)/libshapes.so.sources.tar.zst"
}
# loaded_so BINARY: the libshapes.so that BINARY loads, as the dynamic loader resolves it
# through the binary's RUNPATH: bazel-bin/_solib_<cpu>/..., a link to e2e_solib/libshapes.so.
loaded_so() { ldd "$1" | awk '$1 ~ /libshapes[.]so$/ && $3 ~ /\/_solib_[^/]*\// {print $3}'; }
gnu_build_id() { readelf -n "$1" | sed -n 's/^ *Build ID: *\([0-9a-f]*\)$/\1/p'; }
t0=${SECONDS}
if build_solib case7 "${REMOTE[@]}" "${S1[@]}"; then
  ok "7: bazel build --remote_executor ${SOLIB[*]} ($((SECONDS - t0)) s)"
else
  show_log case7 40
  not_ok "7: bazel build --remote_executor ${SOLIB[*]}"
fi
check "7: libshapes.so's DebuginfoExtract ran once, on the worker (runner 'remote', not a cache hit)" \
  all_spawns "${TMP}/case7.json" DebuginfoExtract 1 "remote run" "${LIB}/"
check "7: libshapes.so's DebuginfoUpload ran once, on this machine" \
  all_spawns "${TMP}/case7.json" DebuginfoUpload 1 "${ON_CLIENT}" "${LIB}/"
check "7: the build's 3 extracts (2 binaries, 1 library) all ran on the worker" \
  all_spawns "${TMP}/case7.json" DebuginfoExtract 3 "remote run"
check "7: the build's 3 uploads all ran on this machine" \
  all_spawns "${TMP}/case7.json" DebuginfoUpload 3 "${ON_CLIENT}"
check "7: the worker's action cache holds the library's extract (once)" \
  test "$(ac_entries worker "${LIB_RE}/record\.json")" == 1
check "7: the worker's action cache holds no upload (the library's neither)" \
  test "$(ac_entries worker 'upload\.receipt\.json')" == 0
check "7: the worker's CAS holds libshapes.so's debuginfo and sources, not its receipt" lib_in_worker
LIB_ID="$(record_id "$(lib_dir)")"
for b in area_dyn shapes_test; do
  so="$(loaded_so "$(bin_dir)/e2e_solib/$b")"
  id="$([[ -n "${so}" ]] && gnu_build_id "${so}")"
  check "7: $b loads ${so:+bazel-bin/${so#"$(bin_dir)/"}} (readelf: build ID ${id:-none}); the library's record names it (${LIB_ID:-none})" \
    test -n "${id}" -a "${id}" == "${LIB_ID}"
done
n="$(grep -rlE --include=record.json "\"build_id\": *\"${LIB_ID}\"" "$(bin_dir)/e2e_solib" | wc -l)"
check "7: one record names the library's build ID (saw ${n}), although two binaries load it" test "${n}" == 1
check "7: Parca holds libshapes.so's debuginfo and sources (same bytes, marked uploaded, Parca's hash)" \
  lib_stored "${P1_BUCKET}" "${LIB_ID}"
check "7: the library's receipt says uploaded" lib_receipt_says "${LIB_ID}" uploaded

# What each binary's files are (digest and size), from output base a, which has them all.
declare -A DIGEST=() SIZE=()
for t in "${TARGETS[@]}"; do
  mkdir -p "${TMP}/ref/$t"
  cp "$(dbg_dir "$t")"/{record.json,*.debuginfo,*.sources.tar.zst} "${TMP}/ref/$t/"
  b="$(basename "$t")"
  for f in "$(bin_dir)/${LINKED[$t]}" "${TMP}/ref/$t/"{record.json,$b.debuginfo,$b.sources.tar.zst}; do
    k="$t:$(basename "$f")"
    [[ "$f" == */"${LINKED[$t]}" ]] && k="$t:binary"
    DIGEST[$k]="$(sha256sum "$f" | cut -d' ' -f1)"
    SIZE[$k]="$(stat -c %s "$f")"
  done
done
REF="${TMP}/ref"
(cd "${WS}" && bazel "--output_base=${OB}" shutdown >/dev/null 2>&1)

# 7 (end). The shared library from a fresh output base, against the same worker and Parca.
use_output_base c
before="$(find "${P1_BUCKET}" -type f -printf '%p %s %T@\n' | sort)"
t0=${SECONDS}
if build_solib case7b "${REMOTE[@]}" "${S1[@]}"; then
  ok "7: fresh output base, same worker: ${SOLIB[*]} ($((SECONDS - t0)) s)"
else
  show_log case7b 40
  not_ok "7: fresh output base, same worker: ${SOLIB[*]}"
fi
check "7: fresh output base: libshapes.so's DebuginfoExtract is a remote cache hit (once)" \
  all_spawns "${TMP}/case7b.json" DebuginfoExtract 1 "remote-cache-hit hit" "${LIB}/"
check "7: fresh output base: libshapes.so's DebuginfoUpload ran again, once, on this machine, not from any cache" \
  all_spawns "${TMP}/case7b.json" DebuginfoUpload 1 "${ON_CLIENT}" "${LIB}/"
same_lib_skipped() {
  local id
  id="$(record_id "$(lib_dir)")"
  [[ -n "${id}" && "${id}" == "${LIB_ID}" ]] || { echo "  build ID ${id:-none}, was ${LIB_ID:-none}"; return 1; }
  lib_receipt_says "${id}" skipped
}
check "7: fresh output base: the library's record names the same build ID, its receipt says skipped" same_lib_skipped
check "7: fresh output base: the worker's action cache still holds no upload" \
  test "$(ac_entries worker 'upload\.receipt\.json')" == 0
check "7: fresh output base: nothing was sent: Parca's bucket is unchanged" \
  test "${before}" == "$(find "${P1_BUCKET}" -type f -printf '%p %s %T@\n' | sort)"
(cd "${WS}" && bazel "--output_base=${OB}" shutdown >/dev/null 2>&1)

# 3 + 4. A fresh output base against the same worker, building without the bytes.
use_output_base b
before="$(find "${P1_BUCKET}" -type f -printf '%p %s %T@\n' | sort)"
t0=${SECONDS}
if build case3 "${REMOTE[@]}" "${S1[@]}" --remote_download_minimal "--experimental_remote_grpc_log=${TMP}/case3.grpc"; then
  ok "3: fresh output base, same worker, --remote_download_minimal ($((SECONDS - t0)) s)"
else
  show_log case3 40
  not_ok "3: fresh output base, same worker, --remote_download_minimal"
fi
check "3: every DebuginfoExtract is a remote cache hit" all_spawns "${TMP}/case3.json" DebuginfoExtract "${N}" "remote-cache-hit hit"
check "3: every DebuginfoUpload ran again, on this machine, not from any cache" \
  all_spawns "${TMP}/case3.json" DebuginfoUpload "${N}" "${ON_CLIENT}"
check "3: the worker's action cache still holds no upload" test "$(ac_entries worker 'upload\.receipt\.json')" == 0
check "3: the receipts say skipped (the store has it)" receipts_say skipped
check "3: nothing was sent: Parca's bucket is unchanged" test "${before}" == "$(find "${P1_BUCKET}" -type f -printf '%p %s %T@\n' | sort)"
# Blobs the client read (ByteStream Read resource names "blobs/HASH/SIZE"; writes are
# "uploads/UUID/blobs/...") in Bazel's log of its gRPC calls.
reads() { grep -aoE '(uploads/[0-9a-f-]+/)?blobs/[0-9a-f]{64}/[0-9]+' "$1" | grep -v '^uploads/' | cut -d/ -f2 | sort -u; }
reads "${TMP}/case3.grpc" >"${TMP}/case3.reads"
check "4: minimal: Bazel's gRPC log shows blob reads (the read count can fail)" test -s "${TMP}/case3.reads"
# fetched_only TARGET: the client read the target's record, debuginfo and sources, and
# not its linked binary.
fetched_only() {
  local b f got=0
  b="$(basename "$1")"
  for f in record.json "$b.debuginfo" "$b.sources.tar.zst"; do
    grep -qx "${DIGEST[$1:$f]}" "${TMP}/case3.reads" || { echo "  $1: $f not fetched"; return 1; }
    got=$((got + SIZE[$1:$f]))
  done
  echo "# minimal: $1: fetched ${got} bytes (record, debuginfo, sources); the binary is ${SIZE[$1:binary]} bytes"
  ! grep -qx "${DIGEST[$1:binary]}" "${TMP}/case3.reads" || { echo "  $1: the binary was fetched"; return 1; }
}
for t in "${TARGETS[@]}"; do
  check "4: minimal: $t: the upload fetched its record, debuginfo and sources, not the binary" fetched_only "$t"
done
new_parca p3 || not_ok "start Parca"
P3_BUCKET="${PARCA_BUCKET}"
mapfile -t S3 < <(store_flags "${PARCA_ADDR}")
if build case4-minimal "${REMOTE[@]}" "${S3[@]}" --remote_download_minimal; then
  ok "4: minimal: uploads to an empty Parca succeed"
else
  show_log case4-minimal
  not_ok "4: minimal: uploads to an empty Parca succeed"
fi
check "4: minimal: Parca holds everything" all_stored "${P3_BUCKET}"
check "4: minimal: the uploads ran on this machine" all_spawns "${TMP}/case4-minimal.json" DebuginfoUpload "${N}" "${ON_CLIENT}"
# bazel run: Bazel 4.2 fetches a target's runfiles under toplevel, never under minimal.
if bz run -c dbg --symlink_prefix=/ "${REMOTE[@]}" --remote_download_minimal //c:upload -- \
  "--store-address=file://${TMP}/run-store" >"${TMP}/case4-run-minimal.log" 2>&1; then
  not_ok "4: minimal: bazel run //c:upload has no runfiles on Bazel 4.2 (it ran: the docs need an update)"
else
  check "4: minimal: bazel run //c:upload fails naming the runfile Bazel did not fetch (Bazel 4.2; docs say: use toplevel)" \
    grep -q "debuginfo_upload: .*record.json is not in the runfiles of this target" "${TMP}/case4-run-minimal.log"
fi
if bz run -c dbg --symlink_prefix=/ "${REMOTE[@]}" --remote_download_toplevel //:upload -- \
  "--store-address=file://${TMP}/run-store" >"${TMP}/case4-run.log" 2>&1; then
  ok "4: toplevel: bazel run //:upload"
else
  show_log case4-run
  not_ok "4: toplevel: bazel run //:upload"
fi
for t in c/hello cc/hello go/hello_stamped; do
  check "4: toplevel: bazel run //:upload stored $t" \
    test -s "${TMP}/run-store/debuginfo/$(record_id "$(ref_dir "$t")")/debuginfo"
done
mapfile -t S4 < <(store_flags "file://${TMP}/store-toplevel")
if build case4-toplevel "${REMOTE[@]}" "${S4[@]}" --remote_download_toplevel; then
  ok "4: toplevel: uploads succeed"
else
  show_log case4-toplevel
  not_ok "4: toplevel: uploads succeed"
fi
check "4: toplevel: the uploads ran on this machine" all_spawns "${TMP}/case4-toplevel.json" DebuginfoUpload "${N}" "${ON_CLIENT}"
for t in "${TARGETS[@]}"; do
  check "4: toplevel: $t stored" test -s "${TMP}/store-toplevel/debuginfo/$(record_id "$(ref_dir "$t")")/debuginfo"
done

# 5. --remote_cache without an executor (a second worker, used only as a cache). Output
# base b after `bazel clean` (no outputs, no action cache) saves a server start.
start_worker cache "${CACHE_PORT}" || { not_ok "start the cache"; finish; }
bz clean >/dev/null 2>&1
CACHE=(--remote_cache=grpc://127.0.0.1:${CACHE_PORT})
mapfile -t S5 < <(store_flags "file://${TMP}/store-cache")
if build case5 "${CACHE[@]}" "${S5[@]}"; then ok "5: bazel build --remote_cache (no executor)"; else
  show_log case5
  not_ok "5: bazel build --remote_cache (no executor)"
fi
check "5: every DebuginfoExtract ran here (not remotely, not a hit)" \
  all_spawns "${TMP}/case5.json" DebuginfoExtract "${N}" "(worker|linux-sandbox|processwrapper-sandbox|local) run"
check "5: the cache holds every extract" test "$(ac_entries cache '_debuginfo/[^/]+/record\.json')" == "${N}"
check "5: the cache holds no upload" test "$(ac_entries cache 'upload\.receipt\.json')" == 0
bz clean >/dev/null 2>&1
if build case5-again "${CACHE[@]}" "${S5[@]}"; then ok "5: after bazel clean, the build again"; else
  show_log case5-again
  not_ok "5: after bazel clean, the build again"
fi
check "5: every DebuginfoExtract is a remote cache hit" all_spawns "${TMP}/case5-again.json" DebuginfoExtract "${N}" "remote-cache-hit hit"
check "5: every DebuginfoUpload ran again, on this machine" all_spawns "${TMP}/case5-again.json" DebuginfoUpload "${N}" "${ON_CLIENT}"
check "5: the cache still holds no upload" test "$(ac_entries cache 'upload\.receipt\.json')" == 0

# 2 (end). The token: in no Action, Command, blob or action-cache entry of either worker,
# no execution log, aquery output or output base (java.log included).
shutdown_all
scan=("${TMP}/worker" "${TMP}/cache" "${TMP}"/*.json "${TMP}"/*.log "${TMP}/aquery.txt" "${TMP}"/ob-*)
check "2: the token scan finds the token where it is (the token file itself)" grep -rqaF "${TOKEN}" "${TMP}/token"
# The whole token, and half of its random part (a partial leak). The CLI's own summary
# names the last 4 characters, as token UIs do; that is not a leak.
leaks="$(grep -rlaF -e "${TOKEN}" -e "${TOKEN:18:24}" "${scan[@]}" 2>/dev/null | head -5)"
check "2: the token (or half of it) is in no worker CAS/action cache/work dir, execution log, aquery output or output base${leaks:+ (found in ${leaks//$'\n'/ })}" \
  test -z "${leaks}"
check "2: the scan covered the worker's Action and Command messages and java.log" \
  bash -c "test \"\$(find '${TMP}/worker/cas/cas' -type f | wc -l)\" -gt 100 && ls '${TMP}'/ob-a/java.log >/dev/null"

finish

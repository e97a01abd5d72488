#!/usr/bin/env bash
# End-to-end test of the Bazel rules on a real Bazel (Debian's bazel-bootstrap 4.2.3,
# WORKSPACE mode): builds the examples under examples/bazel with debuginfo_aspect
# against the embedded file:// store (and a real Parca server when PARCA_ADDR=host:port
# is set: plaintext, --insecure) and checks what the rules promise.
# Prints "N passed, N failed" last; exits non-zero on any failure.
#
# Caches (repository cache, disk cache, Go SDK, the CLI) live under
# ${RULES_DEBUGINFO_CACHE:-~/.cache/rules_debuginfo} so reruns are fast.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WS="${ROOT}/examples/bazel"
CACHE="${RULES_DEBUGINFO_CACHE:-${HOME}/.cache/rules_debuginfo}"
export RULES_DEBUGINFO_CACHE="${CACHE}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-e2e.XXXXXX")"
mkdir -p "${CACHE}"

passed=0
failed=0
ok() {
  passed=$((passed + 1))
  echo "ok - $*"
}
not_ok() {
  failed=$((failed + 1))
  echo "FAIL - $*"
}
# check NAME COMMAND...: runs COMMAND, counts it.
check() {
  local name="$1"
  shift
  if "$@"; then ok "${name}"; else not_ok "${name}"; fi
}
finish() {
  # In CI, free the Bazel server's memory (about 400 MB) for the tests that follow.
  if [[ "${CI:-}" == true ]]; then (cd "${WS}" && bazel shutdown >/dev/null 2>&1); fi
  echo "${passed} passed, ${failed} failed"
  [[ "${failed}" == 0 ]]
  exit $?
}

edited=""
cleanup() {
  if [[ -n "${edited}" && -f "${TMP}/greeting.h.orig" ]]; then
    cp "${TMP}/greeting.h.orig" "${WS}/c/greeting.h"
  fi
  if [[ -z "${KEEP_TMP:-}" ]]; then rm -rf "${TMP}"; fi
}
trap cleanup EXIT

if ! command -v bazel >/dev/null; then
  not_ok "bazel is installed (apt-get install bazel-bootstrap bazel-bootstrap-source)"
  finish
fi
if [[ ! -d /usr/share/bazel/tools/skylib && "$(id -u)" == 0 ]]; then
  apt-get install -y -q bazel-skylib >/dev/null 2>&1 || true
fi

if ! "${ROOT}/tests/bazel/setup_examples.sh" >"${TMP}/setup.log" 2>&1; then
  cat "${TMP}/setup.log"
  not_ok "setup_examples.sh"
  finish
fi
ok "setup: CLI built, rules_go and Go SDK ready"
TOOL="$(sed -n 's/^ *"debuginfo": "\(.*\)",$/\1/p' "${WS}/local_paths.bzl")"

TOKEN="e2e-secret-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "${TOKEN}" >"${TMP}/token"
chmod 600 "${TMP}/token"
STORE="${TMP}/store"
mkdir -p "${STORE}"

BAZEL_COMMON=(
  -c dbg
  "--repository_cache=${CACHE}/repository_cache"
  "--disk_cache=${CACHE}/disk_cache"
)
# Extra flags for every bazel command, e.g. E2E_BAZEL_FLAGS=--@rules_debuginfo//rules:sources=false
read -r -a extra <<<"${E2E_BAZEL_FLAGS:-}"
BAZEL_COMMON+=("${extra[@]}")
UPLOAD_FLAGS=(
  --config=debuginfo
  "--@rules_debuginfo//rules:store_address=file://${STORE}"
  "--@rules_debuginfo//rules:bearer_token_file=${TMP}/token"
)
TARGETS=(//c:hello //cc:hello //go:hello //go:hello_stamped)
BINARIES=(c/hello cc/hello go/hello go/hello_stamped)
# Where each linked binary is under bazel-bin (rules_go puts go_binary in NAME_/NAME).
declare -A LINKED=([c/hello]=c/hello [cc/hello]=cc/hello [go/hello]=go/hello_/hello [go/hello_stamped]=go/hello_stamped)

bz() {
  (cd "${WS}" && bazel "$@")
}
# bazel run execs the launcher in the client process: a hung upload is ended here.
bz_run() {
  (cd "${WS}" && timeout "${E2E_RUN_TIMEOUT:-300}" bazel run "$@")
}

# count_spawns LOG MNEMONIC: executed spawns of MNEMONIC in an execution log.
count_spawns() {
  grep -c "\"mnemonic\": \"$2\"" "$1" || true
}

record_field() {
  sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1"
}

# 1. Build everything with the aspect; the token is in the client env too (not passed on).
if PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" \
  --execution_log_json_file="${TMP}/exec1.json" //... >"${TMP}/build1.log" 2>&1; then
  ok "bazel build --config=debuginfo //... (file store)"
else
  tail -40 "${TMP}/build1.log"
  not_ok "bazel build --config=debuginfo //... (file store)"
  finish
fi
BIN="$(cd "${WS}" && bazel info -c dbg bazel-bin 2>/dev/null)"

declare -A BUILD_IDS=()
for b in "${BINARIES[@]}"; do
  dir="${BIN}/$(dirname "$b")/_debuginfo/$(basename "$b")"
  record="${dir}/record.json"
  rid="$(record_field "${record}" build_id)"
  lid="$("${TOOL}" buildid --json "${BIN}/${LINKED[$b]}" | sed -n 's/.*"build_id": *"\([^"]*\)".*/\1/p')"
  BUILD_IDS[$b]="${rid}"
  check "$b: extracted build ID (${rid:-none}) equals 'debuginfo buildid' of the linked binary" \
    test -n "${rid}" -a "${rid}" == "${lid}"
  check "$b: store holds debuginfo and its metadata" \
    bash -c "test -s '${STORE}/debuginfo/${rid}/debuginfo' && ls '${STORE}/debuginfo/${rid}/' | grep -q metadata"
  check "$b: store holds sources" test -s "${STORE}/debuginfo/${rid}/sources"
  check "$b: upload receipt written" test -s "${dir}/upload.receipt.json"
done
check "c/hello: source archive holds c/main.c and c/greeting.h by their DWARF names" \
  bash -c "tar --zstd -tf '${BIN}/c/_debuginfo/hello/hello.sources.tar.zst' | sed 's|^\./||' | grep -qx c/main.c &&
           tar --zstd -tf '${BIN}/c/_debuginfo/hello/hello.sources.tar.zst' | sed 's|^\./||' | grep -qx c/greeting.h"
check "cc/hello: source archive holds the library's header and source" \
  bash -c "tar --zstd -tf '${BIN}/cc/_debuginfo/hello/hello.sources.tar.zst' | sed 's|^\./||' | grep -qx cc/lib.h &&
           tar --zstd -tf '${BIN}/cc/_debuginfo/hello/hello.sources.tar.zst' | sed 's|^\./||' | grep -qx cc/lib.cc"
check "go/hello_stamped has a build ID of its own" \
  test "${BUILD_IDS[go/hello]}" != "${BUILD_IDS[go/hello_stamped]}"
check "cc/private_tool (tag no-debuginfo-upload) is not visited" \
  test ! -e "${BIN}/cc/_debuginfo/private_tool/record.json"

# 2. A no-op rebuild executes no extract and no upload.
bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --execution_log_json_file="${TMP}/exec2.json" //... \
  >"${TMP}/build2.log" 2>&1
n="$(($(count_spawns "${TMP}/exec2.json" DebuginfoExtract) + $(count_spawns "${TMP}/exec2.json" DebuginfoUpload)))"
check "no-op rebuild executes 0 DebuginfoExtract/DebuginfoUpload actions (saw ${n})" test "${n}" == 0

# 3. Editing a source uploads exactly the new build ID.
cp "${WS}/c/greeting.h" "${TMP}/greeting.h.orig"
edited=1
sed -i "s/hello from C/hello from C, edited ${RANDOM}/" "${WS}/c/greeting.h"
before="$(find "${STORE}/debuginfo" -mindepth 1 -maxdepth 1 | wc -l)"
bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --execution_log_json_file="${TMP}/exec3.json" //... \
  >"${TMP}/build3.log" 2>&1
cp "${TMP}/greeting.h.orig" "${WS}/c/greeting.h"
edited=""
newid="$(record_field "${BIN}/c/_debuginfo/hello/record.json" build_id)"
after="$(find "${STORE}/debuginfo" -mindepth 1 -maxdepth 1 | wc -l)"
check "edit: c/hello has a new build ID" test -n "${newid}" -a "${newid}" != "${BUILD_IDS[c/hello]}"
check "edit: exactly 1 DebuginfoUpload executed (saw $(count_spawns "${TMP}/exec3.json" DebuginfoUpload))" \
  test "$(count_spawns "${TMP}/exec3.json" DebuginfoUpload)" == 1
check "edit: the store gained exactly the new build ID" \
  test "$((after - before))" == 1 -a -s "${STORE}/debuginfo/${newid}/debuginfo"
check "edit: the receipt names the new build ID" grep -q "${newid}" "${BIN}/c/_debuginfo/hello/upload.receipt.json"

# 4. bazel run targets: token in the environment, then a credential helper.
RUN_STORE="${TMP}/run-env"
if PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" bz_run "${BAZEL_COMMON[@]}" //:upload -- \
  "--store-address=file://${RUN_STORE}" >"${TMP}/run-env.log" 2>&1; then
  ok "bazel run //:upload with the token in the environment"
else
  tail -20 "${TMP}/run-env.log"
  not_ok "bazel run //:upload with the token in the environment"
fi
for b in c/hello cc/hello go/hello; do
  check "bazel run //:upload stored $b" test -s "${RUN_STORE}/debuginfo/${BUILD_IDS[$b]}/debuginfo"
done

cat >"${TMP}/helper.sh" <<EOF
#!/bin/sh
# A credential helper speaking Bazel's protocol: \`helper get\`, request on stdin.
[ "\$1" = get ] || exit 2
cat >"${TMP}/helper.request"
printf '{"headers": {"Authorization": ["Bearer %s"]}}\n' "\$(cat "${TMP}/token")"
EOF
chmod +x "${TMP}/helper.sh"
RUN_STORE2="${TMP}/run-helper"
if bz_run "${BAZEL_COMMON[@]}" //c:upload -- "--store-address=file://${RUN_STORE2}" \
  "--credential-helper=${TMP}/helper.sh" >"${TMP}/run-helper.log" 2>&1; then
  ok "bazel run //c:upload with a credential helper"
else
  tail -20 "${TMP}/run-helper.log"
  not_ok "bazel run //c:upload with a credential helper"
fi
check "bazel run //c:upload stored c/hello" test -s "${RUN_STORE2}/debuginfo/${BUILD_IDS[c/hello]}/debuginfo"

# 5. The upload action's execution requirements, and no token anywhere.
AQ=(--include_aspects --aspects=@rules_debuginfo//rules:defs.bzl%debuginfo_aspect --output_groups=+debuginfo_upload)
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" 'mnemonic("DebuginfoUpload", //...)' \
  >"${TMP}/aquery.txt" 2>"${TMP}/aquery.err"
check "aquery: DebuginfoUpload runs local, networked, never remotely cached" \
  grep -q "ExecutionInfo: {no-remote-cache: 1, no-remote-exec: 1, no-sandbox: 1, requires-network: 1}" "${TMP}/aquery.txt"
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" --@rules_debuginfo//rules:remote_upload \
  'mnemonic("DebuginfoUpload", //c:hello)' >"${TMP}/aquery-remote.txt" 2>/dev/null
check "aquery: with remote_upload the upload may run remotely (still no remote cache)" \
  grep -q "ExecutionInfo: {no-remote-cache: 1, requires-network: 1}" "${TMP}/aquery-remote.txt"
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" 'mnemonic("DebuginfoExtract", //...)' \
  >"${TMP}/aquery-extract.txt" 2>/dev/null
check "aquery: DebuginfoExtract has no execution requirements (cacheable, remote-executable)" \
  bash -c "grep -q 'Mnemonic: DebuginfoExtract' '${TMP}/aquery-extract.txt' && ! grep -q ExecutionInfo '${TMP}/aquery-extract.txt'"
leaks="$(grep -rlF "${TOKEN}" "${TMP}"/exec*.json "${TMP}"/aquery*.txt "${CACHE}/disk_cache" "${BIN}" 2>/dev/null | head -5)"
check "the token appears in no execution log, aquery output, disk cache or output tree${leaks:+ (found in ${leaks})}" \
  test -z "${leaks}"

# 5b. stamp_go: the aspect stamps go/hello itself; its record names the stamped file's ID.
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --@rules_debuginfo//rules:stamp_go //go:hello >"${TMP}/stamp.log" 2>&1; then
  sid="$(record_field "${BIN}/go/_debuginfo/hello/record.json" build_id)"
  fid="$("${TOOL}" buildid --json "${BIN}/go/_debuginfo/hello/hello" | sed -n 's/.*"build_id": *"\([^"]*\)".*/\1/p')"
  check "stamp_go: go/hello is uploaded under its stamped ID (${sid:-none}), not the shared one" \
    test -n "${sid}" -a "${sid}" == "${fid}" -a "${sid}" != "${BUILD_IDS[go/hello]}" -a -s "${STORE}/debuginfo/${sid}/debuginfo"
else
  tail -20 "${TMP}/stamp.log"
  not_ok "stamp_go: bazel build //go:hello"
fi

# 6. Starlark analysis tests.
if bz test "${BAZEL_COMMON[@]}" @rules_debuginfo//rules/tests >"${TMP}/test.log" 2>&1; then
  ok "bazel test @rules_debuginfo//rules/tests ($(grep -c PASSED "${TMP}/test.log") tests)"
else
  grep -E "FAILED|ERROR" "${TMP}/test.log" | head -20
  not_ok "bazel test @rules_debuginfo//rules/tests"
fi

# 7. A real Parca server, when one is given.
if [[ -n "${PARCA_ADDR:-}" ]]; then
  if bz build "${BAZEL_COMMON[@]}" --config=debuginfo "--@rules_debuginfo//rules:store_address=${PARCA_ADDR}" \
    --@rules_debuginfo//rules:insecure "--@rules_debuginfo//rules:bearer_token_file=${TMP}/token" \
    --execution_log_json_file="${TMP}/exec-parca.json" //... >"${TMP}/build-parca.log" 2>&1; then
    ok "bazel build --config=debuginfo //... against Parca at ${PARCA_ADDR}"
  else
    tail -30 "${TMP}/build-parca.log"
    not_ok "bazel build --config=debuginfo //... against Parca at ${PARCA_ADDR}"
  fi
  check "Parca: one upload per binary ($(count_spawns "${TMP}/exec-parca.json" DebuginfoUpload))" \
    test "$(count_spawns "${TMP}/exec-parca.json" DebuginfoUpload)" == "${#BINARIES[@]}"
  # What Parca shows for profiles of them: names, file:line and sources.
  if (cd "${ROOT}/tests/parca" && GOWORK=off go build -o "${TMP}/symbolize-check" ./cmd/symbolize-check) >"${TMP}/sc-build.log" 2>&1; then
    sc() { "${TMP}/symbolize-check" -source-root "${WS}" "$@"; }
    check "Parca symbolizes c/hello with lines and sources" sc -binary "${BIN}/c/hello" main
    # (Not examples::Greeting: Parca v0.28.0 shows its name but no file:line, even from the whole binary.)
    check "Parca symbolizes cc/hello with lines and sources" sc -binary "${BIN}/cc/hello" main
    check "Parca symbolizes go/hello with lines and sources" sc -binary "${BIN}/go/hello_/hello" main.main
    check "Parca symbolizes go/hello_stamped with lines and sources" sc -binary "${BIN}/go/hello_stamped" main.main
  else
    tail -20 "${TMP}/sc-build.log"
    not_ok "go build tests/parca/cmd/symbolize-check"
  fi
  # A second upload of the same files finds them in the store.
  "${TOOL}" upload --json --insecure "--store-address=${PARCA_ADDR}" --include-sources \
    --record "${BIN}/c/_debuginfo/hello/record.json" >"${TMP}/parca-again.json" 2>&1
  check "Parca: the store already has c/hello's debuginfo" grep -q "\"build_id\":\"${BUILD_IDS[c/hello]}\".*\"action\":\"skipped\"" "${TMP}/parca-again.json"
  if bz_run "${BAZEL_COMMON[@]}" //c:upload -- "--store-address=${PARCA_ADDR}" --insecure \
    "--credential-helper=${TMP}/helper.sh" >"${TMP}/run-parca.log" 2>&1; then
    ok "Parca: bazel run //c:upload with a credential helper"
  else
    tail -20 "${TMP}/run-parca.log"
    not_ok "Parca: bazel run //c:upload with a credential helper"
  fi
  check "Parca: the credential helper was asked" test -s "${TMP}/helper.request"
else
  echo "# PARCA_ADDR not set: the real Parca server checks are skipped"
fi

finish

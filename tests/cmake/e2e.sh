#!/usr/bin/env bash
# End-to-end test of the CMake module (tools/cmake/Debuginfo.cmake): configures
# and builds examples/cmake, copied under a path with a space, out of tree, with
# the Unix Makefiles, Ninja and Ninja Multi-Config generators, against the
# embedded file:// store and, when PARCA_ADDR (and PARCA_BUCKET) are set, a real
# Parca server; checks what docs/cmake.md promises.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-cmake-e2e.XXXXXX")"
trap '[[ -n "${KEEP_TMP:-}" ]] || rm -rf "${TMP}"' EXIT

# shellcheck source=../lib.sh
source "${ROOT}/tests/lib.sh"
finish() {
  report
  exit $?
}
count_is() { [[ "$(grep -cF -- "$2" "$1")" == "$3" ]]; }

unset POLARSIGNALS_TOKEN PARCA_DEBUGINFO_BEARER_TOKEN DEBUGINFO_TOKEN_FILE \
  DEBUGINFO_CREDENTIAL_HELPER POLARSIGNALS_PROJECT_ID CI MAKEFLAGS MAKELEVEL
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

DEBUGINFO="${TMP}/bin/debuginfo"
if ! (cd "${ROOT}" && go build -o "${DEBUGINFO}" ./uploader/cmd/debuginfo) >"${TMP}/build.log" 2>&1; then
  show "${TMP}/build.log"
  not_ok "go build ./uploader/cmd/debuginfo"
  finish
fi

# The module and the example, as a user vendors them, under a path with a space.
SRC="${TMP}/my project/rules_debuginfo/examples/cmake"
mkdir -p "${TMP}/my project/rules_debuginfo/tools" "${TMP}/my project/rules_debuginfo/examples"
cp -r "${ROOT}/tools/cmake" "${TMP}/my project/rules_debuginfo/tools/"
cp -r "${ROOT}/examples/cmake" "${TMP}/my project/rules_debuginfo/examples/"

buildid() { "${DEBUGINFO}" buildid --json "$1" | sed -n 's/.*"build_id":"\([^"]*\)".*/\1/p'; }
# in_store STORE BINARY: debuginfo and sources of the binary's build ID are stored.
in_store() {
  local id
  id="$(buildid "$2")" && [[ -n "${id}" ]] || return 1
  [[ -s "$1/debuginfo/${id}/debuginfo" && -s "$1/debuginfo/${id}/sources" ]]
}
# archived STORE BINARY NAME: the binary's source archive has an entry ending in NAME.
archived() {
  local id
  id="$(buildid "$2")" && zstd -dc "$1/debuginfo/${id}/sources" | tar -t | grep -- "$3\$" >/dev/null
}
# configure NAME ARGS...: a fresh build directory ${TMP}/NAME.
configure() {
  local name="$1"
  shift
  cmake -S "${SRC}" -B "${TMP}/${name}" -DDEBUGINFO="${DEBUGINFO}" "$@" >"${TMP}/${name}.configure.log" 2>&1
}
build() { # build NAME LOG [cmake --build args]
  local name="$1" log="$2"
  shift 2
  cmake --build "${TMP}/${name}" "$@" >"${log}" 2>&1
}

BINS=(hello greet/libgreet.so tools/shouter)

# ---------------------------------------------------------------- generators, file:// store

for gen in "Unix Makefiles" "Ninja"; do
  name="$(echo "${gen}" | tr -d ' ' | tr 'A-Z' 'a-z')"
  store="${TMP}/store-${name}"
  configure "${name}" -G "${gen}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO_STORE_ADDRESS="file://${store}"
  check "${gen}: configure" test $? = 0 || show "${TMP}/${name}.configure.log"
  log="${TMP}/${name}.build1.log"
  build "${name}" "${log}"
  check "${gen}: build succeeds" test $? = 0 || show "${log}"
  check "${gen}: one batched upload of the 3 linked targets" contains "${log}" "uploading 3 binaries"
  for b in "${BINS[@]}"; do
    check "${gen}: ${b} stored with debuginfo and sources" in_store "${store}" "${TMP}/${name}/${b}"
  done
  check "${gen}: out-of-tree build archives the sources (greet.c)" archived "${store}" "${TMP}/${name}/greet/libgreet.so" "greet/greet.c"
  check "${gen}: C++ sources archived (shout.cc)" archived "${store}" "${TMP}/${name}/tools/shouter" "tools/shout.cc"

  log="${TMP}/${name}.noop.log"
  before="$(find "${store}" -type f -newer "${TMP}/${name}.build1.log" | wc -l)"
  build "${name}" "${log}"
  check "${gen}: no-op rebuild succeeds" test $? = 0 || show "${log}"
  check "${gen}: no-op rebuild uploads nothing" lacks "${log}" "debuginfo: uploading"
  rm -f "${TMP}/${name}/hello"
  log="${TMP}/${name}.relink.log"
  build "${name}" "${log}"
  check "${gen}: a relink with the same build ID is not uploaded again" lacks "${log}" "debuginfo: uploading" || show "${log}"
done

# A changed source: only the relinked binary with a new build ID is uploaded.
echo '/* changed */ int greet_changed = 1;' >>"${SRC}/greet/greet.c"
log="${TMP}/ninja.changed.log"
build ninja "${log}"
check "changed source: exactly one binary uploaded" contains "${log}" "uploading 1 binaries" || show "${log}"
check "changed source: its new build ID is stored" in_store "${TMP}/store-ninja" "${TMP}/ninja/greet/libgreet.so"

# ---------------------------------------------------------------- multi-config

store="${TMP}/store-multi"
configure multi -G "Ninja Multi-Config" -DDEBUGINFO_STORE_ADDRESS="file://${store}"
check "Ninja Multi-Config: configure" test $? = 0 || show "${TMP}/multi.configure.log"
for cfg in Debug RelWithDebInfo; do
  log="${TMP}/multi.${cfg}.log"
  build multi "${log}" --config "${cfg}"
  check "Ninja Multi-Config ${cfg}: build succeeds" test $? = 0 || show "${log}"
  for b in hello tools/shouter; do
    d="$(dirname "${b}")"
    [[ "${d}" == . ]] && d="" || d="${d}/"
    check "Ninja Multi-Config ${cfg}: ${b} stored" in_store "${store}" "${TMP}/multi/${d}${cfg}/$(basename "${b}")"
  done
done

# ---------------------------------------------------------------- warnings and refusals

configure release -DCMAKE_BUILD_TYPE=Release -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-release"
check "Release: warns that uploads will have symbols only" contains "${TMP}/release.configure.log" "symbols only"

TOKEN="psc_v1_$(printf 'c0ffee%.0s' {1..10})abcd"
configure cachetoken -DPOLARSIGNALS_TOKEN="${TOKEN}"
rc=$?
check "token as a cache variable: configure fails" test "${rc}" != 0
check "token as a cache variable: says to export it" contains "${TMP}/cachetoken.configure.log" "Export it in the environment"
check "token as a cache variable: the value is not printed" lacks "${TMP}/cachetoken.configure.log" "${TOKEN}"
check "token as a cache variable: not left in CMakeCache.txt" \
  bash -c '! grep -rqF -- "$1" "$2"' _ "${TOKEN}" "${TMP}/cachetoken"
configure flagtoken "-DDEBUGINFO_FLAGS=--bearer-token=${TOKEN}"
check "--bearer-token in DEBUGINFO_FLAGS: refused" test $? != 0
check "--bearer-token in DEBUGINFO_FLAGS: not left in the build tree" \
  bash -c '! grep -rqF -- "$1" "$2"' _ "${TOKEN}" "${TMP}/flagtoken"
i=0
for flags in "-bearer-token=${TOKEN}" "--insecure;--bearer-token;${TOKEN}" "--BEARER-TOKEN=${TOKEN}" \
  "--grpc-headers=authorization=Bearer ${TOKEN}" "--grpc-headers;Authorization: Basic ${TOKEN}"; do
  i=$((i + 1))
  configure "flagtoken${i}" "-DDEBUGINFO_FLAGS=${flags}"
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: refused" test $? != 0
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: not printed" lacks "${TMP}/flagtoken${i}.configure.log" "${TOKEN}"
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: not left in the build tree" \
    bash -c '! grep -rqF -- "$1" "$2"' _ "${TOKEN}" "${TMP}/flagtoken${i}"
done

# ---------------------------------------------------------------- credentials

configure nocreds -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO_STORE_ADDRESS=127.0.0.1:9
log="${TMP}/nocreds.log"
build nocreds "${log}"
check "no credentials locally: the build succeeds" test $? = 0 || show "${log}"
check "no credentials locally: says so once" count_is "${log}" "not uploading" 1
log="${TMP}/nocreds-ci.log"
CI=true build nocreds "${log}"
check "no credentials with CI=true: the build fails" test $? != 0
check "no credentials with CI=true: a clear error" contains "${log}" "error: cannot upload 3 binaries: no credentials"

# ---------------------------------------------------------------- one target, POST_BUILD

mkdir -p "${TMP}/single"
cat >"${TMP}/single/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(single C)
list(APPEND CMAKE_MODULE_PATH "${TMP}/my project/rules_debuginfo/tools/cmake")
include(Debuginfo)
add_executable(one one.c)
add_executable(two two.c)
debuginfo_upload(TARGET one SOURCES OFF)
EOF
echo "int main(void) { return 0; }" >"${TMP}/single/one.c"
echo "int main(void) { return 2; }" >"${TMP}/single/two.c"
cmake -S "${TMP}/single" -B "${TMP}/single/b" -DCMAKE_BUILD_TYPE=Debug -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-single" >"${TMP}/single.configure.log" 2>&1
log="${TMP}/single.build.log"
cmake --build "${TMP}/single/b" >"${log}" 2>&1
check "debuginfo_upload(TARGET one): build succeeds" test $? = 0 || show "${log}"
id="$(buildid "${TMP}/single/b/one")"
check "debuginfo_upload(TARGET one): uploaded right after its link" test -s "${TMP}/store-single/debuginfo/${id}/debuginfo"
check "debuginfo_upload(TARGET one SOURCES OFF): no sources" test ! -e "${TMP}/store-single/debuginfo/${id}/sources"
id2="$(buildid "${TMP}/single/b/two")"
check "debuginfo_upload(TARGET one): the other target is not uploaded" test ! -e "${TMP}/store-single/debuginfo/${id2}"

# ---------------------------------------------------------------- the uploader built from this repository

# Out of tree, so examples/ itself is not written to.
cmake -S "${ROOT}/examples/cmake" -B "${TMP}/fromsrc" -DCMAKE_BUILD_TYPE=Debug -DDEBUGINFO_CACHE_DIR="${TMP}/cache" \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-fromsrc" >"${TMP}/fromsrc.configure.log" 2>&1
check "no DEBUGINFO and none on PATH: built from the repository" contains "${TMP}/fromsrc.configure.log" "building the uploader"
check "the built uploader is cached for the next configure" bash -c 'ls "$1"/debuginfo-* >/dev/null 2>&1' _ "${TMP}/cache"
# A copy of the module without the repository around it, and no uploader anywhere.
cmake -S "${SRC}" -B "${TMP}/notool" -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-notool" >"${TMP}/notool.configure.log" 2>&1
check "no uploader at all: configure fails" test $? != 0
check "no uploader at all: says how to provide one" contains "${TMP}/notool.configure.log" "set -DDEBUGINFO=/path/to/debuginfo"

# ---------------------------------------------------------------- real Parca

if [[ -n "${PARCA_ADDR:-}" ]]; then
  configure parca -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DDEBUGINFO_STORE_ADDRESS="${PARCA_ADDR}" \
    -DDEBUGINFO_FLAGS=--insecure
  log="${TMP}/parca.pending.log"
  build parca "${log}"
  check "Parca, no credentials: pending, said once" count_is "${log}" "not uploading 3 binaries" 1 || show "${log}"
  # Parca without auth accepts any bearer token: the next build with one uploads what was pending.
  log="${TMP}/parca.log"
  PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" POLARSIGNALS_PROJECT_ID=p build parca "${log}"
  check "Parca: the next build with credentials uploads the pending binaries" contains "${log}" "uploading 3 binaries" || show "${log}"
  check "Parca: the token is never printed" lacks "${log}" "${TOKEN}"
  check "Parca: the token is in no build file (compile_commands.json included)" bash -c '! grep -rqF -- "$1" "$2"' _ "${TOKEN}" "${TMP}/parca"
  if [[ -n "${PARCA_BUCKET:-}" ]]; then
    for b in "${BINS[@]}"; do
      check "Parca: ${b} stored with debuginfo and sources" in_store "${PARCA_BUCKET}" "${TMP}/parca/${b}"
    done
  fi
  log="${TMP}/parca.noop.log"
  PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" build parca "${log}"
  check "Parca: a no-op rebuild uploads nothing" lacks "${log}" "debuginfo: uploading"
else
  echo "# PARCA_ADDR not set: skipping the real Parca server"
fi

finish

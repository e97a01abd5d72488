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
# says LOG TEXT: TEXT is in LOG, whose lines CMake may have wrapped (message()).
says() { tr '\n' ' ' <"$1" | tr -s ' ' | grep -qF -- "$2"; }

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
# in_store_debuginfo STORE BINARY: the debuginfo of the binary's build ID is stored.
in_store_debuginfo() {
  local id
  id="$(buildid "$2")" && [[ -n "${id}" ]] || return 1
  [[ -s "$1/debuginfo/${id}/debuginfo" ]]
}
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
# The project chosen through the environment (as docs/cmake.md shows) keys the stamps too.
log="${TMP}/ninja.projB.log"
POLARSIGNALS_PROJECT_ID=projB build ninja "${log}"
check "a new project (env POLARSIGNALS_PROJECT_ID) gets everything again" contains "${log}" "uploading 3 binaries to file://${TMP}/store-ninja (project projB)" || show "${log}"
log="${TMP}/ninja.projB2.log"
POLARSIGNALS_PROJECT_ID=projB PARCA_DEBUGINFO_BEARER_TOKEN=other build ninja "${log}"
check "the same project again (another token): nothing uploaded" lacks "${log}" "debuginfo: uploading" || show "${log}"
# A project or store given in DEBUGINFO_FLAGS, in the two-element form too, keys the
# stamps as the CLI resolves it (the last one wins over the cache variable).
flagcase=0
for flags in "--project-id;projC" "--grpc-headers;projectID=projD" "--project-id=projE" \
  "--store-address;file://${TMP}/store-two" "--store-address=file://${TMP}/store-one;--store-address;file://${TMP}/store-three"; do
  flagcase=$((flagcase + 1))
  case "${flags}" in
  *store-three) want="to file://${TMP}/store-three (project projB)" ;;
  *store-two) want="to file://${TMP}/store-two (project projB)" ;;
  *) want="to file://${TMP}/store-ninja (project ${flags##*[=;]})" ;;
  esac
  cmake -S "${SRC}" -B "${TMP}/ninja" "-DDEBUGINFO_FLAGS=${flags}" >"${TMP}/ninja.flags${flagcase}.configure.log" 2>&1
  log="${TMP}/ninja.flags${flagcase}.log"
  POLARSIGNALS_PROJECT_ID=projB build ninja "${log}"
  check "DEBUGINFO_FLAGS=${flags}: everything again, ${want}" contains "${log}" "uploading 3 binaries ${want}" || show "${log}"
  log="${TMP}/ninja.flags${flagcase}.again.log"
  POLARSIGNALS_PROJECT_ID=projB build ninja "${log}"
  check "DEBUGINFO_FLAGS=${flags}: the next build uploads nothing" lacks "${log}" "debuginfo: uploading" || show "${log}"
done
check "the store in DEBUGINFO_FLAGS got the upload" in_store "${TMP}/store-three" "${TMP}/ninja/hello"
cmake -S "${SRC}" -B "${TMP}/ninja" "-DDEBUGINFO_FLAGS=" >"${TMP}/ninja.flags0.configure.log" 2>&1

# ---------------------------------------------------------------- multi-config

store="${TMP}/store-multi"
configure multi -G "Ninja Multi-Config" -DDEBUGINFO_STORE_ADDRESS="file://${store}"
check "Ninja Multi-Config: configure" test $? = 0 || show "${TMP}/multi.configure.log"
check "Ninja Multi-Config: warns about the configurations without -g" says "${TMP}/multi.configure.log" "configurations Release compile without -g" || show "${TMP}/multi.configure.log"
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
check "Release: warns that uploads will have symbols only" says "${TMP}/release.configure.log" "symbols only"

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

# A password in the store address (review s12-auto, finding 2).
i=0
for setting in "-DDEBUGINFO_STORE_ADDRESS=u:${TOKEN}@127.0.0.1:1" "-DDEBUGINFO_STORE_ADDRESS=https://u:${TOKEN}@127.0.0.1:1" \
  "-DDEBUGINFO_FLAGS=--insecure;--store-address=u:${TOKEN}@127.0.0.1:1" "-DDEBUGINFO_FLAGS=--insecure;--store-address;u:${TOKEN}@127.0.0.1:1" \
  "-DDEBUGINFO_STORE_ADDRESS=127.0.0.1:1?key=${TOKEN}"; do
  i=$((i + 1))
  configure "addrcreds${i}" "${setting}"
  check "a password in the store address, form ${i}: refused" test $? != 0
  check "a password in the store address, form ${i}: says why" contains "${TMP}/addrcreds${i}.configure.log" "must not hold a user name or password"
  check "a password in the store address, form ${i}: not printed" lacks "${TMP}/addrcreds${i}.configure.log" "${TOKEN}"
  check "a password in the store address, form ${i}: not left in the build tree" \
    bash -c '! grep -rqF -- "$1" "$2"' _ "${TOKEN}" "${TMP}/addrcreds${i}"
done

# ---------------------------------------------------------------- credentials

configure badreq -DDEBUGINFO_REQUIRED=maybe
check "DEBUGINFO_REQUIRED=maybe: configure fails" test $? != 0
check "DEBUGINFO_REQUIRED=maybe: says what it accepts" says "${TMP}/badreq.configure.log" "DEBUGINFO_REQUIRED must be AUTO, ON or OFF"
# auto in lower case is AUTO (not ON): a local build without CI=true succeeds.
configure nocreds -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO_STORE_ADDRESS=127.0.0.1:9 -DDEBUGINFO_REQUIRED=auto
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
# Set after the include (json-c does this): no warning about -g.
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Debug)
endif()
add_executable(one one.c)
add_executable(two two.c)
debuginfo_upload(TARGET one SOURCES OFF)
if(BOTH)
  debuginfo_upload_all()
endif()
EOF
echo "int main(void) { return 0; }" >"${TMP}/single/one.c"
echo "int main(void) { return 2; }" >"${TMP}/single/two.c"
cmake -S "${TMP}/single" -B "${TMP}/single/b" -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-single" >"${TMP}/single.configure.log" 2>&1
check "CMAKE_BUILD_TYPE set after the include: no warning about -g" lacks "${TMP}/single.configure.log" "without -g" || show "${TMP}/single.configure.log"
log="${TMP}/single.build.log"
cmake --build "${TMP}/single/b" >"${log}" 2>&1
check "debuginfo_upload(TARGET one): build succeeds" test $? = 0 || show "${log}"
id="$(buildid "${TMP}/single/b/one")"
check "debuginfo_upload(TARGET one): uploaded right after its link" test -s "${TMP}/store-single/debuginfo/${id}/debuginfo"
check "debuginfo_upload(TARGET one SOURCES OFF): no sources" test ! -e "${TMP}/store-single/debuginfo/${id}/sources"
id2="$(buildid "${TMP}/single/b/two")"
check "debuginfo_upload(TARGET one): the other target is not uploaded" test ! -e "${TMP}/store-single/debuginfo/${id2}"

# A failed POST_BUILD upload (the store is a file, not a directory) is retried
# by the next plain build, without a relink, once the store works.
touch "${TMP}/store-broken"
cmake -S "${TMP}/single" -B "${TMP}/single/f" -G Ninja -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-broken" >"${TMP}/single-f.configure.log" 2>&1
log="${TMP}/single-f.build1.log"
cmake --build "${TMP}/single/f" >"${log}" 2>&1
check "debuginfo_upload(TARGET), store failing: the build goes on" test $? = 0 || show "${log}"
check "debuginfo_upload(TARGET), store failing: says the next build retries" contains "${log}" "the next build retries them" || show "${log}"
rm -f "${TMP}/store-broken"
log="${TMP}/single-f.build2.log"
cmake --build "${TMP}/single/f" >"${log}" 2>&1
check "debuginfo_upload(TARGET): the next plain build retries a failed upload" in_store_debuginfo "${TMP}/store-broken" "${TMP}/single/f/one" || show "${log}"
check "debuginfo_upload(TARGET): ... without relinking" lacks "${log}" "Linking" || show "${log}"

# Both debuginfo_upload(TARGET) and debuginfo_upload_all(), no credentials: said once per build.
cmake -S "${TMP}/single" -B "${TMP}/single/n" -DBOTH=ON -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS=127.0.0.1:9 >"${TMP}/single-n.configure.log" 2>&1
log="${TMP}/single-n.build1.log"
cmake --build "${TMP}/single/n" >"${log}" 2>&1
check "POST_BUILD and debuginfo_upload_all(), no credentials: the build succeeds" test $? = 0 || show "${log}"
check "POST_BUILD and debuginfo_upload_all(), no credentials: said once" count_is "${log}" "not uploading" 1 || show "${log}"
log="${TMP}/single-n.build2.log"
cmake --build "${TMP}/single/n" >"${log}" 2>&1
check "no credentials: the next build says again what is pending, once" count_is "${log}" "not uploading 2 binaries" 1 || show "${log}"
log="${TMP}/single-n.ci.log"
touch "${TMP}/single/one.c"
CI=true cmake --build "${TMP}/single/n" >"${log}" 2>&1
check "POST_BUILD, no credentials, CI=true: the build fails" test $? != 0
check "POST_BUILD, no credentials, CI=true: a clear error" contains "${log}" "error: cannot upload 1 binaries: no credentials" || show "${log}"

# ---------------------------------------------------------------- EXCLUDE_FROM_ALL

# Targets excluded from `all` (the target property, or a directory added with
# EXCLUDE_FROM_ALL, here one level up) stay out of a plain build, even when
# they do not compile; built explicitly they work, and are uploaded as
# docs/cmake.md says: debuginfo_upload(TARGET) right after the link,
# debuginfo_upload_all() by the next plain build.
mkdir -p "${TMP}/excl/contrib/deeper"
cat >"${TMP}/excl/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(excl C)
list(APPEND CMAKE_MODULE_PATH "${TMP}/my project/rules_debuginfo/tools/cmake")
include(Debuginfo)
option(UPLOAD_ALL "" ON)
add_executable(normal normal.c)
add_executable(optional EXCLUDE_FROM_ALL optional.c)
if(UPLOAD_ALL)
  debuginfo_upload_all()
endif()
add_subdirectory(contrib EXCLUDE_FROM_ALL)
EOF
cat >"${TMP}/excl/contrib/CMakeLists.txt" <<'EOF'
add_executable(broken broken.c)
add_subdirectory(deeper)
EOF
cat >"${TMP}/excl/contrib/deeper/CMakeLists.txt" <<'EOF'
add_executable(tool tool.c)
debuginfo_upload(TARGET tool)
add_library(brokenlib SHARED broken.c)
EOF
echo "int main(void) { return 0; }" >"${TMP}/excl/normal.c"
echo "int main(void) { return 3; }" >"${TMP}/excl/optional.c"
echo "int main(void) { return 4; }" >"${TMP}/excl/contrib/deeper/tool.c"
echo "int main(void) { this does not compile }" >"${TMP}/excl/contrib/broken.c"
cp "${TMP}/excl/contrib/broken.c" "${TMP}/excl/contrib/deeper/broken.c"
for gen in "Unix Makefiles" "Ninja"; do
  name="excl-$(echo "${gen}" | tr -d ' ' | tr 'A-Z' 'a-z')"
  b="${TMP}/${name}"
  store="${TMP}/store-${name}"
  cmake -S "${TMP}/excl" -B "${b}" -G "${gen}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO="${DEBUGINFO}" \
    -DDEBUGINFO_STORE_ADDRESS="file://${store}" >"${TMP}/${name}.configure.log" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: configure" test $? = 0 || show "${TMP}/${name}.configure.log"
  log="${TMP}/${name}.build1.log"
  cmake --build "${b}" >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: a plain build succeeds (the broken excluded targets are not built)" test $? = 0 || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL: ... and uploads the normal target only" contains "${log}" "uploading 1 binaries" || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL: the normal target is stored" in_store "${store}" "${b}/normal"
  check "${gen}, EXCLUDE_FROM_ALL: excluded targets are not built" \
    bash -c '! ls "$1/optional" "$1/contrib/deeper/tool" >/dev/null 2>&1' _ "${b}"
  log="${TMP}/${name}.upload-target.log"
  cmake --build "${b}" --target debuginfo-upload >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: --target debuginfo-upload does not build them either" test $? = 0 || show "${log}"
  log="${TMP}/${name}.broken.log"
  cmake --build "${b}" --target broken >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: (the excluded target 'broken' really does not compile)" test $? != 0
  # debuginfo_upload_all(): built explicitly, uploaded by the next plain build.
  log="${TMP}/${name}.optional.log"
  cmake --build "${b}" --target optional >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: building the excluded target explicitly works" test $? = 0 || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL: ... without building anything else" test ! -e "${b}/contrib/deeper/tool"
  log="${TMP}/${name}.build2.log"
  cmake --build "${b}" >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: the next plain build succeeds" test $? = 0 || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL: ... and uploads the explicitly built target" in_store "${store}" "${b}/optional" || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL: ... and only it" contains "${log}" "uploading 1 binaries" || show "${log}"
  # debuginfo_upload(TARGET): built explicitly, uploaded right after its link.
  log="${TMP}/${name}.tool.log"
  cmake --build "${b}" --target tool >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL + debuginfo_upload(TARGET): building it explicitly works" test $? = 0 || show "${log}"
  check "${gen}, EXCLUDE_FROM_ALL + debuginfo_upload(TARGET): uploaded right after its link" in_store "${store}" "${b}/contrib/deeper/tool" || show "${log}"
  log="${TMP}/${name}.build3.log"
  cmake --build "${b}" >"${log}" 2>&1
  check "${gen}, EXCLUDE_FROM_ALL: then a plain build uploads nothing" lacks "${log}" "debuginfo: uploading" || show "${log}"
done
# Without credentials, an excluded target built explicitly says what it left pending:
# no batched step follows in that build. The next plain build has one, even
# though the only registration (no debuginfo_upload_all()) is in an excluded directory.
cmake -S "${TMP}/excl" -B "${TMP}/excl-nocreds" -G Ninja -DUPLOAD_ALL=OFF -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS=127.0.0.1:9 >"${TMP}/excl-nocreds.configure.log" 2>&1
log="${TMP}/excl-nocreds.tool.log"
cmake --build "${TMP}/excl-nocreds" --target tool >"${log}" 2>&1
check "EXCLUDE_FROM_ALL + debuginfo_upload(TARGET), no credentials: the explicit build succeeds" test $? = 0 || show "${log}"
check "EXCLUDE_FROM_ALL + debuginfo_upload(TARGET), no credentials: says so once" count_is "${log}" "not uploading 1 binaries" 1 || show "${log}"
log="${TMP}/excl-nocreds.build.log"
cmake --build "${TMP}/excl-nocreds" >"${log}" 2>&1
check "debuginfo_upload(TARGET) only in an excluded directory: a plain build succeeds" test $? = 0 || show "${log}"
check "debuginfo_upload(TARGET) only in an excluded directory: a plain build still ends with the upload step" \
  count_is "${log}" "not uploading 1 binaries" 1 || show "${log}"

# ---------------------------------------------------------------- the uploader built from this repository

# Out of tree, so examples/ itself is not written to.
cmake -S "${ROOT}/examples/cmake" -B "${TMP}/fromsrc" -DCMAKE_BUILD_TYPE=Debug -DDEBUGINFO_CACHE_DIR="${TMP}/cache" \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-fromsrc" >"${TMP}/fromsrc.configure.log" 2>&1
check "no DEBUGINFO and none on PATH: built from the repository" contains "${TMP}/fromsrc.configure.log" "building the uploader"
check "the built uploader is cached for the next configure" bash -c 'ls "$1"/debuginfo-* >/dev/null 2>&1' _ "${TMP}/cache"
# A copy of the module without the repository around it, and no uploader anywhere:
# a local build still configures and builds, and says so once.
cmake -S "${SRC}" -B "${TMP}/notool" -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-notool" >"${TMP}/notool.configure.log" 2>&1
check "no uploader at all: configure succeeds" test $? = 0 || show "${TMP}/notool.configure.log"
check "no uploader at all: says how to provide one, once" count_is "${TMP}/notool.configure.log" "set -DDEBUGINFO=/path/to/debuginfo" 1 || show "${TMP}/notool.configure.log"
log="${TMP}/notool.build.log"
build notool "${log}"
check "no uploader at all: the build succeeds" test $? = 0 || show "${log}"
log="${TMP}/notool.ci.log"
CI=true build notool "${log}"
check "no uploader at all, CI=true: the build fails" test $? != 0
check "no uploader at all, CI=true: says why" contains "${log}" "no uploader" || show "${log}"
cmake -S "${SRC}" -B "${TMP}/notool-req" -DDEBUGINFO_REQUIRED=ON >"${TMP}/notool-req.configure.log" 2>&1
check "no uploader at all, DEBUGINFO_REQUIRED=ON: configure fails" test $? != 0

# An uploader found on PATH (cached) that later disappears.
mkdir -p "${TMP}/pathbin"
cp "${DEBUGINFO}" "${TMP}/pathbin/debuginfo"
PATH="${TMP}/pathbin:${PATH}" cmake -S "${ROOT}/examples/cmake" -B "${TMP}/onpath" -DCMAKE_BUILD_TYPE=Debug \
  -DDEBUGINFO_CACHE_DIR="${TMP}/cache" -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-onpath" >"${TMP}/onpath.configure.log" 2>&1
check "uploader on PATH: cached" grep -qF "DEBUGINFO_ON_PATH:FILEPATH=${TMP}/pathbin/debuginfo" "${TMP}/onpath/CMakeCache.txt"
rm -f "${TMP}/pathbin/debuginfo"
log="${TMP}/onpath.build.log"
build onpath "${log}"
check "uploader on PATH gone: the build names it and says to re-run cmake" contains "${log}" "the uploader ${TMP}/pathbin/debuginfo does not exist any more (configure found it on PATH): re-run cmake" || show "${log}"
cmake "${TMP}/onpath" >"${TMP}/onpath.reconfigure.log" 2>&1
check "uploader on PATH gone: re-configure looks again" says "${TMP}/onpath.reconfigure.log" "found on PATH before) is gone" ||
  show "${TMP}/onpath.reconfigure.log"
log="${TMP}/onpath.build2.log"
build onpath "${log}"
check "uploader on PATH gone: after re-configure the build uploads" contains "${log}" "uploading 3 binaries" || show "${log}"

# ---------------------------------------------------------------- source roots

# A top-level CMakeLists.txt below the top of the sources, which it names as
# ../src and ../include (zstd's build/cmake with ../../lib; review s14-r3,
# finding 1). The source tree alone admits none of them: the configure step
# and the build say so, naming the root to add (not "not found on disk": the
# only file not on disk is gcc's <built-in>, which __builtin_memcpy brings);
# adding DEBUGINFO_SOURCE_ROOTS to the built tree uploads the sources with
# the next build. Against the real Parca when there is one.
SUB="${TMP}/my project/subroot"
mkdir -p "${SUB}/cmake" "${SUB}/src" "${SUB}/include"
cat >"${SUB}/cmake/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(subroot C)
list(APPEND CMAKE_MODULE_PATH "${TMP}/my project/rules_debuginfo/tools/cmake")
include(Debuginfo)
add_library(subgreet SHARED ../src/subgreet.c)
target_include_directories(subgreet PUBLIC ../include)
add_executable(subapp ../src/subapp.c)
target_link_libraries(subapp subgreet)
if(VIA_FUNCTION)
  debuginfo_upload_all(SOURCE_ROOTS ..)
else()
  debuginfo_upload_all()
endif()
EOF
printf '%s\n' 'const char *subgreet(const char *who);' >"${SUB}/include/subgreet.h"
# No <string.h>: gcc then declares __builtin_memcpy in "<built-in>".
printf '%s\n' '#include "subgreet.h"' 'static char buf[128];' \
  'const char *subgreet(const char *who) {' '  unsigned long n = __builtin_strlen(who);' \
  '  __builtin_memcpy(buf, who, n < sizeof buf ? n : sizeof buf - 1);' '  return buf;' '}' >"${SUB}/src/subgreet.c"
printf '%s\n' '#include <stdio.h>' '#include "subgreet.h"' \
  'int main(int argc, char **argv) { puts(subgreet(argc > 1 ? argv[1] : "world")); return 0; }' >"${SUB}/src/subapp.c"
if [[ -n "${PARCA_ADDR:-}" ]]; then
  sub_store=(-DDEBUGINFO_STORE_ADDRESS="${PARCA_ADDR}" -DDEBUGINFO_FLAGS=--insecure -DDEBUGINFO_AUTH=none)
  sub_bucket="${PARCA_BUCKET:-}"
  where="Parca"
else
  sub_store=(-DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-subroot")
  sub_bucket="${TMP}/store-subroot"
  where="file:// store"
fi
b="${TMP}/subroot"
cmake -S "${SUB}/cmake" -B "${b}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO="${DEBUGINFO}" \
  "${sub_store[@]}" >"${TMP}/subroot.configure.log" 2>&1
check "sources outside the source tree: configure succeeds" test $? = 0 || show "${TMP}/subroot.configure.log"
check "sources outside the source tree: configure warns, naming the root" \
  says "${TMP}/subroot.configure.log" "lie outside the source roots (${SUB}/cmake)" || show "${TMP}/subroot.configure.log"
check "sources outside the source tree: configure names the root to add (their top directory)" \
  says "${TMP}/subroot.configure.log" "-DDEBUGINFO_SOURCE_ROOTS=\"${SUB}\"" || show "${TMP}/subroot.configure.log"
log="${TMP}/subroot.build1.log"
cmake --build "${b}" >"${log}" 2>&1
check "sources outside the source tree: the build succeeds" test $? = 0 || show "${log}"
check "sources outside the source tree: the debuginfo is uploaded" contains "${log}" "uploading 2 binaries" || show "${log}"
check "sources outside the source tree: the build says they lie outside the roots, naming the root and the setting" \
  contains "${log}" "source files outside the source roots (${SUB}/cmake, and the build directory) were left out of the source archives: add the directory that holds them to the roots, e.g. cmake -DDEBUGINFO_SOURCE_ROOTS=\"${SUB}\"" || show "${log}"
check "(libsubgreet.so's line table names <built-in>)" bash -c 'readelf --debug-dump=line "$1" | grep -qF "<built-in>"' _ "${b}/libsubgreet.so"
check "sources outside the source tree: not blamed on files missing from disk (<built-in> is no file)" lacks "${log}" "found on disk (" || show "${log}"
check "sources outside the source tree: no --prefix-map suggested" lacks "${log}" "prefix-map" || show "${log}"
if [[ -n "${sub_bucket}" ]]; then
  check "sources outside the source tree (${where}): debuginfo stored" in_store_debuginfo "${sub_bucket}" "${b}/subapp"
  id="$(buildid "${b}/subapp")"
  check "sources outside the source tree (${where}): no source archive" test ! -e "${sub_bucket}/debuginfo/${id}/sources"
fi
# The built tree, given the root: the next build uploads the sources.
cmake -S "${SUB}/cmake" -B "${b}" "-DDEBUGINFO_SOURCE_ROOTS=${SUB}" >"${TMP}/subroot.configure2.log" 2>&1
check "DEBUGINFO_SOURCE_ROOTS: configure succeeds without the warning" lacks "${TMP}/subroot.configure2.log" "outside the source roots" ||
  show "${TMP}/subroot.configure2.log"
log="${TMP}/subroot.build2.log"
cmake --build "${b}" >"${log}" 2>&1
check "DEBUGINFO_SOURCE_ROOTS added to a built tree: the next build uploads again" contains "${log}" "uploading 2 binaries" || show "${log}"
check "DEBUGINFO_SOURCE_ROOTS added to a built tree: ... without a relink" lacks "${log}" "Linking" || show "${log}"
check "DEBUGINFO_SOURCE_ROOTS added to a built tree: ... and the sources of both are sent" count_is "${log}" "uploaded  sources" 2 || show "${log}"
check "DEBUGINFO_SOURCE_ROOTS added to a built tree: ... with no hint about roots" lacks "${log}" "DEBUGINFO_SOURCE_ROOTS" || show "${log}"
if [[ -n "${sub_bucket}" ]]; then
  for f in src/subapp.c include/subgreet.h; do
    check "DEBUGINFO_SOURCE_ROOTS (${where}): subapp's archive holds ${f}" archived "${sub_bucket}" "${b}/subapp" "subroot/${f}"
  done
  check "DEBUGINFO_SOURCE_ROOTS (${where}): libsubgreet.so's archive holds src/subgreet.c" \
    archived "${sub_bucket}" "${b}/libsubgreet.so" "subroot/src/subgreet.c"
fi
log="${TMP}/subroot.build3.log"
cmake --build "${b}" >"${log}" 2>&1
check "DEBUGINFO_SOURCE_ROOTS: then a no-op build uploads nothing" lacks "${log}" "debuginfo: uploading" || show "${log}"
if [[ -n "${PARCA_ADDR:-}" ]]; then
  if (cd "${ROOT}/tests/parca" && GOWORK=off go build -o "${TMP}/symbolize-check" ./cmd/symbolize-check) >"${TMP}/sc-build.log" 2>&1; then
    check "DEBUGINFO_SOURCE_ROOTS: Parca symbolizes subapp (main) with lines and sources" \
      "${TMP}/symbolize-check" -binary "${b}/subapp" -source-root "${SUB}" main
    check "DEBUGINFO_SOURCE_ROOTS: Parca symbolizes libsubgreet.so (subgreet) with lines and sources" \
      "${TMP}/symbolize-check" -binary "${b}/libsubgreet.so" -source-root "${SUB}" subgreet
  else
    show "${TMP}/sc-build.log"
    not_ok "go build tests/parca/cmd/symbolize-check"
  fi
fi
# What a user tries first, --source-root in DEBUGINFO_FLAGS, and any other
# change to what the archives hold keys the stamps too.
b="${TMP}/subroot-flags"
fstore="${TMP}/store-subroot-flags"
cmake -S "${SUB}/cmake" -B "${b}" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO="${DEBUGINFO}" \
  -DDEBUGINFO_STORE_ADDRESS="file://${fstore}" >"${TMP}/subroot-flags.configure.log" 2>&1
log="${TMP}/subroot-flags.build1.log"
cmake --build "${b}" >"${log}" 2>&1
check "sources outside the source tree (Unix Makefiles): debuginfo, no source archive" \
  bash -c 'ls "$1"/debuginfo/*/debuginfo && ! ls "$1"/debuginfo/*/sources' _ "${fstore}" >/dev/null 2>&1 || show "${log}"
cmake -S "${SUB}/cmake" -B "${b}" "-DDEBUGINFO_FLAGS=--source-root;${SUB}" >"${TMP}/subroot-flags.configure2.log" 2>&1
check "--source-root in DEBUGINFO_FLAGS: configure no longer warns" lacks "${TMP}/subroot-flags.configure2.log" "outside the source roots" ||
  show "${TMP}/subroot-flags.configure2.log"
log="${TMP}/subroot-flags.build2.log"
cmake --build "${b}" >"${log}" 2>&1
check "--source-root in DEBUGINFO_FLAGS added to a built tree: the next build uploads the sources" in_store "${fstore}" "${b}/subapp" || show "${log}"
cmake -S "${SUB}/cmake" -B "${b}" "-DDEBUGINFO_FLAGS=--source-root;${SUB};--sources-exclude=**/subgreet.h" >"${TMP}/subroot-flags.configure3.log" 2>&1
log="${TMP}/subroot-flags.build3.log"
cmake --build "${b}" >"${log}" 2>&1
check "a sources option changed in DEBUGINFO_FLAGS: the next build uploads again" contains "${log}" "uploading 2 binaries" || show "${log}"
cmake -S "${SUB}/cmake" -B "${b}" -DDEBUGINFO_SOURCES=OFF >"${TMP}/subroot-flags.configure4.log" 2>&1
log="${TMP}/subroot-flags.build4.log"
cmake --build "${b}" >"${log}" 2>&1
check "DEBUGINFO_SOURCES changed: the next build uploads again" contains "${log}" "uploading 2 binaries" || show "${log}"
log="${TMP}/subroot-flags.build5.log"
cmake --build "${b}" >"${log}" 2>&1
check "DEBUGINFO_SOURCES changed: ... and the build after it nothing" lacks "${log}" "debuginfo: uploading" || show "${log}"
# The function argument, relative to the calling directory: sources with the first build.
b="${TMP}/subroot-fn"
cmake -S "${SUB}/cmake" -B "${b}" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEBUGINFO="${DEBUGINFO}" -DVIA_FUNCTION=ON \
  -DDEBUGINFO_STORE_ADDRESS="file://${TMP}/store-subroot-fn" >"${TMP}/subroot-fn.configure.log" 2>&1
check "debuginfo_upload_all(SOURCE_ROOTS ..): no warning" lacks "${TMP}/subroot-fn.configure.log" "outside the source roots" ||
  show "${TMP}/subroot-fn.configure.log"
log="${TMP}/subroot-fn.build.log"
cmake --build "${b}" >"${log}" 2>&1
check "debuginfo_upload_all(SOURCE_ROOTS ..): the first build uploads the sources" \
  archived "${TMP}/store-subroot-fn" "${b}/subapp" "subroot/include/subgreet.h" || show "${log}"
cmake -S "${SUB}/cmake" -B "${TMP}/subroot-bad" -DDEBUGINFO="${DEBUGINFO}" "-DDEBUGINFO_SOURCE_ROOTS=${SUB}/nonesuch" \
  >"${TMP}/subroot-bad.configure.log" 2>&1
check "DEBUGINFO_SOURCE_ROOTS naming no directory: configure fails" test $? != 0
check "DEBUGINFO_SOURCE_ROOTS naming no directory: says so" says "${TMP}/subroot-bad.configure.log" "nonesuch) is not a directory" ||
  show "${TMP}/subroot-bad.configure.log"

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
  PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" POLARSIGNALS_PROJECT_ID=p build parca "${log}"
  check "Parca: a no-op rebuild uploads nothing" lacks "${log}" "debuginfo: uploading"

  # debuginfo_upload(TARGET) only: what a build without credentials left pending
  # is sent by the next plain build that has them.
  cmake -S "${TMP}/single" -B "${TMP}/single/p" -DDEBUGINFO="${DEBUGINFO}" -DDEBUGINFO_STORE_ADDRESS="${PARCA_ADDR}" \
    -DDEBUGINFO_FLAGS=--insecure >"${TMP}/single-p.configure.log" 2>&1
  log="${TMP}/single-p.pending.log"
  cmake --build "${TMP}/single/p" >"${log}" 2>&1
  check "Parca, debuginfo_upload(TARGET), no credentials: pending, said once" count_is "${log}" "not uploading 1 binaries" 1 || show "${log}"
  log="${TMP}/single-p.creds.log"
  PARCA_DEBUGINFO_BEARER_TOKEN="${TOKEN}" POLARSIGNALS_PROJECT_ID=p cmake --build "${TMP}/single/p" >"${log}" 2>&1
  check "Parca, debuginfo_upload(TARGET): the next plain build with credentials uploads it" contains "${log}" "uploading 1 binaries" || show "${log}"
  if [[ -n "${PARCA_BUCKET:-}" ]]; then
    check "Parca, debuginfo_upload(TARGET): stored" in_store_debuginfo "${PARCA_BUCKET}" "${TMP}/single/p/one" || show "${log}"
  fi
else
  echo "# PARCA_ADDR not set: skipping the real Parca server"
fi

finish

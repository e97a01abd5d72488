#!/usr/bin/env bash
# End-to-end test of the Bazel rules on a real Bazel (Debian's bazel-bootstrap 4.2.3,
# WORKSPACE mode): builds a copy of the examples under examples/bazel (plus a package of
# Go binaries of its own, linked by a Go 1.26 SDK through rules_go, and one of C++ binaries
# that load Bazel-built shared libraries) with debuginfo_aspect
# against the embedded file:// store (and a real Parca server when PARCA_ADDR=host:port
# is set: plaintext, --insecure) and checks what the rules promise. examples/ is never
# edited: the copy lives under the cache, at a path fixed per checkout (so Bazel's
# output base, and with it the Go SDK's std, is reused between runs).
# Prints "N passed, N failed" last; exits non-zero on any failure.
#
# Caches (repository cache, disk cache, Go SDK, the CLI) live under
# ${RULES_DEBUGINFO_CACHE:-~/.cache/rules_debuginfo} so reruns are fast.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${RULES_DEBUGINFO_CACHE:-${HOME}/.cache/rules_debuginfo}"
WS="${CACHE}/e2e-ws/$(printf '%s' "${ROOT}" | cksum | cut -d' ' -f1)"
export RULES_DEBUGINFO_CACHE="${CACHE}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-e2e.XXXXXX")"
mkdir -p "${CACHE}"

# shellcheck source=../lib.sh
source "${ROOT}/tests/lib.sh"
finish() {
  # In CI, free the Bazel server's memory (about 400 MB) for the tests that follow.
  if [[ "${CI:-}" == true ]]; then (cd "${WS}" && bazel shutdown >/dev/null 2>&1); fi
  report
  exit $?
}

cleanup() {
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

# The workspace: a fresh copy of examples/bazel that loads the rules from this checkout,
# plus e2e_go/, Go binaries that meet rules_go's shared build ID for real.
rm -rf "${WS}"
mkdir -p "${WS}"
tar -C "${ROOT}/examples/bazel" --exclude='./bazel-*' --exclude=./local_paths.bzl --exclude=./user.bazelrc -cf - . |
  tar -C "${WS}" -xf -
sed -i "s|path = \"../..\",|path = \"${ROOT}\",|" "${WS}/WORKSPACE"
# Bazel 4.2.3 leaves a temp file per --execution_log_json_file in the JVM's temp
# directory (/tmp by default): keep them in one directory of this test's, emptied here.
JVM_TMP="${CACHE}/e2e-jvm-tmp"
rm -rf "${JVM_TMP}" && mkdir -p "${JVM_TMP}"
printf 'startup --host_jvm_args=-Djava.io.tmpdir=%s\n' "${JVM_TMP}" >>"${WS}/.bazelrc"
mkdir -p "${WS}/e2e_go"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("one") }\n' >"${WS}/e2e_go/one.go"
printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("two", 2) }\n' >"${WS}/e2e_go/two.go"
printf 'package one\n\nimport "testing"\n\nfunc TestOne(t *testing.T) {}\n' >"${WS}/e2e_go/one_test.go"
SAME_ID=00e2e0000000000000000000000000000000b1d5
cat >"${WS}/e2e_go/BUILD.bazel" <<EOF
load("@io_bazel_rules_go//go:def.bzl", "go_binary", "go_test")
load("@rules_debuginfo//rules:defs.bzl", "debuginfo_binary", "debuginfo_upload")

# Two different programs: rules_go links both with -buildid=redacted, so Go 1.26 gives
# both the same GNU build ID.
go_binary(name = "one", srcs = ["one.go"])

go_binary(name = "two", srcs = ["two.go"])

# The recommended path: ship these.
debuginfo_binary(name = "one_stamped", binary = ":one")

debuginfo_binary(name = "two_stamped", binary = ":two")

debuginfo_upload(name = "redacted_pair", targets = [":one", ":two"])

# Two different programs given one explicit (not redacted) build ID by identical -B.
go_binary(name = "three", srcs = ["one.go"], gc_linkopts = ["-B", "0x${SAME_ID}"], tags = ["manual"])

go_binary(name = "four", srcs = ["two.go"], gc_linkopts = ["-B", "0x${SAME_ID}"], tags = ["manual"])

debuginfo_upload(name = "same_id_pair", targets = [":three", ":four"], tags = ["manual"])

# A test: not shipped, so not visited by default (it too has the shared redacted ID).
go_test(name = "one_test", srcs = ["one_test.go"])
EOF

# e2e_solib/: binaries that load Bazel-built shared libraries at run time (a cc_test, which
# links dynamically by default, and a cc_binary with linkstatic = False), both loading
# libshapes.so (and libbase.so, its dependency).
mkdir -p "${WS}/e2e_solib"
printf 'int Base(int x);\n' >"${WS}/e2e_solib/base.h"
printf '#include "e2e_solib/base.h"\n\nint Base(int x) { return 3 * x + 1; }\n' >"${WS}/e2e_solib/base.cc"
printf 'double Hypot2(double a, double b);\n' >"${WS}/e2e_solib/shapes.h"
cat >"${WS}/e2e_solib/shapes.cc" <<'EOF'
#include "e2e_solib/shapes.h"

#include "e2e_solib/base.h"

double Hypot2(double a, double b) {
  double s = a * a + b * b;
  return s + Base(static_cast<int>(s)) * 0.0;
}
EOF
printf 'int Secret(int x);\n' >"${WS}/e2e_solib/private.h"
printf '#include "e2e_solib/private.h"\n\nint Secret(int x) { return x ^ 42; }\n' >"${WS}/e2e_solib/private.cc"
printf 'int StaticOnly(int x);\n' >"${WS}/e2e_solib/static_only.h"
printf '#include "e2e_solib/static_only.h"\n\nint StaticOnly(int x) { return x + 7; }\n' >"${WS}/e2e_solib/static_only.cc"
cat >"${WS}/e2e_solib/main.cc" <<'EOF'
#include <cstdio>

#include "e2e_solib/private.h"
#include "e2e_solib/shapes.h"

int main(int argc, char**) {
  std::printf("%f %d\n", Hypot2(argc, 2), Secret(argc));
  return 0;
}
EOF
cat >"${WS}/e2e_solib/static_main.cc" <<'EOF'
#include <cstdio>

#include "e2e_solib/shapes.h"
#include "e2e_solib/static_only.h"

int main(int argc, char**) {
  std::printf("%f %d\n", Hypot2(argc, 2), StaticOnly(argc));
  return 0;
}
EOF
cat >"${WS}/e2e_solib/shapes_test.cc" <<'EOF'
#include "e2e_solib/shapes.h"

int main() { return Hypot2(3, 4) == 25 ? 0 : 1; }
EOF
printf 'int Plugged(int x);\n' >"${WS}/e2e_solib/plugin.h"
printf '#include "e2e_solib/plugin.h"\n\nint Plugged(int x) { return x * 5 + 2; }\n' >"${WS}/e2e_solib/plugin.cc"
printf '#include "e2e_solib/plugin.h"\n\nint main() { return Plugged(1) == 7 ? 0 : 1; }\n' >"${WS}/e2e_solib/uses_plugin.cc"
cat >"${WS}/e2e_solib/BUILD.bazel" <<'EOF'
load("@rules_debuginfo//rules:defs.bzl", "debuginfo_upload")

cc_library(name = "base", srcs = ["base.cc"], hdrs = ["base.h"])

cc_library(name = "shapes", srcs = ["shapes.cc"], hdrs = ["shapes.h"], deps = [":base"])

# Loaded by area_dyn, but opted out.
cc_library(name = "private", srcs = ["private.cc"], hdrs = ["private.h"], tags = ["no-debuginfo-upload"])

# Linked only into area_static, statically: its shared library is built but loaded by nothing.
cc_library(name = "static_only", srcs = ["static_only.cc"], hdrs = ["static_only.h"])

cc_binary(name = "area_dyn", srcs = ["main.cc"], linkstatic = False, deps = [":private", ":shapes"])

cc_test(name = "shapes_test", srcs = ["shapes_test.cc"], deps = [":shapes"])

cc_binary(name = "area_static", srcs = ["static_main.cc"], deps = [":shapes", ":static_only"])

# A plugin a cc_binary builds and a cc_import wraps (manual: built by its own case below).
cc_binary(name = "libplugin.so", srcs = ["plugin.cc", "plugin.h"], linkshared = True, tags = ["manual"])

cc_import(name = "plugin", shared_library = ":libplugin.so", hdrs = ["plugin.h"], tags = ["manual"])

cc_binary(name = "uses_plugin", srcs = ["uses_plugin.cc"], deps = [":plugin"], tags = ["manual"])

debuginfo_upload(name = "upload", testonly = True, targets = [":area_dyn", ":shapes_test"])
EOF
# e2e_cgo/: a rules_go binary with a cgo library. rules_go names the library's file that
# imports "C" <workspace name>/e2e_cgo/calc.go (its Go code and its C preamble), its other Go
# file by base name (util.go), and its C file e2e_cgo/helper.c: the source archive carries each
# name Parca looks up.
mkdir -p "${WS}/e2e_cgo"
cat >"${WS}/e2e_cgo/calc.go" <<'EOF'
package cgolib

/*
#include "helper.h"
__attribute__((noinline)) static int c_twice(int x) { return helper_add(x, x); }
*/
import "C"

// Calc goes through C twice.
//
//go:noinline
func Calc(n int) int {
	t := 0
	for i := 0; i < n; i++ {
		t += int(C.c_twice(C.int(i)))
	}
	return t + Util(n)
}
EOF
printf 'package cgolib\n\n// Util stays in Go.\n//\n//go:noinline\nfunc Util(n int) int { return n * 3 }\n' >"${WS}/e2e_cgo/util.go"
printf 'int helper_add(int a, int b);\n' >"${WS}/e2e_cgo/helper.h"
printf '#include "helper.h"\n\n__attribute__((noinline)) int helper_add(int a, int b) { return a + b; }\n' >"${WS}/e2e_cgo/helper.c"
printf 'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/e2e_cgo/cgolib"\n)\n\nfunc main() { fmt.Println(cgolib.Calc(10)) }\n' >"${WS}/e2e_cgo/main.go"
cat >"${WS}/e2e_cgo/BUILD.bazel" <<'EOF'
load("@io_bazel_rules_go//go:def.bzl", "go_binary", "go_library")
load("@rules_debuginfo//rules:defs.bzl", "debuginfo_binary")

go_library(
    name = "cgolib",
    srcs = ["calc.go", "helper.c", "helper.h", "util.go"],
    cgo = True,
    importpath = "example.com/e2e_cgo/cgolib",
)

go_binary(name = "cg", srcs = ["main.go"], deps = [":cgolib"], tags = ["no-debuginfo-upload"])

debuginfo_binary(name = "cg_stamped", binary = ":cg")
EOF

# A comment new in every run: the extractions that archive these sources get a new input, so
# they execute (the disk cache and the output base outlive a run) and the execution log
# shows them; the compiled objects, and so every build ID, stay the same.
for f in base.cc shapes.cc; do
  printf '// e2e run %s\n' "$(date +%s%N)-$$" >>"${WS}/e2e_solib/${f}"
done

if ! "${ROOT}/tests/bazel/setup_examples.sh" "${WS}" >"${TMP}/setup.log" 2>&1; then
  cat "${TMP}/setup.log"
  not_ok "setup_examples.sh"
  finish
fi
ok "setup: workspace copied to ${WS}; CLI built, rules_go and Go 1.26 SDK ready"
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
# The binaries the aspect uploads, and those it must skip (rules_go's shared ID).
BINARIES=(c/hello cc/hello go/hello_stamped e2e_go/one_stamped e2e_go/two_stamped
  e2e_solib/area_dyn e2e_solib/shapes_test e2e_solib/area_static e2e_cgo/cg_stamped)
SHARED=(e2e_go/one e2e_go/two)
# Where each linked binary is under bazel-bin (rules_go puts go_binary in NAME_/NAME).
declare -A LINKED=([c/hello]=c/hello [cc/hello]=cc/hello [go/hello_stamped]=go/hello_stamped
  [e2e_go/one_stamped]=e2e_go/one_stamped [e2e_go/two_stamped]=e2e_go/two_stamped
  [e2e_go/one]=e2e_go/one_/one [e2e_go/two]=e2e_go/two_/two
  [e2e_solib/area_dyn]=e2e_solib/area_dyn [e2e_solib/shapes_test]=e2e_solib/shapes_test
  [e2e_solib/area_static]=e2e_solib/area_static [e2e_cgo/cg_stamped]=e2e_cgo/cg_stamped)
# The shared libraries that area_dyn and shapes_test load (PACKAGE/TARGET), uploaded once each.
LIBRARIES=(e2e_solib/shapes e2e_solib/base)

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

# count_runner LOG MNEMONIC RUNNER: spawns of MNEMONIC that RUNNER executed
# (in each JSON object of the log, "mnemonic" comes before "runner").
count_runner() {
  awk -v m="\"$2\"," -v r="\"$3\"," '$1 == "\"mnemonic\":" { cur = $2 } $1 == "\"runner\":" && cur == m && $2 == r { n++ } END { print n + 0 }' "$1"
}

# lib_dir PACKAGE/TARGET: where the aspect puts a cc_library's shared-library outputs.
lib_dir() {
  echo "${BIN}/$(dirname "$1")/_debuginfo/$(basename "$1")/lib$(basename "$1").so"
}

# loaded_lib BINARY NAME: the path of the Bazel-built shared library NAME (e.g. libshapes)
# that the dynamic loader finds for BINARY (under bazel-bin/_solib_<cpu>/).
loaded_lib() {
  ldd "$1" | awk -v n="$2" '$1 ~ n"[.]so$" && $3 ~ /_solib_/ {print $3}'
}

# spawns_writing LOG MNEMONIC TEXT: executed spawns of MNEMONIC with TEXT in an output's path
# (Bazel writes one JSON object per spawn, each top-level brace at the start of a line:
# "{", then "}{" between two spawns, then "}"; fields in any order).
spawns_writing() {
  awk -v m="\"$2\"," -v p="$3" 'function end() { if (hit && cur == m) n++; cur = ""; hit = 0 }
    /^\}/ { end() } $1 == "\"mnemonic\":" { cur = $2 } $1 == "\"listedOutputs\":" && index($0, p) { hit = 1 }
    END { print n + 0 }' "$1"
}

record_field() {
  sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1"
}

build_id_of() {
  "${TOOL}" buildid --json "$1" 2>/dev/null | sed -n 's/.*"build_id": *"\([^"]*\)".*/\1/p'
}

# 1. Build everything with the aspect (the token comes from a file).
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" \
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
  lid="$(build_id_of "${BIN}/${LINKED[$b]}")"
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

# rules_go's shared build ID, met for real: two different go_binary targets, one GNU ID.
for b in "${SHARED[@]}"; do
  BUILD_IDS[$b]="$(record_field "${BIN}/$(dirname "$b")/_debuginfo/$(basename "$b")/record.json" build_id)"
done
REDACTED="${BUILD_IDS[e2e_go/one]}"
check "e2e_go/one and e2e_go/two (different programs, Go 1.26) share one GNU build ID (${REDACTED:-none})" \
  bash -c "test -n '${REDACTED}' -a '${REDACTED}' == '${BUILD_IDS[e2e_go/two]}' -a '${REDACTED}' == '$(build_id_of "${BIN}/e2e_go/one_/one")' &&
           ! cmp -s '${BIN}/e2e_go/one_/one' '${BIN}/e2e_go/two_/two'"
check "the shared build ID is never uploaded to the store" test ! -e "${STORE}/debuginfo/${REDACTED}"
for b in "${SHARED[@]}"; do
  check "$b: the receipt says skipped, with a warning" \
    grep -q '"action":"skipped".*"warning":"' "${BIN}/$(dirname "$b")/_debuginfo/$(basename "$b")/upload.receipt.json"
done
n="$(grep -c 'warning: not uploading' "${TMP}/build1.log")"
check "one warning per shared-ID binary (saw ${n}), naming the fix (debuginfo_binary, stamp_go)" \
  bash -c "test '${n}' == 2 && grep 'warning: not uploading' '${TMP}/build1.log' | grep -q debuginfo_binary &&
           grep 'warning: not uploading' '${TMP}/build1.log' | grep -q stamp_go"
check "debuginfo_binary gives each shipped Go binary its own build ID" \
  bash -c "test '${BUILD_IDS[e2e_go/one_stamped]}' != '${BUILD_IDS[e2e_go/two_stamped]}' -a \
    '${BUILD_IDS[e2e_go/one_stamped]}' != '${REDACTED}' -a '${BUILD_IDS[go/hello_stamped]}' != '${REDACTED}'"
check "go/hello (tag no-debuginfo-upload, shipped as go/hello_stamped) is not visited" \
  test ! -e "${BIN}/go/_debuginfo/hello/record.json"
check "cc/private_tool (tag no-debuginfo-upload) is not visited" \
  test ! -e "${BIN}/cc/_debuginfo/private_tool/record.json"
check "e2e_go/one_test (a go_test) is built, and no warning names it" \
  bash -c "test -e '${BIN}/e2e_go/one_test_/one_test' && ! grep 'warning' '${TMP}/build1.log' | grep -q one_test"

# Shared libraries: area_dyn (linkstatic = False) and shapes_test (a cc_test) load
# libshapes.so and libbase.so from bazel-bin/_solib_<cpu>/; each is extracted and uploaded
# once, from its cc_library, although two binaries load it.
declare -A LIB_IDS=()
for l in "${LIBRARIES[@]}"; do
  name="lib$(basename "$l").so"
  dir="$(lib_dir "$l")"
  rid="$(record_field "${dir}/record.json" build_id)"
  LIB_IDS[$l]="${rid}"
  for b in e2e_solib/area_dyn e2e_solib/shapes_test; do
    so="$(loaded_lib "${BIN}/$b" "${name%.so}")"
    check "$l: $b loads ${so:-no ${name}}, whose build ID the aspect extracted (${rid:-none})" \
      test -n "${so}" -a -n "${rid}" -a "$(build_id_of "${so}")" == "${rid}"
  done
  check "$l: store holds ${name}'s debuginfo, its metadata and sources" \
    bash -c "test -s '${STORE}/debuginfo/${rid}/debuginfo' && test -s '${STORE}/debuginfo/${rid}/sources' &&
             ls '${STORE}/debuginfo/${rid}/' | grep -q metadata"
  check "$l: the upload receipt says uploaded" grep -q '"action":"uploaded"' "${dir}/upload.receipt.json"
  # Once: one extract and one upload action of any output path naming the library (both
  # execute: the sources are new, the uploads never cached), one record and one receipt
  # with its build ID.
  n1="$(spawns_writing "${TMP}/exec1.json" DebuginfoExtract "lib$(basename "$l")")"
  n2="$(spawns_writing "${TMP}/exec1.json" DebuginfoUpload "lib$(basename "$l")")"
  n3="$(grep -rl --include=record.json "\"build_id\":\"${rid}\"" "${BIN}/e2e_solib" | wc -l)"
  n4="$(grep -rl --include=upload.receipt.json "\"build_id\":\"${rid}\",.*\"type\":\"debuginfo\"" "${BIN}/e2e_solib" | wc -l)"
  check "$l: loaded by two binaries, ${name} was extracted once (${n1} actions, ${n3} records) and uploaded once (${n2} actions, ${n4} receipts)" \
    test "${n1}" == 1 -a "${n2}" == 1 -a "${n3}" == 1 -a "${n4}" == 1
done
check "e2e_solib/shapes: libshapes.so's source archive holds its own source and headers, not main.cc nor base.cc" \
  bash -c "tar --zstd -tf '$(lib_dir e2e_solib/shapes)/libshapes.so.sources.tar.zst' | sed 's|^\./||' | sort | tr '\n' ' ' |
           grep -qx 'e2e_solib/base.h e2e_solib/shapes.cc e2e_solib/shapes.h '"
so="$(loaded_lib "${BIN}/e2e_solib/area_dyn" libprivate)"
check "e2e_solib/private (tag no-debuginfo-upload): area_dyn loads it (${so:-not found}), but it is not extracted nor stored" \
  bash -c "test -n '${so}' && test ! -e '${BIN}/e2e_solib/_debuginfo/private' && test ! -e '${STORE}/debuginfo/$(build_id_of "${so}")'"
check "e2e_solib/area_static links statically: it loads no Bazel-built library" \
  bash -c "! ldd '${BIN}/e2e_solib/area_static' | grep -q _solib_"
check "e2e_solib/static_only (linked statically only): its libstatic_only.so is built, never extracted nor stored" \
  bash -c "test -s '${BIN}/e2e_solib/libstatic_only.so' && test ! -e '${BIN}/e2e_solib/_debuginfo/static_only' &&
           test ! -e '${STORE}/debuginfo/$(build_id_of "${BIN}/e2e_solib/libstatic_only.so")'"

n="$(count_spawns "${TMP}/exec1.json" DebuginfoUpload)"
check "every DebuginfoUpload (${n}) ran in the persistent worker (execution log runner \"worker\")" \
  test "${n}" -gt 0 -a "$(count_runner "${TMP}/exec1.json" DebuginfoUpload worker)" == "${n}"
n="$(count_spawns "${TMP}/exec1.json" DebuginfoExtract)"
check "every DebuginfoExtract (${n}) ran in the persistent extract worker (execution log runner \"worker\")" \
  test "${n}" -gt 0 -a "$(count_runner "${TMP}/exec1.json" DebuginfoExtract worker)" == "${n}"

# 2. A no-op rebuild executes no extract and no upload.
bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --execution_log_json_file="${TMP}/exec2.json" //... \
  >"${TMP}/build2.log" 2>&1
n="$(($(count_spawns "${TMP}/exec2.json" DebuginfoExtract) + $(count_spawns "${TMP}/exec2.json" DebuginfoUpload)))"
check "no-op rebuild executes 0 DebuginfoExtract/DebuginfoUpload actions, shared libraries' included (saw ${n})" test "${n}" == 0

# 3. Editing a source uploads exactly the new build ID.
cp "${WS}/c/greeting.h" "${TMP}/greeting.h.orig"
sed -i "s/hello from C/hello from C, edited ${RANDOM}/" "${WS}/c/greeting.h"
before="$(find "${STORE}/debuginfo" -mindepth 1 -maxdepth 1 | wc -l)"
# With the worker turned off (docs/bazel.md): the same upload as a plain process.
bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --strategy=DebuginfoUpload=local \
  --execution_log_json_file="${TMP}/exec3.json" //... >"${TMP}/build3.log" 2>&1
cp "${TMP}/greeting.h.orig" "${WS}/c/greeting.h"
newid="$(record_field "${BIN}/c/_debuginfo/hello/record.json" build_id)"
after="$(find "${STORE}/debuginfo" -mindepth 1 -maxdepth 1 | wc -l)"
check "edit: c/hello has a new build ID" test -n "${newid}" -a "${newid}" != "${BUILD_IDS[c/hello]}"
check "edit: exactly 1 DebuginfoUpload executed (saw $(count_spawns "${TMP}/exec3.json" DebuginfoUpload))" \
  test "$(count_spawns "${TMP}/exec3.json" DebuginfoUpload)" == 1
check "edit: with --strategy=DebuginfoUpload=local the upload ran as a local process, not in the worker" \
  test "$(count_runner "${TMP}/exec3.json" DebuginfoUpload local)" == 1
check "edit: the store gained exactly the new build ID" \
  test "$((after - before))" == 1 -a -s "${STORE}/debuginfo/${newid}/debuginfo"
check "edit: the receipt names the new build ID" grep -q "${newid}" "${BIN}/c/_debuginfo/hello/upload.receipt.json"

# A plugin built by cc_binary(linkshared = True) and wrapped by cc_import is uploaded once, by
# its cc_binary, with its own sources, also when only the binary that loads it is built: the
# cc_import does not upload it a second time with only its headers (a review saw that copy go
# first and Parca show no source), and the aspect reaches the cc_binary through it.
IMPORT_STORE="${TMP}/store-import"
if bz build "${BAZEL_COMMON[@]}" --config=debuginfo "--@rules_debuginfo//rules:store_address=file://${IMPORT_STORE}" \
  "--@rules_debuginfo//rules:bearer_token_file=${TMP}/token" --execution_log_json_file="${TMP}/exec-import.json" \
  //e2e_solib:uses_plugin >"${TMP}/build-import.log" 2>&1; then
  ok "bazel build //e2e_solib:uses_plugin (it loads a cc_import of a cc_binary's .so)"
else
  tail -20 "${TMP}/build-import.log"
  not_ok "bazel build //e2e_solib:uses_plugin (it loads a cc_import of a cc_binary's .so)"
fi
pid="$(build_id_of "${BIN}/e2e_solib/libplugin.so")"
n="$(spawns_writing "${TMP}/exec-import.json" DebuginfoUpload libplugin)"
check "cc_import of libplugin.so: uploaded once, by its cc_binary (${n} upload actions)" test "${n}" == 1
check "cc_import of libplugin.so: the stored sources hold plugin.cc" \
  bash -c "test -n '${pid}' && tar --zstd -tf '${IMPORT_STORE}/debuginfo/${pid}/sources' | sed 's|^\./||' | grep -qx e2e_solib/plugin.cc"

# 4. bazel run targets: a token file (what the docs recommend), then a credential helper.
RUN_STORE="${TMP}/run-file"
if bz_run "${BAZEL_COMMON[@]}" //:upload -- "--store-address=file://${RUN_STORE}" \
  "--bearer-token-file=${TMP}/token" >"${TMP}/run-file.log" 2>&1; then
  ok "bazel run //:upload -- --bearer-token-file=..."
else
  tail -20 "${TMP}/run-file.log"
  not_ok "bazel run //:upload -- --bearer-token-file=..."
fi
for b in c/hello cc/hello go/hello_stamped; do
  check "bazel run //:upload stored $b" test -s "${RUN_STORE}/debuginfo/${BUILD_IDS[$b]}/debuginfo"
done
check "bazel run //:upload: no token warning without a token in the environment" \
  bash -c "! grep -q 'is set in the environment' '${TMP}/run-file.log'"

# A debuginfo_upload of two binaries that load the same shared libraries: each library once.
RUN_SOLIB="${TMP}/run-solib"
if bz_run "${BAZEL_COMMON[@]}" //e2e_solib:upload -- "--store-address=file://${RUN_SOLIB}" \
  "--bearer-token-file=${TMP}/token" >"${TMP}/run-solib.log" 2>&1; then
  ok "bazel run //e2e_solib:upload (area_dyn and shapes_test)"
else
  tail -20 "${TMP}/run-solib.log"
  not_ok "bazel run //e2e_solib:upload (area_dyn and shapes_test)"
fi
for b in e2e_solib/area_dyn e2e_solib/shapes_test; do
  check "bazel run //e2e_solib:upload stored $b" test -s "${RUN_SOLIB}/debuginfo/${BUILD_IDS[$b]}/debuginfo"
done
for l in "${LIBRARIES[@]}"; do
  name="lib$(basename "$l").so"
  check "bazel run //e2e_solib:upload stored ${name} (${LIB_IDS[$l]:-none}), its record given once, uploaded once" \
    bash -c "test -s '${RUN_SOLIB}/debuginfo/${LIB_IDS[$l]}/debuginfo' &&
             test \$(grep -o '_debuginfo/$(basename "$l")/${name}/record.json' '${BIN}/e2e_solib/upload.sh' | wc -l) == 1 &&
             test \$(grep -c '^uploaded  debuginfo  ${LIB_IDS[$l]}  ${name} ' '${TMP}/run-solib.log') == 1"
done
check "bazel run //e2e_solib:upload: nothing else stored (2 binaries, 2 libraries)" \
  test "$(find "${RUN_SOLIB}/debuginfo" -mindepth 1 -maxdepth 1 | wc -l)" == 4

# A token exported for bazel lands in java.log: the launcher says so. (A decoy value:
# the real token must stay out of java.log.)
DECOY="decoy-token-$$"
PARCA_DEBUGINFO_BEARER_TOKEN="${DECOY}" bz_run "${BAZEL_COMMON[@]}" //c:upload -- \
  "--store-address=file://${TMP}/run-env" >"${TMP}/run-env.log" 2>&1
check "launcher warns that PARCA_DEBUGINFO_BEARER_TOKEN in bazel's environment ends up in java.log" \
  bash -c "grep -q 'warning: PARCA_DEBUGINFO_BEARER_TOKEN is set in the environment of bazel' '${TMP}/run-env.log' &&
           grep -q -- '--bearer-token-file' '${TMP}/run-env.log'"
OUTPUT_BASE="$(cd "${WS}" && bazel info output_base 2>/dev/null)"
check "(why: Bazel wrote the decoy token to \$(bazel info output_base)/java.log)" \
  bash -c "grep -qF '${DECOY}' '${OUTPUT_BASE}'/java.log*"

# Shared build IDs in one debuginfo_upload: redacted, then two files with one -B ID.
for pair in redacted_pair same_id_pair; do
  if bz_run "${BAZEL_COMMON[@]}" "//e2e_go:${pair}" -- "--store-address=file://${TMP}/run-${pair}" \
    "--bearer-token-file=${TMP}/token" >"${TMP}/run-${pair}.log" 2>&1; then
    ok "bazel run //e2e_go:${pair} succeeds (shared IDs skipped by default)"
  else
    tail -20 "${TMP}/run-${pair}.log"
    not_ok "bazel run //e2e_go:${pair} succeeds (shared IDs skipped by default)"
  fi
  check "//e2e_go:${pair}: two warnings, nothing stored" \
    bash -c "test \$(grep -c 'warning: not uploading' '${TMP}/run-${pair}.log') == 2 && test -z \"\$(find '${TMP}/run-${pair}' -type f)\""
done
check "//e2e_go:same_id_pair: the warning says the ID is shared by different files" \
  grep -q "build ID ${SAME_ID} is shared by different files" "${TMP}/run-same_id_pair.log"
if bz_run "${BAZEL_COMMON[@]}" --@rules_debuginfo//rules:fail_on_shared_build_id //e2e_go:same_id_pair -- \
  "--store-address=file://${TMP}/run-strict" "--bearer-token-file=${TMP}/token" >"${TMP}/run-strict.log" 2>&1; then
  not_ok "fail_on_shared_build_id: bazel run //e2e_go:same_id_pair fails"
else
  check "fail_on_shared_build_id: bazel run //e2e_go:same_id_pair fails, stores nothing" \
    bash -c "grep -q 'shared by different files' '${TMP}/run-strict.log' && test -z \"\$(find '${TMP}/run-strict' -type f)\""
fi

# The launcher finds runfiles with Bazel's runfiles library (anchored manifest lookups):
# a manifest line that merely ends with a record's path is not taken for it.
LAUNCHER="${BIN}/c/upload.sh"
MANIFEST="${TMP}/decoy.manifest"
printf 'decoy/%s %s\n' "$(grep -o '^[^ ]*c/_debuginfo/hello/record.json' "${LAUNCHER}.runfiles/MANIFEST")" \
  "${TMP}/no-such-record.json" >"${MANIFEST}"
cat "${LAUNCHER}.runfiles/MANIFEST" >>"${MANIFEST}"
(cd "${TMP}" && env -u RUNFILES_DIR RUNFILES_MANIFEST_FILE="${MANIFEST}" "${LAUNCHER}" \
  "--store-address=file://${TMP}/run-manifest" "--bearer-token-file=${TMP}/token") >"${TMP}/run-manifest.log" 2>&1
check "launcher in manifest mode uploads the right record despite a decoy manifest line" \
  test -s "${TMP}/run-manifest/debuginfo/${BUILD_IDS[c/hello]}/debuginfo"

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

# 5. The upload action's execution requirements, and no token anywhere. Bazel 4.2.3's
# aquery lists aspect actions only with --include_aspects.
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" 'mnemonic("DebuginfoUpload", //...)' \
  >"${TMP}/aquery-plain.txt" 2>/dev/null
check "aquery without --include_aspects lists no aspect action" \
  bash -c "! grep -q 'Mnemonic: DebuginfoUpload' '${TMP}/aquery-plain.txt'"
AQ=(--include_aspects --aspects=@rules_debuginfo//rules:defs.bzl%debuginfo_aspect --output_groups=+debuginfo_upload)
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" 'mnemonic("DebuginfoUpload", //...)' \
  >"${TMP}/aquery.txt" 2>"${TMP}/aquery.err"
check "aquery: DebuginfoUpload runs local (in a worker), networked, never remotely cached" \
  grep -q "ExecutionInfo: {no-remote-cache: 1, no-remote-exec: 1, no-sandbox: 1, requires-network: 1, supports-workers: 1}" "${TMP}/aquery.txt"
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" --@rules_debuginfo//rules:remote_upload \
  'mnemonic("DebuginfoUpload", //c:hello)' >"${TMP}/aquery-remote.txt" 2>/dev/null
check "aquery: with remote_upload the upload may run remotely (still no remote cache, no worker)" \
  grep -q "ExecutionInfo: {no-remote-cache: 1, requires-network: 1}" "${TMP}/aquery-remote.txt"
bz aquery "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" "${AQ[@]}" 'mnemonic("DebuginfoExtract", //...)' \
  >"${TMP}/aquery-extract.txt" 2>/dev/null
check "aquery: DebuginfoExtract only supports workers (cacheable, remote-executable, sandboxed if asked)" \
  bash -c "grep -q 'Mnemonic: DebuginfoExtract' '${TMP}/aquery-extract.txt' && grep -q 'ExecutionInfo: {supports-workers: 1}' '${TMP}/aquery-extract.txt'"
check "aquery lists the upload actions of the aspect with --include_aspects" \
  test "$(grep -c 'Mnemonic: DebuginfoUpload' "${TMP}/aquery.txt")" -ge "${#BINARIES[@]}"
check "aquery: no upload action for e2e_go/one_test (go_test is not in the default kinds)" \
  bash -c "grep -q 'e2e_go/_debuginfo/one/record.json' '${TMP}/aquery.txt' && ! grep -q 'e2e_go/_debuginfo/one_test/' '${TMP}/aquery.txt'"
# The strict setting on the aspect path: the upload action of a shared-ID binary fails.
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --@rules_debuginfo//rules:fail_on_shared_build_id \
  //e2e_go:one >"${TMP}/strict.log" 2>&1; then
  not_ok "fail_on_shared_build_id: bazel build --config=debuginfo //e2e_go:one fails"
else
  check "fail_on_shared_build_id: bazel build --config=debuginfo //e2e_go:one fails, naming the fix" \
    bash -c "grep -q 'redacted' '${TMP}/strict.log' && grep -q debuginfo_binary '${TMP}/strict.log'"
fi

# A password in the store address (review s12-auto, finding 2): analysis fails, without
# repeating it, before it reaches any action's command line.
PW="notapassword$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
if bz build "${BAZEL_COMMON[@]}" --config=debuginfo "--@rules_debuginfo//rules:store_address=u:${PW}@127.0.0.1:1" \
  //c:hello >"${TMP}/address-pw.log" 2>&1; then
  not_ok "a password in store_address: the build fails"
else
  check "a password in store_address: the build fails, saying why" contains "${TMP}/address-pw.log" "must not hold a user name or password"
  check "a password in store_address: the log never repeats it" lacks "${TMP}/address-pw.log" "${PW}"
fi
# The same for a token in upload_args (review s13-r1, finding 3): Make and CMake refuse it too.
if bz build "${BAZEL_COMMON[@]}" --config=debuginfo "--@rules_debuginfo//rules:upload_args=--bearer-token=${PW}" \
  //c:hello >"${TMP}/upload-args-token.log" 2>&1; then
  not_ok "a token in upload_args: the build fails"
else
  check "a token in upload_args: the build fails, saying why" contains "${TMP}/upload-args-token.log" "must not hold a token"
  check "a token in upload_args: the log never repeats it" lacks "${TMP}/upload-args-token.log" "${PW}"
fi

# A go_test under fail_on_shared_build_id: not visited, so the build passes; the kinds
# setting still selects it.
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --@rules_debuginfo//rules:fail_on_shared_build_id \
  //e2e_go:one_test >"${TMP}/strict-test.log" 2>&1; then
  ok "fail_on_shared_build_id: bazel build --config=debuginfo //e2e_go:one_test (a go_test) passes"
else
  tail -20 "${TMP}/strict-test.log"
  not_ok "fail_on_shared_build_id: bazel build --config=debuginfo //e2e_go:one_test (a go_test) passes"
fi
rm -rf "${BIN}/e2e_go/_debuginfo/one_test" # a record left by an earlier run would prove nothing
bz build "${BAZEL_COMMON[@]}" --config=debuginfo-extract --@rules_debuginfo//rules:kinds=go_test \
  //e2e_go:one_test >"${TMP}/kinds-test.log" 2>&1
check "--@rules_debuginfo//rules:kinds=go_test: the aspect visits e2e_go/one_test" \
  test -s "${BIN}/e2e_go/_debuginfo/one_test/record.json"

# 5b. stamp_go: the aspect stamps e2e_go/one itself; its record names the stamped file's ID.
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --@rules_debuginfo//rules:stamp_go //e2e_go:one >"${TMP}/stamp.log" 2>&1; then
  sid="$(record_field "${BIN}/e2e_go/_debuginfo/one/record.json" build_id)"
  fid="$(build_id_of "${BIN}/e2e_go/_debuginfo/one/one")"
  check "stamp_go: e2e_go/one is uploaded under its stamped ID (${sid:-none}), not the shared one" \
    test -n "${sid}" -a "${sid}" == "${fid}" -a "${sid}" != "${REDACTED}" -a -s "${STORE}/debuginfo/${sid}/debuginfo"
else
  tail -20 "${TMP}/stamp.log"
  not_ok "stamp_go: bazel build //e2e_go:one"
fi

# 5c. docs/credentials.md's credential-helper wrapper, as the rules' credential_helper, in
# an upload action under --incompatible_strict_action_env (no HOME, PATH=/bin:/usr/bin:...)
# against the IAM test store (a psc_v1_ service-account token, projectID required). The
# wrapper is taken from the doc; only the three values it says to put in are replaced.
awk '/^```sh$/ {blk = ""; inb = 1; next}
     /^```$/ && inb {inb = 0; if (blk ~ /debuginfo credential-helper/ && blk ~ /^#!\/bin\/sh/) {printf "%s", blk; exit}; next}
     inb {blk = blk $0 "\n"}' "${ROOT}/docs/credentials.md" >"${TMP}/wrapper.doc"
WRAPPER="${TMP}/tools/debuginfo-credential-helper"
mkdir -p "${TMP}/tools"
if (cd "${ROOT}" && go build -o "${TMP}/teststored" ./uploader/internal/teststore/teststored) >"${TMP}/ts-build.log" 2>&1 &&
  grep -qF /usr/local/bin/debuginfo "${TMP}/wrapper.doc" && grep -qF /home/me/.config/polarsignals/token "${TMP}/wrapper.doc" &&
  grep -qF YOUR-PROJECT-ID "${TMP}/wrapper.doc"; then
  "${TMP}/teststored" -token-file "${TMP}/ts.token" >"${TMP}/ts.addr" 2>"${TMP}/ts.log" &
  ts_pid=$!
  for _ in $(seq 50); do [[ -s "${TMP}/ts.addr" ]] && break; sleep 0.1; done
  TS="$(cat "${TMP}/ts.addr")"
  sed -e "s|/usr/local/bin/debuginfo|${TOOL}|" -e "s|/home/me/.config/polarsignals/token|${TMP}/ts.token|" \
    -e "s|YOUR-PROJECT-ID|proj-a|" "${TMP}/wrapper.doc" >"${WRAPPER}"
  chmod +x "${WRAPPER}"
  if bz build "${BAZEL_COMMON[@]}" --config=debuginfo --incompatible_strict_action_env \
    "--@rules_debuginfo//rules:store_address=${TS}" --@rules_debuginfo//rules:insecure \
    "--@rules_debuginfo//rules:credential_helper=${WRAPPER}" //c:hello >"${TMP}/helper-build.log" 2>&1; then
    ok "credentials.md's wrapper as credential_helper: bazel build --config=debuginfo --incompatible_strict_action_env //c:hello"
  else
    tail -20 "${TMP}/helper-build.log"
    not_ok "credentials.md's wrapper as credential_helper: bazel build --config=debuginfo --incompatible_strict_action_env //c:hello"
  fi
  check "credentials.md's wrapper: the IAM test store holds c/hello" \
    bash -c "POLARSIGNALS_TOKEN=\"\$(cat '${TMP}/ts.token')\" POLARSIGNALS_PROJECT_ID=proj-a '${TOOL}' upload \
      --store-address='${TS}' --insecure --no-initiate --json '${BIN}/c/hello' 2>/dev/null | grep -q '\"action\":\"skipped\"'"
  kill "${ts_pid}" 2>/dev/null
  wait "${ts_pid}" 2>/dev/null
else
  cat "${TMP}/ts-build.log" "${TMP}/wrapper.doc"
  not_ok "credentials.md has the wrapper (with /usr/local/bin/debuginfo, /home/me/..., YOUR-PROJECT-ID); teststored builds"
fi

# 5d. --dynamic_mode=fully: cc/hello (a cc_binary with the default linkstatic) loads
# cc/lib's shared library, which is uploaded with it.
if bz build "${BAZEL_COMMON[@]}" "${UPLOAD_FLAGS[@]}" --dynamic_mode=fully \
  --execution_log_json_file="${TMP}/exec-fully.json" //cc:hello >"${TMP}/fully.log" 2>&1; then
  so="$(loaded_lib "${BIN}/cc/hello" liblib)"
  rid="$(record_field "${BIN}/cc/_debuginfo/lib/liblib.so/record.json" build_id)"
  n="$(count_spawns "${TMP}/exec-fully.json" DebuginfoUpload)"
  check "--dynamic_mode=fully: cc/hello loads ${so:-no liblib.so}, whose build ID (${rid:-none}) is stored; ${n} uploads (cc/hello, liblib.so)" \
    bash -c "test -n '${so}' -a -n '${rid}' && test '$(build_id_of "${so}")' == '${rid}' &&
             test -s '${STORE}/debuginfo/${rid}/debuginfo' && test '${n}' == 2"
else
  tail -20 "${TMP}/fully.log"
  not_ok "bazel build --config=debuginfo --dynamic_mode=fully //cc:hello"
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
  n="$(count_spawns "${TMP}/exec-parca.json" DebuginfoUpload)"
  check "Parca: one upload action per visited binary and per shared library they load (${n})" \
    test "${n}" == "$((${#BINARIES[@]} + ${#SHARED[@]} + ${#LIBRARIES[@]}))"
  check "Parca: every upload went through the worker" \
    test "$(count_runner "${TMP}/exec-parca.json" DebuginfoUpload worker)" == "${n}"
  # Each worker process logs each store connection it opens: one to Parca each.
  wlogs=("${OUTPUT_BASE}"/bazel-workers/*DebuginfoUpload*.log)
  check "Parca: each DebuginfoUpload worker (${#wlogs[@]}) opened one connection to Parca for all its uploads" \
    bash -c "grep -l 'new store connection 1 to ${PARCA_ADDR}' ${wlogs[*]} >/dev/null && ! grep -q 'new store connection 2' ${wlogs[*]}"
  if [[ -n "${PARCA_BUCKET:-}" ]]; then
    for b in "${BINARIES[@]}"; do
      check "Parca's bucket holds $b's debuginfo" test -s "${PARCA_BUCKET}/debuginfo/${BUILD_IDS[$b]}/debuginfo"
    done
    check "Parca's bucket holds nothing under the shared build ID" test ! -e "${PARCA_BUCKET}/debuginfo/${REDACTED}"
    for l in "${LIBRARIES[@]}"; do
      check "Parca's bucket holds the debuginfo and sources of $l's shared library (${LIB_IDS[$l]:-none})" \
        bash -c "test -n '${LIB_IDS[$l]}' && test -s '${PARCA_BUCKET}/debuginfo/${LIB_IDS[$l]}/debuginfo' &&
                 test -s '${PARCA_BUCKET}/debuginfo/${LIB_IDS[$l]}/sources'"
    done
  fi
  # What Parca shows for profiles of them: names, file:line and sources.
  if (cd "${ROOT}/tests/parca" && GOWORK=off go build -o "${TMP}/symbolize-check" ./cmd/symbolize-check) >"${TMP}/sc-build.log" 2>&1; then
    sc() { "${TMP}/symbolize-check" -source-root "${WS}" "$@"; }
    check "Parca symbolizes c/hello with lines and sources" sc -binary "${BIN}/c/hello" main
    # examples::Greeting sits in a unit whose line table is out of address order (its
    # inline std::string functions have sections of their own): Parca v0.28.0 shows its
    # file:line only because extraction sorts the sequences.
    check "Parca symbolizes cc/hello with lines and sources" sc -binary "${BIN}/cc/hello" main \
      _ZN8examples8GreetingERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE=Greeting
    check "Parca symbolizes go/hello_stamped with lines and sources" sc -binary "${BIN}/go/hello_stamped" main.main
    # The names rules_go gives a cgo package's files (see e2e_cgo/), each a link to the file.
    cgo_root="${TMP}/cgo-names"
    mkdir -p "${cgo_root}"
    ln -sfn "${WS}" "${cgo_root}/rules_debuginfo_examples"
    ln -sfn "${WS}/e2e_cgo" "${cgo_root}/e2e_cgo"
    ln -sfn "${WS}/e2e_cgo/util.go" "${cgo_root}/util.go"
    check "Parca symbolizes e2e_cgo/cg_stamped (Go, cgo and C) with lines and sources" \
      "${TMP}/symbolize-check" -source-root "${cgo_root}" -binary "${BIN}/e2e_cgo/cg_/cg" \
      -uploaded "${BIN}/e2e_cgo/cg_stamped" main.main example.com/e2e_cgo/cgolib.Calc \
      example.com/e2e_cgo/cgolib.Util c_twice helper_add
    # Functions that live only in the shared libraries area_dyn and shapes_test load.
    check "Parca symbolizes libshapes.so (loaded by e2e_solib/area_dyn) with lines and sources" \
      sc -binary "$(loaded_lib "${BIN}/e2e_solib/area_dyn" libshapes)" _Z6Hypot2dd=Hypot2
    check "Parca symbolizes libbase.so (loaded by e2e_solib/shapes_test) with lines and sources" \
      sc -binary "$(loaded_lib "${BIN}/e2e_solib/shapes_test" libbase)" _Z4Basei=Base
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

# Last: the token appears nowhere Bazel keeps things, Bazel's own java.log included.
leaks="$(grep -rlF "${TOKEN}" "${TMP}"/exec*.json "${TMP}"/aquery*.txt "${CACHE}/disk_cache" "${BIN}" \
  "${OUTPUT_BASE}"/java.log* "${OUTPUT_BASE}"/bazel-workers 2>/dev/null | head -5)"
check "the token appears in no execution log, aquery output, disk cache, output tree, java.log or worker log${leaks:+ (found in ${leaks})}" \
  test -z "${leaks}"

finish

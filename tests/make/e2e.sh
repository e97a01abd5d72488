#!/usr/bin/env bash
# End-to-end test of the Make include (tools/make/debuginfo.mk): builds examples/make
# in a temporary copy whose path holds a space, against the embedded file:// store,
# the IAM test store (teststored: Polar Signals' service-account rules) and the real
# Parca server when PARCA_ADDR=host:port is set (plaintext, --insecure, no auth), and
# checks what docs/make.md promises.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-make-e2e.XXXXXX")"
trap '[[ -n "${KEEP_TMP:-}" ]] || rm -rf "${TMP}"' EXIT

# shellcheck source=../lib.sh
source "${ROOT}/tests/lib.sh"
finish() {
  report
  exit $?
}

# The credentials a developer might have set must not leak into the tests.
unset POLARSIGNALS_TOKEN PARCA_DEBUGINFO_BEARER_TOKEN DEBUGINFO_TOKEN_FILE \
  DEBUGINFO_CREDENTIAL_HELPER POLARSIGNALS_PROJECT_ID CI DEBUGINFO_REQUIRED \
  DEBUGINFO_STORE_ADDRESS DEBUGINFO_FLAGS DEBUGINFO_SOURCES DEBUGINFO_AUTH DEBUGINFO_BINARIES \
  DEBUGINFO_STAMP_DIR MAKEFLAGS MAKELEVEL
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

DEBUGINFO="${TMP}/bin/debuginfo"
if ! (cd "${ROOT}" && go build -o "${DEBUGINFO}" ./uploader/cmd/debuginfo) >"${TMP}/build.log" 2>&1; then
  show "${TMP}/build.log"
  not_ok "go build ./uploader/cmd/debuginfo"
  finish
fi
export DEBUGINFO

# A fresh copy of the include and the example under a path with a space:
# "$1/rules_debuginfo/{tools/make/debuginfo.mk,examples/make}". Prints the example dir.
fresh() {
  local top="$1"
  rm -rf "${top}"
  mkdir -p "${top}/rules_debuginfo/tools/make" "${top}/rules_debuginfo/examples"
  cp "${ROOT}/tools/make/debuginfo.mk" "${top}/rules_debuginfo/tools/make/"
  cp -r "${ROOT}/examples/make" "${top}/rules_debuginfo/examples/"
  rm -rf "${top}/rules_debuginfo/examples/make/build" "${top}/rules_debuginfo/examples/make/.debuginfo"
  echo "${top}/rules_debuginfo/examples/make"
}

# buildid FILE: its build ID.
buildid() { "${DEBUGINFO}" buildid --json "$1" | sed -n 's/.*"build_id":"\([^"]*\)".*/\1/p'; }
# in_store STORE BINARY [sources]: the file store holds the binary's debuginfo (and sources).
in_store() {
  local id
  id="$(buildid "$2")" && [[ -n "${id}" ]] || return 1
  [[ -s "$1/debuginfo/${id}/debuginfo" && -s "$1/debuginfo/${id}/metadata" ]] || return 1
  if [[ "${3:-}" == sources ]]; then [[ -s "$1/debuginfo/${id}/sources" ]] || return 1; fi
  return 0
}
not_in_store_sources() {
  local id
  id="$(buildid "$2")" && [[ -n "${id}" && ! -e "$1/debuginfo/${id}/sources" ]]
}
# contains LOG PATTERN / lacks LOG PATTERN (fixed strings)
count_is() { [[ "$(grep -cF -- "$2" "$1")" == "$3" ]]; }

BINS=(build/hello-c build/hello-go)

# ---------------------------------------------------------------- file:// store
EX="$(fresh "${TMP}/with space")"
STORE="${TMP}/store"
FILE_STORE="DEBUGINFO_STORE_ADDRESS=file://${STORE}"
log="${TMP}/first.log"
if (cd "${EX}" && make "${FILE_STORE}") >"${log}" 2>&1; then ok "make (file:// store, path with a space)"; else
  show "${log}"; not_ok "make (file:// store, path with a space)"; fi
for b in "${BINS[@]}"; do
  check "store holds debuginfo and sources of ${b}" in_store "${STORE}" "${EX}/${b}" sources
done
check "first make uploaded both binaries" count_is "${log}" "debuginfo: uploading" 2

log="${TMP}/second.log"
receipts_before="$(cd "${EX}" && ls -l --time-style=full-iso .debuginfo/*/ 2>&1)"
(cd "${EX}" && make "${FILE_STORE}") >"${log}" 2>&1
check "second make succeeds" test $? = 0
check "second make uploads nothing (no upload run)" lacks "${log}" "debuginfo: uploading"
check "second make says nothing to upload" contains "${log}" "debuginfo: nothing to upload"
check "second make leaves stamps and receipts alone" \
  test "${receipts_before}" = "$(cd "${EX}" && ls -l --time-style=full-iso .debuginfo/*/ 2>&1)"

# Relinking the same program gives the same build ID: no store contact.
log="${TMP}/relink.log"
touch "${EX}/c/greet.c"
(cd "${EX}" && make "${FILE_STORE}") >"${log}" 2>&1
check "relink of an unchanged program: relinked" contains "${log}" "-o build/hello-c"
check "relink of an unchanged program: not uploaded again" contains "${log}" "build/hello-c is unchanged"
check "relink of an unchanged program: no upload run" lacks "${log}" "debuginfo: uploading"

# A real change: uploaded again, only that binary. make -n first: it relinks nothing,
# so the batched target cannot count hello-go, and says so (review s13-r3, finding 2).
sed -i 's/from Go/from Go, changed/' "${EX}/go/greeting.go"
log="${TMP}/change-n.log"
(cd "${EX}" && make -n "${FILE_STORE}") >"${log}" 2>&1
check "make -n after a change: says what it cannot count" contains "${log}" "make -n links nothing: binaries it would relink are not counted"
log="${TMP}/change.log"
(cd "${EX}" && make "${FILE_STORE}") >"${log}" 2>&1
check "changed Go program: make succeeds" test $? = 0
check "changed Go program: uploaded" contains "${log}" "debuginfo: uploading 1 of 1"
check "changed Go program: store holds the new build ID" in_store "${STORE}" "${EX}/build/hello-go" sources

# ---------------------------------------------------------------- sources off
EX="$(fresh "${TMP}/nosrc")"
STORE2="${TMP}/store2"
(cd "${EX}" && make "DEBUGINFO_STORE_ADDRESS=file://${STORE2}" DEBUGINFO_SOURCES=off) >"${TMP}/nosrc.log" 2>&1
check "DEBUGINFO_SOURCES=off: make succeeds" test $? = 0
for b in "${BINS[@]}"; do
  check "DEBUGINFO_SOURCES=off: debuginfo of ${b}" in_store "${STORE2}" "${EX}/${b}"
  check "DEBUGINFO_SOURCES=off: no sources of ${b}" not_in_store_sources "${STORE2}" "${EX}/${b}"
done

# ---------------------------------------------------------------- built without -g
EX="$(fresh "${TMP}/nog")"
log="${TMP}/nog.log"
(cd "${EX}" && make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store-nog" CFLAGS=-O1) >"${log}" 2>&1
check "built without -g: make succeeds" test $? = 0 || show "${log}"
check "built without -g: one line warns of symbols only and says to use -g" \
  count_is "${log}" "build/hello-c: symbols only: no file:line or sources; build with -g" 1

# ---------------------------------------------------------------- make -n
EX="$(fresh "${TMP}/dry")"
log="${TMP}/dry.log"
(cd "${EX}" && make -n "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store-n") >"${log}" 2>&1
check "make -n succeeds" test $? = 0
check "make -n prints the upload commands" count_is "${log}" "upload --store-address=" 2
check "make -n builds nothing" test ! -e "${EX}/build"
check "make -n uploads nothing" test ! -e "${TMP}/store-n"
check "make -n writes no stamps" test ! -e "${EX}/.debuginfo"

# ---------------------------------------------------------------- make -j4
EX="$(fresh "${TMP}/par")"
STORE3="${TMP}/store3"
(cd "${EX}" && make -j4 "DEBUGINFO_STORE_ADDRESS=file://${STORE3}") >"${TMP}/j4.log" 2>&1
check "make -j4 succeeds" test $? = 0 || show "${TMP}/j4.log"
for b in "${BINS[@]}"; do
  check "make -j4: store holds ${b}" in_store "${STORE3}" "${EX}/${b}" sources
done
(cd "${EX}" && make -j4 "DEBUGINFO_STORE_ADDRESS=file://${STORE3}") >"${TMP}/j4b.log" 2>&1
check "make -j4 again uploads nothing" lacks "${TMP}/j4b.log" "debuginfo: uploading"

# ---------------------------------------------------------------- binaries in a directory with a space
EX="$(fresh "${TMP}/sp")"
STORE4="${TMP}/store4"
cat >"${EX}/Spaces.mk" <<'EOF'
CC ?= cc
DEBUGINFO_BINARIES = out\ dir/batched
include ../../tools/make/debuginfo.mk
all: out\ dir/linked out\ dir/batched debuginfo-upload
out\ dir/linked: c/main.c c/greet.c c/greet.h
	mkdir -p "out dir"
	$(CC) -g -Ic -o "$@" c/main.c c/greet.c
	$(call debuginfo_upload,$@)
out\ dir/batched: c/main.c c/greet.c c/greet.h
	mkdir -p "out dir"
	$(CC) -g -O2 -Ic -o "$@" c/main.c c/greet.c
EOF
log="${TMP}/space.log"
(cd "${EX}" && make -f Spaces.mk "DEBUGINFO_STORE_ADDRESS=file://${STORE4}") >"${log}" 2>&1
check "binaries in 'out dir': make succeeds" test $? = 0 || show "${log}"
check "binaries in 'out dir': per-link upload" in_store "${STORE4}" "${EX}/out dir/linked" sources
check "binaries in 'out dir': batched upload" in_store "${STORE4}" "${EX}/out dir/batched" sources
(cd "${EX}" && make -f Spaces.mk "DEBUGINFO_STORE_ADDRESS=file://${STORE4}") >"${TMP}/space2.log" 2>&1
check "binaries in 'out dir': second make uploads nothing" lacks "${TMP}/space2.log" "debuginfo: uploading"

# ---------------------------------------------------------------- credentials
EX="$(fresh "${TMP}/creds")"
NOSTORE="DEBUGINFO_STORE_ADDRESS=127.0.0.1:9"   # nothing listens; never contacted without credentials
log="${TMP}/nocreds.log"
(cd "${EX}" && make "${NOSTORE}") >"${log}" 2>&1
check "no credentials: local build succeeds" test $? = 0 || show "${log}"
check "no credentials: one clear line per binary" count_is "${log}" "debuginfo: not uploading" 2
check "no credentials: the line says why" contains "${log}" "no credentials (export POLARSIGNALS_TOKEN"
check "no credentials: no upload run" lacks "${log}" "debuginfo: uploading"
check "no credentials: no stamp written" test -z "$(find "${EX}/.debuginfo" -name '*.stamp' 2>/dev/null)"
check "no credentials: the per-link upload is left pending, for that store" \
  test -e "${EX}/.debuginfo/127.0.0.1_9/pending/build+2Fhello-c"

# A pending per-link upload and no credentials: said on every make, and under CI=true
# (or DEBUGINFO_REQUIRED=1) the make fails (the binary is up to date: only the pending
# upload is in play), so a retry never goes green with nothing sent.
log="${TMP}/pending-nocreds.log"
(cd "${EX}" && make "${NOSTORE}" build/hello-c) >"${log}" 2>&1
check "pending upload, no credentials: make says the upload is still pending" \
  eval "[[ $? == 0 ]] && grep -qF 'not uploading build/hello-c (its upload to 127.0.0.1:9 is pending): no credentials' '${log}'"
for mode in CI=true DEBUGINFO_REQUIRED=1; do
  log="${TMP}/pending-${mode%%=*}.log"
  (cd "${EX}" && env "${mode}" make "${NOSTORE}" build/hello-c) >"${log}" 2>&1
  check "pending upload, no credentials, ${mode}: make fails, saying why" \
    eval "[[ $? != 0 ]] && grep -qF 'debuginfo: error: cannot upload build/hello-c (its upload to 127.0.0.1:9 is pending)' '${log}'"
done
check "pending upload, no credentials, CI=true: the marker stays for the next make" \
  test -e "${EX}/.debuginfo/127.0.0.1_9/pending/build+2Fhello-c"

(cd "${EX}" && make clean >/dev/null && make "${NOSTORE}" DEBUGINFO_REQUIRED=1) >"${TMP}/req.log" 2>&1
check "no credentials, DEBUGINFO_REQUIRED=1: build fails" test $? != 0
check "no credentials, DEBUGINFO_REQUIRED=1: says why" contains "${TMP}/req.log" "debuginfo: error: cannot upload"
(cd "${EX}" && make clean >/dev/null && CI=true make "${NOSTORE}") >"${TMP}/ci.log" 2>&1
check "no credentials, CI=true: build fails" test $? != 0
check "no credentials, CI=true: the per-link binary is removed" test ! -e "${EX}/build/hello-c"
(cd "${EX}" && CI=true make "${NOSTORE}") >"${TMP}/ci-retry.log" 2>&1
check "no credentials, CI=true: a retry fails too (never green with nothing sent)" test $? != 0

SECRET="psc_v1_$(printf '5ec7e7%.0s' {1..10})abcd"
for var in POLARSIGNALS_TOKEN PARCA_DEBUGINFO_BEARER_TOKEN; do
  log="${TMP}/cmdline-${var}.log"
  (cd "${EX}" && make "${NOSTORE}" "${var}=${SECRET}") >"${log}" 2>&1
  check "${var} on the make command line: refused" test $? != 0
  check "${var} on the make command line: says to export it" contains "${log}" "Export it in the environment"
  check "${var} on the make command line: never echoed" lacks "${log}" "${SECRET}"
done
log="${TMP}/flags-token.log"
(cd "${EX}" && make "${NOSTORE}" "DEBUGINFO_FLAGS=--bearer-token=${SECRET}") >"${log}" 2>&1
check "--bearer-token in DEBUGINFO_FLAGS: refused, never echoed" \
  eval "! (cd '${EX}' && make -n '${NOSTORE}' 'DEBUGINFO_FLAGS=--bearer-token=${SECRET}') >/dev/null 2>&1 && ! grep -qF '${SECRET}' '${log}'"
# Every spelling: one dash, a separate word, upper case, an authorization header (name=value or HTTP form).
i=0
for flags in "-bearer-token=${SECRET}" "--bearer-token ${SECRET}" "--BEARER-TOKEN=${SECRET}" \
  "--grpc-headers=authorization=Bearer\ ${SECRET}" "--grpc-headers=x-tenant=t;Authorization: Basic ${SECRET}"; do
  i=$((i + 1)); log="${TMP}/flags-token-${i}.log"
  (cd "${EX}" && make -n "${NOSTORE}" "DEBUGINFO_FLAGS=${flags}") >"${log}" 2>&1
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: refused" test $? != 0
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: says why" contains "${log}" "a token in DEBUGINFO_FLAGS"
  check "a token in DEBUGINFO_FLAGS, spelling ${i}: never echoed" lacks "${log}" "${SECRET}"
done

# A password in the store address (review s12-auto, finding 2): refused, never echoed.
i=0
for setting in "DEBUGINFO_STORE_ADDRESS=u:${SECRET}@127.0.0.1:1" "DEBUGINFO_STORE_ADDRESS=https://u:${SECRET}@127.0.0.1:1" \
  "DEBUGINFO_FLAGS=--store-address=u:${SECRET}@127.0.0.1:1" "DEBUGINFO_FLAGS=--insecure --store-address u:${SECRET}@127.0.0.1:1" \
  "DEBUGINFO_STORE_ADDRESS=127.0.0.1:1?key=${SECRET}" "DEBUGINFO_STORE_ADDRESS=127.0.0.1:1#${SECRET}" \
  "DEBUGINFO_FLAGS=--store-address=127.0.0.1:1?key=${SECRET}"; do
  i=$((i + 1)); log="${TMP}/address-creds-${i}.log"
  (cd "${EX}" && make clean >/dev/null 2>&1; POLARSIGNALS_TOKEN=x make "${setting}") >"${log}" 2>&1
  check "a password in the store address, form ${i}: refused" test $? != 0
  check "a password in the store address, form ${i}: says why" contains "${log}" "must not hold a user name or password"
  check "a password in the store address, form ${i}: never echoed" lacks "${log}" "${SECRET}"
  check "a password in the store address, form ${i}: no stamp directory names it" \
    eval "! find '${EX}' -name '*${SECRET}*' | grep -q ."
done

# A token in the environment but the store is down: a warning, unless required.
log="${TMP}/down.log"
(cd "${EX}" && make clean >/dev/null &&
  POLARSIGNALS_TOKEN="${SECRET}" make "${NOSTORE}" DEBUGINFO_FLAGS="--insecure --retries=0 --timeout=10s") >"${log}" 2>&1
check "token from the environment, store down: local build succeeds with a warning" \
  eval "[[ $? == 0 ]] && grep -qF 'debuginfo: warning: upload' '${log}'"
check "token from the environment: never echoed" lacks "${log}" "${SECRET}"
log="${TMP}/down-req.log"
(cd "${EX}" && make clean >/dev/null &&
  POLARSIGNALS_TOKEN="${SECRET}" make "${NOSTORE}" DEBUGINFO_REQUIRED=1 DEBUGINFO_FLAGS="--insecure --retries=0 --timeout=10s") >"${log}" 2>&1
check "store down, DEBUGINFO_REQUIRED=1: build fails" test $? != 0
check "store down, DEBUGINFO_REQUIRED=1: the binary is removed so the next make retries" test ! -e "${EX}/build/hello-c"

# ---------------------------------------------------------------- pending uploads are per store
# A failed per-link upload to store A stays pending for A: a make against another
# store (docs/make.md's "try it locally") neither takes it nor settles it, and the
# next make against A sends it. A is a file:// store under a regular file until
# that file goes away.
EX="$(fresh "${TMP}/per-store")"
: >"${TMP}/blocker"
STORE_A="DEBUGINFO_STORE_ADDRESS=file://${TMP}/blocker/store-a"
log="${TMP}/store-a1.log"
(cd "${EX}" && make "${STORE_A}" build/hello-c) >"${log}" 2>&1
check "store A failing: per-link upload warns, build goes on, pending for A" \
  eval "[[ $? == 0 ]] && grep -qF 'debuginfo: warning: upload of build/hello-c failed' '${log}' &&
        ls '${EX}'/.debuginfo/*store-a/pending/build+2Fhello-c >/dev/null"
log="${TMP}/store-x.log"
(cd "${EX}" && make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store-x" build/hello-c) >"${log}" 2>&1
check "another store (file://): make succeeds, sends nothing of A's pending upload" \
  eval "[[ $? == 0 ]] && ! grep -qF 'debuginfo: uploading' '${log}' && ! in_store '${TMP}/store-x' '${EX}/build/hello-c'"
check "another store (file://): A's pending marker survives" \
  bash -c "ls '${EX}'/.debuginfo/*store-a/pending/build+2Fhello-c >/dev/null 2>&1"
rm -f "${TMP}/blocker"
log="${TMP}/store-a2.log"
(cd "${EX}" && make "${STORE_A}" build/hello-c) >"${log}" 2>&1
check "store A back: the pending upload goes to A, without a relink" \
  eval "[[ $? == 0 ]] && grep -qF 'build/hello-c has a pending upload to file://' '${log}' && ! grep -qF -- '-o build/hello-c' '${log}'"
check "store A back: A holds build/hello-c" in_store "${TMP}/blocker/store-a" "${EX}/build/hello-c" sources
check "store A back: no pending marker left" test -z "$(find "${EX}/.debuginfo" -path '*/pending/*' 2>/dev/null)"

# The store given in DEBUGINFO_FLAGS, in two words, is the one the CLI uploads to: Make's
# credential test, stamps and messages follow it (review s12-r2: it took the default store,
# wanted credentials for it, and never uploaded to the file:// store).
EX="$(fresh "${TMP}/flag-store")"
log="${TMP}/flag-store.log"
(cd "${EX}" && env -u POLARSIGNALS_TOKEN -u PARCA_DEBUGINFO_BEARER_TOKEN make "DEBUGINFO_FLAGS=--store-address file://${TMP}/store-flag") >"${log}" 2>&1
check "--store-address in DEBUGINFO_FLAGS (two words): uploads there without credentials" \
  eval "[[ $? == 0 ]] && grep -qF 'uploading build/hello-c to file://${TMP}/store-flag' '${log}'" || show "${log}"
check "--store-address in DEBUGINFO_FLAGS: the store holds hello-c" in_store "${TMP}/store-flag" "${EX}/build/hello-c" sources
check "--store-address in DEBUGINFO_FLAGS: stamps are kept under that store" \
  bash -c "ls -d '${EX}'/.debuginfo/*store-flag >/dev/null 2>&1"

# ---------------------------------------------------------------- the default uploader
# No DEBUGINFO: the include builds one from its repository into the cache, once.
EX="$(fresh "${TMP}/default tool")"
cp -r "${ROOT}/uploader" "${ROOT}/go.mod" "${ROOT}/go.sum" "${TMP}/default tool/rules_debuginfo/"
log="${TMP}/default.log"
(cd "${EX}" && env -u DEBUGINFO XDG_CACHE_HOME="${TMP}/cache dir" make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store5") >"${log}" 2>&1
check "default uploader: built from the repository, build succeeds" \
  eval "[[ $? == 0 ]] && grep -qF 'building the uploader' '${log}'" || show "${log}"
check "default uploader: store holds hello-c" in_store "${TMP}/store5" "${EX}/build/hello-c" sources
touch "${EX}/c/main.c" "${EX}/go/main.go"
(cd "${EX}" && env -u DEBUGINFO XDG_CACHE_HOME="${TMP}/cache dir" make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store5") >"${log}" 2>&1
check "default uploader: built only once" eval "[[ $? == 0 ]] && ! grep -qF 'building the uploader' '${log}'"
# Two links at once under make -j2, with an empty cache: one builds the uploader, the
# other waits for it (review s13-r3, finding 3: both built it, twice the time).
two="${TMP}/default tool/rules_debuginfo/examples/two"
mkdir -p "${two}"
printf 'int main(void) { return 0; }\n' >"${two}/a.c"
printf 'int main(void) { return 1; }\n' >"${two}/b.c"
cat >"${two}/Makefile" <<'EOF'
include ../../tools/make/debuginfo.mk
all: a b
a b: %: %.c
	$(CC) -g -o $@ $<
	$(call debuginfo_upload,$@)
EOF
log="${TMP}/default-j2.log"
(cd "${two}" && env -u DEBUGINFO XDG_CACHE_HOME="${TMP}/cache dir 2" make -j2 "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store5") >"${log}" 2>&1
check "default uploader, two links at once (-j2): both uploaded" \
  eval "[[ $? == 0 ]] && in_store '${TMP}/store5' '${two}/a' && in_store '${TMP}/store5' '${two}/b'" || show "${log}"
check "default uploader, two links at once (-j2): built once" count_is "${log}" "building the uploader" 1 || show "${log}"

# ---------------------------------------------------------------- real Parca
# ---------------------------------------------------------------- IAM test store
# The in-process test store with Polar Signals' IAM rules, served by
# teststored: a service-account token bound to proj-a, read from the
# environment as the migration guide has CI do.
if (cd "${ROOT}" && go build -o "${TMP}/bin/teststored" ./uploader/internal/teststore/teststored) >"${TMP}/ts-build.log" 2>&1; then
  "${TMP}/bin/teststored" -token-file "${TMP}/ts.token" >"${TMP}/ts.addr" 2>"${TMP}/ts.log" &
  ts_pid=$!
  for _ in $(seq 50); do [[ -s "${TMP}/ts.addr" ]] && break; sleep 0.1; done
  TS="DEBUGINFO_STORE_ADDRESS=$(cat "${TMP}/ts.addr")"
  TOKEN="$(cat "${TMP}/ts.token")"
  EX="$(fresh "${TMP}/iam")"
  log="${TMP}/iam.log"
  (cd "${EX}" && POLARSIGNALS_TOKEN="${TOKEN}" POLARSIGNALS_PROJECT_ID=proj-a \
    make "${TS}" DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1) >"${log}" 2>&1
  check "IAM test store: service-account token + projectID from the environment: make succeeds" test $? = 0 || show "${log}"
  for b in "${BINS[@]}"; do
    check "IAM test store holds debuginfo of ${b}" bash -c "POLARSIGNALS_TOKEN='${TOKEN}' POLARSIGNALS_PROJECT_ID=proj-a \
      '${DEBUGINFO}' upload --store-address='${TS#*=}' --insecure --no-initiate --json '${EX}/${b}' 2>/dev/null | grep -q '\"action\":\"skipped\"'"
  done
  EX="$(fresh "${TMP}/iam-b")"
  (cd "${EX}" && POLARSIGNALS_TOKEN="${TOKEN}" POLARSIGNALS_PROJECT_ID=proj-b \
    make "${TS}" DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1) >"${TMP}/iam-b.log" 2>&1
  check "IAM test store: a project outside the token's binding fails the build" test $? != 0
  check "IAM test store: ... and says why" contains "${TMP}/iam-b.log" 'no access to project "proj-b"'
  check "IAM test store: the token is never echoed" bash -c "! grep -qF -- '${TOKEN}' '${log}' '${TMP}/iam-b.log'"
  kill "${ts_pid}" 2>/dev/null
  wait "${ts_pid}" 2>/dev/null
else
  show "${TMP}/ts-build.log"
  not_ok "go build ./uploader/internal/teststore/teststored"
fi

if [[ -n "${PARCA_ADDR:-}" ]]; then
  EX="$(fresh "${TMP}/parca")"
  PARCA="DEBUGINFO_STORE_ADDRESS=${PARCA_ADDR}"
  log="${TMP}/parca.log"
  (cd "${EX}" && make "${PARCA}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1) >"${log}" 2>&1
  check "Parca ${PARCA_ADDR}: make succeeds" test $? = 0 || show "${log}"
  # The store has it when it no longer wants it (ShouldInitiateUpload only), and not
  # because an upload of it is in progress (a skip with a warning).
  has() {
    local out
    out="$("${DEBUGINFO}" upload --store-address="${PARCA_ADDR}" --insecure --no-initiate --json "$@" 2>/dev/null)"
    [[ "${out}" == *'"action":"skipped"'* && "${out}" != *'"warning"'* ]]
  }
  for b in "${BINS[@]}"; do
    check "Parca holds debuginfo of ${b}" has "${EX}/${b}"
    check "Parca holds sources of ${b}" has --type=sources --build-id="$(buildid "${EX}/${b}")" "${EX}/${b}"
  done
  check "Parca, DEBUGINFO_AUTH=none: no 'no token' line" lacks "${log}" "no token"
  (cd "${EX}" && make "${PARCA}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure) >"${TMP}/parca2.log" 2>&1
  check "Parca: second make uploads nothing" lacks "${TMP}/parca2.log" "debuginfo: uploading"
  # make killed (SIGKILL: a cancelled CI job, the OOM killer) while hello-c's per-link
  # upload is in flight, through a proxy that holds the connection once the upload has
  # begun (Parca then calls it in progress): the binary stays, and make would call it up
  # to date; the next make must still upload it, taking over the dead upload. The killed
  # uploader may stay a zombie (a PID 1 that reaps nothing, as in containers): it must
  # not count as a live uploader (review s13-r4, finding 1).
  KEX="$(fresh "${TMP}/killed")"
  hold="${TMP}/hold"
  touch "${hold}"
  python3 "${ROOT}/tests/make/holdproxy.py" "${hold}" 3000 "${PARCA_ADDR}" >"${TMP}/hp.addr" 2>"${TMP}/hp.log" &
  hp_pid=$!
  for _ in $(seq 50); do [[ -s "${TMP}/hp.addr" ]] && break; sleep 0.1; done
  HP="DEBUGINFO_STORE_ADDRESS=$(cat "${TMP}/hp.addr")"
  log="${TMP}/killed1.log"
  # setsid: make leads a process group of its own, which is killed whole.
  (cd "${KEX}" && exec setsid make "${HP}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1 build/hello-c) >"${log}" 2>&1 &
  mk=$!
  for _ in $(seq 600); do grep -qF 'debuginfo: uploading' "${log}" && break; sleep 0.1; done
  sleep 0.5
  kill -KILL -- "-${mk}" 2>/dev/null
  wait "${mk}" 2>/dev/null
  rm -f "${hold}"
  check "make killed during the upload: it was uploading, and hello-c is linked" \
    bash -c "grep -qF 'debuginfo: uploading' '${log}' && test -x '${KEX}/build/hello-c'" || show "${log}"
  # As seen from another machine (no journal of the dead upload): Parca says "in progress";
  # the binary must not be stamped as uploaded (review s13-r4, finding 1).
  log="${TMP}/killed-elsewhere.log"
  (cd "${KEX}" && XDG_CACHE_HOME="${TMP}/other machine" make "${HP}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure build/hello-c) >"${log}" 2>&1
  check "make killed during the upload, rerun elsewhere: the in-progress skip is not stamped as uploaded" \
    bash -c "grep -qF 'is not marked uploaded: the store says another upload of it is in progress' '${log}' &&
             ! ls '${KEX}'/.debuginfo/*/build%2Fhello-c.stamp >/dev/null 2>&1" || show "${log}"
  # The same in CI (DEBUGINFO_REQUIRED=1): nothing is stored, so the build must fail (review
  # s13-r6, finding 1) and the binary go, so that the retry relinks and uploads it.
  log="${TMP}/killed-elsewhere-ci.log"
  (cd "${KEX}" && XDG_CACHE_HOME="${TMP}/other machine" make "${HP}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1 build/hello-c) >"${log}" 2>&1
  check "make killed during the upload, rerun elsewhere with DEBUGINFO_REQUIRED=1: the build fails, saying why, and the binary goes" \
    bash -c "[[ $? != 0 ]] && grep -qF 'is not stored: the store says another upload of it is in progress' '${log}' &&
             test ! -e '${KEX}/build/hello-c'" || show "${log}"
  log="${TMP}/killed2.log"
  (cd "${KEX}" && make "${HP}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1 build/hello-c) >"${log}" 2>&1
  check "make killed during the upload: the next make on this machine relinks and uploads hello-c" \
    bash -c "grep -qF -- '-o build/hello-c' '${log}' && grep -qF 'debuginfo: uploading build/hello-c' '${log}'" || show "${log}"
  check "make killed during the upload: the next make took the dead upload over (no 'in progress' skip)" \
    lacks "${log}" "in-progress" || show "${log}"
  check "make killed during the upload: Parca then holds hello-c" has "${KEX}/build/hello-c"
  (cd "${KEX}" && make "${HP}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1 build/hello-c) >"${TMP}/killed3.log" 2>&1
  check "make killed during the upload: the make after that uploads nothing" lacks "${TMP}/killed3.log" "debuginfo: uploading"
  kill "${hp_pid}" 2>/dev/null
  wait "${hp_pid}" 2>/dev/null
  # What Parca shows for profiles of them: names, file:line and sources.
  if (cd "${ROOT}/tests/parca" && GOWORK=off go build -o "${TMP}/bin/symbolize-check" ./cmd/symbolize-check) >"${TMP}/sc-build.log" 2>&1; then
    check "Parca symbolizes build/hello-c (main, greet) with lines and sources" \
      "${TMP}/bin/symbolize-check" -binary "${EX}/build/hello-c" -source-root "${EX}" main greet
    check "Parca symbolizes build/hello-go (main.main) with lines and sources" \
      "${TMP}/bin/symbolize-check" -binary "${EX}/build/hello-go" -source-root "${EX}/go" main.main
  else
    show "${TMP}/sc-build.log"; not_ok "go build tests/parca/cmd/symbolize-check"
  fi
else
  echo "# PARCA_ADDR not set: skipping the real Parca server"
fi

# ---------------------------------------------------------------- a real project
# tests/make/project: a hand-written Makefile (static library, shared library, two
# programs) with the include vendored under third_party/ as docs/make.md shows, and
# DEBUGINFO_BINARIES set after the include. prog1 uploads per link; prog2 and
# libgreet.so through debuginfo-upload.
project() {
  local top="$1"
  rm -rf "${top}"
  cp -r "${ROOT}/tests/make/project" "${top}"
  mkdir -p "${top}/third_party/rules_debuginfo/tools/make"
  cp "${ROOT}/tools/make/debuginfo.mk" "${top}/third_party/rules_debuginfo/tools/make/"
  echo "${top}"
}
PBINS=(bin/prog1 bin/prog2 lib/libgreet.so)
PRJ="$(project "${TMP}/project")"
PSTORE="${TMP}/pstore"
log="${TMP}/project-j2.log"
(cd "${PRJ}" && make -j2 "DEBUGINFO_STORE_ADDRESS=file://${PSTORE}") >"${log}" 2>&1
check "project: make -j2 (DEBUGINFO_BINARIES after the include) succeeds" test $? = 0 || show "${log}"
check "project: make -j2 prints no warning" lacks "${log}" "warning"
for b in "${PBINS[@]}"; do
  check "project: store holds debuginfo and sources of ${b}" in_store "${PSTORE}" "${PRJ}/${b}" sources
done
(cd "${PRJ}" && make -j2 "DEBUGINFO_STORE_ADDRESS=file://${PSTORE}") >"${TMP}/project-j2b.log" 2>&1
check "project: second make uploads nothing" lacks "${TMP}/project-j2b.log" "debuginfo: uploading"

PRJ="$(project "${TMP}/project-alone")"
log="${TMP}/project-alone.log"
(cd "${PRJ}" && make debuginfo-upload "DEBUGINFO_STORE_ADDRESS=file://${TMP}/pstore-alone") >"${log}" 2>&1
check "project: 'make debuginfo-upload' alone succeeds" test $? = 0 || show "${log}"
for b in bin/prog2 lib/libgreet.so; do
  check "project: 'make debuginfo-upload' alone built and uploaded ${b}" in_store "${TMP}/pstore-alone" "${PRJ}/${b}" sources
done
(cd "${PRJ}" && make debuginfo-upload DEBUGINFO_BINARIES= "DEBUGINFO_STORE_ADDRESS=file://${TMP}/pstore-alone") >"${TMP}/project-empty.log" 2>&1
check "project: debuginfo-upload with DEBUGINFO_BINARIES empty is refused clearly" \
  eval "[[ $? != 0 ]] && grep -qF 'DEBUGINFO_BINARIES is empty' '${TMP}/project-empty.log'"

# No credentials, then credentials, against one store (the IAM test store): the
# pending upload happens without a relink.
if [[ -x "${TMP}/bin/teststored" ]]; then
  "${TMP}/bin/teststored" -token-file "${TMP}/ts2.token" >"${TMP}/ts2.addr" 2>"${TMP}/ts2.log" &
  ts2_pid=$!
  for _ in $(seq 50); do [[ -s "${TMP}/ts2.addr" ]] && break; sleep 0.1; done
  TS2="$(cat "${TMP}/ts2.addr")"
  ts2_has() {
    POLARSIGNALS_TOKEN="$(cat "${TMP}/ts2.token")" POLARSIGNALS_PROJECT_ID=proj-a "${DEBUGINFO}" upload \
      --store-address="${TS2}" --insecure --no-initiate --json "$@" 2>/dev/null | grep -q '"action":"skipped"'
  }
  PRJ="$(project "${TMP}/project-pending")"
  (cd "${PRJ}" && make "DEBUGINFO_STORE_ADDRESS=${TS2}" DEBUGINFO_FLAGS=--insecure) >"${TMP}/project-nocreds.log" 2>&1
  check "project, no credentials: build succeeds, nothing uploaded" \
    eval "[[ $? == 0 ]] && grep -qF 'not uploading bin/prog1' '${TMP}/project-nocreds.log'"
  log="${TMP}/project-creds.log"
  (cd "${PRJ}" && POLARSIGNALS_TOKEN="$(cat "${TMP}/ts2.token")" POLARSIGNALS_PROJECT_ID=proj-a \
    make "DEBUGINFO_STORE_ADDRESS=${TS2}" DEBUGINFO_FLAGS=--insecure) >"${log}" 2>&1
  check "project, then with credentials: succeeds" test $? = 0 || show "${log}"
  check "project, then with credentials: bin/prog1 is not relinked" lacks "${log}" "-o bin/prog1"
  for b in "${PBINS[@]}"; do
    check "project, then with credentials: the store holds ${b}" ts2_has "${PRJ}/${b}"
  done
  check "project, then with credentials: the pending marker is gone" \
    test -z "$(find "${PRJ}/.debuginfo" -path '*/pending/*' 2>/dev/null)"
  kill "${ts2_pid}" 2>/dev/null
  wait "${ts2_pid}" 2>/dev/null
fi

# CI=true without credentials fails, and so does every retry, until credentials come
# (bin/prog1 alone: only its per-link upload is in play).
PRJ="$(project "${TMP}/project-ci")"
(cd "${PRJ}" && CI=true make "${NOSTORE}" bin/prog1) >"${TMP}/project-ci1.log" 2>&1
rc1=$?
(cd "${PRJ}" && CI=true make "${NOSTORE}" bin/prog1) >"${TMP}/project-ci2.log" 2>&1
rc2=$?
check "project, CI=true, no credentials: 'make bin/prog1' and its retry both fail" test "${rc1}" != 0 -a "${rc2}" != 0
(cd "${PRJ}" && CI=true make "${NOSTORE}") >"${TMP}/project-ci3.log" 2>&1
check "project, CI=true, no credentials: 'make' fails too" test $? != 0

if [[ -n "${PARCA_ADDR:-}" ]]; then
  PARCA="DEBUGINFO_STORE_ADDRESS=${PARCA_ADDR}"
  log="${TMP}/project-ci-parca.log"
  (cd "${PRJ}" && CI=true make -j2 "${PARCA}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure) >"${log}" 2>&1
  check "project, CI=true, then a store without auth (Parca): succeeds" test $? = 0 || show "${log}"
  check "project, Parca, DEBUGINFO_AUTH=none: no 'no token' line" lacks "${log}" "no token"
  for b in "${PBINS[@]}"; do
    check "project: Parca holds debuginfo of ${b}" has "${PRJ}/${b}"
    check "project: Parca holds sources of ${b}" has --type=sources --build-id="$(buildid "${PRJ}/${b}")" "${PRJ}/${b}"
  done
  # Per link without credentials against Parca, then with: the pending upload reaches Parca.
  PRJ="$(project "${TMP}/project-parca-pending")"
  (cd "${PRJ}" && make "${PARCA}" DEBUGINFO_FLAGS=--insecure) >"${TMP}/project-pp1.log" 2>&1
  (cd "${PRJ}" && make "${PARCA}" DEBUGINFO_FLAGS=--insecure DEBUGINFO_AUTH=none) >"${TMP}/project-pp2.log" 2>&1
  check "project: pending upload of bin/prog1 reaches Parca once it may (no relink)" \
    eval "grep -qF 'bin/prog1 has a pending upload' '${TMP}/project-pp2.log' && ! grep -qF -- '-o bin/prog1' '${TMP}/project-pp2.log'"
  check "project: ... and Parca holds it" has "${PRJ}/bin/prog1"
fi

# ---------------------------------------------------------------- store down, not required: fast
# A store that refuses connections, DEBUGINFO_REQUIRED=0 (a developer's machine): the upload
# gives up at once (--retries=1) instead of retrying for 10-13 s on every make (review s14-r3,
# finding 6). No flags of our own: the include's defaults.
EX="$(fresh "${TMP}/down-fast")"
DOWN="DEBUGINFO_STORE_ADDRESS=127.0.0.1:9"
for i in 1 2; do
  log="${TMP}/down-fast-${i}.log"
  t0=$(date +%s%N)
  (cd "${EX}" && make "${DOWN}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure) >"${log}" 2>&1
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  check "store down, not required, make #${i}: succeeds with a warning" \
    eval "[[ ${rc} == 0 ]] && grep -qF 'debuginfo: warning:' '${log}'" || show "${log}"
  check "store down, not required, make #${i}: gives up fast (${ms} ms < 5000 ms)" test "${ms}" -lt 5000 || show "${log}"
done
log="${TMP}/down-fast-req.log"
(cd "${EX}" && make -n "${DOWN}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1 build/hello-c) >"${log}" 2>&1
check "store down, required: the CLI's retries are kept (no --retries=1)" \
  eval "grep -qF 'upload --store-address=' '${log}' && ! grep -qF -- '--retries=1' '${log}'" || show "${log}"

# ---------------------------------------------------------------- no uploader anywhere
# A copy of debuginfo.mk alone (no repository next to it), no DEBUGINFO, no debuginfo on
# PATH: a build whose uploads are not required says so in one line and succeeds; required,
# it fails (review s14-r3, finding 2). PATH: a directory of the tools the builds use.
NOTOOL_PATH="${TMP}/notool-path"
mkdir -p "${NOTOOL_PATH}"
for t in make cc gcc go sh bash sed grep cat mkdir rm touch tr head printf env dirname basename \
  ld as cp mv ln ls chmod test expr sort uniq wc find xargs awk cut date sleep rmdir true false \
  autoconf automake autoreconf libtoolize aclocal autom4te m4 perl file uname hostname diff cmp tar gzip; do
  p="$(command -v "${t}" 2>/dev/null)" && [[ "${p}" == /* ]] && ln -sf "${p}" "${NOTOOL_PATH}/${t}"
done
notool() { env -u DEBUGINFO PATH="${NOTOOL_PATH}" XDG_CACHE_HOME="${TMP}/no-tool-cache" "$@"; }
EX="$(fresh "${TMP}/no-tool")"
log="${TMP}/no-tool.log"
(cd "${EX}" && notool make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store-no-tool") >"${log}" 2>&1
check "no uploader, not required: the build succeeds" test $? = 0 || show "${log}"
check "no uploader, not required: one line per upload says so" count_is "${log}" "no uploader found (set DEBUGINFO=" 2 || show "${log}"
check "no uploader, not required: the per-link upload is left pending" \
  bash -c "ls '${EX}'/.debuginfo/*/pending/build+2Fhello-c >/dev/null 2>&1"
log="${TMP}/no-tool-req.log"
(cd "${EX}" && notool make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/store-no-tool" DEBUGINFO_REQUIRED=1) >"${log}" 2>&1
check "no uploader, DEBUGINFO_REQUIRED=1: the build fails, saying why" \
  eval "[[ $? != 0 ]] && grep -qF 'debuginfo: error: cannot upload build/hello-c (its upload to file://' '${log}' && grep -qF 'no uploader found' '${log}'" || show "${log}"

# ---------------------------------------------------------------- automake + libtool
# A tiny automake project (a libtool shared library and a program linked against it),
# written here, wired as docs/make.md's "Automake and libtool" says (review s14-r3, findings
# 2-5): autoreconf -Wall -Werror passes; the names Makefile.am gives (libtool's wrapper
# src/hello, lib/libgreet.la) upload the ELF files in .libs/; in-tree, out-of-tree (configure by
# its absolute path: sources archived) and make distcheck all build.
am_project() {
  local top="$1" form="${2:-documented}"
  rm -rf "${top}"
  mkdir -p "${top}/src" "${top}/lib" "${top}/m4" "${top}/third_party/rules_debuginfo/tools/make"
  cp "${ROOT}/tools/make/debuginfo.mk" "${top}/third_party/rules_debuginfo/tools/make/"
  cat >"${top}/configure.ac" <<'AC'
AC_INIT([amgreet], [1.0])
AC_CONFIG_SRCDIR([src/main.c])
AC_CONFIG_AUX_DIR([build-aux])
AC_CONFIG_MACRO_DIRS([m4])
AM_INIT_AUTOMAKE([-Wall -Werror foreign])
AC_PROG_CC
AM_PROG_AR
LT_INIT
AC_CONFIG_FILES([Makefile lib/Makefile src/Makefile])
AC_OUTPUT
AC
  if [[ "${form}" == documented ]]; then
    cat >"${top}/Makefile.am" <<'AM'
SUBDIRS = lib src
ACLOCAL_AMFLAGS = -I m4
DEBUGINFO_BINARIES = src/hello lib/libgreet.la
-include $(abs_top_srcdir)/third_party/rules_debuginfo/tools/make/debuginfo.mk
all-local: $(DEBUGINFO_UPLOAD_TARGET)
AM
  else
    # automake copies this include into Makefile.in
    cat >"${top}/Makefile.am" <<'AM'
SUBDIRS = lib src
ACLOCAL_AMFLAGS = -I m4
AUTOMAKE_OPTIONS = -Wno-portability
DEBUGINFO_BINARIES = src/hello lib/libgreet.la
include $(top_srcdir)/third_party/rules_debuginfo/tools/make/debuginfo.mk
all-local: debuginfo-upload
AM
  fi
  printf 'lib_LTLIBRARIES = libgreet.la\nlibgreet_la_SOURCES = greet.c greet.h\nlibgreet_la_LDFLAGS = -version-info 1:0:0\n' >"${top}/lib/Makefile.am"
  printf 'bin_PROGRAMS = hello\nhello_SOURCES = main.c\nhello_CPPFLAGS = -I$(abs_top_srcdir)/lib\nhello_LDADD = ../lib/libgreet.la\n' >"${top}/src/Makefile.am"
  printf 'const char *greet(int n);\n' >"${top}/lib/greet.h"
  cat >"${top}/lib/greet.c" <<'C'
#include "greet.h"
const char *greet(int n) {
  return n > 1 ? "hello, all" : "hello";
}
C
  cat >"${top}/src/main.c" <<'C'
#include <stdio.h>
#include "greet.h"
int main(int argc, char **argv) {
  (void)argv;
  puts(greet(argc));
  return 0;
}
C
  echo "${top}"
}
# am_has STORE DIR: the store holds debuginfo and sources of the program and the library.
am_has() {
  in_store "$1" "$2/src/.libs/hello" sources && in_store "$1" "$2/lib/.libs/libgreet.so.1" sources
}

if ! command -v autoreconf >/dev/null 2>&1 || ! command -v libtoolize >/dev/null 2>&1; then
  not_ok "automake + libtool: autoreconf or libtoolize not found (apt-get install autoconf automake libtool; .ci/run installs them)"
else
  AM="$(am_project "${TMP}/am")"
  log="${TMP}/am-autoreconf.log"
  (cd "${AM}" && autoreconf -fi) >"${log}" 2>&1
  check "automake: autoreconf -fi with -Wall -Werror passes with the documented lines" test $? = 0 || show "${log}"
  check "automake: the include is read by make, not copied into Makefile.in" lacks "${AM}/Makefile.in" "_debuginfo_mk_dir"
  AMV="${TMP}/am-vpath"
  cp -r "${AM}" "${AMV}"
  cp -r "${AM}" "${TMP}/am-rel"

  # In-tree.
  AMSTORE="${TMP}/am-store"
  log="${TMP}/am-make.log"
  (cd "${AM}" && ./configure -q && make -j2 "DEBUGINFO_STORE_ADDRESS=file://${AMSTORE}") >"${log}" 2>&1
  check "automake in-tree: make -j2 succeeds" test $? = 0 || show "${log}"
  check "automake in-tree: src/hello is libtool's wrapper script" grep -qF 'temporary wrapper script' "${AM}/src/hello"
  check "automake in-tree: no 'not an ELF file' failure" lacks "${log}" "not an ELF file"
  check "automake in-tree: the store holds .libs/hello and .libs/libgreet.so.1, with sources" am_has "${AMSTORE}" "${AM}" || show "${log}"
  check "automake in-tree: stamps under the listed names" \
    bash -c "ls '${AM}'/.debuginfo/*/src%2Fhello.stamp '${AM}'/.debuginfo/*/lib%2Flibgreet.la.stamp >/dev/null"
  log="${TMP}/am-make2.log"
  (cd "${AM}" && make "DEBUGINFO_STORE_ADDRESS=file://${AMSTORE}") >"${log}" 2>&1
  check "automake in-tree: a second make uploads nothing" \
    eval "[[ $? == 0 ]] && grep -qF 'debuginfo: nothing to upload (2 of DEBUGINFO_BINARIES up to date)' '${log}'" || show "${log}"

  # make distcheck: the tarball holds no third_party/rules_debuginfo; -include reads nothing
  # and all-local does nothing.
  log="${TMP}/am-distcheck.log"
  (cd "${AM}" && make -j2 distcheck "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-dc") >"${log}" 2>&1
  check "automake: make distcheck passes" test $? = 0 || show "${log}"

  # No uploader, no repository next to the include: one line, the build goes on.
  log="${TMP}/am-no-tool.log"
  (cd "${AM}" && notool make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-no-tool") >"${log}" 2>&1
  check "automake, no uploader, not required: the build succeeds, saying why" \
    eval "[[ $? == 0 ]] && grep -qF 'debuginfo: not uploading src/hello lib/libgreet.la: no uploader found' '${log}'" || show "${log}"

  # A libtool wrapper whose binary is gone: the warning says to list the binary.
  mv "${AM}/src/.libs/hello" "${TMP}/hello.moved"
  log="${TMP}/am-nobin.log"
  (cd "${AM}" && make "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-nobin") >"${log}" 2>&1
  check "automake: a wrapper without its .libs binary: a warning that says to list the binary" \
    eval "[[ $? == 0 ]] && grep -qF 'src/hello: it is a libtool wrapper script' '${log}' && grep -qF 'list the binary itself' '${log}'" || show "${log}"
  mv "${TMP}/hello.moved" "${AM}/src/.libs/hello"

  # Out-of-tree, configure by its absolute path: sources archived (--source-root=$(abs_top_srcdir)).
  log="${TMP}/am-vpath.log"
  (mkdir -p "${AMV}/build" && cd "${AMV}/build" && "${AMV}/configure" -q &&
    make -j2 "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-vpath") >"${log}" 2>&1
  check "automake VPATH (absolute configure): make succeeds" test $? = 0 || show "${log}"
  check "automake VPATH: the store holds both, with sources" am_has "${TMP}/am-store-vpath" "${AMV}/build" || show "${log}"
  # Out-of-tree through ../configure: names with '..', said in one note line.
  log="${TMP}/am-rel.log"
  (mkdir -p "${TMP}/am-rel/build" && cd "${TMP}/am-rel/build" && ../configure -q &&
    make -j2 "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-rel") >"${log}" 2>&1
  check "automake VPATH (../configure): make succeeds, and a note says to configure by the absolute path" \
    eval "[[ $? == 0 ]] && grep -qF 'debuginfo: note: configure was run through a relative path' '${log}'" || show "${log}"

  # The copied form (include $(top_srcdir)/..., -Wno-portability): autoreconf -Wall -Werror
  # passes, and the include still finds its repository (the default uploader, built into
  # "cache dir" by the default-uploader checks above, is reused).
  AMC="$(am_project "${TMP}/am-copied" copied)"
  cp -r "${ROOT}/uploader" "${ROOT}/go.mod" "${ROOT}/go.sum" "${AMC}/third_party/rules_debuginfo/"
  log="${TMP}/am-copied.log"
  (cd "${AMC}" && autoreconf -fi) >"${log}" 2>&1
  check "automake, copied include with -Wno-portability: autoreconf -Wall -Werror passes" test $? = 0 || show "${log}"
  check "automake, copied include: automake copied it" contains "${AMC}/Makefile.in" "_debuginfo_mk_dir"
  log="${TMP}/am-copied-make.log"
  (cd "${AMC}" && ./configure -q && env -u DEBUGINFO XDG_CACHE_HOME="${TMP}/cache dir" make -j2 "DEBUGINFO_STORE_ADDRESS=file://${TMP}/am-store-copied") >"${log}" 2>&1
  check "automake, copied include: the default uploader, built from its repository, uploads both" \
    eval "[[ $? == 0 ]] && ! grep -qF 'no uploader' '${log}'" || show "${log}"
  check "automake, copied include: the store holds both" am_has "${TMP}/am-store-copied" "${AMC}" || show "${log}"

  if [[ -n "${PARCA_ADDR:-}" ]]; then
    log="${TMP}/am-parca.log"
    (cd "${AMV}/build" && make "DEBUGINFO_STORE_ADDRESS=${PARCA_ADDR}" DEBUGINFO_AUTH=none DEBUGINFO_FLAGS=--insecure DEBUGINFO_REQUIRED=1) >"${log}" 2>&1
    check "automake VPATH, Parca: make (DEBUGINFO_REQUIRED=1) succeeds" test $? = 0 || show "${log}"
    for b in src/.libs/hello lib/.libs/libgreet.so.1; do
      check "automake: Parca holds debuginfo of ${b}" has "${AMV}/build/${b}"
      check "automake: Parca holds sources of ${b}" has --type=sources --build-id="$(buildid "${AMV}/build/${b}")" "${AMV}/build/${b}"
    done
    if [[ -x "${TMP}/bin/symbolize-check" ]]; then
      check "Parca symbolizes the libtool program src/.libs/hello (main) with lines and sources" \
        "${TMP}/bin/symbolize-check" -binary "${AMV}/build/src/.libs/hello" -source-root "${AMV}" main
      check "Parca symbolizes the libtool library lib/.libs/libgreet.so.1 (greet) with lines and sources" \
        "${TMP}/bin/symbolize-check" -binary "${AMV}/build/lib/.libs/libgreet.so.1" -source-root "${AMV}" greet
    else
      not_ok "automake: symbolize-check was not built"
    fi
  fi
fi

finish

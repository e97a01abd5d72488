#!/usr/bin/env bash
# The release path end to end, on a real Bazel (Debian's 4.2.3, WORKSPACE):
#   1. tools/release.sh builds a release twice and the two give the same bytes: all four
#      platforms once, then the host platform again with an empty Go build cache;
#   2. the generated versions.bzl names exactly the artifacts built, with their SHA-256;
#   3. e2e/smoke, a minimal consumer set up as docs/install.md says, loads the source archive
#      with http_archive and the host's binary through the default toolchains (URL + sha256),
#      from file:// URLs of the release just built, and uploads a cc_binary's debuginfo;
#   4. a corrupted binary on the mirror fails the build with Bazel's checksum error.
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${RULES_DEBUGINFO_CACHE:-${HOME}/.cache/rules_debuginfo}"
MOCK_REPOS="${BAZEL_MOCK_REPOS:-/usr/src/bazel-bootstrap/mock_repos}"
SKYLIB="${BAZEL_SKYLIB:-/usr/share/bazel/tools/skylib}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/debuginfo-smoke.XXXXXX")"
VERSION=0.0.0-smoke
HOST=linux_amd64
export PATH="${PATH}:/usr/local/go/bin"

# shellcheck source=../lib.sh
source "${ROOT}/tests/lib.sh"
WS="${TMP}/smoke"
cleanup() {
  if [[ -f "${WS}/WORKSPACE" ]]; then (cd "${WS}" && bazel shutdown >/dev/null 2>&1); fi
  if [[ -z "${KEEP_TMP:-}" ]]; then chmod -R u+w "${TMP}" 2>/dev/null; rm -rf "${TMP}"; fi
}
trap cleanup EXIT
finish() {
  report
  exit $?
}
sha() { sha256sum "$1" | cut -d' ' -f1; }

# 1. Two builds of the release give the same bytes.
start=${SECONDS}
if ! (cd "${ROOT}" && tools/release.sh --allow-dirty "${VERSION}" "${TMP}/a") >"${TMP}/release-a.log" 2>&1; then
  cat "${TMP}/release-a.log"
  not_ok "tools/release.sh ${VERSION} (all platforms)"
  finish
fi
ok "tools/release.sh built all platforms ($((SECONDS - start)) s)"
start=${SECONDS}
if ! (cd "${ROOT}" && GOCACHE="${TMP}/gocache-b" tools/release.sh --allow-dirty --platforms="${HOST}" "${VERSION}" "${TMP}/b") \
  >"${TMP}/release-b.log" 2>&1; then
  cat "${TMP}/release-b.log"
  not_ok "tools/release.sh --platforms=${HOST} (empty build cache)"
  finish
fi
ok "tools/release.sh rebuilt ${HOST} with an empty Go build cache ($((SECONDS - start)) s)"
rm -rf "${TMP}/gocache-b"
bin="debuginfo-${HOST%_*}-${HOST#*_}"
check "reproducible: both builds of ${bin} have SHA-256 $(sha "${TMP}/a/${bin}" | cut -c1-16)..." \
  test "$(sha "${TMP}/a/${bin}")" == "$(sha "${TMP}/b/${bin}")"
check "reproducible: both versions.bzl give ${HOST} the same hash" \
  test "$(grep "\"${HOST}\"" "${TMP}/a/versions.bzl")" == "$(grep "\"${HOST}\"" "${TMP}/b/versions.bzl")"
check "the binaries are static (no cgo, no interpreter)" \
  bash -c "! readelf -l '${TMP}/a/${bin}' | grep -q INTERP"
check "the binary reports the release version" \
  bash -c "'${TMP}/a/${bin}' --version | grep -qx 'debuginfo ${VERSION}'"

# 2. versions.bzl names exactly the artifacts, with their hashes.
mapfile -t listed < <(sed -n 's/^    "\([a-z0-9]*_[a-z0-9]*\)": "\([0-9a-f]*\)",$/\1 \2/p' "${TMP}/a/versions.bzl")
built="$(cd "${TMP}/a" && ls debuginfo-* | sed 's/^debuginfo-\(.*\)-\(.*\)$/\1_\2/' | sort | tr '\n' ' ')"
check "versions.bzl lists the four platforms built (${built})" \
  test "$(printf '%s\n' "${listed[@]}" | cut -d' ' -f1 | sort | tr '\n' ' ')" == "${built}" -a "${#listed[@]}" == 4
for entry in "${listed[@]}"; do
  p="${entry% *}"
  check "versions.bzl: ${p}'s SHA-256 is that of debuginfo-${p%_*}-${p#*_}" \
    test "${entry#* }" == "$(sha "${TMP}/a/debuginfo-${p%_*}-${p#*_}")"
done
check "versions.bzl: the URL is the GitHub release of v${VERSION}" \
  grep -qx "DEBUGINFO_URL = \"https://github.com/rules-debuginfo/rules_debuginfo/releases/download/v${VERSION}\"" "${TMP}/a/versions.bzl"
ARCHIVE="${TMP}/a/rules_debuginfo-v${VERSION}.tar.gz"
check "SHA256SUMS covers every file of the release" \
  bash -c "cd '${TMP}/a' && sha256sum --quiet -c SHA256SUMS && test \$(wc -l <SHA256SUMS) == 5"
mkdir -p "${TMP}/unpacked"
tar -C "${TMP}/unpacked" -xzf "${ARCHIVE}"
SRC="${TMP}/unpacked/rules_debuginfo-${VERSION}"
check "the source archive carries the generated versions.bzl" cmp -s "${TMP}/a/versions.bzl" "${SRC}/rules/private/versions.bzl"
check "the source archive's MODULE.bazel has version ${VERSION}" grep -q "^    version = \"${VERSION}\",$" "${SRC}/MODULE.bazel"
check "the source archive's docs/install.md is generated from its versions.bzl" \
  bash -c "'${ROOT}/tools/install_doc.sh' '${SRC}/rules/private/versions.bzl' | cmp -s - '${SRC}/docs/install.md'"
check "the source archive holds nothing that loads dev-only repos (no uploader BUILD files, tests, examples)" \
  bash -c "test -z \"\$(find '${SRC}/uploader' -name BUILD.bazel)\" -a ! -e '${SRC}/tests' -a ! -e '${SRC}/examples' && ! grep -q '^load' '${SRC}/BUILD.bazel'"
# A release is built from a commit: a tracked file changed and not committed is refused.
git clone -q "${ROOT}" "${TMP}/dirty" && echo '# uncommitted' >>"${TMP}/dirty/README.md"
(cd "${TMP}/dirty" && tools/release.sh --platforms="${HOST}" "${VERSION}" "${TMP}/dirty-out") >"${TMP}/dirty.log" 2>&1
rc=$?
check "release.sh refuses uncommitted changes to tracked files (exit ${rc})" \
  bash -c "test ${rc} != 0 && grep -q 'uncommitted changes' '${TMP}/dirty.log' && test ! -e '${TMP}/dirty-out/SHA256SUMS'"
check "the source archive's README install block names version ${VERSION}" \
  grep -q "bazel_dep(name = \"rules_debuginfo\", version = \"${VERSION}\")" "${SRC}/README.md"
check "the release notes give the archive's SHA-256" grep -q "sha256 = \"$(sha "${ARCHIVE}")\"" "${TMP}/a/release-notes.md"

# 3. A consumer WORKSPACE: http_archive + default toolchains, from file:// URLs.
cp -r "${ROOT}/e2e/smoke" "${WS}"
write_local() { # base_url
  cat >"${WS}/local.bzl" <<EOF
LOCAL = {
    "archive_prefix": "rules_debuginfo-${VERSION}",
    "archive_sha256": "$(sha "${ARCHIVE}")",
    "archive_url": "file://${ARCHIVE}",
    "base_url": "$1",
    "bazel_skylib": "${SKYLIB}",
    "mock_repos": "${MOCK_REPOS}",
}
EOF
}
write_local "file://${TMP}/a"
STORE="${TMP}/store"
BZ=(-c dbg "--repository_cache=${TMP}/repository_cache")
bz() { (cd "${WS}" && timeout 600 bazel "$@"); }
if bz build "${BZ[@]}" --config=debuginfo "--@rules_debuginfo//rules:store_address=file://${STORE}" //:hello \
  >"${TMP}/build.log" 2>&1; then
  ok "consumer: bazel build --config=debuginfo //:hello"
else
  tail -30 "${TMP}/build.log"
  not_ok "consumer: bazel build --config=debuginfo //:hello"
  finish
fi
# Every package of the archive loads in a consumer (no dev-only repository is needed).
check "consumer: bazel query @rules_debuginfo//... loads every package" \
  bash -c "cd '${WS}' && timeout 300 bazel query @rules_debuginfo//... >'${TMP}/query.log' 2>&1"
BIN="$(bz info "${BZ[@]}" bazel-bin 2>/dev/null)"
EXTERNAL="$(bz info "${BZ[@]}" output_base 2>/dev/null)/external"
id="$("${TMP}/a/${bin}" buildid --json "${BIN}/hello" | sed -n 's/.*"build_id": *"\([^"]*\)".*/\1/p')"
check "consumer: the store holds hello's debuginfo under its build ID (${id:-none})" \
  test -n "${id}" -a -s "${STORE}/debuginfo/${id}/debuginfo"
check "consumer: the actions ran the release's ${bin}, downloaded and checked" \
  test "$(sha "${EXTERNAL}/debuginfo_${HOST}/debuginfo")" == "$(sha "${TMP}/a/${bin}")"
fetched="$(cd "${EXTERNAL}" && ls -d debuginfo_* 2>/dev/null | grep -v toolchains | tr '\n' ' ')"
check "consumer: only the host's binary was fetched (${fetched})" test "${fetched}" == "debuginfo_${HOST} "
check "consumer: @rules_debuginfo_compat is the WORKSPACE flavour (CcInfo global)" \
  grep -q "CcInfo = CcInfo," "${EXTERNAL}/rules_debuginfo_compat/compat.bzl"
if bz run "${BZ[@]}" //:upload -- "--store-address=file://${TMP}/run-store" >"${TMP}/run.log" 2>&1; then
  ok "consumer: bazel run //:upload"
else
  tail -20 "${TMP}/run.log"
  not_ok "consumer: bazel run //:upload"
fi
check "consumer: bazel run //:upload stored hello" test -s "${TMP}/run-store/debuginfo/${id}/debuginfo"

# 4. A mirror that serves a corrupted binary: Bazel's checksum check stops it. (With a new
# repository cache: the old one would answer by hash without asking the mirror.)
cp -r "${TMP}/a" "${TMP}/bad"
printf 'X' | dd of="${TMP}/bad/${bin}" bs=1 seek=1000 conv=notrunc 2>/dev/null
write_local "file://${TMP}/bad"
bz build -c dbg "--repository_cache=${TMP}/repository_cache_bad" --config=debuginfo "--@rules_debuginfo//rules:store_address=file://${STORE}" //:hello \
  >"${TMP}/bad.log" 2>&1
rc=$?
check "corrupted mirror: the build fails (exit ${rc}) naming the checksum" \
  bash -c "test ${rc} != 0 && grep -qi 'checksum' '${TMP}/bad.log'"

# 5. A development checkout (versions.bzl without binaries) says what to do instead.
if grep -q '^DEBUGINFO_SHA256 = {}$' "${ROOT}/rules/private/versions.bzl"; then
  python3 - "${WS}/WORKSPACE" "${ROOT}" <<'EOF'
import re, sys
path, root = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"\nhttp_archive\(\n.*?\n\)\n", '\nlocal_repository(name = "rules_debuginfo", path = "%s")\n' % root, text, flags=re.S)
open(path, "w").write(text)
EOF
  bz build "${BZ[@]}" --config=debuginfo //:hello >"${TMP}/dev.log" 2>&1
  rc=$?
  check "development checkout: the build fails (exit ${rc}) with instructions" \
    bash -c "test ${rc} != 0 && grep -q 'has no prebuilt .debuginfo. (a development checkout' '${TMP}/dev.log' && grep -q 'debuginfo.tool(path' '${TMP}/dev.log'"
fi

finish

#!/usr/bin/env bash
# Prints the install page (docs/install.md, and the release notes) from a versions.bzl:
# the one source of the version, URLs and hashes.
#
#   tools/install_doc.sh [VERSIONS_BZL [ARCHIVE_SHA256]]    print it
#   tools/install_doc.sh --check                           fail if docs/install.md is stale
set -euo pipefail
cd "$(dirname "$0")/.."

# readme_with_block README: README with its install block (between the markers) regenerated.
readme_with_block() {
  local block
  block="$(tools/install_doc.sh --readme-block rules/private/versions.bzl)"
  awk -v block="${block}" '
    /^<!-- install:begin/ { print block; skip = 1; next }
    /^<!-- install:end/ { skip = 0; next }
    !skip { print }' "$1"
}

if [[ "${1:-}" == --check ]]; then
  if ! diff -u docs/install.md <(tools/install_doc.sh rules/private/versions.bzl); then
    echo "docs/install.md is stale: tools/install_doc.sh rules/private/versions.bzl >docs/install.md" >&2
    exit 1
  fi
  if ! diff -u README.md <(readme_with_block README.md); then
    echo "README.md's install block is stale: tools/install_doc.sh --update-readme" >&2
    exit 1
  fi
  exit 0
fi
if [[ "${1:-}" == --update-readme ]]; then
  readme_with_block README.md >README.md.new && mv README.md.new README.md
  exit 0
fi
readme_block=""
if [[ "${1:-}" == --readme-block ]]; then
  readme_block=1
  shift
fi

versions="${1:-rules/private/versions.bzl}"
archive_sha="${2:-}"
field() {
  sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "${versions}"
}
version="$(field DEBUGINFO_VERSION)"
url="$(field DEBUGINFO_URL)"
go_release="$(field DEBUGINFO_GO_RELEASE)"
[[ -n "${version}" && -n "${url}" ]] || { echo "install_doc.sh: ${versions} has no DEBUGINFO_VERSION/DEBUGINFO_URL" >&2; exit 1; }
mapfile -t sums < <(sed -n 's/^    "\([a-z0-9]*_[a-z0-9]*\)": "\([0-9a-f]\{64\}\)",$/\1 \2/p' "${versions}")
repo_url="${url%/releases/download/*}"
archive="rules_debuginfo-v${version}.tar.gz"
# archive_override wants the archive's hash in SRI form: sha256- and the digest in base64.
integrity='"sha256-...",  # the archive'"'"'s SHA-256 in SRI form: sha256-$(echo HEX | xxd -r -p | base64)'
if [[ -n "${archive_sha}" ]]; then
  # shellcheck disable=SC2059 # the format is the digest as \xNN escapes, on purpose
  integrity="\"sha256-$(printf "$(sed 's/../\\x&/g' <<<"${archive_sha}")" | base64 -w0)\","
fi

# workspace_snippet SHA256_LINE: the WORKSPACE lines that load this release.
workspace_snippet() {
  cat <<EOF
http_archive(
    name = "rules_debuginfo",
$1
    strip_prefix = "rules_debuginfo-${version}",
    urls = ["${url}/${archive}"],
)

load("@rules_debuginfo//rules:repositories.bzl", "rules_debuginfo_dependencies", "rules_debuginfo_register_toolchains")

rules_debuginfo_dependencies()

rules_debuginfo_register_toolchains()
EOF
}

if [[ -n "${readme_block}" ]]; then
  status="prebuilt binaries for linux and darwin, amd64 and arm64"
  [[ ${#sums[@]} != 0 ]] || status="no release yet: point the rules at a local \`debuginfo\` (docs/install.md)"
  cat <<EOF
<!-- install:begin: generated from rules/private/versions.bzl by tools/install_doc.sh -->
| release | bzlmod | WORKSPACE | \`debuginfo\` |
|---|---|---|---|
| ${version} | Bazel 7, 8, 9 | Bazel 4.2 to 8 | ${status} |

\`\`\`starlark
# MODULE.bazel
bazel_dep(name = "rules_debuginfo", version = "${version}")

# or WORKSPACE
$(workspace_snippet '    sha256 = "...",  # from the release'"'"'s SHA256SUMS')
\`\`\`

Mirrors, a local binary, the hashes of each file: [docs/install.md](docs/install.md).
<!-- install:end -->
EOF
  exit 0
fi
cat <<EOF
# Installing rules_debuginfo

<!-- Generated from rules/private/versions.bzl by tools/install_doc.sh: do not edit. -->

EOF
if [[ ${#sums[@]} == 0 ]]; then
  cat <<EOF
**No release yet.** This checkout's \`rules/private/versions.bzl\` names no prebuilt binaries
(version ${version}), so the default toolchain fails with a message that says what to do:
point the rules at a local \`debuginfo\` (\`go build -o /abs/path/debuginfo ./uploader/cmd/debuginfo\`)
with \`debuginfo.tool(path = ...)\` (bzlmod) or \`rules_debuginfo_register_toolchains(path = ...)\`
(WORKSPACE), as shown below. \`tools/release.sh\` fills this page in for a release.

EOF
fi
cat <<EOF
Bazel versions: **7, 8 and 9 with bzlmod** (\`bazel_compatibility = [">=7.0.0"]\`), and
**4.2 to 8 with WORKSPACE**. Only Bazel 4.2.3 (WORKSPACE) runs in this project's CI; the bzlmod
files are checked statically (buildifier, and a test that keeps rules_go and gazelle dev-only).

## bzlmod (MODULE.bazel)

\`\`\`starlark
bazel_dep(name = "rules_debuginfo", version = "${version}")
\`\`\`

That is all (no \`use_repo\` or \`register_toolchains\`: rules_debuginfo registers a toolchain
per platform below itself, and Bazel downloads only the binary of the platform that runs the
actions). The version must be in the Bazel Central Registry (each release is proposed there
from \`.bcr/\`); until it is, or from a fork, add to the \`bazel_dep\`:

\`\`\`starlark
archive_override(
    module_name = "rules_debuginfo",
    integrity = ${integrity}
    strip_prefix = "rules_debuginfo-${version}",
    urls = ["${url}/${archive}"],
)
\`\`\`

To use another binary (a local build, a mirror), declare it in your root module; your tags
replace all the prebuilt ones, so a mirror needs one tag per platform that runs actions, each
with its own \`name\`, file and hash from the table below. \`@platforms\` labels resolve in your
module, so it needs its own \`bazel_dep\` on platforms:

\`\`\`starlark
debuginfo = use_extension("@rules_debuginfo//rules:extensions.bzl", "debuginfo")
debuginfo.tool(path = "/abs/path/debuginfo")

# or, from a mirror:
bazel_dep(name = "platforms", version = "0.0.10")

debuginfo.tool(
    name = "debuginfo_linux_amd64",
    urls = ["https://mirror.example.com/v${version}/debuginfo-linux-amd64"],
    sha256 = "...",
    exec_compatible_with = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
)
debuginfo.tool(
    name = "debuginfo_darwin_arm64",
    urls = ["https://mirror.example.com/v${version}/debuginfo-darwin-arm64"],
    sha256 = "...",
    exec_compatible_with = ["@platforms//os:macos", "@platforms//cpu:aarch64"],
)
\`\`\`

There is no bzlmod build of the CLI from source: rules_go and gazelle are development-only
dependencies of rules_debuginfo, so they never reach your module graph. Build it with Go
(\`go build -o /abs/path/debuginfo ./uploader/cmd/debuginfo\` in a checkout) and use \`path\`.

## WORKSPACE

\`\`\`starlark
load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive")

EOF
if [[ -n "${archive_sha}" ]]; then
  workspace_snippet "    sha256 = \"${archive_sha}\","
else
  workspace_snippet "    sha256 = \"...\",  # the SHA-256 of ${archive} in the release's SHA256SUMS"
fi
cat <<EOF
\`\`\`

\`rules_debuginfo_dependencies()\` declares bazel_skylib (unless you have it) and a small
compatibility repository; \`rules_debuginfo_register_toolchains(path = "/abs/path/debuginfo")\`,
\`(urls = [...], sha256 = "...")\` or \`(base_url = "https://mirror.example.com/v${version}")\` use
another binary.

## Prebuilt binaries of ${version}

Built by \`tools/release.sh\` with ${go_release:-Go} (\`CGO_ENABLED=0 -trimpath -buildvcs=false\`,
reproducible: rebuilding the tag gives the same bytes), attached to the
[GitHub release](${repo_url}/releases/tag/v${version}).

| platform | file | SHA-256 |
|---|---|---|
EOF
for s in "${sums[@]}"; do
  p="${s% *}"
  printf '| %s | `debuginfo-%s-%s` | `%s` |\n' "${p}" "${p%_*}" "${p#*_}" "${s#* }"
done
if [[ ${#sums[@]} == 0 ]]; then
  echo "| (none yet) | | |"
fi

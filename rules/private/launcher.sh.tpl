#!/usr/bin/env bash
# Launcher of a debuginfo_upload target, written by rules_debuginfo. Runs
# `debuginfo upload` on the records of the targets, found through runfiles, with the
# caller's environment (tokens come from PARCA_DEBUGINFO_BEARER_TOKEN, POLARSIGNALS_TOKEN,
# or the flags' files and helpers) and the caller's working directory.
set -euo pipefail

if [[ -z "${RUNFILES_DIR:-}" && -z "${RUNFILES_MANIFEST_FILE:-}" ]]; then
  if [[ -d "$0.runfiles" ]]; then
    RUNFILES_DIR="$0.runfiles"
  elif [[ -f "$0.runfiles_manifest" ]]; then
    RUNFILES_MANIFEST_FILE="$0.runfiles_manifest"
  elif [[ -f "$0.runfiles/MANIFEST" ]]; then
    RUNFILES_MANIFEST_FILE="$0.runfiles/MANIFEST"
  fi
fi

rlocation() {
  if [[ -n "${RUNFILES_DIR:-}" && -e "${RUNFILES_DIR}/$1" ]]; then
    echo "${RUNFILES_DIR}/$1"
  elif [[ -n "${RUNFILES_MANIFEST_FILE:-}" ]]; then
    local line
    line="$(grep -F -m1 "$1 " "${RUNFILES_MANIFEST_FILE}")" || true
    [[ -n "${line}" ]] || { echo "debuginfo_upload: $1 not in runfiles" >&2; exit 2; }
    echo "${line#* }"
  else
    echo "debuginfo_upload: cannot find runfiles for $1" >&2
    exit 2
  fi
}

tool="$(rlocation "%TOOL%")"
args=(upload)
for record in %RECORDS%; do
  args+=(--record "$(rlocation "${record}")")
done
args+=(%FLAGS%)

# `bazel run` starts us in the runfiles tree; relative paths in the caller's extra
# arguments mean the caller's directory.
if [[ -n "${BUILD_WORKING_DIRECTORY:-}" ]]; then
  cd "${BUILD_WORKING_DIRECTORY}"
fi
exec "${tool}" "${args[@]}" "$@"

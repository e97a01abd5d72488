#!/usr/bin/env bash
# Launcher of a debuginfo_upload target, written by rules_debuginfo. Runs
# `debuginfo upload` on the records of the targets, found through runfiles, with the
# caller's environment and working directory.

# --- begin runfiles.bash initialization v2 ---
# Copy-pasted from the Bazel Bash runfiles library v2.
set -uo pipefail; f=bazel_tools/tools/bash/runfiles/runfiles.bash
source "${RUNFILES_DIR:-/dev/null}/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "${RUNFILES_MANIFEST_FILE:-/dev/null}" | cut -f2- -d' ')" 2>/dev/null || \
  source "$0.runfiles/$f" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  source "$(grep -sm1 "^$f " "$0.exe.runfiles_manifest" | cut -f2- -d' ')" 2>/dev/null || \
  { echo>&2 "ERROR: cannot find $f"; exit 1; }; f=; set -e
# --- end runfiles.bash initialization v2 ---

find_runfile() {
  local p
  p="$(rlocation "$1")" && [[ -n "${p}" && -e "${p}" ]] || {
    echo "debuginfo_upload: $1 is not in the runfiles of this target" >&2
    exit 2
  }
  echo "${p}"
}

# Bazel writes its client's environment to $(bazel info output_base)/java.log*, so a
# token exported for `bazel run` stays on disk (and in any cache of the output base).
for var in PARCA_DEBUGINFO_BEARER_TOKEN POLARSIGNALS_TOKEN; do
  if [[ -n "${!var:-}" ]]; then
    echo "debuginfo_upload: warning: ${var} is set in the environment of bazel, which logs it to" \
      "\$(bazel info output_base)/java.log; pass a token file instead (bazel run ... --" \
      "--bearer-token-file=PATH, or --credential-helper=PATH), unset ${var} and rotate the token" >&2
  fi
done

tool="$(find_runfile "%TOOL%")"
args=(upload)
for record in %RECORDS%; do
  args+=(--record "$(find_runfile "${record}")")
done
args+=(%FLAGS%)

# `bazel run` starts us in the runfiles tree; relative paths in the caller's extra
# arguments mean the caller's directory.
if [[ -n "${BUILD_WORKING_DIRECTORY:-}" ]]; then
  cd "${BUILD_WORKING_DIRECTORY}"
fi
exec "${tool}" "${args[@]}" "$@"

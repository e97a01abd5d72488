# Counted checks shared by the e2e scripts (sourced, not run). Each script
# prints "ok - NAME" or "FAIL - NAME" per check and "N passed, N failed" last.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "FAIL - $*"; }
# check NAME COMMAND...: runs COMMAND and counts it; returns 1 when it failed,
# so that `check ... || show LOG` shows the evidence.
check() {
  local name="$1"
  shift
  if "$@"; then ok "${name}"; else not_ok "${name}"; return 1; fi
}
# report: prints the counts; succeeds only when nothing failed.
report() {
  echo "${passed} passed, ${failed} failed"
  [[ "${failed}" == 0 ]]
}
# show LOG: prints a log indented, as evidence under a failed check.
show() { sed 's/^/    | /' "$1"; }
contains() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }

#!/usr/bin/env bash
# Shared by the suites in ci/suites.d (source it): pass/fail counters and the closing line that
# ci/test.sh reads, "[label: ]N passed, N failed".
#   ok NAME / ko NAME      count and print one check
#   suite_summary [LABEL]  print the failures and the closing line; status 1 if any failed
# shellcheck disable=SC2034 # passed/failed/failures are read by the sourcing suite too
passed=0
failed=0
failures=()
ok() { passed=$((passed + 1)); echo "PASS $1"; }
ko() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1"; }
suite_summary() {
  if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
  echo "${1:+$1: }$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

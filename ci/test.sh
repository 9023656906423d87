#!/usr/bin/env bash
# The one test command (README: "bash ci/test.sh"): cargo test on the embedded Lua, the module
# built per flavour, the busted specs and the examples under lua5.1, lua5.2, lua5.3, lua5.4 and
# luajit, then the extra suites in ci/suites.d. Ends with "N passed, N failed" over every test.
# With CI=true a missing interpreter is a failure, not a skip.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export CARGO_TERM_COLOR=never

passed=0
failed=0
failures=()
# What each failure printed, repeated at the end: CI logs keep only their head and tail.
details=$(mktemp)

# Wall time of each part, printed before the closing line: the CI budget is 60 minutes.
started=$(date +%s)
section_start=$started
timings=()
took() { # took NAME: records the time since the last call
  local now
  now=$(date +%s)
  timings+=("$(printf '%5d s  %s' $((now - section_start)) "$1")")
  section_start=$now
}

count() { # count PASSED FAILED NAME [LOG]
  passed=$((passed + $1))
  failed=$((failed + $2))
  if [ "$2" -gt 0 ]; then failures+=("$3"); fi
  if [ "$2" -gt 0 ] && [ -n "${4:-}" ]; then failure_lines "$3" "$4" >>"$details"; fi
}

failure_lines() { # failure_lines NAME LOG: a failed part's own failure lines, at most 40
  echo "--- $1"
  # busted's "Failure →" / "Error →" blocks, cargo's panics and "FAILED", the suites' FAIL lines.
  grep -E -A6 '(Failure|Error) →|^FAIL|FAILED|panicked at' "$2" | head -40
}

# --- The cross-target check (ci/suites.d/cross.sh) starts first, in the background and niced:
# it only compiles (~20 min on 2 cores when cold), and it takes the CPU that the runtime tests
# below leave idle. Its turn in the suites loop waits for it and prints its log.
declare -A background=()
in_background() { # in_background NAME
  local suite=ci/suites.d/$1.sh log
  [ -e "$suite" ] || return 0
  if [ "${CI:-}" != true ] && [[ " ${SKIP_SUITES:-} " == *" $1 "* ]]; then return 0; fi
  log=$(mktemp)
  nice -n 19 bash "$suite" >"$log" 2>&1 &
  background[$1]="$!:$log"
}
in_background cross

# --- Rust tests: all of them on embedded Lua 5.4, the module tests again on embedded Lua 5.5 --
# (Debian has no lua5.5 interpreter; the embedded one is the real 5.5 source.)
cargo_tests() { # cargo_tests NAME CARGO-TEST-ARGS...
  local name=$1 log status p f
  shift
  log=$(mktemp)
  cargo test --locked "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  p=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
  f=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  count "$p" "$f" "$name" "$log"
}
cargo_tests "cargo test (Lua 5.4)"
took "cargo test (Lua 5.4), build included"
cargo_tests "cargo test (Lua 5.5)" --no-default-features --features lua55,vendored --test module
took "cargo test (Lua 5.5)"

# --- Style gates: rustfmt and clippy, as the project promises -----------------------------------
if cargo fmt --all -- --check >/dev/null; then count 1 0 ""; else echo "FAIL rustfmt"; count 0 1 "rustfmt"; fi
if cargo clippy --locked --all-targets -q -- -D warnings; then count 1 0 ""; else count 0 1 "clippy"; fi
took "rustfmt and clippy"

# --- The module under every interpreter -------------------------------------------------------
interpreters=(lua51:lua5.1 lua52:lua5.2 lua53:lua5.3 lua54:lua5.4 luajit:luajit)
if bash ci/build-modules.sh; then
  # The suites below reuse these instead of relinking them (see ci/build-modules.sh).
  export MODULES_BUILT=1
else
  count 0 1 "module build"
fi
took "module builds"

lua_with_module() { # lua_with_module FLAVOUR INTERPRETER ARGS...
  local flavour=$1 interp=$2; shift 2
  LUA_CPATH="$PWD/target/lua/$flavour/?.so;;" "$interp" "$@"
}

for pair in "${interpreters[@]}"; do
  flavour=${pair%%:*}
  interp=${pair##*:}
  if ! command -v "$interp" >/dev/null; then
    echo "MISSING interpreter $interp"
    if [ "${CI:-}" = true ]; then count 0 1 "$interp missing"; fi
    continue
  fi
  echo "=== busted under $interp ==="
  log=$(mktemp)
  lua_with_module "$flavour" "$interp" /usr/bin/busted -o utfTerminal tests/spec 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  summary=$(grep -E '[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors?' "$log" | tail -1)
  p=$(echo "$summary" | grep -Eo '^[0-9]+')
  f=$(echo "$summary" | awk -F' / ' '{split($2,a," "); split($3,b," "); print a[1]+b[1]}')
  p=${p:-0}; f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  echo "busted $interp: $summary"
  count "$p" "$f" "busted $interp" "$log"

  echo "=== examples under $interp ==="
  for example in examples/*.lua; do
    # The luv and cqueues examples run in ci/suites.d/eventloops.sh (no LuaJIT build of those).
    case "$example" in examples/server.lua|examples/client.lua|examples/chat_*.lua|examples/secure_*.lua|examples/luv_*.lua|examples/cqueues_*.lua) continue ;; esac
    if timeout 60 bash -c "$(declare -f lua_with_module); lua_with_module $flavour $interp $example" >/dev/null 2>&1; then
      count 1 0 ""
    else
      echo "FAIL example $example under $interp"
      count 0 1 "$example ($interp)"
    fi
  done
  if LUA_CPATH="$PWD/target/lua/$flavour/?.so;;" timeout 90 bash ci/chat-test.sh "$interp"; then
    count 1 0 ""
  else
    count 0 1 "chat example ($interp)"
  fi
  if LUA_CPATH="$PWD/target/lua/$flavour/?.so;;" timeout 90 bash ci/secure-example-test.sh "$interp"; then
    count 1 0 ""
  else
    count 0 1 "secure examples ($interp)"
  fi
  took "busted and examples under $interp"
done

# --- Extra suites: each ci/suites.d/*.sh prints "N passed, N failed" as its last line --------
# SKIP_SUITES="dist reliability" skips those suites on a developer machine; CI runs them all.
# The background ones come last, so they keep the CPU the others leave idle as long as possible.
run_suite() { # run_suite PATH
  local suite=$1 name log status line p f
  name=$(basename "$suite" .sh)
  if [ "${CI:-}" != true ] && [[ " ${SKIP_SUITES:-} " == *" $name "* ]]; then
    echo "=== suite $suite skipped (SKIP_SUITES) ==="
    return
  fi
  echo "=== suite $suite ==="
  if [ -n "${background[$name]:-}" ]; then
    log=${background[$name]#*:}
    wait "${background[$name]%%:*}"
    status=$?
    cat "$log"
  else
    log=$(mktemp)
    bash "$suite" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
  fi
  line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  p=$(echo "$line" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); p=${p:-0}
  f=$(echo "$line" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+'); f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  count "$p" "$f" "$suite" "$log"
  took "suite $name${background[$name]:+ (the wait for it; it started at the beginning)}"
}
for suite in ci/suites.d/*.sh; do
  [ -e "$suite" ] && [ -z "${background[$(basename "$suite" .sh)]:-}" ] && run_suite "$suite"
done
for name in "${!background[@]}"; do
  run_suite "ci/suites.d/$name.sh"
done

echo "=== wall time ==="
printf '%s\n' "${timings[@]}"
printf '%5d s  total\n' $(($(date +%s) - started))
if [ ${#failures[@]} -gt 0 ]; then
  echo "=== what the failed parts printed ==="
  cat "$details"
  printf 'failed: %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

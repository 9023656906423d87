#!/usr/bin/env bash
# Reliability and security suite (docs/reliability.md), run by ci/test.sh after cargo test (which
# already runs tests/reliability.rs and tests/hostile.rs) and the busted specs (which already run
# tests/spec/battery_*_spec.lua and gc_*_spec.lua under every interpreter). This adds:
#   - the GC stress and bad-input battery specs stand-alone, and the fast-path spec through
#     busted, under valgrind, on real interpreters with the debug module: no invalid access, no
#     definite leak;
#   - a bounded libFuzzer pass (FUZZ_SECONDS, default 60, each) of fuzz/fuzz_targets/datagram.rs
#     and fuzz/fuzz_targets/secure.rs from the committed seeds.
# CI time: about 5-7 minutes on 2 cores (fuzz build ~2-3 min from scratch, 2 x 60 s of fuzzing,
# ~1 min of valgrind). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export CARGO_TERM_COLOR=never

# shellcheck source=ci/suite-lib.sh
source ci/suite-lib.sh

have_or_install() { # have_or_install COMMAND PACKAGE
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1
  fi
  command -v "$1" >/dev/null
}

# --- valgrind on real interpreters ------------------------------------------------------------
if have_or_install valgrind valgrind; then
  if bash ci/build-modules.sh lua54 lua51 >/dev/null 2>&1; then
    run_valgrind() { # run_valgrind FLAVOUR INTERPRETER "SCRIPT [ARGS]" [ENV...]
      local flavour=$1 interp=$2 spec=$3; shift 3
      local log script
      read -r -a script <<<"$spec"
      log=$(mktemp)
      if ! command -v "$interp" >/dev/null; then
        ko "valgrind $interp $spec (interpreter missing)"
        return
      fi
      if env "$@" LUA_CPATH="$PWD/target/lua/$flavour/?.so;${LUA_CPATH_EXTRA:-};;" timeout 900 \
        valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
        --show-leak-kinds=definite "$interp" "${script[@]}" >"$log" 2>&1; then
        summary=$(grep -E 'ERROR SUMMARY|definitely lost|no leaks are possible' "$log" | sed 's/^==[0-9]*== //' | tr '\n' ' ')
        ok "valgrind $interp $spec: $summary"
      else
        tail -40 "$log"
        ko "valgrind $interp $spec"
      fi
      rm -f "$log"
    }
    run_valgrind lua54 lua5.4 tests/spec/gc_stress_spec.lua GC_STRESS_ROUNDS=8
    run_valgrind lua51 lua5.1 tests/spec/gc_stress_spec.lua GC_STRESS_ROUNDS=8
    run_valgrind lua54 lua5.4 tests/spec/battery_api_spec.lua
    # The raw C API paths (event records, stack arguments, send_many) and the finalizer
    # re-entry test, through busted.
    run_valgrind lua54 lua5.4 "/usr/bin/busted -o TAP tests/spec/fast_paths_spec.lua"
    run_valgrind lua51 lua5.1 "/usr/bin/busted -o TAP tests/spec/fast_paths_spec.lua"
    # The fault sweeps (ci/suites.d/faults.sh builds failalloc): no leak when a call fails
    # half-way, out of memory or on a finalizer's error.
    if [ -e target/faults/lua54/failalloc.so ] && [ -e target/faults/lua51/failalloc.so ]; then
      LUA_CPATH_EXTRA="$PWD/target/faults/lua54/?.so" run_valgrind lua54 lua5.4 "tests/faults/sweep.lua oom"
      LUA_CPATH_EXTRA="$PWD/target/faults/lua51/?.so" run_valgrind lua51 lua5.1 "tests/faults/sweep.lua oom 3"
      run_valgrind lua51 lua5.1 "tests/faults/sweep.lua gc"
    else
      ko "valgrind fault sweeps: target/faults/*/failalloc.so missing (run ci/suites.d/faults.sh first)"
    fi
    # The range coder (rusty_enet's C-style code behind raw pointers) and the filter's in-place
    # decompression, both ways, with CRC32 and mismatched ends: about 30 s.
    run_valgrind lua54 lua5.4 "/usr/bin/busted -o TAP tests/spec/options_spec.lua"
  else
    ko "module build for valgrind"
  fi
else
  ko "valgrind not available"
fi

# --- bounded fuzz pass --------------------------------------------------------------------------
# The flags are those cargo-fuzz passes (sanitizer coverage, ASan, debug assertions); building
# with plain cargo saves installing cargo-fuzz in CI. Locally: RUSTC_BOOTSTRAP=1 cargo fuzz run
# -a datagram (see docs/reliability.md).
fuzz_seconds=${FUZZ_SECONDS:-60}
target=$(rustc -vV | sed -n 's/^host: //p')
fuzz_flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 -Zsanitizer=address \
-Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions -Ccodegen-units=1"
start=$(date +%s)
if RUSTC_BOOTSTRAP=1 RUSTFLAGS="$fuzz_flags" cargo build --locked --release \
  --manifest-path fuzz/Cargo.toml --target "$target" --bin datagram --bin secure 2>&1 | tail -3; then
  built=$(date +%s)
  # datagram: ENet under our socket filter; secure: the netcode layer (src/secure.rs).
  for name in datagram secure; do
    work=$(mktemp -d)
    mkdir -p "$work/corpus" "$work/artifacts"
    cp "fuzz/corpus/$name"/seed-* "$work/corpus/"
    log="$work/log"
    if timeout $((fuzz_seconds + 120)) "fuzz/target/$target/release/$name" "$work/corpus" \
      -max_total_time="$fuzz_seconds" -rss_limit_mb=1024 -artifact_prefix="$work/artifacts/" \
      -print_final_stats=1 >"$log" 2>&1; then
      runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$')
      ok "fuzz $name: ${runs:-?} inputs in ${fuzz_seconds} s (build $((built - start)) s), no crash"
    else
      tail -60 "$log"
      ls -l "$work/artifacts"
      ko "fuzz $name (see the crash above; artifacts in $work/artifacts)"
    fi
  done
else
  ko "fuzz build"
fi

suite_summary reliability

#!/usr/bin/env bash
# Docs suite (run by ci/test.sh after the modules are built; about 15 s):
#   1. docs/api.md and library/module_enet.lua are what ci/gen-docs.lua makes from
#      docs/api-source.lua, and the generator gives the same bytes under every interpreter;
#   2. under lua5.1 lua5.2 lua5.3 lua5.4 luajit, ci/check-docs.lua compares the real exports of
#      require("module_enet") (module table, method tables, event/address/statistics tables)
#      with the description and runs every documented example;
#   3. luacheck (.luacheckrc) over examples/ tests/spec/ tests/interop/ tests/love/ bench/ and
#      the docs tooling.
# Ends with "N passed, N failed"; exits non-zero on any failure.
# Alone: bash ci/build-modules.sh && bash ci/suites.d/docs.sh
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "FAIL - $1"; }

interpreters=(lua51:lua5.1 lua52:lua5.2 lua53:lua5.3 lua54:lua5.4 luajit:luajit)
generated=("docs/api.md" "library/module_enet.lua")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

have() { command -v "$1" >/dev/null 2>&1; }
missing_interpreter() {
  if [ "${CI:-}" = true ]; then bad "interpreter $1 missing"; else echo "skip - interpreter $1 missing"; fi
}

# --- 1. Generated files up to date, generator portable ----------------------------------------
reference=""
for pair in "${interpreters[@]}"; do
  interp=${pair##*:}
  if ! have "$interp"; then missing_interpreter "$interp"; continue; fi
  out="$tmp/gen-$interp"
  if ! "$interp" ci/gen-docs.lua --out "$out" >"$tmp/gen-$interp.log" 2>&1; then
    bad "ci/gen-docs.lua fails under $interp: $(tail -3 "$tmp/gen-$interp.log")"
    continue
  fi
  if [ -z "$reference" ]; then
    reference=$out
    for f in "${generated[@]}"; do
      if cmp -s "$out/$f" "$f"; then
        ok "$f is up to date with docs/api-source.lua"
      else
        bad "$f is stale or edited by hand: run 'lua ci/gen-docs.lua' and commit the result"
        diff -u "$f" "$out/$f" | head -40
      fi
    done
  elif cmp -s "$reference/${generated[0]}" "$out/${generated[0]}" &&
    cmp -s "$reference/${generated[1]}" "$out/${generated[1]}"; then
    ok "ci/gen-docs.lua output under $interp is identical"
  else
    bad "ci/gen-docs.lua output under $interp differs from $(basename "$reference")"
  fi
done

# --- 2. Exports against the description, examples, under every interpreter ---------------------
for pair in "${interpreters[@]}"; do
  flavour=${pair%%:*}
  interp=${pair##*:}
  if ! have "$interp"; then missing_interpreter "$interp"; continue; fi
  if [ ! -e "target/lua/$flavour/module_enet.so" ]; then
    bad "target/lua/$flavour/module_enet.so missing (bash ci/build-modules.sh $flavour)"
    continue
  fi
  echo "=== exports and examples under $interp ==="
  log="$tmp/check-$interp.log"
  LUA_CPATH="$PWD/target/lua/$flavour/?.so;;" timeout 300 "$interp" ci/check-docs.lua docs/api-source.lua \
    >"$log" 2>&1
  status=$?
  grep -v -E '^ok - |^[0-9]+ passed, [0-9]+ failed$' "$log"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  p=$(echo "$line" | awk '{print $1}'); p=${p:-0}
  f=$(echo "$line" | awk '{print $3}'); f=${f:-0}
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    echo "FAIL - ci/check-docs.lua under $interp exited with $status"
  fi
  echo "$interp: $p checks ok, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
done

# --- 3. luacheck --------------------------------------------------------------------------------
if ! have luacheck; then
  if [ "$(id -u)" = 0 ]; then
    dpkg -s lua-check >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq lua-check >/dev/null; }
  fi
fi
if have luacheck; then
  targets=()
  for d in examples tests/spec tests/faults tests/interop tests/love bench; do [ -d "$d" ] && targets+=("$d"); done
  if [ ${#targets[@]} -gt 0 ]; then
    if luacheck --no-color -q --codes "${targets[@]}" >"$tmp/luacheck.log" 2>&1; then
      ok "luacheck ${targets[*]}"
    else
      cat "$tmp/luacheck.log"
      bad "luacheck ${targets[*]}"
    fi
  fi
  if luacheck --no-color -q --codes docs/api-source.lua ci/gen-docs.lua ci/check-docs.lua library \
    >"$tmp/luacheck-docs.log" 2>&1; then
    ok "luacheck docs tooling and library/"
  else
    cat "$tmp/luacheck-docs.log"
    bad "luacheck docs tooling and library/"
  fi
else
  bad "luacheck not installed (Debian package lua-check)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Windows at run time, under Wine (docs/windows.md, issue 12). Builds, all with mingw-w64:
#   - the module for x86_64-pc-windows-gnu, flavours lua54 and luajit (Debian's rustc-web with
#     -Zbuild-std, ci/rustc-web.sh; the DLL imports lua54.dll / lua51.dll by name);
#   - Lua 5.4 from the lua-src crate's sources as lua54.dll, with our host program ci/wine/lua.c
#     as lua.exe; LuaJIT from the luajit-src crate as lua51.dll + luajit.exe;
#   - ci/wine/bcryptprimitives.c, a stand-in for the DLL Wine 8 lacks (see the file).
# Then under Wine, per interpreter: the spec runner's own check, every tests/spec/*_spec.lua
# through tests/wine/spec_runner.lua (busted's interface; busted itself needs C modules we have
# no Windows build of) minus the tests tests/wine/excluded.lua names with the reason, the
# examples ci/test.sh runs, and the chat example's three processes (ci/chat-test.sh).
# Everything lives in target/wine (Wine prefix included); a second run rebuilds nothing.
# Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export CARGO_TERM_COLOR=never

# shellcheck source=ci/suite-lib.sh
source ci/suite-lib.sh
finish() {
  if [ -n "${wineserver:-}" ] && [ -d "${WINEPREFIX:-/nonexistent}" ]; then
    "$wineserver" -k 2>/dev/null # only this prefix's server
  fi
  suite_summary wine
  exit
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

work=$PWD/target/wine
mkdir -p "$work"

# --- Tools --------------------------------------------------------------------------------------
# shellcheck source=ci/rustc-web.sh
. ci/rustc-web.sh
if ! rustc_web_setup wine64 gcc-mingw-w64-x86-64 make gcc; then
  ko "Debian rustc-web toolchain"
  finish
fi
# wine64 without its recommends has no /usr/bin/wine wrapper.
wine=$(command -v wine64 || command -v wine || ls /usr/lib/wine/wine64 2>/dev/null)
wineserver=$(command -v wineserver || ls /usr/lib/wine/wineserver64 2>/dev/null)
if [ -z "$wine" ] || [ -z "$wineserver" ] || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  ko "wine64 and gcc-mingw-w64-x86-64 are needed (apt-get install them as root)"
  finish
fi
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY LUA_PATH LUA_CPATH LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4

# Our Lua under tests/wine is not in docs.sh's luacheck list: check it here.
if command -v luacheck >/dev/null; then
  if luacheck --no-color -q --codes --std max+busted tests/wine; then ok "luacheck tests/wine"; else ko "luacheck tests/wine"; fi
fi

# --- Lua and LuaJIT for Windows from the crates' sources ----------------------------------------
# cargo metadata downloads and unpacks every package of the lock file, these two included.
start=$(date +%s)
metadata=$(cargo metadata --locked --format-version 1 --all-features 2>/dev/null)
source_of() { # source_of CRATE -> its unpacked directory
  echo "$metadata" | grep -Eo "\"manifest_path\":\"[^\"]*/$1-[0-9][^\"/]*/Cargo.toml\"" | head -1 |
    sed -E 's/^"manifest_path":"//; s|/Cargo.toml"$||'
}
lua_src=$(source_of lua-src)
luajit_src=$(source_of luajit-src)
lua54_dir=""
for dir in "$lua_src"/lua-5.4.*; do [ -d "$dir" ] && lua54_dir=$dir; done
if [ -z "$lua54_dir" ] || [ ! -d "$luajit_src/luajit2" ]; then
  ko "lua-src / luajit-src sources (cargo metadata found '$lua_src' and '$luajit_src')"
  finish
fi

mingw_cc=x86_64-w64-mingw32-gcc
# Rebuilt when the sources or our C files change; the stamp names what was built from what.
stamp_of() { echo "$1 $(cat ci/wine/*.c | md5sum)"; }
build_lua54() {
  local out=$work/lua54
  [ "$(cat "$out/.stamp" 2>/dev/null)" = "$(stamp_of "$lua54_dir")" ] && return 0
  rm -rf "$out" && mkdir -p "$out/obj" || return 1
  # The library as lua54.dll (the name mlua's module imports), exactly as lua-src's sources are.
  (cd "$out/obj" && $mingw_cc -O2 -std=gnu99 -DLUA_COMPAT_5_3 -DLUA_BUILD_AS_DLL -c "$lua54_dir"/l*.c) &&
    $mingw_cc -shared -o "$out/lua54.dll" -Wl,--out-implib,"$out/liblua54.dll.a" "$out"/obj/*.o &&
    $mingw_cc -O2 -Wall -Wextra -Werror -DLUA_BUILD_AS_DLL -I"$lua54_dir" -o "$out/lua.exe" \
      ci/wine/lua.c "$out/liblua54.dll.a" &&
    stamp_of "$lua54_dir" >"$out/.stamp"
}
build_luajit() {
  local out=$work/luajit
  [ "$(cat "$out/.stamp" 2>/dev/null)" = "$(stamp_of "$luajit_src")" ] && return 0
  rm -rf "$out" "$work/luajit-build" && mkdir -p "$out" || return 1
  # LuaJIT builds in its source tree: build in a copy.
  cp -r "$luajit_src/luajit2" "$work/luajit-build" || return 1
  if ! make -C "$work/luajit-build" -j2 HOST_CC=gcc CROSS=x86_64-w64-mingw32- TARGET_SYS=Windows \
    BUILDMODE=dynamic >"$work/luajit-build.log" 2>&1; then
    tail -20 "$work/luajit-build.log"
    return 1
  fi
  cp "$work/luajit-build/src/lua51.dll" "$work/luajit-build/src/luajit.exe" "$out/" &&
    stamp_of "$luajit_src" >"$out/.stamp"
}
if build_lua54; then ok "Lua 5.4 for Windows from $(basename "$lua_src")/$(basename "$lua54_dir") ($(elapsed "$start"))"; else ko "Lua 5.4 build"; fi
start=$(date +%s)
if build_luajit; then ok "LuaJIT for Windows from $(basename "$luajit_src") ($(elapsed "$start"))"; else ko "LuaJIT build"; fi
for dir in lua54 luajit; do
  if [ -d "$work/$dir" ]; then
    $mingw_cc -O2 -Wall -Wextra -Werror -shared -o "$work/$dir/bcryptprimitives.dll" \
      ci/wine/bcryptprimitives.c -ladvapi32 || ko "bcryptprimitives.dll stand-in"
  fi
done

# --- The module ---------------------------------------------------------------------------------
# panic_unwind, not panic_abort: mlua catches Rust panics at the Lua boundary. The release
# profile without its thin LTO and with more codegen units: the same code and cfg as the
# shipped DLL, built minutes sooner (thin LTO over std built from source was most of the
# suite's time); what LTO changes is speed, which nothing here measures.
export CARGO_TARGET_DIR=$work/cargo CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$mingw_cc
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
for pair in lua54:lua54 luajit:luajit; do
  flavour=${pair%%:*} dir=$work/${pair##*:}
  start=$(date +%s)
  rm -f "$dir/module_enet.dll" # a failed build must not leave an older DLL to test
  if /usr/bin/cargo build --locked --release -Zbuild-std=std,panic_unwind --target x86_64-pc-windows-gnu \
    --lib --no-default-features --features "$flavour,module" >"$work/build-$flavour.log" 2>&1 &&
    cp "$CARGO_TARGET_DIR/x86_64-pc-windows-gnu/release/module_enet.dll" "$dir/module_enet.dll"; then
    ok "module_enet.dll ($flavour) for x86_64-pc-windows-gnu ($(elapsed "$start"))"
  else
    tail -30 "$work/build-$flavour.log"
    ko "module_enet.dll ($flavour) build"
  fi
done

# --- Under Wine ---------------------------------------------------------------------------------
start=$(date +%s)
# A server kept for the whole run saves a start per process; finish stops it.
"$wineserver" -p 2>/dev/null
if timeout 300 "$wine" cmd /c echo ready >/dev/null 2>&1; then
  ok "Wine prefix $WINEPREFIX ($("$wine" --version 2>/dev/null), $(elapsed "$start"))"
else
  ko "Wine prefix setup"
  finish
fi

# Interpreter wrappers: one command per Windows interpreter, for ci/chat-test.sh too.
mkdir -p "$work/bin"
for pair in lua54:lua54/lua.exe luajit:luajit/luajit.exe; do
  printf '#!/bin/sh\nexec %q %q "$@"\n' "$wine" "$work/${pair##*:}" >"$work/bin/${pair%%:*}"
  chmod +x "$work/bin/${pair%%:*}"
done
strip_cr() { tr -d '\r'; }

# Runs the spec runner; counts its summary: successes pass, failures and errors fail.
run_specs() { # run_specs LABEL INTERPRETER EXPECTED-SUMMARY|"" RUNNER-ARGS...
  local label=$1 interp=$2 expected=$3 log summary p f status
  shift 3
  log=$(mktemp)
  timeout 1200 "$interp" tests/wine/spec_runner.lua "$@" 2>&1 | strip_cr >"$log"
  status=${PIPESTATUS[0]}
  summary=$(grep -E '^[0-9]+ successes? / [0-9]+ failures? / [0-9]+ errors? / [0-9]+ pending' "$log" | tail -1)
  if [ -n "$expected" ]; then
    # The runner's own check: the exact counts, and each failure where a name says so.
    if [ "${summary%% :*}" = "$expected" ] &&
      ! grep -E '^(FAIL|ERROR) ' "$log" | grep -vE '^FAIL .*must fail|^ERROR .*(must error|failing setup setup)' | grep -q .; then
      ok "$label: $summary"
    else
      cat "$log"
      ko "$label: got '$summary', expected '$expected'"
    fi
  else
    grep -vE '^=== ' "$log" | grep -E -A12 '^(FAIL|ERROR|EXCLUDED|PENDING) ' | head -300
    p=$(echo "$summary" | grep -Eo '^[0-9]+')
    f=$(echo "$summary" | awk -F' / ' '{split($2,a," "); split($3,b," "); print a[1]+b[1]}')
    p=${p:-0} f=${f:-0}
    if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    echo "$label: ${summary:-no summary (exit status $status)}"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -gt 0 ]; then failures+=("$label"); fi
  fi
  rm -f "$log"
}

examples=()
for example in examples/*.lua; do
  # As ci/test.sh: server/client need each other (seed_spec), chat_* run through chat-test.sh.
  case "$example" in examples/server.lua|examples/client.lua|examples/chat_*.lua|examples/secure_*.lua|examples/luv_*.lua|examples/cqueues_*.lua) continue ;; esac
  examples+=("$example")
done

# tests/wine/windows_spec.lua's DNS servers: tests/dns_server.py on the Linux side, one answering,
# one --silent. Their ports reach the Windows process through the environment.
dns_pids=()
start_dns() { # start_dns VARIABLE [--silent]
  local variable=$1 out port
  shift
  out=$(mktemp)
  python3 tests/dns_server.py "$@" --lifetime 600 >"$out" 2>&1 &
  dns_pids+=($!)
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  rm -f "$out"
  export "$variable=$port"
}
stop_dns() {
  if [ ${#dns_pids[@]} -gt 0 ]; then kill "${dns_pids[@]}" 2>/dev/null; wait "${dns_pids[@]}" 2>/dev/null; fi
  dns_pids=()
}

for flavour in lua54 luajit; do
  interp=$work/bin/$flavour
  [ -e "$work/$flavour/module_enet.dll" ] || { ko "$flavour: no module_enet.dll to test"; continue; }
  echo "=== Windows $flavour under Wine ==="
  run_specs "spec runner check ($flavour)" "$interp" "19 successes / 15 failures / 4 errors / 3 pending" \
    --exclude tests/wine/runner_check_excluded.lua tests/wine/runner_check_spec.lua
  start=$(date +%s)
  start_dns DNS_PORT
  start_dns DNS_SILENT_PORT --silent
  run_specs "specs under Windows $flavour (Wine)" "$interp" "" --exclude tests/wine/excluded.lua \
    tests/spec/*_spec.lua tests/wine/windows_spec.lua
  stop_dns
  echo "(specs took $(elapsed "$start"))"
  for example in "${examples[@]}"; do
    if out=$(timeout 120 "$interp" "$example" 2>&1); then
      ok "$example ($flavour, Wine)"
    else
      echo "$out" | tail -20
      ko "$example ($flavour, Wine)"
    fi
  done
  if timeout 180 bash ci/chat-test.sh "$interp"; then
    ok "chat example, three processes ($flavour, Wine)"
  else
    ko "chat example ($flavour, Wine)"
  fi
done

finish

#!/usr/bin/env bash
# Hosts driven by external event loops: examples/luv_echo.lua (Debian lua-luv: a poll handle on
# host_fd plus a timer) and examples/cqueues_echo.lua (Debian lua-cqueues: cqueues.poll on
# host_fd with a timeout) under every interpreter Debian builds those libraries for (Lua 5.1-5.4;
# there is none for LuaJIT). Each example checks 300 echoed messages, a clean disconnect on
# both sides and that the process used under 0.15 s of CPU time while idle for a second.
# ci/test.sh skips these two examples in its own examples loop. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

passed=0
failed=0
failures=()

for package in lua-luv lua-cqueues; do
  dpkg -s "$package" >/dev/null 2>&1 && continue
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1
  fi
  dpkg -s "$package" >/dev/null 2>&1 || { failed=$((failed + 1)); failures+=("$package missing"); }
done
if ! bash ci/build-modules.sh lua51 lua52 lua53 lua54 >/dev/null 2>&1; then
  echo "FAIL module build"
  echo "0 passed, 1 failed"
  exit 1
fi

for pair in lua51:lua5.1 lua52:lua5.2 lua53:lua5.3 lua54:lua5.4; do
  flavour=${pair%%:*}
  interp=${pair##*:}
  for example in examples/luv_echo.lua examples/cqueues_echo.lua; do
    if out=$(LUA_CPATH="$PWD/target/lua/$flavour/?.so;;" timeout 60 "$interp" "$example" 2>&1); then
      passed=$((passed + 1))
      echo "PASS $interp $example: $out"
    else
      failed=$((failed + 1))
      failures+=("$interp $example")
      echo "FAIL $interp $example: $out"
    fi
  done
done

if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

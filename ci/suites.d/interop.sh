#!/usr/bin/env bash
# Interop with C ENet 1.3.17 (Debian's libenet): tests/interop/enet_peer.c (C ENet) against
# tests/interop/peer.lua (module_enet) under every interpreter, each as server and as client,
# with {nothing, range coder, CRC32, both} on both ends: reliable, unreliable, unsequenced and
# 100 kB fragmented packets, echoed and checked byte for byte (Adler-32 plus the exact bytes).
# Then mismatched ends (one side compresses or checks CRC32, the other not) must fail cleanly:
# a timeout or disconnect within a bound, never a crash, a hang or a corrupt payload.
# Then LÖVE 11 (Debian's love, headless: tests/love/game needs no display) as the client: the
# game loading module_enet (our luajit build, through package.cpath), and the game using LÖVE's
# own lua-enet with and without the range coder, against a module_enet server and against a
# module_enet.compat server (tests/interop/lua_enet_peer.lua) under every interpreter.
# Prints the matrix, then "N passed, N failed". INTEROP_INTERPRETERS="lua54:lua5.4" limits the
# interpreters (development only; CI runs all five).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

passed=0
failed=0
failures=()
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

have_or_install() { # have_or_install FILE PACKAGE
  [ -e "$1" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1
  fi
  [ -e "$1" ]
}

if ! have_or_install /usr/bin/cc gcc || ! have_or_install /usr/include/enet/enet.h libenet-dev ||
  ! have_or_install /usr/bin/love love; then
  echo "FAIL cannot install a C compiler, libenet-dev and love"
  echo "0 passed, 1 failed"
  exit 1
fi
mkdir -p target/interop
if ! cc -O2 -Wall -Wextra -Werror -o target/interop/enet_peer tests/interop/enet_peer.c -lenet; then
  echo "0 passed, 1 failed"
  exit 1
fi
if ! bash ci/build-modules.sh >/dev/null 2>&1; then
  echo "FAIL module build"
  echo "0 passed, 1 failed"
  exit 1
fi
c_peer=$PWD/target/interop/enet_peer
lua_peer=$PWD/tests/interop/peer.lua
compat_peer=$PWD/tests/interop/lua_enet_peer.lua
love_game=$PWD/tests/love/game

# run SERVER-CMD... -- CLIENT-CMD...: starts the server, reads "PORT n" from it, runs the
# client with its argument PORT replaced by that port, waits for the server. Sets client_rc,
# server_rc and log. A server still running GRACE seconds after the client is done (mismatched
# ends: it may never see a disconnect) is stopped by its process id.
run() {
  local grace=$1 server=() client=() fifo="$work/out" port line pid
  shift
  while [ "$1" != -- ]; do server+=("$1"); shift; done
  shift
  client=("$@")
  rm -f "$fifo"
  mkfifo "$fifo"
  timeout 60 "${server[@]}" >"$fifo" 2>"$work/server.err" &
  pid=$!
  exec 3<"$fifo"
  port=
  if read -t 20 -r line <&3 && [[ $line == PORT* ]]; then port=${line#PORT }; fi
  if [ -z "$port" ]; then
    kill "$pid" 2>/dev/null
    wait "$pid"
    server_rc=$?
    client_rc=none
    log="server printed no port: $line $(cat "$work/server.err")"
    exec 3<&-
    return
  fi
  client=("${client[@]/#PORT/$port}")
  log=$(timeout 60 "${client[@]}" 2>&1)
  client_rc=$?
  timeout "$grace" tail --pid="$pid" -s 0.1 -f /dev/null
  kill "$pid" 2>/dev/null
  wait "$pid"
  server_rc=$?
  log="client: $log | server: $(cat <&3) $(cat "$work/server.err")"
  exec 3<&-
}

# case NAME EXPECT SERVER-CMD... -- CLIENT-CMD...: EXPECT ok (both exit 0) or clean (the
# client exits 3, a clean failure; the server exits 0 or 3, or 143 when stopped by us).
# Prints PASS/FAIL; sets cell.
case_() {
  local name=$1 expect=$2 ok=false began
  shift 2
  began=$(date +%s%N)
  # Matching ends: the server exits at the client's disconnect, at once.
  if [ "$expect" = ok ]; then run 10 "$@"; else run 0.5 "$@"; fi
  log="$log ($((($(date +%s%N) - began) / 1000000)) ms)"
  if [ "$expect" = ok ]; then
    [ "$client_rc" = 0 ] && [ "$server_rc" = 0 ] && ok=true
  else
    [ "$client_rc" = 3 ] && [[ $server_rc =~ ^(0|3|143)$ ]] && [[ $log != *corrupt=[1-9]* ]] && ok=true
  fi
  if $ok; then
    passed=$((passed + 1))
    cell=$expect
    echo "PASS $name: $log"
  else
    failed=$((failed + 1))
    failures+=("$name")
    cell=FAIL
    echo "FAIL $name (client exit $client_rc, server exit $server_rc): $log"
  fi
}

read -r -a interpreters <<<"${INTEROP_INTERPRETERS:-lua51:lua5.1 lua52:lua5.2 lua53:lua5.3 lua54:lua5.4 luajit:luajit}"
settings=(none compress crc32 both)
declare -A flags=([none]="" [compress]="--compress" [crc32]="--crc32" [both]="--compress --crc32")
declare -A matrix
# For mismatched ends: short peer timeouts, so the failure comes quickly.
quick=(--timeout-ms 500 --deadline-ms 8000)
start=$(date +%s)
for pair in "${interpreters[@]}"; do
  flavour=${pair%%:*}
  interp=${pair##*:}
  if ! command -v "$interp" >/dev/null; then
    failed=$((failed + 1))
    failures+=("$interp missing")
    continue
  fi
  export LUA_CPATH="$PWD/target/lua/$flavour/?.so;;"
  for s in "${settings[@]}"; do
    read -r -a f <<<"${flags[$s]}"
    case_ "$interp $s, C server" ok "$c_peer" server "${f[@]}" -- "$interp" "$lua_peer" client PORT "${f[@]}"
    c_server=$cell
    case_ "$interp $s, C client" ok "$interp" "$lua_peer" server "${f[@]}" -- "$c_peer" client PORT "${f[@]}"
    matrix["$interp $s"]="$c_server/$cell"
  done
  # Mismatched ends, each way round.
  for m in "compress:" ":compress" "crc32:" ":crc32"; do
    c_side=${m%%:*} lua_side=${m##*:}
    c_flags=() lua_flags=()
    [ -n "$c_side" ] && c_flags=("--$c_side")
    [ -n "$lua_side" ] && lua_flags=("--$lua_side")
    label="C ${c_side:-plain} vs module ${lua_side:-plain}"
    case_ "$interp mismatch $label, C server" clean "$c_peer" server "${c_flags[@]}" "${quick[@]}" \
      -- "$interp" "$lua_peer" client PORT "${lua_flags[@]}" "${quick[@]}"
    c_server=$cell
    case_ "$interp mismatch $label, C client" clean "$interp" "$lua_peer" server "${lua_flags[@]}" \
      "${quick[@]}" -- "$c_peer" client PORT "${c_flags[@]}" "${quick[@]}"
    matrix["$interp $m"]="$c_server/$cell"
  done
done

# --- LÖVE as the client ---------------------------------------------------------------------
export LUA_CPATH="$PWD/target/lua/luajit/?.so;;"
for s in "${settings[@]}"; do
  read -r -a f <<<"${flags[$s]}"
  # No LUA_CPATH for LÖVE: the game finds module_enet through its own package.cpath.
  case_ "LÖVE module_enet $s, luajit server" ok luajit "$lua_peer" server "${f[@]}" \
    -- env -u LUA_CPATH love "$love_game" module_enet client PORT "${f[@]}"
  matrix["love module_enet $s"]=$cell
done
for s in none compress; do
  read -r -a f <<<"${flags[$s]}"
  case_ "LÖVE lua-enet $s, luajit server" ok luajit "$lua_peer" server "${f[@]}" \
    -- love "$love_game" lua_enet client PORT "${f[@]}"
  matrix["love lua_enet $s"]=$cell
done
for pair in "${interpreters[@]}"; do
  flavour=${pair%%:*}
  interp=${pair##*:}
  command -v "$interp" >/dev/null || continue
  export LUA_CPATH="$PWD/target/lua/$flavour/?.so;;"
  for s in none compress; do
    read -r -a f <<<"${flags[$s]}"
    case_ "LÖVE lua-enet $s, $interp compat server" ok "$interp" "$compat_peer" server "${f[@]}" \
      -- love "$love_game" lua_enet client PORT "${f[@]}"
    matrix["love compat $interp $s"]=$cell
  done
done
case_ "LÖVE lua-enet compress vs plain compat server" clean luajit "$compat_peer" server \
  "${quick[@]}" -- love "$love_game" lua_enet client PORT --compress "${quick[@]}"
matrix["love mismatch"]=$cell

echo
echo "C ENet 1.3.17 <-> module_enet; each cell: C server + module client / module server + C client"
printf '%-8s' interp
for s in "${settings[@]}"; do printf ' %-11s' "$s"; done
printf ' | mismatched (clean = failed cleanly): %s\n' "C compress, module compress, C crc32, module crc32"
for pair in "${interpreters[@]}"; do
  interp=${pair##*:}
  printf '%-8s' "$interp"
  for s in "${settings[@]}"; do printf ' %-11s' "${matrix["$interp $s"]:-missing}"; done
  printf ' |'
  for m in "compress:" ":compress" "crc32:" ":crc32"; do printf ' %s' "${matrix["$interp $m"]:-missing}"; done
  echo
done
echo
echo "LÖVE $(love --version 2>/dev/null | grep -Eo '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1) as the client"
printf '%-40s %-9s %-9s %-9s %s\n' "game's enet / server" none compress crc32 both
printf '%-40s' "module_enet / module_enet (luajit)"
for s in "${settings[@]}"; do printf ' %-9s' "${matrix["love module_enet $s"]:-missing}"; done
echo
printf '%-40s %-9s %-9s\n' "bundled lua-enet / module_enet (luajit)" "${matrix["love lua_enet none"]:-missing}" \
  "${matrix["love lua_enet compress"]:-missing}"
for pair in "${interpreters[@]}"; do
  interp=${pair##*:}
  printf '%-40s %-9s %-9s\n' "bundled lua-enet / compat ($interp)" "${matrix["love compat $interp none"]:-missing}" \
    "${matrix["love compat $interp compress"]:-missing}"
done
echo "bundled lua-enet compressing / plain compat server: ${matrix["love mismatch"]:-missing}"
echo "interop: $(($(date +%s) - start)) s"
if [ ${#failures[@]} -gt 0 ]; then printf 'failed: %s\n' "${failures[@]}"; fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

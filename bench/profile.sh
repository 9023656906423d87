#!/usr/bin/env bash
# Where the time goes: runs bench/lua/loop.lua (both hosts in one process, deterministic) and
# its C twin `enet_bench loop` under valgrind --tool=callgrind, and prints instructions per
# message, the module's most expensive functions (inclusive) and the socket syscalls per message.
# PARTS=luaenet: the same for lua-enet's API (bench/luaenet/loop.lua) on LÖVE's bundled lua-enet
# and on module_enet.compat, beside the seed loop and C ENet, as the marginal cost per message.
# PARTS=receiver: the receiver of bench/run.sh's two-process 64 B stream under callgrind (the
# sender native), marginal cost per received message (NR=100000 minus NR/4).
# PARTS=floor: bench/lua/loop.lua on bench/c/floor.c, a stand-in module_enet with no network and
# no protocol, only the Lua objects and calls the API's contract needs: what any binding costs at
# least, beside C ENet's loop and the real module (issue 14's lower bounds, docs/performance.md).
#   bash bench/profile.sh            (after bench/run.sh has built target/bench; ~5 minutes)
#   FLAVOURS=lua54 N=20000 PARTS=modes bash bench/profile.sh
# Output files: target/bench/callgrind/cg.<flavour>.<send>.<recv> (open with callgrind_annotate).
set -euo pipefail
set -f
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
dir=$out/callgrind
mkdir -p "$dir"
N=${N:-20000}
FLAVOURS=${FLAVOURS:-"lua51 lua54 luajit"}
PARTS=${PARTS:-"modes luaenet receiver floor"}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
[ -x "$out/bin/enet_bench" ] || { echo "run bash bench/run.sh first (it builds target/bench)"; exit 1; }

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

total_ir() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}'; }
calls_of() { # calls_of FILE REGEX: summed call counts of functions matching REGEX
  callgrind_annotate --threshold=100 --tree=calling "$1" 2>/dev/null |
    { grep -E "^ .*>   .*($2)" || true; } | grep -Eo '\(([0-9,]+)x\)' | tr -d '(),x' | awk '{s+=$1} END {print s+0}' || true
}
report() { # report FILE LABEL
  local ir sends recvs polls
  ir=$(total_ir "$1")
  sends=$(calls_of "$1" 'sysv/linux/(sendto|sendmsg)\.c')
  recvs=$(calls_of "$1" 'sysv/linux/(recvfrom|recvmsg)\.c')
  polls=$(calls_of "$1" 'sysv/linux/poll\.c')
  printf '%-28s %10.0f Ir/msg   sends/msg %.3f   receives/msg %.3f   polls/msg %.3f\n' "$2" \
    "$(echo "$ir / $N" | bc -l)" "$(echo "$sends / $N" | bc -l)" "$(echo "$recvs / $N" | bc -l)" \
    "$(echo "$polls / $N" | bc -l)"
}

if [[ " $PARTS " == *" modes "* ]]; then
  echo "== instructions per 64 B reliable message, both hosts in one process, $N messages"
  valgrind --tool=callgrind --callgrind-out-file="$dir/cg.c" "$out/bin/enet_bench" loop n="$N" >/dev/null 2>&1
  report "$dir/cg.c" "C ENet"
  for fl in $FLAVOURS; do
    for cfg in "seed seed" "string seed" "string batch" "string payload" "string into" "many into"; do
      set -- $cfg
      f=$dir/cg.$fl.$1.$2
      LUA_CPATH="$out/$fl/?.so;;" LUA_PATH="$root/bench/lua/?.lua;;" \
        valgrind --tool=callgrind --callgrind-out-file="$f" "$(interpreter "$fl")" \
        bench/lua/loop.lua n="$N" send="$1" recv="$2" >/dev/null 2>&1 || true
      [ -s "$f" ] && report "$f" "$fl send=$1 recv=$2"
    done
  done

  for fl in $FLAVOURS; do
    f=$dir/cg.$fl.seed.seed
    [ -s "$f" ] || continue
    echo
    echo "== $fl, seed loop: inclusive cost per message of the module's hot spots"
    callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null |
      grep -E 'module_enet::|Table::raw_set|create_table_with_capacity|make_userdata_with_metatable|RawLua::create_string|protect_lua_closure \[|callback_error_ext|rusty_enet::c::protocol::enet_protocol_send_outgoing|enet_protocol_handle_incoming|malloc.c:(malloc|free) ' |
      awk -v n="$N" '{c=$1; gsub(",","",c); name=$0; sub(/^[^?]*\?\?\?:/,"",name); sub(/^[^:]*malloc.c:/,"libc ",name); sub(/ \[.*/,"",name); printf "%9.0f Ir/msg  %s\n", c/n, name}' | head -25 || true
  done
fi

# --- lua-enet (LÖVE) against module_enet -----------------------------------------------------------
# LÖVE starts SDL, PhysFS and its Lua modules before the program runs (millions of instructions,
# more than the messages of a short run), so this part reports the marginal cost: the
# instructions of a run of N messages minus those of a run of N/4, over the 3N/4 messages in
# between. Start-up, connect and JIT warm-up cancel out; every row is measured the same way.
if [[ " $PARTS " == *" luaenet "* ]]; then
  command -v love >/dev/null || { echo "love is not installed: run ONLY=luaenet bash bench/run.sh first"; exit 1; }
  [ -s "$out/love/benchclock.so" ] || { echo "run ONLY=luaenet bash bench/run.sh first (it builds target/bench/love)"; exit 1; }
  n0=$((N / 4))
  lua_path="$root/bench/lua/?.lua;$root/bench/luaenet/?.lua;;"
  # marginal LABEL NAME CPATH COMMAND...: runs COMMAND n=N and n=N/4 under callgrind. The
  # environment is set outside valgrind, which does not follow an exec (of `env`, say).
  marginal() {
    local label=$1 name=$2 cpath=$3 ir_big ir_small
    shift 3
    LUA_CPATH=$cpath LUA_PATH=$lua_path valgrind --tool=callgrind \
      --callgrind-out-file="$dir/le.$name.$N" "$@" n="$N" >/dev/null 2>&1 || true
    LUA_CPATH=$cpath LUA_PATH=$lua_path valgrind --tool=callgrind \
      --callgrind-out-file="$dir/le.$name.$n0" "$@" n="$n0" >/dev/null 2>&1 || true
    if [ ! -s "$dir/le.$name.$N" ] || [ ! -s "$dir/le.$name.$n0" ]; then
      echo "$label: no callgrind output"; return 0
    fi
    ir_big=$(total_ir "$dir/le.$name.$N")
    ir_small=$(total_ir "$dir/le.$name.$n0")
    printf '%-52s %8.0f Ir/msg   (whole run of %d: %.0f Ir/msg)\n' "$label" \
      "$(echo "($ir_big - $ir_small) / ($N - $n0)" | bc -l)" "$N" "$(echo "$ir_big / $N" | bc -l)"
  }
  echo
  echo "== lua-enet: marginal instructions per 64 B reliable message, both hosts in one process"
  marginal "C ENet $(dpkg -s libenet-dev | awk '/^Version/{print $2}')" c "" "$out/bin/enet_bench" loop
  marginal "LÖVE lua-enet (LuaJIT)" love.lua-enet "$out/love/?.so;;" \
    love "$root/bench/love" "$root/bench/luaenet/loop.lua"
  if [ -s "$out/luajit/module_enet.so" ]; then
    marginal "LÖVE module_enet.compat, same script" love.compat "$out/love/?.so;$out/luajit/?.so;;" \
      love "$root/bench/love" -l use_compat "$root/bench/luaenet/loop.lua"
  fi
  for fl in $FLAVOURS; do
    marginal "$fl module_enet.compat, same script" "$fl.compat" "$out/$fl/?.so;;" \
      "$(interpreter "$fl")" -l use_compat "$root/bench/luaenet/loop.lua"
    marginal "$fl module_enet seed loop" "$fl.seed" "$out/$fl/?.so;;" \
      "$(interpreter "$fl")" "$root/bench/lua/loop.lua" send=seed recv=seed
    marginal "$fl peer_send_many + host_service_into" "$fl.many" "$out/$fl/?.so;;" \
      "$(interpreter "$fl")" "$root/bench/lua/loop.lua" send=many recv=into
  done
fi

# --- The receiver of a two-process stream ----------------------------------------------------------
# loop.lua's server takes one frame's 64 messages at a time. A real receiver of a stream reads up
# to 256 datagrams of ~20 messages in one service pass, so its allocations come in bursts of
# thousands (this is what showed that the allocator cache was too shallow: docs/performance.md).
# Here the 64 B stream of `bench/run.sh` runs with its receiver under callgrind and the sender
# native; marginal cost per received message as above (NR messages minus NR/4).
if [[ " $PARTS " == *" receiver "* ]]; then
  NR=${NR:-100000}
  nr0=$((NR / 4))
  lua_path="$root/bench/lua/?.lua;$root/bench/luaenet/?.lua;;"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  # receiver LABEL NAME CPATH "RECEIVER COMMAND" "SENDER COMMAND": the commands get n=, size=,
  # limit= (and the sender port=) appended.
  receiver() {
    local label=$1 name=$2 cpath=$3 recv=$4 send=$5 n f port pid ir=()
    for n in "$NR" "$nr0"; do
      f=$dir/rx.$name.$n
      : >"$work/out"
      LUA_CPATH=$cpath LUA_PATH=$lua_path valgrind --tool=callgrind --callgrind-out-file="$f" \
        $recv n="$n" size=64 limit=300 >"$work/out" 2>/dev/null &
      pid=$!
      # Valgrind starts slowly: up to 30 s.
      port=$(wait_port "$work/out" "$pid" 1500)
      if [ -n "$port" ]; then
        LUA_CPATH=$cpath LUA_PATH=$lua_path timeout 300 $send n="$n" size=64 limit=300 \
          port="$port" >/dev/null 2>&1 || true
      fi
      wait "$pid" 2>/dev/null || true
      ir+=("$(total_ir "$f")")
    done
    if [ -z "${ir[0]}" ] || [ -z "${ir[1]}" ]; then
      echo "$label: no callgrind output"; return 0
    fi
    printf '%-52s %8.0f Ir/msg\n' "$label" "$(echo "(${ir[0]} - ${ir[1]}) / ($NR - $nr0)" | bc -l)"
  }
  le=$root/bench/luaenet/stream.lua
  st=$root/bench/lua/stream.lua
  echo
  echo "== stream receiver: marginal instructions per received 64 B reliable message ($NR - $nr0)"
  if command -v love >/dev/null && [ -s "$out/love/benchclock.so" ]; then
    receiver "LÖVE lua-enet (LuaJIT)" love.lua-enet "$out/love/?.so;;" \
      "love $root/bench/love $le recv" "love $root/bench/love $le send"
    [ -s "$out/luajit/module_enet.so" ] &&
      receiver "LÖVE module_enet.compat, same script" love.compat "$out/love/?.so;$out/luajit/?.so;;" \
        "love $root/bench/love -l use_compat $le recv" "love $root/bench/love -l use_compat $le send"
  fi
  for fl in $FLAVOURS; do
    lua=$(interpreter "$fl")
    receiver "$fl module_enet.compat, same script" "$fl.compat" "$out/$fl/?.so;;" \
      "$lua -l use_compat $le recv" "$lua -l use_compat $le send"
    receiver "$fl module_enet seed loop" "$fl.seed" "$out/$fl/?.so;;" \
      "$lua $st recv recv=seed" "$lua $st send send=seed batch=256"
    receiver "$fl host_service_into (sender: peer_send_many)" "$fl.into" "$out/$fl/?.so;;" \
      "$lua $st recv recv=into" "$lua $st send send=many batch=256"
  done
fi

# --- The floor: the loop's Lua objects and calls without any protocol --------------------------------
if [[ " $PARTS " == *" floor "* ]]; then
  ir_of() { # ir_of FILE: instructions per message of a run of N messages
    echo "$(total_ir "$1") / $N" | bc -l
  }
  # The C ENet and module runs are the "modes" part's (same commands, same files): not run twice.
  modes_ran=0
  [[ " $PARTS " == *" modes "* ]] && modes_ran=1
  [ "$modes_ran" = 1 ] ||
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.c" "$out/bin/enet_bench" loop n="$N" >/dev/null 2>&1
  c=$(ir_of "$dir/cg.c")
  # The same loop on rusty_enet alone (bench/rust/loop.rs), with the system allocator and with
  # the module's cache in front of it (as the module runs it on Linux).
  rust=$(cargo bench --bench rusty_enet_loop --no-run 2>&1 | grep -o 'target/release/deps/rusty_enet_loop-[0-9a-f]*' | tail -1)
  echo
  echo "== the protocol alone: the loop with no Lua ($N messages)"
  printf '%-44s %8.0f Ir/msg\n' "C ENet $(dpkg -s libenet-dev | awk '/^Version/{print $2}') (enet_bench loop)" "$c"
  for pool in 0 1; do
    valgrind --tool=callgrind --callgrind-out-file="$dir/floor.rust.$pool" "$root/$rust" n="$N" pool="$pool" >/dev/null 2>&1
    printf '%-44s %8.0f Ir/msg\n' "rusty_enet (bench/rust/loop.rs pool=$pool)" "$(ir_of "$dir/floor.rust.$pool")"
  done
  r=$(ir_of "$dir/floor.rust.1")
  echo
  echo "== the floor: instructions per 64 B message of bench/lua/loop.lua with no protocol ($N messages)"
  echo "bounds: the floor plus C ENet's loop, and plus rusty_enet's loop as the module runs it (pool=1)"
  printf '%-8s %-10s %7s %7s %15s %15s %9s\n' flavour loop floor module "+C ENet (x C)" "+rusty (x C)" module/+rusty
  for fl in $FLAVOURS; do
    mkdir -p "$out/floor/$fl"
    gcc -O2 -Wall -shared -fPIC -I"$(lua_headers "$fl")" bench/c/floor.c -o "$out/floor/$fl/module_enet.so"
    cp "$out/$fl/benchclock.so" "$out/floor/$fl/"
    for cfg in "seed seed" "many into"; do
      read -r send recv <<<"$cfg"
      f_floor=$dir/floor.$fl.$send.$recv
      f_module=$dir/cg.$fl.$send.$recv
      for run in "$f_floor $out/floor/$fl" "$f_module $out/$fl"; do
        read -r f lib <<<"$run"
        [ "$f" = "$f_module" ] && [ "$modes_ran" = 1 ] && continue
        LUA_CPATH="$lib/?.so;;" LUA_PATH="$root/bench/lua/?.lua;;" \
          valgrind --tool=callgrind --callgrind-out-file="$f" "$(interpreter "$fl")" \
          bench/lua/loop.lua n="$N" send="$send" recv="$recv" >/dev/null 2>&1 || true
      done
      floor=$(ir_of "$f_floor")
      module=$(ir_of "$f_module")
      printf '%-8s %-10s %7.0f %7.0f %7.0f (%4.2fx) %7.0f (%4.2fx) %8.2fx\n' "$fl" "$send/$recv" \
        "$floor" "$module" "$(echo "$floor + $c" | bc -l)" "$(echo "($floor + $c) / $c" | bc -l)" \
        "$(echo "$floor + $r" | bc -l)" "$(echo "($floor + $r) / $c" | bc -l)" \
        "$(echo "$module / ($floor + $r)" | bc -l)"
    done
  done
fi

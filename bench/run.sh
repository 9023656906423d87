#!/usr/bin/env bash
# The benchmark suite (docs/performance.md): builds the release modules and the C programs, runs
# ping-pong, stream, fan-in, connect/idle/memory and garbage benchmarks for each Lua flavour,
# C ENet (Debian's libenet) and raw UDP over loopback, and prints the ratios of this one run.
# `luaenet` runs the same lua-enet programs (bench/luaenet/) on LÖVE's bundled lua-enet (Debian's
# `love`, headless) and on module_enet.compat, beside the seed loop, C ENet and raw UDP.
#
#   bash bench/run.sh                 full run (a few minutes)
#   QUICK=1 bash bench/run.sh         smoke run, under a minute
#   FLAVOURS="lua54" ONLY="pingpong stream" SKIP_BUILD=1 bash bench/run.sh
#   ONLY=luaenet bash bench/run.sh    lua-enet (LÖVE) against compat and the seed loop only
#
# Not a test and not part of ci/test.sh: the numbers depend on the machine and its load.
# Results: target/bench/results-<time>.txt (raw RESULT lines) and the report printed at the end.
set -euo pipefail
# Commands are built as strings and split on spaces; LUA_CPATH's "?" must not glob.
set -f
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
bin=$out/bin
mkdir -p "$bin"

QUICK=${QUICK:-0}
FLAVOURS=${FLAVOURS:-"lua51 lua54 luajit"}
ONLY=${ONLY:-"luaenet pingpong stream secure fanin idle garbage"}
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}; PP_N=2000; PP_LIMIT=4; STREAM_ROUNDS=1
  S64=50000; S1200=5000; S100K=50; FAN_MEASURE=1.5; FAN_WARMUP=0.5; IDLE_PEERS=4000
  IDLE_MEASURE=1.5; GC_N=5000; STREAM_VARIANTS="seed"
else
  ROUNDS=${ROUNDS:-3}; PP_N=10000; PP_LIMIT=8; STREAM_ROUNDS=${STREAM_ROUNDS:-2}
  S64=200000; S1200=20000; S100K=300; FAN_MEASURE=5; FAN_WARMUP=1; IDLE_PEERS=4000
  IDLE_MEASURE=5; GC_N=20000; STREAM_VARIANTS="seed string"
fi

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# --- Prerequisites and build --------------------------------------------------------------------
need=(gcc libenet-dev)
# LÖVE's lua-enet runs on Debian's libluajit-5.1, so benchclock is built against its headers.
[[ " $ONLY " == *" luaenet "* ]] && need+=(love libluajit-5.1-dev)
for fl in $FLAVOURS; do
  need+=("$(interpreter "$fl")")
  case $fl in
    lua51) need+=(liblua5.1-0-dev) ;; lua52) need+=(liblua5.2-dev) ;; lua53) need+=(liblua5.3-dev) ;;
    lua54) need+=(liblua5.4-dev) ;; luajit) need+=(libluajit-5.1-dev) ;;
  esac
done
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  # --no-install-recommends: love recommends systemd and binfmt-support, which a benchmark
  # does not need.
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  for fl in $FLAVOURS; do
    PROFILE=release bash ci/build-modules.sh "$fl" >/dev/null
    mkdir -p "$out/$fl"
    # Our own copy: target/lua/<flavour> is shared with the (debug) test builds.
    cp target/release/libmodule_enet.so "$out/$fl/module_enet.so"
    gcc -O2 -Wall -shared -fPIC -I"$(lua_headers "$fl")" bench/c/benchclock.c -o "$out/$fl/benchclock.so"
  done
  if [[ " $ONLY " == *" luaenet "* ]]; then
    mkdir -p "$out/love"
    gcc -O2 -Wall -shared -fPIC -I/usr/include/luajit-2.1 bench/c/benchclock.c -o "$out/love/benchclock.so"
  fi
  gcc -O2 -Wall -o "$bin/enet_bench" bench/c/enet_bench.c -lenet
  gcc -O2 -Wall -o "$bin/udp_pingpong" bench/c/udp_pingpong.c
fi

stamp=$(date +%Y%m%d-%H%M%S)
results=$out/results-$stamp.txt
: >"$results"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

{
  echo "# run $stamp"
  echo "# machine: nproc=$(nproc) cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')\" kernel=$(uname -r)"
  echo "# load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# QUICK=$QUICK ROUNDS=$ROUNDS FLAVOURS=\"$FLAVOURS\""
  echo "# enet: $(dpkg -s libenet-dev | awk '/^Version/{print $2}') module: $(grep -m1 '^version' Cargo.toml | cut -d'"' -f2) git $(git rev-parse --short HEAD)"
  if [[ " $ONLY " == *" luaenet "* ]]; then
    echo 'print(require("enet").linked_version(), jit.version)' >"$work/versions.lua"
    echo "# love: $(dpkg -s love | awk '/^Version/{print $2}'), its lua-enet on ENet and LuaJIT: $(LUA_CPATH="$out/love/?.so;;" love "$root/bench/love" "$work/versions.lua" 2>&1 | head -1)"
  fi
} | tee -a "$results"

# A command line per implementation: "c", "udp-block", "udp-poll" or a Lua flavour.
lua_cmd() { # lua_cmd FLAVOUR SCRIPT ARGS...
  local fl=$1 script=$2; shift 2
  echo env "LUA_CPATH=$out/$fl/?.so;;" "LUA_PATH=$root/bench/lua/?.lua;;" "$(interpreter "$fl")" \
    "$root/bench/lua/$script" "$@"
}

# The lua-enet programs (bench/luaenet/): on LÖVE's own lua-enet, or with `-l use_compat` on
# module_enet.compat (inside LÖVE it is the LuaJIT build of the module).
luaenet_path="LUA_PATH=$root/bench/lua/?.lua;$root/bench/luaenet/?.lua;;"
love_cmd() { # love_cmd [-l use_compat] SCRIPT ARGS...
  local pre=""
  if [ "$1" = -l ]; then pre="-l $2"; shift 2; fi
  local script=$1; shift
  echo env "LUA_CPATH=$out/love/?.so;$out/luajit/?.so;;" "$luaenet_path" love "$root/bench/love" \
    $pre "$root/bench/luaenet/$script" "$@"
}
compat_cmd() { # compat_cmd FLAVOUR SCRIPT ARGS...
  local fl=$1 script=$2; shift 2
  echo env "LUA_CPATH=$out/$fl/?.so;;" "$luaenet_path" "$(interpreter "$fl")" -l use_compat \
    "$root/bench/luaenet/$script" "$@"
}
# module_has FLAVOUR NAME: the built module has the function NAME.
module_has() {
  "$(interpreter "$1")" -e "package.cpath='$out/$1/?.so;'..package.cpath
    os.exit(require('module_enet').$2 and 0 or 1)" 2>/dev/null
}

# pair LABEL TIMEOUT "SERVER CMD" "CLIENT CMD": starts the server, waits for its PORT line, runs
# the client with port=N, and files both sides' RESULT lines under LABEL.
pair() {
  local label=$1 limit=$2 server=$3 client=$4 port="" spid
  # Emptied here, not by the background redirection: that may run after the first read below,
  # which would then find the previous server's port.
  : >"$work/server.out"; : >"$work/server.err"; : >"$work/client.out"; : >"$work/client.err"
  $server >"$work/server.out" 2>"$work/server.err" &
  spid=$!
  port=$(wait_port "$work/server.out" "$spid" 500)
  if [ -z "$port" ]; then
    echo "FAILED to start: $label ($(head -c 300 "$work/server.err"))" | tee -a "$results"
    kill "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true
    return 0
  fi
  timeout "$limit" $client "port=$port" >"$work/client.out" 2>"$work/client.err" || true
  # The server ends by itself (disconnect, count reached or its own deadline); bound it anyway.
  for _ in $(seq 1 $((limit * 50))); do kill -0 "$spid" 2>/dev/null || break; sleep 0.02; done
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  local side
  for side in server client; do
    grep '^RESULT' "$work/$side.out" | sed "s/^RESULT/$label side=$side/" | tee -a "$results" || true
    if ! grep -q '^RESULT' "$work/$side.out" && [ -s "$work/$side.err" ]; then
      echo "# $label $side stderr: $(tail -c 300 "$work/$side.err" | tr '\n' ' ')" | tee -a "$results"
    fi
  done
}

enabled() { [[ " $ONLY " == *" $1 "* ]]; }

# --- lua-enet (LÖVE) against module_enet ------------------------------------------------------------
# One round runs every implementation once, so the ratios to LÖVE's lua-enet come from
# interleaved runs: the 64 B reliable stream of `stream` (both ends the same implementation) and
# the 32 B reliable ping-pong of `pingpong`. module_enet appears as compat running the identical
# lua-enet program (on Debian's interpreters, and inside LÖVE), as its seed loop and, for the
# stream, as peer_send_many + host_service_into.
if enabled luaenet; then
  echo "== lua-enet: stream reliable 64 B x $S64, ping-pong reliable ${PP_N} x 32 B, $ROUNDS rounds" | tee -a "$results"
  in_flavours() { [[ " $FLAVOURS " == *" $1 "* ]]; }
  pp_client_args="n=$PP_N warmup=500 size=32 limit=$PP_LIMIT"
  for round in $(seq 1 "$ROUNDS"); do
    tag="size=64 round=$round"
    pair "bench=luaenet-stream impl=c variant=seed $tag" 60 \
      "$bin/enet_bench stream-recv n=$S64 size=64 limit=40" \
      "$bin/enet_bench stream-send n=$S64 size=64 batch=256 limit=40"
    le_recv="n=$S64 size=64 limit=40" le_send="n=$S64 size=64 batch=256 limit=40"
    pair "bench=luaenet-stream impl=love variant=lua-enet $tag" 60 \
      "$(love_cmd stream.lua recv $le_recv)" "$(love_cmd stream.lua send $le_send)"
    if in_flavours luajit; then
      pair "bench=luaenet-stream impl=love variant=compat $tag" 60 \
        "$(love_cmd -l use_compat stream.lua recv $le_recv)" \
        "$(love_cmd -l use_compat stream.lua send $le_send)"
    fi
    for fl in $FLAVOURS; do
      pair "bench=luaenet-stream impl=$fl variant=compat $tag" 60 \
        "$(compat_cmd "$fl" stream.lua recv $le_recv)" "$(compat_cmd "$fl" stream.lua send $le_send)"
      pair "bench=luaenet-stream impl=$fl variant=seed $tag" 60 \
        "$(lua_cmd "$fl" stream.lua recv recv=seed $le_recv)" \
        "$(lua_cmd "$fl" stream.lua send send=seed $le_send)"
      if module_has "$fl" peer_send_many; then
        pair "bench=luaenet-stream impl=$fl variant=many $tag" 60 \
          "$(lua_cmd "$fl" stream.lua recv recv=into $le_recv)" \
          "$(lua_cmd "$fl" stream.lua send send=many $le_send)"
      fi
    done

    tag="round=$round"
    pair "bench=luaenet-pingpong impl=udp variant=block $tag" 30 \
      "$bin/udp_pingpong server wait=block limit=60" "$bin/udp_pingpong client wait=block $pp_client_args"
    pair "bench=luaenet-pingpong impl=c variant=seed $tag" 30 \
      "$bin/enet_bench pp-server limit=60" "$bin/enet_bench pp-client $pp_client_args"
    pair "bench=luaenet-pingpong impl=love variant=lua-enet $tag" 30 \
      "$(love_cmd pingpong.lua server limit=60)" "$(love_cmd pingpong.lua client $pp_client_args)"
    if in_flavours luajit; then
      pair "bench=luaenet-pingpong impl=love variant=compat $tag" 30 \
        "$(love_cmd -l use_compat pingpong.lua server limit=60)" \
        "$(love_cmd -l use_compat pingpong.lua client $pp_client_args)"
    fi
    for fl in $FLAVOURS; do
      pair "bench=luaenet-pingpong impl=$fl variant=compat $tag" 30 \
        "$(compat_cmd "$fl" pingpong.lua server limit=60)" \
        "$(compat_cmd "$fl" pingpong.lua client $pp_client_args)"
      pair "bench=luaenet-pingpong impl=$fl variant=seed $tag" 30 \
        "$(lua_cmd "$fl" pingpong.lua server send=seed limit=60)" \
        "$(lua_cmd "$fl" pingpong.lua client send=seed $pp_client_args)"
    done
  done
fi

# --- Ping-pong -------------------------------------------------------------------------------------
if enabled pingpong; then
  echo "== ping-pong: reliable ${PP_N} x 32 B request/response, $ROUNDS rounds" | tee -a "$results"
  pp_client_args="n=$PP_N warmup=500 size=32 limit=$PP_LIMIT"
  for round in $(seq 1 "$ROUNDS"); do
    for wait in block poll; do
      pair "bench=pingpong impl=udp variant=$wait round=$round" 30 \
        "$bin/udp_pingpong server wait=$wait limit=60" "$bin/udp_pingpong client wait=$wait $pp_client_args"
    done
    pair "bench=pingpong impl=c variant=seed round=$round" 30 \
      "$bin/enet_bench pp-server limit=60" "$bin/enet_bench pp-client $pp_client_args"
    for fl in $FLAVOURS; do
      for variant in seed string; do
        pair "bench=pingpong impl=$fl variant=$variant round=$round" 30 \
          "$(lua_cmd "$fl" pingpong.lua server send=$variant limit=60)" \
          "$(lua_cmd "$fl" pingpong.lua client send=$variant $pp_client_args)"
      done
      # Our client alone, against the C server: separates the two sides' costs.
      pair "bench=pingpong impl=$fl variant=c-server round=$round" 30 \
        "$bin/enet_bench pp-server limit=60" \
        "$(lua_cmd "$fl" pingpong.lua client send=string $pp_client_args)"
    done
  done
fi

# --- Stream ------------------------------------------------------------------------------------------
if enabled stream; then
  echo "== stream: reliable 64 B x $S64, 1200 B x $S1200, 100 kB x $S100K, $STREAM_ROUNDS rounds" | tee -a "$results"
  for round in $(seq 1 "$STREAM_ROUNDS"); do
    for spec in "64 $S64 256" "1200 $S1200 64" "100000 $S100K 1"; do
      set -- $spec
      size=$1 n=$2 batch=$3
      pair "bench=stream impl=c variant=seed size=$size round=$round" 60 \
        "$bin/enet_bench stream-recv n=$n size=$size limit=40" \
        "$bin/enet_bench stream-send n=$n size=$size batch=$batch limit=40"
      for fl in $FLAVOURS; do
        variants=$STREAM_VARIANTS
        module_has "$fl" host_service_batch && variants="$variants batch payload"
        module_has "$fl" host_service_into && variants="$variants into many"
        for variant in $variants; do
          send=$variant recv=seed
          [ "$variant" = batch ] && send=string recv=batch
          [ "$variant" = payload ] && send=string recv=payload
          [ "$variant" = into ] && send=string recv=into
          [ "$variant" = many ] && send=many recv=into
          pair "bench=stream impl=$fl variant=$variant size=$size round=$round" 60 \
            "$(lua_cmd "$fl" stream.lua recv n=$n size=$size recv=$recv limit=40)" \
            "$(lua_cmd "$fl" stream.lua send n=$n size=$size batch=$batch send=$send limit=40)"
        done
      done
    done
  done
fi

# --- Secure mode against plain, same programs, same run -----------------------------------------------
# BENCH_SECURE=1 makes bench/lua/common.lua create both ends in secure mode (docs/secure.md).
if enabled secure; then
  echo "== secure: 64 B stream (seed loop) and 32 B ping-pong, secure vs plain, $ROUNDS rounds" | tee -a "$results"
  pp_client_args="n=$PP_N warmup=500 size=32 limit=$PP_LIMIT"
  for round in $(seq 1 "$ROUNDS"); do
    for fl in $FLAVOURS; do
      for mode in plain secure; do
        flag=0
        [ "$mode" = secure ] && flag=1
        pair "bench=secure-stream impl=$fl variant=$mode size=64 round=$round" 60 \
          "env BENCH_SECURE=$flag $(lua_cmd "$fl" stream.lua recv n=$S64 size=64 recv=seed limit=40)" \
          "env BENCH_SECURE=$flag $(lua_cmd "$fl" stream.lua send n=$S64 size=64 batch=256 send=seed limit=40)"
        pair "bench=secure-pingpong impl=$fl variant=$mode round=$round" 30 \
          "env BENCH_SECURE=$flag $(lua_cmd "$fl" pingpong.lua server send=seed limit=60)" \
          "env BENCH_SECURE=$flag $(lua_cmd "$fl" pingpong.lua client send=seed $pp_client_args)"
      done
    done
  done
fi

# --- Fan-in: 1000 clients x 10 msgs/s ----------------------------------------------------------------
if enabled fanin; then
  echo "== fan-in: 1000 peers (4 client hosts in one C process) x 10 msgs/s, ${FAN_MEASURE} s" | tee -a "$results"
  fan_server_args="mode=fanin expect=1000 peers=1024 warmup=$FAN_WARMUP measure=$FAN_MEASURE limit=60"
  fan_gen="$bin/enet_bench gen peers=1000 hosts=4 rate=10 duration=60"
  pair "bench=fanin impl=c variant=seed" 90 "$bin/enet_bench server $fan_server_args" "$fan_gen"
  for fl in $FLAVOURS; do
    pair "bench=fanin impl=$fl variant=seed" 90 "$(lua_cmd "$fl" server.lua $fan_server_args)" "$fan_gen"
  done
fi

# --- Connect time, idle CPU and RSS per peer with 4000 peers ----------------------------------------
if enabled idle; then
  echo "== idle: connect $IDLE_PEERS peers (<= 64 handshakes in flight), then ${IDLE_MEASURE} s idle" | tee -a "$results"
  idle_server_args="mode=idle expect=$IDLE_PEERS peers=4095 warmup=1 measure=$IDLE_MEASURE limit=90"
  idle_gen="$bin/enet_bench gen peers=$IDLE_PEERS hosts=4 rate=0 duration=90 inflight=64"
  pair "bench=idle impl=c variant=seed" 120 "$bin/enet_bench server $idle_server_args" "$idle_gen"
  for fl in $FLAVOURS; do
    pair "bench=idle impl=$fl variant=seed" 120 "$(lua_cmd "$fl" server.lua $idle_server_args)" "$idle_gen"
  done
fi

# --- Lua garbage per received message ------------------------------------------------------------
if enabled garbage; then
  echo "== garbage: Lua heap growth per received 64 B message, collector stopped, $GC_N messages" | tee -a "$results"
  for fl in $FLAVOURS; do
    variants="seed"
    module_has "$fl" host_service_batch && variants="seed batch payload"
    module_has "$fl" host_service_into && variants="$variants into"
    for variant in $variants; do
      pair "bench=garbage impl=$fl variant=$variant size=64" 60 \
        "$(lua_cmd "$fl" stream.lua recv n=$GC_N size=64 recv=$variant gc=1 limit=30)" \
        "$bin/enet_bench stream-send n=$GC_N size=64 batch=256 limit=30"
    done
  done
fi

echo "# load at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$results"
echo
lua5.4 bench/report.lua "$results"

#!/usr/bin/env bash
# Runs the secure examples: a backend issues a token, a secure server and a client that uses
# it, as separate processes of one interpreter.
# Usage: ci/secure-example-test.sh INTERPRETER   (LUA_CPATH must point at the matching build)
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
interp=$1
port=$("$interp" -e 'local e = require("module_enet") local h = e.host_create({host="127.0.0.1", port=0}) io.write(h:address().port) h:destroy()')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$interp" examples/secure_server.lua "$port" 30 1 > "$out/server" 2>&1 &
server_pid=$!
# The server prints its banner once it is bound; wait for it (bounded).
for _ in $(seq 1 100); do grep -q "secure server on" "$out/server" && break; sleep 0.05; done
"$interp" examples/secure_backend.lua "$port" 42 alice > "$out/token"
"$interp" examples/secure_client.lua "$port" "$out/token" > "$out/client" 2>&1
wait "$server_pid"
grep -q "player alice (id 42) joined" "$out/server"
grep -q "got: hello" "$out/server"
grep -q "welcome, alice" "$out/client"
grep -q "echo: hello" "$out/client"
grep -q "disconnected (disconnect)" "$out/client"
echo "secure examples ok under $interp"

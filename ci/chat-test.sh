#!/usr/bin/env bash
# Runs the chat example: one server and two clients as separate processes of one interpreter.
# Usage: ci/chat-test.sh INTERPRETER   (LUA_CPATH must point at the matching module build)
set -euo pipefail
cd "$(dirname "$0")/.."
interp=$1
port=$("$interp" -e 'local e = require("module_enet") local h = e.host_create({host="127.0.0.1", port=0}) io.write(h:address().port) h:destroy()')
out=$(mktemp -d)
"$interp" examples/chat_server.lua "$port" 30 2 > "$out/server" 2>&1 &
server_pid=$!
# The server prints its banner once it is bound; wait for it (bounded).
for _ in $(seq 1 100); do grep -q "chat server" "$out/server" && break; sleep 0.05; done
"$interp" examples/chat_client.lua "$port" alice "hello" "how are you" > "$out/alice" 2>&1 &
"$interp" examples/chat_client.lua "$port" bob "hi alice" > "$out/bob" 2>&1 &
wait %2 %3
wait "$server_pid"
grep -q "alice: hello" "$out/server"
grep -q "bob: hi alice" "$out/server"
grep -q "alice: how are you" "$out/alice"
grep -Eq "\* (alice|bob) left \(disconnect\)" "$out/server"
echo "chat ok under $interp"

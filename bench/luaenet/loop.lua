-- One process, two hosts, written against lua-enet's API: the twin of bench/lua/loop.lua's seed
-- loop (and of `enet_bench loop`) for instruction counts under callgrind (bench/profile.sh).
-- A client pushes n reliable packets of `size` bytes to a server in the same Lua state, `batch`
-- per frame; the server drains its events every frame.
--   loop.lua n=20000 size=64 batch=64
local b = require("benchutil")
local enet = require("enet")

local _, o = b.options({ "loop", ... })
local n, size, batch = o.n or 20000, o.size or 64, o.batch or 64
local server = assert(enet.host_create("127.0.0.1:*", 8, 2))
local client = assert(enet.host_create(nil, 1, 2))
local peer = client:connect("127.0.0.1:" .. server:get_socket_address():match(":(%d+)$"), 2)

local connected = false
local deadline = b.now() + (o.limit or 120)
while not connected and b.now() < deadline do
  server:service(1)
  local event = client:service(1)
  connected = event ~= nil and event.type == "connect"
end

local payload = string.rep("l", size)
local sent, received, bytes, calls = 0, 0, 0, 0
while received < n and b.now() < deadline do
  local k = math.min(batch, n - sent)
  for _ = 1, k do
    peer:send(payload, 0, "reliable")
  end
  sent = sent + k
  while client:service(0) do
  end
  repeat
    local event = server:service(0)
    calls = calls + 1
    if event and event.type == "receive" then
      bytes = bytes + #event.data
      received = received + 1
    end
  until not event
end
b.result("received", received, "bytes", bytes, "server_service_calls", calls)
client:destroy()
server:destroy()
os.exit(received == n and 0 or 1)

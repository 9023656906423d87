-- One process, two hosts: a client pushes n reliable packets of `size` bytes to a server in the
-- same Lua state, `batch` per frame, and the server drains its events every frame. No second
-- process and no timing-dependent retransmissions, so an instruction count (bench/profile.sh,
-- valgrind --tool=callgrind) is repeatable and directly comparable with `enet_bench loop`.
--   loop.lua n=20000 size=64 batch=64 send=seed|string|many recv=seed|batch|payload|into
local b = require("common")
local enet = b.enet
local RECEIVE, CONNECT = enet.EVENT_TYPE_RECEIVE, enet.EVENT_TYPE_CONNECT
local RELIABLE = enet.PACKET_FLAG_RELIABLE

local _, o = b.options({ "loop", ... })
local n, size, batch = o.n or 20000, o.size or 64, o.batch or 64
local server = b.server(8)
local client = assert(enet.host_create(nil, 1, 2))
local peer = enet.host_connect(client, { host = "127.0.0.1", port = enet.host_address(server).port }, 2)
local service, create, send = enet.host_service, enet.packet_create, enet.peer_send
local packet_data, packet_destroy = enet.packet_data, enet.packet_destroy

local connected = false
local deadline = b.now() + (o.limit or 120)
while not connected and b.now() < deadline do
  service(server, 1)
  local r, event = service(client, 1)
  connected = r > 0 and event.type == CONNECT
end

local payload = string.rep("l", size)
local by_string, by_many = o.send == "string", o.send == "many"
local list = {}
for i = 1, batch do
  list[i] = payload
end
local by_batch, strings = o.recv == "batch" or o.recv == "payload", o.recv == "payload"
local by_into, records = o.recv == "into", {}
local sent, received, bytes, calls = 0, 0, 0, 0
while received < n and b.now() < deadline do
  local k = math.min(batch, n - sent)
  if by_many then
    for i = k + 1, #list do
      list[i] = nil
    end
    enet.peer_send_many(peer, 0, list, RELIABLE)
  else
    for _ = 1, k do
      if by_string then
        send(peer, 0, payload, RELIABLE)
      else
        send(peer, 0, create(payload, RELIABLE))
      end
    end
  end
  sent = sent + k
  while service(client, 0) > 0 do
  end
  if by_into then
    local service_into = enet.host_service_into
    repeat
      local r = service_into(server, 0, records, 256)
      calls = calls + 1
      for j = 1, 4 * r, 4 do
        if records[j] == RECEIVE then
          bytes = bytes + #records[j + 3]
          received = received + 1
        end
      end
    until r == 0
  elseif by_batch then
    repeat
      local r, events = enet.host_service_batch(server, 0, 256, strings)
      calls = calls + 1
      for i = 1, r do
        local event = events[i]
        if event.type == RECEIVE then
          bytes = bytes + #(event.payload or packet_data(event.packet))
          received = received + 1
        end
      end
    until r == 0
  else
    repeat
      local r, event = service(server, 0)
      calls = calls + 1
      if r > 0 and event.type == RECEIVE then
        bytes = bytes + #packet_data(event.packet)
        packet_destroy(event.packet)
        received = received + 1
      end
    until r == 0
  end
end
b.result("received", received, "bytes", bytes, "server_service_calls", calls)
enet.host_destroy(client)
enet.host_destroy(server)

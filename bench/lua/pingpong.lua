-- Ping-pong: reliable request/response between two processes over loopback.
--   pingpong.lua server [send=seed|string] [limit=S]      prints "PORT n", echoes until disconnect
--   pingpong.lua client port=N [n=] [warmup=] [size=] [send=seed|string]
-- send=seed is the seed's pattern (packet_create + peer_send, packet_data + packet_destroy);
-- send=string passes the Lua string to peer_send directly.
local b = require("common")
local enet = b.enet
local RECEIVE, DISCONNECT = enet.EVENT_TYPE_RECEIVE, enet.EVENT_TYPE_DISCONNECT
local RELIABLE = enet.PACKET_FLAG_RELIABLE

local mode, o = b.options(arg)
local by_string = o.send == "string"

if mode == "server" then
  local host = b.server(8)
  local deadline = b.now() + (o.limit or 120)
  while b.now() < deadline do
    local r, event = enet.host_service(host, 100)
    if r > 0 then
      if event.type == RECEIVE then
        local data = enet.packet_data(event.packet)
        if by_string then
          enet.peer_send(event.peer, 0, data, RELIABLE)
        else
          enet.peer_send(event.peer, 0, enet.packet_create(data, RELIABLE))
          enet.packet_destroy(event.packet)
        end
      elseif event.type == DISCONNECT then
        break
      end
    end
  end
  enet.host_destroy(host)
  return
end

local n, warmup, size = o.n or 10000, o.warmup or 500, o.size or 32
local host, peer = b.connect(o.port)
local payload = string.rep("p", size)
local samples, now = {}, b.now
local deadline = now() + (o.limit or 120)
local cpu0 = 0
for i = 1, warmup + n do
  if i == warmup + 1 then
    cpu0 = b.cpu()
  end
  local t0 = now()
  if by_string then
    enet.peer_send(peer, 0, payload, RELIABLE)
  else
    enet.peer_send(peer, 0, enet.packet_create(payload, RELIABLE))
  end
  local answered = false
  repeat
    local r, event = enet.host_service(host, 1000)
    if r > 0 and event.type == RECEIVE then
      if not by_string then
        enet.packet_destroy(event.packet)
      end
      answered = true
    end
  until answered or now() > deadline
  local t1 = now()
  if not answered then
    break
  end
  if i > warmup then
    samples[#samples + 1] = (t1 - t0) * 1e6
  end
end
local cpu = b.cpu() - cpu0
local got = #samples
enet.peer_disconnect(peer)
b.await_disconnect(host, 1)
local mean, p50, p99, max = b.summarize(samples)
b.result("n", got, "mean_us", mean, "p50_us", p50, "p99_us", p99, "max_us", max,
  "client_cpu_us", got > 0 and cpu / got * 1e6 or 0)
enet.host_destroy(host)
os.exit(got == n and 0 or 1)

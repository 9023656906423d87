-- Stream, written against lua-enet's API (https://leafo.net/lua-enet/) as a LÖVE game would:
-- the twin of bench/lua/stream.lua's seed variant. It runs unchanged on LÖVE's bundled lua-enet
-- (`love bench/love stream.lua ...`) and on module_enet.compat (`luajit -l use_compat
-- stream.lua ...`, see use_compat.lua).
--   stream.lua recv n= size= [limit=S]              prints "PORT n"; packets/s at the receiver
--   stream.lua send port=N n= size= [batch=K]       pushes n reliable packets, K per frame
-- Same counts, drains and clocks as bench/lua/stream.lua: the receiver services with a 100 ms
-- timeout, one event per call, and times from its first to its last receive; the sender queues
-- K packets, then services with timeout 0 until no event is left.
local b = require("benchutil")
local enet = require("enet")

local mode, o = b.options(arg)
local n, size = o.n or 100000, o.size or 64

if mode == "recv" then
  local host = assert(enet.host_create("127.0.0.1:*", 8, 2))
  print("PORT " .. host:get_socket_address():match(":(%d+)$"))
  io.stdout:flush()
  local now, cpu = b.now, b.cpu
  local count, bytes = 0, 0
  local t_first, cpu_first = 0, 0
  local from
  local deadline = now() + (o.limit or 60)
  while count < n and now() < deadline do
    local event = host:service(100)
    if event and event.type == "receive" then
      from = event.peer
      bytes = bytes + #event.data
      count = count + 1
      if count == 1 then
        t_first, cpu_first = now(), cpu()
      end
    end
  end
  local t_last, cpu_last = now(), cpu()
  local dt = t_last - t_first
  local per = count > 1 and 1 / (count - 1) or 0
  b.result("n", count, "pps", dt > 0 and (count - 1) / dt or 0,
    "mbps", dt > 0 and bytes / dt / 1e6 or 0, "recv_cpu_ns", (cpu_last - cpu_first) * 1e9 * per)
  if from then
    from:disconnect_now()
  end
  host:flush()
  host:destroy()
  os.exit(count == n and 0 or 1)
end

local batch = o.batch or 256
local limit = o.limit or 60
local host = assert(enet.host_create(nil, 1, 2))
local peer = host:connect("127.0.0.1:" .. o.port, 2)
local deadline = b.now() + 10
repeat
  local event = host:service(100)
  if b.now() > deadline then
    error("connect to port " .. tostring(o.port) .. " failed")
  end
until event and event.type == "connect"

local payload = string.rep("s", size)
local sent = 0
local cpu0, t0 = b.cpu(), b.now()
while sent < n do
  local k = math.min(batch, n - sent)
  for _ = 1, k do
    peer:send(payload, 0, "reliable")
  end
  sent = sent + k
  while host:service(0) do
  end
end
local queued = b.now() - t0
-- The receiver disconnects once it has counted every packet.
deadline = b.now() + limit
while b.now() < deadline do
  local event = host:service(10)
  if event and event.type == "disconnect" then
    break
  end
end
b.result("sent", sent, "send_cpu_ns", (b.cpu() - cpu0) / n * 1e9, "queue_s", queued)
host:destroy()

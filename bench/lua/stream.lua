-- Stream: one client pushes n reliable packets of `size` bytes; the receiver reports packets/s
-- and MB/s between its first and last receive, and its CPU time per packet.
--   stream.lua recv n= size= [recv=seed|batch|payload|into] [gc=1] [limit=S]    prints "PORT n"
--   stream.lua send port=N n= size= [batch=K] [send=seed|string|many]
-- send=many: one peer_send_many(peer, 0, list, flags) per frame instead of K peer_send calls.
-- recv=seed: host_service + packet_data + packet_destroy per event (the seed's loop).
-- recv=batch: host_service_batch(host, timeout, max), when the module has it.
-- recv=payload: host_service_batch(host, timeout, max, true): strings instead of packets.
-- recv=into: host_service_into(host, timeout, records, max): flat records, no table per event.
-- gc=1: the collector is stopped and the receiver reports the Lua heap growth per message
-- (collectgarbage("count")), i.e. the garbage each received message leaves behind.
local b = require("common")
local enet = b.enet
local RECEIVE = enet.EVENT_TYPE_RECEIVE
local RELIABLE = enet.PACKET_FLAG_RELIABLE

local mode, o = b.options(arg)
local n, size = o.n or 100000, o.size or 64

if mode == "recv" then
  local host = b.server(8)
  local now, cpu = b.now, b.cpu
  local count, bytes = 0, 0
  local t_first, cpu_first, kb_first = 0, 0, 0
  local from
  local deadline = now() + (o.limit or 60)
  local packet_data, packet_destroy, service = enet.packet_data, enet.packet_destroy, enet.host_service
  if o.gc == 1 then
    collectgarbage("collect")
    collectgarbage("stop")
  end
  -- One received message of `len` bytes from `peer`; the clocks start at the first.
  local function got(peer, len)
    from = peer
    bytes = bytes + len
    count = count + 1
    if count == 1 then
      t_first, cpu_first = now(), cpu()
      kb_first = collectgarbage("count")
    end
  end
  if o.recv == "into" then
    local service_into = assert(enet.host_service_into, "this module has no host_service_into")
    local max, records = o.max or 256, {}
    while count < n and now() < deadline do
      local r = service_into(host, 100, records, max)
      for k = 1, 4 * r, 4 do
        if records[k] == RECEIVE then
          got(records[k + 1], #records[k + 3])
        end
      end
    end
  elseif o.recv == "batch" or o.recv == "payload" then
    local batch = assert(enet.host_service_batch, "this module has no host_service_batch")
    local max = o.max or 256
    local strings = o.recv == "payload"
    while count < n and now() < deadline do
      local r, events = batch(host, 100, max, strings)
      if r and r > 0 then
        for i = 1, r do
          local event = events[i]
          if event.type == RECEIVE then
            got(event.peer, #(event.payload or packet_data(event.packet)))
          end
        end
      end
    end
  else
    while count < n and now() < deadline do
      local r, event = service(host, 100)
      if r > 0 and event.type == RECEIVE then
        got(event.peer, #packet_data(event.packet))
        packet_destroy(event.packet)
      end
    end
  end
  local t_last, cpu_last, kb_last = now(), cpu(), collectgarbage("count")
  collectgarbage("restart")
  local dt = t_last - t_first
  local per = count > 1 and 1 / (count - 1) or 0
  if o.gc == 1 then
    b.result("n", count, "garbage_b", (kb_last - kb_first) * 1024 * per)
  else
    b.result("n", count, "pps", dt > 0 and (count - 1) / dt or 0,
      "mbps", dt > 0 and bytes / dt / 1e6 or 0, "recv_cpu_ns", (cpu_last - cpu_first) * 1e9 * per)
  end
  if from then
    enet.peer_disconnect_now(from)
  end
  enet.host_destroy(host)
  os.exit(count == n and 0 or 1)
end

local batch = o.batch or 256
local host, peer = b.connect(o.port)
local payload = string.rep("s", size)
local send, create, service = enet.peer_send, enet.packet_create, enet.host_service
local by_string, by_many = o.send == "string", o.send == "many"
local send_many = enet.peer_send_many
local list = {}
for i = 1, batch do
  list[i] = payload
end
local sent = 0
local cpu0, t0 = b.cpu(), b.now()
while sent < n do
  local k = math.min(batch, n - sent)
  if by_many then
    for i = k + 1, #list do
      list[i] = nil
    end
    send_many(peer, 0, list, RELIABLE)
  elseif by_string then
    for _ = 1, k do
      send(peer, 0, payload, RELIABLE)
    end
  else
    for _ = 1, k do
      send(peer, 0, create(payload, RELIABLE))
    end
  end
  sent = sent + k
  while service(host, 0) > 0 do
  end
end
local queued = b.now() - t0
b.await_disconnect(host, o.limit or 60)
b.result("sent", sent, "send_cpu_ns", (b.cpu() - cpu0) / n * 1e9, "queue_s", queued)
enet.host_destroy(host)

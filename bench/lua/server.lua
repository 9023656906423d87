-- The server side of fan-in and idle, driven by `enet_bench gen` (bench/c/enet_bench.c), written
-- like a game server on the seed API: host_service(host, 100) in a loop, peers kept in a table.
--   server.lua mode=fanin expect=1000 [peers=] [warmup=] [measure=]
--     once `expect` peers are connected and `warmup` s passed: CPU% (utime+stime from
--     /proc/self/stat) and latency from the generator's send to our receive event (its payload
--     starts with its CLOCK_MONOTONIC send time in ns) over `measure` s.
--   server.lua mode=idle expect=4000 [peers=4095] ...
--     connect time (first to last connect event), RSS per connected peer, then CPU% over
--     `measure` s with every peer connected and silent (ENet still pings each one every 500 ms).
local b = require("common")
local enet = b.enet
local CONNECT, RECEIVE, DISCONNECT =
  enet.EVENT_TYPE_CONNECT, enet.EVENT_TYPE_RECEIVE, enet.EVENT_TYPE_DISCONNECT

local _, o = b.options({ "server", ... })
local idle = o.mode == "idle"
local expect = o.expect or 1000
local warmup, measure = o.warmup or 1, o.measure or 5
local now = b.now

local rss0 = b.rss_kb()
local host = b.server(o.peers or expect)
local rss1 = b.rss_kb()
local rss2, kb2 = 0, 0
-- Peers are kept as a game server keeps them (their handles count in the RSS per peer).
local clients, connected = {}, 0
local latencies, received = {}, 0
local t_first_connect, t_ready, t0, cpu0 = 0, 0, 0, 0
local measuring = false
local deadline = now() + (o.limit or 120)

while now() < deadline do
  local r, event = enet.host_service(host, 100)
  if r > 0 then
    local kind = event.type
    if kind == RECEIVE then
      local data = enet.packet_data(event.packet)
      if measuring then
        received = received + 1
        latencies[received] = (now() - tonumber(data:sub(1, 19)) / 1e9) * 1e6
      end
      enet.packet_destroy(event.packet)
    elseif kind == CONNECT then
      clients[event.peer] = true
      connected = connected + 1
      if connected == 1 then
        t_first_connect = now()
      end
      if connected == expect then
        t_ready = now()
        collectgarbage("collect")
        rss2, kb2 = b.rss_kb(), collectgarbage("count")
      end
    elseif kind == DISCONNECT then
      clients[event.peer] = nil
      connected = connected - 1
    end
  end
  local t = now()
  if not measuring and t_ready > 0 and t >= t_ready + warmup then
    measuring, t0, cpu0 = true, t, b.proc_cpu()
  elseif measuring and t >= t0 + measure then
    break
  end
end

local dt, cpu = now() - t0, b.proc_cpu() - cpu0
local cpu_pct = measuring and cpu / dt * 100 or -1
if idle then
  local held = 0
  for _ in pairs(clients) do
    held = held + 1
  end
  b.result("connected", connected, "held", held, "connect_s", t_ready - t_first_connect, "cpu_pct", cpu_pct,
    "rss_host_kb", rss1 - rss0, "rss_per_peer_b", (rss2 - rss1) * 1024 / expect,
    "lua_kb", kb2)
else
  local mean, p50, p99, max = b.summarize(latencies)
  b.result("connected", connected, "cpu_pct", cpu_pct, "events_per_s", received / dt,
    "cpu_us_per_event", received > 0 and cpu / received * 1e6 or 0,
    "lat_mean_us", mean, "lat_p50_us", p50, "lat_p99_us", p99, "lat_max_us", max)
end
enet.host_destroy(host)
os.exit(measuring and 0 or 1)

-- Turns a bench/run.sh results file into Markdown tables with the ratios of that one run.
-- Usage: lua5.4 bench/report.lua target/bench/results-<time>.txt
-- Each figure is the median over the run's rounds; ratios are taken between medians.
local path = assert(arg[1], "usage: report.lua RESULTS")

local groups, order = {}, {}
local headers = {}
for line in io.lines(path) do
  if line:match("^#") then
    headers[#headers + 1] = line
  elseif line:match("^bench=") then
    local f = {}
    for k, v in line:gmatch("([%w_]+)=(%S+)") do
      f[k] = tonumber(v) or v
    end
    local key = table.concat({ f.bench, f.impl, f.variant or "", f.size or "", f.side }, "|")
    if not groups[key] then
      groups[key] = {}
      order[#order + 1] = key
    end
    table.insert(groups[key], f)
  end
end

local function median(list)
  table.sort(list)
  local n = #list
  if n == 0 then
    return nil
  end
  return n % 2 == 1 and list[(n + 1) // 2] or (list[n // 2] + list[n // 2 + 1]) / 2
end

--- Median of `metric` for bench/impl/variant/size/side.
local function get(bench, impl, variant, size, side, metric)
  local rows = groups[table.concat({ bench, impl, variant or "", size or "", side }, "|")]
  if not rows then
    return nil
  end
  local values = {}
  for _, r in ipairs(rows) do
    if type(r[metric]) == "number" then
      values[#values + 1] = r[metric]
    end
  end
  return median(values), #values
end

local function fmt(v, digits)
  if v == nil then
    return "-"
  end
  return string.format("%." .. (digits or 1) .. "f", v)
end

local function ratio(a, b)
  if a == nil or b == nil or b == 0 then
    return "-"
  end
  return string.format("%.2fx", a / b)
end

local VARIANT_RANK = {
  ["lua-enet"] = 0, compat = 0.5, block = 1, poll = 2, seed = 3, string = 4, batch = 5, payload = 6,
  into = 7, many = 8, ["c-server"] = 9,
}

--- The implementations present for a bench, C and raw UDP first, then Lua flavours.
local function impls(bench)
  local seen, list = {}, {}
  for _, key in ipairs(order) do
    local b, impl, variant = key:match("^([^|]*)|([^|]*)|([^|]*)|")
    if b == bench and not seen[impl .. variant] then
      seen[impl .. variant] = true
      list[#list + 1] = { impl = impl, variant = variant }
    end
  end
  local rank = { udp = 1, c = 2, love = 3 }
  table.sort(list, function(x, y)
    local rx, ry = rank[x.impl] or 4, rank[y.impl] or 4
    if rx ~= ry then
      return rx < ry
    end
    if x.impl ~= y.impl then
      return x.impl < y.impl
    end
    local vx, vy = VARIANT_RANK[x.variant] or 9, VARIANT_RANK[y.variant] or 9
    if vx ~= vy then
      return vx < vy
    end
    return x.variant < y.variant
  end)
  return list
end

local function row(cells)
  print("| " .. table.concat(cells, " | ") .. " |")
end

local function table_head(cells)
  row(cells)
  local dashes = {}
  for i = 1, #cells do
    dashes[i] = "---"
  end
  row(dashes)
end

for _, h in ipairs(headers) do
  if not h:match("^# ==") then
    print("- " .. h:sub(3))
  end
end
print()

local NAMES = {
  udp = "raw UDP",
  c = "C ENet 1.3.17",
}
local function name(e)
  local label = NAMES[e.impl] or e.impl
  if e.impl == "udp" then
    return label .. " (" .. e.variant .. ")"
  end
  if e.impl == "c" then
    return label
  end
  if e.variant == "c-server" then
    return label .. " client (string) vs C ENet server"
  end
  return label .. " " .. e.variant
end

-- lua-enet (LÖVE) against module_enet: bench/run.sh's `luaenet` item.
local LE_NAMES = {
  ["love|lua-enet"] = "LÖVE's lua-enet (LuaJIT)",
  ["love|compat"] = "LÖVE, module_enet.compat, same script",
  compat = "module_enet.compat, same script",
  seed = "module_enet seed loop",
  many = "module_enet peer_send_many + host_service_into",
}
local function le_name(e)
  if e.impl == "udp" then
    return "raw UDP (" .. e.variant .. ")"
  elseif e.impl == "c" then
    return NAMES.c
  end
  return LE_NAMES[e.impl .. "|" .. e.variant] or (e.impl .. " " .. (LE_NAMES[e.variant] or e.variant))
end
local FLAVOUR_NAMES = { lua51 = "Lua 5.1", lua52 = "Lua 5.2", lua53 = "Lua 5.3", lua54 = "Lua 5.4",
  luajit = "LuaJIT", love = "LÖVE (LuaJIT)" }

if next(impls("luaenet-stream")) then
  local B = "luaenet-stream"
  print("### lua-enet: 64 B reliable stream, both ends the same implementation; rates at the receiver")
  print()
  local le = get(B, "love", "lua-enet", 64, "server", "pps")
  local le_recv = get(B, "love", "lua-enet", 64, "server", "recv_cpu_ns")
  local le_send = get(B, "love", "lua-enet", 64, "client", "send_cpu_ns")
  local c = get(B, "c", "seed", 64, "server", "pps")
  -- CPU per packet is the steadier figure on a loaded machine: it does not count time spent
  -- waiting for a core.
  table_head({ "implementation", "packets/s", "receiver CPU/packet (ns)", "sender CPU/packet (ns)",
    "packets/s / lua-enet", "receiver CPU / lua-enet", "sender CPU / lua-enet", "packets/s / C ENet",
    "rounds" })
  for _, e in ipairs(impls(B)) do
    local pps, rounds = get(B, e.impl, e.variant, 64, "server", "pps")
    local recv = get(B, e.impl, e.variant, 64, "server", "recv_cpu_ns")
    local send = get(B, e.impl, e.variant, 64, "client", "send_cpu_ns")
    row({ le_name(e), fmt(pps, 0), fmt(recv, 0), fmt(send, 0), ratio(pps, le), ratio(recv, le_recv),
      ratio(send, le_send), ratio(pps, c), tostring(rounds or 0) })
  end
  print()
  print("64 B stream packets/s relative to LÖVE's lua-enet, same run:")
  print()
  table_head({ "", "lua-enet (LÖVE)", "module_enet seed loop", "module_enet.compat, same lua-enet script",
    "peer_send_many + host_service_into" })
  for _, fl in ipairs({ "love", "lua51", "lua52", "lua53", "lua54", "luajit" }) do
    local compat = get(B, fl, "compat", 64, "server", "pps")
    local seed = get(B, fl, "seed", 64, "server", "pps")
    local many = get(B, fl, "many", 64, "server", "pps")
    if compat or seed then
      row({ FLAVOUR_NAMES[fl], ratio(le, le), ratio(seed, le), ratio(compat, le), ratio(many, le) })
    end
  end
  print()
end

if next(impls("luaenet-pingpong")) then
  local B = "luaenet-pingpong"
  print("### lua-enet: ping-pong, reliable 32 B request/response, RTT in microseconds")
  print()
  local function client(impl, variant, metric)
    return (get(B, impl, variant, nil, "client", metric))
  end
  local le, le50, le99 = client("love", "lua-enet", "mean_us"), client("love", "lua-enet", "p50_us"),
    client("love", "lua-enet", "p99_us")
  local le_cpu = client("love", "lua-enet", "client_cpu_us")
  local c = client("c", "seed", "mean_us")
  local floor = client("udp", "block", "mean_us")
  table_head({ "implementation", "mean", "p50", "p99", "client CPU/req", "mean / lua-enet",
    "p50 / lua-enet", "p99 / lua-enet", "client CPU / lua-enet", "mean / C ENet", "mean / raw UDP",
    "rounds" })
  for _, e in ipairs(impls(B)) do
    local m, rounds = get(B, e.impl, e.variant, nil, "client", "mean_us")
    local p50, p99 = client(e.impl, e.variant, "p50_us"), client(e.impl, e.variant, "p99_us")
    local cpu = client(e.impl, e.variant, "client_cpu_us")
    row({ le_name(e), fmt(m), fmt(p50), fmt(p99), fmt(cpu), ratio(m, le), ratio(p50, le50),
      ratio(p99, le99), ratio(cpu, le_cpu), ratio(m, c), ratio(m, floor), tostring(rounds or 0) })
  end
  print()
end

if next(impls("pingpong")) then
  print("### Ping-pong: reliable 32 B request/response, RTT in microseconds")
  print()
  local floor = get("pingpong", "udp", "block", nil, "client", "mean_us")
  local floor99 = get("pingpong", "udp", "block", nil, "client", "p99_us")
  local c = get("pingpong", "c", "seed", nil, "client", "mean_us")
  local c99 = get("pingpong", "c", "seed", nil, "client", "p99_us")
  table_head({ "implementation", "mean", "p50", "p99", "client CPU/req", "mean / raw UDP",
    "p99 / raw UDP", "mean / C ENet", "p99 / C ENet", "rounds" })
  for _, e in ipairs(impls("pingpong")) do
    local m, rounds = get("pingpong", e.impl, e.variant, nil, "client", "mean_us")
    local p50 = get("pingpong", e.impl, e.variant, nil, "client", "p50_us")
    local p99 = get("pingpong", e.impl, e.variant, nil, "client", "p99_us")
    local cpu = get("pingpong", e.impl, e.variant, nil, "client", "client_cpu_us")
    row({ name(e), fmt(m), fmt(p50), fmt(p99), fmt(cpu), ratio(m, floor), ratio(p99, floor99),
      ratio(m, c), ratio(p99, c99), tostring(rounds) })
  end
  print()
end

if next(impls("stream")) then
  print("### Stream: one sender pushes reliable packets; rates at the receiver")
  print()
  table_head({ "size", "implementation", "packets/s", "MB/s", "receiver CPU/packet (ns)",
    "packets/s / C ENet", "rounds" })
  for _, size in ipairs({ 64, 1200, 100000 }) do
    local c = get("stream", "c", "seed", size, "server", "pps")
    for _, e in ipairs(impls("stream")) do
      local pps, rounds = get("stream", e.impl, e.variant, size, "server", "pps")
      if pps then
        row({ tostring(size) .. " B", name(e), fmt(pps, 0),
          fmt(get("stream", e.impl, e.variant, size, "server", "mbps"), 2),
          fmt(get("stream", e.impl, e.variant, size, "server", "recv_cpu_ns"), 0),
          ratio(pps, c), tostring(rounds) })
      end
    end
  end
  print()
end

if next(impls("secure-stream")) or next(impls("secure-pingpong")) then
  print("### Secure mode: the same programs, both ends secure vs both ends plain")
  print()
  table_head({ "flavour", "64 B stream: receiver CPU/packet plain (ns)", "secure (ns)",
    "added per packet (ns)", "ping-pong mean RTT plain (us)", "secure (us)",
    "client CPU/request plain (us)", "secure (us)" })
  local flavours, seen = {}, {}
  for _, bench in ipairs({ "secure-stream", "secure-pingpong" }) do
    for _, e in ipairs(impls(bench)) do
      if not seen[e.impl] then
        seen[e.impl] = true
        flavours[#flavours + 1] = e.impl
      end
    end
  end
  for _, fl in ipairs(flavours) do
    local cpu_p = get("secure-stream", fl, "plain", 64, "server", "recv_cpu_ns")
    local cpu_s = get("secure-stream", fl, "secure", 64, "server", "recv_cpu_ns")
    row({ fl, fmt(cpu_p, 0), fmt(cpu_s, 0), (cpu_p and cpu_s) and fmt(cpu_s - cpu_p, 0) or "-",
      fmt(get("secure-pingpong", fl, "plain", nil, "client", "mean_us"), 1),
      fmt(get("secure-pingpong", fl, "secure", nil, "client", "mean_us"), 1),
      fmt(get("secure-pingpong", fl, "plain", nil, "client", "client_cpu_us"), 1),
      fmt(get("secure-pingpong", fl, "secure", nil, "client", "client_cpu_us"), 1) })
  end
  print()
end

if next(impls("fanin")) then
  print("### Fan-in: 1000 peers x 10 msgs/s into one server")
  print()
  local c = get("fanin", "c", "seed", nil, "server", "cpu_pct")
  local c_per = get("fanin", "c", "seed", nil, "server", "cpu_us_per_event")
  table_head({ "server", "CPU %", "events/s", "CPU per event (us)", "latency mean (us)", "p50",
    "p99", "CPU / C ENet", "CPU per event / C ENet" })
  for _, e in ipairs(impls("fanin")) do
    local cpu = get("fanin", e.impl, e.variant, nil, "server", "cpu_pct")
    local per = get("fanin", e.impl, e.variant, nil, "server", "cpu_us_per_event")
    row({ name(e), fmt(cpu), fmt(get("fanin", e.impl, e.variant, nil, "server", "events_per_s"), 0),
      fmt(per, 2),
      fmt(get("fanin", e.impl, e.variant, nil, "server", "lat_mean_us")),
      fmt(get("fanin", e.impl, e.variant, nil, "server", "lat_p50_us")),
      fmt(get("fanin", e.impl, e.variant, nil, "server", "lat_p99_us")), ratio(cpu, c),
      ratio(per, c_per) })
  end
  print()
end

if next(impls("idle")) then
  print("### Many peers: connect time, idle CPU and memory")
  print()
  local c_conn = get("idle", "c", "seed", nil, "client", "gen_connect_s")
  local c_cpu = get("idle", "c", "seed", nil, "server", "cpu_pct")
  local c_rss = get("idle", "c", "seed", nil, "server", "rss_per_peer_b")
  table_head({ "server", "peers connected", "connect time (s)", "idle CPU %",
    "RSS per peer (B)", "host RSS (kB)", "connect / C", "idle CPU / C", "RSS per peer / C" })
  for _, e in ipairs(impls("idle")) do
    local conn = get("idle", e.impl, e.variant, nil, "client", "gen_connect_s")
    local cpu = get("idle", e.impl, e.variant, nil, "server", "cpu_pct")
    local rss = get("idle", e.impl, e.variant, nil, "server", "rss_per_peer_b")
    row({ name(e), fmt(get("idle", e.impl, e.variant, nil, "server", "connected"), 0),
      fmt(conn, 2), fmt(cpu), fmt(rss, 0),
      fmt(get("idle", e.impl, e.variant, nil, "server", "rss_host_kb"), 0),
      ratio(conn, c_conn), ratio(cpu, c_cpu), ratio(rss, c_rss) })
  end
  print()
end

if next(impls("garbage")) then
  print("### Lua garbage per received 64 B message (collector stopped)")
  print()
  table_head({ "flavour", "receive loop", "bytes per message" })
  for _, e in ipairs(impls("garbage")) do
    row({ e.impl, e.variant, fmt(get("garbage", e.impl, e.variant, 64, "server", "garbage_b"), 0) })
  end
  print()
end

-- Shared by the Lua benchmark programs: options, clocks, /proc readers, percentiles and the
-- "RESULT key=value ..." line that bench/run.sh collects (the C programs print the same shape).
-- Only the seed API is used unless a program says otherwise.
local clock = require("benchclock")
local enet = require("module_enet")

local M = { enet = enet, now = clock.now, cpu = clock.cpu }

--- `prog.lua MODE key=value ...` -> MODE, { key = value }
function M.options(argv)
  local o = {}
  for i = 2, #argv do
    local k, v = argv[i]:match("^([%w_]+)=(.*)$")
    if k then
      o[k] = tonumber(v) or v
    end
  end
  return argv[1], o
end

--- Sorts `s` in place; mean, p50, p99, max.
function M.summarize(s)
  local n = #s
  if n == 0 then
    return 0, 0, 0, 0
  end
  table.sort(s)
  local sum = 0
  for i = 1, n do
    sum = sum + s[i]
  end
  local function at(q)
    return s[math.floor((n - 1) * q + 0.5) + 1]
  end
  return sum / n, at(0.5), at(0.99), s[n]
end

--- utime + stime of this process from /proc/self/stat, in seconds.
function M.proc_cpu()
  local f = assert(io.open("/proc/self/stat"))
  local line = f:read("*a")
  f:close()
  -- The command name may contain spaces: count fields after the last ')'.
  local rest = line:match(".*%)%s+(.*)")
  local fields = {}
  for w in rest:gmatch("%S+") do
    fields[#fields + 1] = w
  end
  -- rest starts at field 3 (state); utime and stime are fields 14 and 15.
  return (tonumber(fields[12]) + tonumber(fields[13])) / clock.clk_tck()
end

function M.rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local text = f:read("*a")
  f:close()
  return tonumber(text:match("VmRSS:%s*(%d+)")) or -1
end

--- M.result("n", 10, "mean_us", 12.5, ...) prints one RESULT line.
function M.result(...)
  local parts, args = { "RESULT" }, { ... }
  for i = 1, #args, 2 do
    local v = args[i + 1]
    if type(v) == "number" then
      v = (v == math.floor(v) and math.abs(v) < 1e15) and string.format("%.0f", v)
        or string.format("%.2f", v)
    end
    parts[#parts + 1] = args[i] .. "=" .. tostring(v)
  end
  print(table.concat(parts, " "))
  io.stdout:flush()
end

--- A server host on 127.0.0.1 and an ephemeral port; prints "PORT n" for bench/run.sh.
function M.server(peers)
  local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, peers, 2))
  print("PORT " .. enet.host_address(host).port)
  io.stdout:flush()
  return host
end

--- A client host connected to 127.0.0.1:port (seed style: host_create(nil, ...)).
function M.connect(port, limit)
  local host = assert(enet.host_create(nil, 1, 2))
  local peer = assert(enet.host_connect(host, { host = "127.0.0.1", port = port }, 2))
  local deadline = M.now() + (limit or 10)
  while M.now() < deadline do
    local r, event = enet.host_service(host, 100)
    if r > 0 and event.type == enet.EVENT_TYPE_CONNECT then
      return host, peer
    end
  end
  error("connect to port " .. tostring(port) .. " failed")
end

--- Services until the remote's disconnect arrives or `limit` seconds pass.
function M.await_disconnect(host, limit)
  local deadline = M.now() + limit
  while M.now() < deadline do
    local r, event = enet.host_service(host, 10)
    if r > 0 and event.type == enet.EVENT_TYPE_DISCONNECT then
      return true
    end
  end
  return false
end

return M

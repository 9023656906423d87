-- Shared by every Lua benchmark program, whichever ENet binding it drives (module_enet through
-- bench/lua/common.lua, lua-enet through bench/luaenet/): options, clocks, /proc readers,
-- percentiles and the "RESULT key=value ..." line that bench/run.sh collects (the C programs
-- print the same shape). Loads no ENet module, so it runs inside LÖVE as well.
local clock = require("benchclock")

local M = { now = clock.now, cpu = clock.cpu }

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

return M

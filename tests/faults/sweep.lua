-- Fault sweeps (docs/reliability.md, "Injected faults"), in the spirit of SQLite's malloc tests.
--
--   lua sweep.lua oom [stride]   fail the k-th allocation made inside the module's calls, for
--                                k = 1, 1 + stride, ... up to every allocation of the run
--   lua sweep.lua gc  [stride]   make garbage whose __gc raises right before the j-th call
--   a third argument starts the sweep at that point (to reproduce one)
--
-- Each point runs the whole scenario below (a seed-style session: create, connect, send,
-- service, receive, every accessor, the fast paths, disconnect, destroy) from scratch. A call
-- that meets the fault must either succeed or raise the fault's error ("not enough memory", or
-- the finalizer's); it is then called again, as a game would, and must work: the scenario has to
-- finish with every message delivered exactly once and in order, every event where it belongs.
-- Needs `failalloc` (tests/faults/failalloc.c) on package.cpath for the oom mode. Ends with
-- "N passed, N failed".
local enet = require("module_enet")
local mode = arg and arg[1] or "oom"
local stride = tonumber(arg and arg[2]) or 1
local first = tonumber(arg and arg[3]) or 1
local fa = mode == "oom" and require("failalloc") or nil

local CONNECT, DISCONNECT, RECEIVE =
  enet.EVENT_TYPE_CONNECT, enet.EVENT_TYPE_DISCONNECT, enet.EVENT_TYPE_RECEIVE
local GC_ERROR = "finalizer fault"
-- Function -> its name, for reports.
local NAMES = { [tostring] = "tostring" }
for name, v in pairs(enet) do
  if type(v) == "function" then
    NAMES[v] = name
  end
end

-- One run's injection: `point` is the allocation (oom) or the call (gc) that gets the fault.
local run = {}

local pcall, getinfo = pcall, debug.getinfo

local function garbage()
  -- Raises only inside the call under test: Lua 5.1 also runs a collection step when any C
  -- function returns, in pcall itself, where the error would replace the results of a call
  -- that completed (any C binding's results, not only ours). Leftovers are collected quietly.
  local function boom()
    if run.gc_armed and getinfo(2, "f").func ~= pcall then
      error(GC_ERROR)
    end
  end
  for _ = 1, 8 do
    if rawget(_G, "newproxy") then
      getmetatable(newproxy(true)).__gc = boom -- luacheck: ignore 143
    else
      setmetatable({}, { __gc = boom })
    end
  end
end

local function expected_fault(err)
  local s = tostring(err)
  if mode == "oom" then
    return s:find("not enough memory", 1, true) ~= nil
  end
  return s:find(GC_ERROR, 1, true) ~= nil or s:find("__gc", 1, true) ~= nil
end

-- call(f, ...): one module call with this run's fault around it; retried after a fault.
local function call(f, ...)
  for attempt = 1, 3 do
    run.calls = run.calls + 1
    local ok, a, b, c, d, e
    if mode == "oom" then
      -- No finalizer pending when the fault is armed: Lua 5.4.4 (Debian's lua5.4, generational
      -- by default) drops a finalizer whose call fails under the persistent failure, and the
      -- object's memory (a host's socket, a peer's reference to it) would then never be freed:
      -- Lua's behaviour, not the module's, but valgrind would count it (docs/reliability.md).
      -- failalloc.pcall fails allocations only inside its protected call, so the stack the
      -- collection shrank can grow back for the call without an error escaping the sweep.
      collectgarbage("collect")
      ok, a, b, c, d, e = fa.pcall(f, ...)
      if fa.fired() then
        -- Memory is back for the retry and the rest of the run.
        fa.arm(0)
      end
    else
      local faulty = run.calls == run.point
      if faulty then
        collectgarbage("collect")
        collectgarbage("stop")
        garbage()
        run.gc_armed = true
        collectgarbage("restart")
      end
      ok, a, b, c, d, e = pcall(f, ...)
      if faulty then
        run.gc_armed = false
        collectgarbage("collect")
      end
    end
    if ok then
      return a, b, c, d, e
    end
    if not expected_fault(a) or attempt == 3 then
      error("call failed: " .. tostring(a), 2)
    end
    run.faults = run.faults + 1
    run.faulted[#run.faulted + 1] = NAMES[f] or tostring(f)
  end
end

-- Services `hosts` until done(), handing events to on_event; bounded in calls and seconds.
local function pump(hosts, done, on_event)
  local give_up = os.time() + 5
  for _ = 1, 20000 do
    if done() then
      return
    end
    assert(os.time() <= give_up, "pump: out of time")
    for _, h in ipairs(hosts) do
      local n, ev = call(enet.host_service, h, 1)
      if n == 1 then
        on_event(h, ev)
      end
    end
  end
  error("pump: out of calls")
end

local function scenario()
  local s = { server_got = {}, client_got = {}, events = {} }
  local server = call(enet.host_create, { host = "127.0.0.1", port = 0 }, 8, 2)
  run.hosts[#run.hosts + 1] = server
  local client = call(enet.host_create, nil, 1, 2)
  run.hosts[#run.hosts + 1] = client
  local port = call(enet.host_address, server).port
  local peer = call(enet.host_connect, client, { host = "127.0.0.1", port = port }, 2, 42)
  -- Queued while connecting, then sent in order once connected.
  call(enet.peer_send, peer, 0, call(enet.packet_create, "hello 1"))
  call(enet.peer_send, peer, 1, "hello 2", enet.PACKET_FLAG_RELIABLE)
  local speer
  local function on_event(h, ev)
    s.events[#s.events + 1] = (h == server and "s" or "c") .. ev.type
    if ev.type == CONNECT and h == server then
      assert(ev.data == 42, "connect data")
      speer = ev.peer
    elseif ev.type == RECEIVE and h == server then
      local data = call(enet.packet_data, ev.packet)
      s.server_got[#s.server_got + 1] = data
      call(enet.packet_destroy, ev.packet)
      call(enet.peer_send, ev.peer, ev.channelID, call(enet.packet_create, "echo " .. data))
    elseif ev.type == RECEIVE then
      assert(rawequal(ev.peer, peer), "client event peer")
      s.client_got[#s.client_got + 1] = call(enet.packet_data, ev.packet)
    elseif ev.type == DISCONNECT then
      s[(h == server and "server" or "client") .. "_reason"] = ev.reason
    end
  end
  pump({ server, client }, function() return #s.client_got == 2 end, on_event)
  -- Every accessor, both sides.
  for _, p in ipairs({ peer, speer }) do
    for _, f in ipairs({ enet.peer_state, enet.peer_address, enet.peer_index,
      enet.peer_round_trip_time, enet.peer_statistics, enet.peer_ping, tostring }) do
      call(f, p)
    end
    call(enet.peer_timeout, p, 32, 5000, 30000)
    call(enet.peer_ping_interval, p, 500)
    call(enet.peer_throttle_configure, p, 5000, 2, 2)
  end
  for _, h in ipairs({ server, client }) do
    for _, f in ipairs({ enet.host_peers, enet.host_statistics, enet.host_address, enet.host_fd,
      enet.host_channel_limit, enet.host_bandwidth_limit, enet.host_flush, tostring }) do
      call(f, h)
    end
    local n, ev = call(enet.host_check_events, h)
    if n == 1 then
      on_event(h, ev)
    end
  end
  local pk = call(enet.packet_create, "broadcast", enet.PACKET_FLAG_RELIABLE)
  call(tostring, pk)
  call(enet.packet_flags, pk)
  call(enet.host_broadcast, server, 0, pk)
  pump({ server, client }, function() return #s.client_got == 3 end, on_event)
  -- The fast paths: a list in one call, events as flat records.
  call(enet.peer_send_many, peer, 0, { "m1", "m2", "m3" })
  local records = {}
  local want = 3
  local give_up = os.time() + 5
  while #s.server_got < 2 + want do
    assert(os.time() <= give_up, "service_into: out of time")
    call(enet.host_service, client, 0)
    local n = call(enet.host_service_into, server, 1, records)
    for i = 1, n do
      local k = 4 * i - 3
      if records[k] == RECEIVE then
        s.server_got[#s.server_got + 1] = records[k + 3]
      end
    end
  end
  -- A clean end: both sides hear it.
  call(enet.peer_disconnect, peer, 7)
  pump({ server, client }, function() return s.server_reason and s.client_reason end, on_event)
  call(enet.host_destroy, client)
  call(enet.host_destroy, server)
  return s
end

local function same(a, b)
  if #a ~= #b then
    return false
  end
  for i = 1, #a do
    if a[i] ~= b[i] then
      return false
    end
  end
  return true
end

local function check(s)
  if not same(s.server_got, { "hello 1", "hello 2", "m1", "m2", "m3" }) then
    return "server got " .. table.concat(s.server_got, ",")
  end
  if not same(s.client_got, { "echo hello 1", "echo hello 2", "broadcast" }) then
    return "client got " .. table.concat(s.client_got, ",")
  end
  if s.server_reason ~= "disconnect" or s.client_reason ~= "disconnect" then
    return "reasons " .. tostring(s.server_reason) .. "/" .. tostring(s.client_reason)
  end
  return nil
end

-- One run with its fault at `point` (nil: none). Returns nil or what went wrong.
local function one(point)
  run = { point = point, calls = 0, faults = 0, hosts = {}, faulted = {} }
  if fa then
    fa.arm(point or 0)
  end
  local ok, s = pcall(scenario)
  for _, h in ipairs(run.hosts) do
    pcall(enet.host_destroy, h)
  end
  if not ok then
    return tostring(s)
  end
  return check(s)
end

if fa then
  fa.install()
end
collectgarbage("collect")
local problem = one(nil)
if problem then
  print("the scenario fails without any fault: " .. problem)
  print("0 passed, 1 failed")
  os.exit(1)
end
local points = run.calls
if fa then
  fa.arm(0)
  one(nil)
  points = math.floor(fa.count())
end
local pause, stepmul
if mode == "gc" then
  pause, stepmul = collectgarbage("setpause", 0), collectgarbage("setstepmul", 1000000)
end
local passed, failed, hit = 0, 0, 0
local last = points + (fa and 20 or 0)
for point = first, last, stride do
  if os.getenv("SWEEP_TRACE") then io.stderr:write(point, "\n") end
  local what = one(point)
  if what then
    failed = failed + 1
    print(("FAIL %s point %d (fault in %s): %s"):format(mode, point,
      table.concat(run.faulted, ","), what))
  else
    passed = passed + 1
  end
  if run.faults > 0 then
    hit = hit + 1
  end
end
if mode == "gc" then
  collectgarbage("setpause", pause)
  collectgarbage("setstepmul", stepmul)
end
print(("%s sweep on %s: %d points (%d in a clean run, stride %d), %d surfaced as an error inside a call")
  :format(mode, jit and jit.version or _VERSION, passed + failed, points, stride, hit)) -- luacheck: ignore 113
-- A sweep where no fault ever reached a call tested nothing.
if hit == 0 then
  print("FAIL no fault surfaced inside a call")
  failed = failed + 1
end
print(("%d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)

-- Bad input battery: every function the module exports (found by iterating the module table,
-- so new functions are covered without touching this file) called with wrong types, nil, NaN,
-- huge and negative numbers, out-of-range values, destroyed and collected objects, after
-- deinitialize, and every method called with '.' instead of ':'. Each call must either raise
-- a Lua error whose value is a non-empty string, or return; it must never crash the
-- interpreter (a crash ends the whole busted run, which then fails).
--
-- Runs under busted (every interpreter in ci/test.sh) and also stand-alone, so that
-- ci/suites.d/reliability.sh can run it under valgrind:
--   LUA_CPATH="target/lua/lua54/?.so;;" lua5.4 tests/spec/battery_api_spec.lua

local describe = describe or function(_, f) f() end
local it = it or function(name, f)
  f()
  print("ok - " .. name)
end

local enet = require("module_enet")
local unpack = table.unpack or unpack

-- Bounded pumping without fixed sleeps: at most max_ms of 2 ms waits plus the events.
local function pump(hosts, done, max_ms)
  local calls = 0
  local limit = math.floor((max_ms or 3000) / 2) * #hosts + 1000
  local give_up = os.time() + math.ceil((max_ms or 3000) / 1000) + 1
  while calls < limit and os.time() <= give_up do
    for _, h in ipairs(hosts) do
      local n, ev = h:service(2)
      calls = calls + 1
      if n > 0 and done(h, ev) then
        return true
      end
    end
  end
  return false
end

-- A server and a client connected to it; returns server, client, client peer, server peer.
local function pair()
  local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 4, 2))
  local client = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2))
  local cpeer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2))
  local speer, up
  pump({ server, client }, function(h, ev)
    if ev.type == enet.EVENT_TYPE_CONNECT then
      if h == server then speer = ev.peer else up = true end
    end
    return speer and up
  end, 5000)
  assert(speer and up, "connection did not complete")
  return server, client, cpeer, speer
end

-- Objects in every state a program can hold them in.
local function objects()
  local o = {}
  o.server, o.client, o.peer, o.server_peer = pair()
  o.packet = enet.packet_create("battery")
  o.destroyed_packet = enet.packet_create("gone")
  o.destroyed_packet:destroy()
  o.destroyed_host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 1, 1))
  o.destroyed_host:destroy()
  -- A peer whose connection was reset: a stale handle.
  local h = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 1, 1))
  o.stale_peer = assert(h:connect({ host = "127.0.0.1", port = o.server:address().port }, 1))
  o.stale_peer:reset()
  -- A peer whose host was dropped and collected: the peer outlives it.
  local doomed = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 1, 1))
  o.orphan_peer = assert(doomed:connect({ host = "127.0.0.1", port = o.server:address().port }, 1))
  doomed, h = nil, nil
  -- LuaJIT's traces can hold a dropped object as a constant (see helper.lua's H.gc).
  if jit then
    jit.flush()
  end
  collectgarbage("collect")
  collectgarbage("collect")
  return o
end

local NAN = 0 / 0
local function bad_values(o)
  local v = {
    { "nil", nil },
    { "true", true },
    { "false", false },
    { "zero", 0 },
    { "minus one", -1 },
    { "half", 0.5 },
    { "NaN", NAN },
    { "+inf", math.huge },
    { "-inf", -math.huge },
    { "2^31", 2 ^ 31 },
    { "2^32", 2 ^ 32 },
    { "2^53", 2 ^ 53 },
    { "-2^63", -(2 ^ 63) },
    { "2^64", 2 ^ 64 },
    { "1e308", 1e308 },
    { "65536", 65536 },
    { "256", 256 },
    { "4096", 4096 },
    { "-0.0", -0.0 },
    { "empty string", "" },
    { "string with NUL", "no\0such" },
    { "unclosed bracket", "[::1" },
    { "port too big", "127.0.0.1:70000" },
    { "negative port", "*:-1" },
    { "empty table", {} },
    { "bad host field", { host = 1 } },
    { "negative port field", { host = "127.0.0.1", port = -1 } },
    { "huge port field", { host = "127.0.0.1", port = 70000 } },
    { "NaN port field", { host = "127.0.0.1", port = NAN } },
    { "bad scope field", { host = "::1", port = 1, sin6_scope_id = -5 } },
    { "function", print },
    { "coroutine", coroutine.create(function() end) },
    { "foreign userdata", io.stdout },
    { "host", o.server },
    { "peer", o.peer },
    { "packet", o.packet },
    { "destroyed host", o.destroyed_host },
    { "stale peer", o.stale_peer },
    { "orphan peer", o.orphan_peer },
    { "destroyed packet", o.destroyed_packet },
  }
  if math.maxinteger then
    v[#v + 1] = { "maxinteger", math.maxinteger }
    v[#v + 1] = { "mininteger", math.mininteger }
  end
  return v
end

-- Arguments that are valid for each function, so that a bad value at position p is checked
-- with everything before it right. host_service gets a destroyed host: a live one would
-- honour a huge timeout by waiting that long, which is correct, but not for a test.
local function good_args(name, o)
  local good = {
    host_create = { { host = "127.0.0.1", port = 0 }, 1, 1, 0, 0 },
    host_connect = { o.client, { host = "127.0.0.1", port = o.server:address().port }, 1, 0 },
    host_service = { o.destroyed_host, 0 },
    host_service_batch = { o.destroyed_host, 0 },
    host_service_into = { o.destroyed_host, 0, {} },
    host_broadcast = { o.server, 0, o.packet },
    host_channel_limit = { o.server, 2 },
    host_bandwidth_limit = { o.server, 0, 0 },
    packet_create = { "data", 1 },
    peer_send = { o.peer, 0, o.packet },
    peer_send_many = { o.peer, 0, { "data" } },
    peer_ping_interval = { o.peer, 500 },
    peer_timeout = { o.peer, 32, 5000, 30000 },
    peer_throttle_configure = { o.peer, 5000, 2, 2 },
    peer_disconnect = { o.peer, 0 },
    peer_disconnect_now = { o.peer, 0 },
    peer_disconnect_later = { o.peer, 0 },
  }
  if good[name] then
    return good[name]
  end
  local prefix = name:match("^(%a+)_")
  local first = ({ host = o.server, peer = o.peer, packet = o.packet })[prefix]
  return { first }
end

-- Functions that would look a name up in the DNS given a string: strings are kept away from
-- them (tests send no traffic beyond loopback); every other kind of bad value still applies.
local function resolves(name)
  return name:match("resolve") ~= nil
end

local stats = { calls = 0, raised = 0, returned = 0, bad_argument = 0 }
local problems = {}

local function check_call(label, f, args, n)
  stats.calls = stats.calls + 1
  local ok, err = pcall(f, unpack(args, 1, n))
  if ok then
    stats.returned = stats.returned + 1
    return true
  end
  stats.raised = stats.raised + 1
  if type(err) ~= "string" or err == "" then
    problems[#problems + 1] = label .. ": error value is a " .. type(err) .. " (" .. tostring(err) .. ")"
  elseif err:match("bad argument #%d+ to '") then
    stats.bad_argument = stats.bad_argument + 1
  else
    -- Every argument here is wrong somewhere: anything but a 'bad argument' is a leak of an
    -- internal error (a Lua wrapper indexing with the bad value, say).
    problems[#problems + 1] = label .. ": raised " .. err
  end
  return false, err
end

local function function_names()
  local names = {}
  for name, value in pairs(enet) do
    if type(value) == "function" then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end

local function run_battery(tag)
  local names = function_names()
  for _, name in ipairs(names) do
    -- Fresh objects for every function: some calls (destroy, disconnect) change them.
    local o = objects()
    local values = bad_values(o)
    local good = good_args(name, o)
    local positions = math.max(#good, 1) + 1
    for p = 1, positions do
      for _, bad in ipairs(values) do
        if not (resolves(name) and type(bad[2]) == "string") then
          local args = {}
          for i = 1, p - 1 do
            args[i] = good[i]
          end
          args[p] = bad[2]
          check_call(("%s %s(arg #%d = %s)"):format(tag, name, p, bad[1]), enet[name], args, p)
        end
      end
    end
    -- Called with no arguments at all.
    check_call(tag .. " " .. name .. "()", enet[name], {}, 0)
    o.server:destroy()
    o.client:destroy()
  end
  return #names
end

describe("bad input battery", function()
  it("every exported function survives wrong, extreme and stale arguments", function()
    local functions = run_battery("before deinitialize")
    enet.deinitialize()
    run_battery("after deinitialize")
    enet.initialize()
    print(("battery: %d functions, %d calls (%d raised an error, %d of them 'bad argument #n', %d returned)")
      :format(functions, stats.calls, stats.raised, stats.bad_argument, stats.returned))
    assert(functions >= 20, "only " .. functions .. " functions exported")
    assert(#problems == 0, table.concat(problems, "\n"))
  end)

  it("a wrong-typed first argument names the function and the expected type", function()
    local o = objects()
    for _, name in ipairs(function_names()) do
      local class = name:match("^(%a+)_")
      local expected = ({ host = "ENetHost", peer = "ENetPeer", packet = "ENetPacket" })[class]
      if expected and name ~= "packet_create" and name ~= "host_create" then
        for _, wrong in ipairs({ 42, "text", {}, io.stdout }) do
          local ok, err = pcall(enet[name], wrong)
          assert(not ok, name .. " accepted a " .. type(wrong))
          assert(type(err) == "string", name .. ": error is a " .. type(err))
          assert(err:find("bad argument #1 to '" .. name .. "'", 1, true), name .. ": " .. err)
          assert(err:find(expected .. " expected", 1, true), name .. ": " .. err)
        end
      end
    end
    o.server:destroy()
    o.client:destroy()
  end)

  it("methods called with '.' instead of ':' raise a clear error", function()
    local o = objects()
    local counted = 0
    local subjects = { host = o.server, peer = o.peer, packet = o.packet }
    local others = { host = o.packet, peer = o.server, packet = o.peer }
    -- The methods are the exported functions with the class prefix dropped (host_service is
    -- host:service); metatables are protected, so they are found through the names.
    for _, name in ipairs(function_names()) do
      local class, method = name:match("^(%a+)_(.+)$")
      local object = subjects[class]
      if object and name ~= "host_create" and name ~= "packet_create" then
        local f = object[method]
        assert(type(f) == "function", name .. " has no method form " .. class .. ":" .. method)
        -- obj.method(x): x lands where self should be.
        for _, arg in ipairs({ 10, "x", others[class] }) do
          local ok, err = pcall(f, arg)
          counted = counted + 1
          assert(not ok, class .. "." .. method .. " accepted " .. tostring(arg))
          assert(type(err) == "string" and err:match("bad argument #1"),
            class .. "." .. method .. ": " .. tostring(err))
        end
      end
    end
    print(("battery: %d '.'-instead-of-':' calls, all raised 'bad argument #1'"):format(counted))
    assert(counted >= 30, "only " .. counted .. " method calls")
    o.server:destroy()
    o.client:destroy()
  end)

  it("destroyed, stale and orphaned objects give failure values, not errors", function()
    local o = objects()
    local rc, msg = o.stale_peer:send(0, enet.packet_create("x"))
    assert(rc < 0 and type(msg) == "string", "send on a stale peer: " .. tostring(rc))
    rc, msg = o.orphan_peer:send(0, enet.packet_create("x"))
    assert(rc < 0 and type(msg) == "string", "send on an orphan peer: " .. tostring(rc))
    rc, msg = o.peer:send(0, o.destroyed_packet)
    assert(rc < 0 and type(msg) == "string", "send of a destroyed packet: " .. tostring(rc))
    rc, msg = o.destroyed_host:service(0)
    assert(rc == -1 and type(msg) == "string", "service of a destroyed host: " .. tostring(rc))
    local peer, err = o.destroyed_host:connect({ host = "127.0.0.1", port = 1 })
    assert(peer == nil and type(err) == "string", "connect on a destroyed host")
    assert(o.destroyed_packet:data() == nil)
    assert(o.orphan_peer:state() == "disconnected")
    for _, s in ipairs({ o.destroyed_host, o.stale_peer, o.orphan_peer, o.destroyed_packet }) do
      assert(type(tostring(s)) == "string")
    end
    o.server:destroy()
    o.client:destroy()
  end)
end)

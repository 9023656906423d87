-- GC stress: hosts, peers, packets and events dropped in every order while the collector runs
-- after every allocation (setpause 0), so a finalizer that touches freed memory, or an object
-- kept alive by a dangling reference, shows up. ci/suites.d/reliability.sh also runs this file
-- stand-alone under valgrind (no invalid access, no definite leak):
--   LUA_CPATH="target/lua/lua54/?.so;;" valgrind --error-exitcode=1 lua5.4 tests/spec/gc_stress_spec.lua

local describe = describe or function(_, f) f() end
local it = it or function(name, f)
  f()
  print("ok - " .. name)
end

local enet = require("module_enet")

-- Stand-alone runs under valgrind are ~30x slower: ROUNDS scales the loops.
local ROUNDS = tonumber(os.getenv("GC_STRESS_ROUNDS") or "") or 10

-- A full collection; LuaJIT first drops its traces, whose constants can keep a dropped host
-- alive (see helper.lua's H.gc).
local function full_gc()
  if jit then
    jit.flush()
  end
  collectgarbage("collect")
  collectgarbage("collect")
end

-- Bounded pumping: at most max_ms of 2 ms waits plus the events.
local function pump(hosts, done, max_ms)
  local calls = 0
  local limit = math.floor((max_ms or 3000) / 2) * #hosts + 1000
  local give_up = os.time() + math.ceil((max_ms or 3000) / 1000) + 1
  while calls < limit and os.time() <= give_up do
    for _, h in ipairs(hosts) do
      local n, ev = h:service(2)
      calls = calls + 1
      if n > 0 and done and done(h, ev) then
        return true
      end
    end
  end
  return done == nil
end

local function pair(channels)
  local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 8, channels or 2))
  local client = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2, channels or 2))
  local cpeer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, channels or 2))
  local speer, up
  assert(pump({ server, client }, function(h, ev)
    if ev.type == enet.EVENT_TYPE_CONNECT then
      if h == server then speer = ev.peer else up = true end
    end
    return speer ~= nil and up
  end, 5000), "connection did not complete")
  return server, client, cpeer, speer
end

-- Open file descriptors of this process (Linux), or nil elsewhere. Not asked on Windows, where
-- io.popen's cmd.exe would only complain about the POSIX command.
local function open_fds()
  if package.config:sub(1, 1) == "\\" then return nil end
  local p = io.popen("ls /proc/" .. "self/fd 2>/dev/null | wc -l")
  if not p then return nil end
  local n = tonumber(p:read("*a"))
  p:close()
  return n
end

describe("GC stress", function()
  local pause, stepmul

  local function aggressive()
    pause = collectgarbage("setpause", 0)
    stepmul = collectgarbage("setstepmul", 1000)
  end

  local function restore()
    collectgarbage("setpause", pause or 200)
    collectgarbage("setstepmul", stepmul or 200)
  end

  it("host dropped before its peers: peers go stale, nothing crashes", function()
    aggressive()
    for _ = 1, ROUNDS do
      local server, client, cpeer, speer = pair()
      server, client = nil, nil
      full_gc()
      -- Both hosts are garbage now; the peer handles outlive them.
      local rc = cpeer:send(0, enet.packet_create("late"))
      assert(rc < 0, "send through a collected host returned " .. tostring(rc))
      assert(speer:state() == "disconnected")
      assert(type(tostring(cpeer)) == "string")
      cpeer, speer = nil, nil
      full_gc()
    end
    restore()
  end)

  it("peers dropped before their host: events still carry usable peers", function()
    aggressive()
    for i = 1, ROUNDS do
      local server, client, cpeer, speer = pair()
      cpeer, speer = nil, nil
      full_gc()
      -- The connection is still there; a new handle comes with the next event.
      local peers = assert(client:peers())
      assert(#peers == 1, "client has " .. #peers .. " peers")
      assert(peers[1]:send(0, enet.packet_create("hello " .. i)) == 0)
      local got
      assert(pump({ server, client }, function(h, ev)
        if h == server and ev.type == enet.EVENT_TYPE_RECEIVE then got = ev end
        return got ~= nil
      end, 3000), "message lost")
      assert(got.packet:data() == "hello " .. i)
      assert(got.peer:send(0, enet.packet_create("back")) == 0)
      peers, got = nil, nil
      full_gc()
      if i % 2 == 0 then
        server:destroy()
        client:destroy()
      end
      server, client = nil, nil
      full_gc()
    end
    restore()
  end)

  it("packets dropped mid-send are still delivered intact", function()
    aggressive()
    local server, client, cpeer = pair(4)
    local sent = {}
    for i = 1, ROUNDS * 10 do
      local data = ("%05d:"):format(i) .. string.rep(string.char(i % 256), (i * 37) % 3000 + 1)
      sent[i] = data
      local packet = enet.packet_create(data)
      assert(cpeer:send(i % 4, packet) == 0)
      -- Every other packet is destroyed right after the send, the rest just dropped.
      if i % 2 == 0 then packet:destroy() end
      packet = nil
      if i % 7 == 0 then full_gc() end
    end
    full_gc()
    local got, intact = 0, 0
    assert(pump({ server, client }, function(h, ev)
      if h == server and ev.type == enet.EVENT_TYPE_RECEIVE then
        got = got + 1
        local data = ev.packet:data()
        if data == sent[tonumber(data:sub(1, 5))] then intact = intact + 1 end
        if got % 5 == 0 then full_gc() end
      end
      return got == ROUNDS * 10
    end, 10000), "got " .. got .. " of " .. ROUNDS * 10)
    assert(intact == got, intact .. " of " .. got .. " intact")
    server:destroy()
    client:destroy()
    restore()
  end)

  it("event tables and their packets are dropped before being read", function()
    aggressive()
    local server, client, cpeer = pair()
    for i = 1, ROUNDS * 5 do
      assert(cpeer:send(0, enet.packet_create("e" .. i)) == 0)
    end
    local seen = 0
    pump({ server, client }, function(h, ev)
      if h == server and ev.type == enet.EVENT_TYPE_RECEIVE then seen = seen + 1 end
      ev = nil
      full_gc()
      return seen == ROUNDS * 5
    end, 20000)
    assert(seen == ROUNDS * 5, "seen " .. seen)
    server:destroy()
    client:destroy()
    restore()
  end)

  it("a collected server tells its clients, and sockets are closed", function()
    aggressive()
    local fds_before = open_fds()
    for _ = 1, ROUNDS do
      local server, client, cpeer = pair()
      server = nil
      full_gc()
      -- The collected server sent a disconnect: the client hears it, not a timeout.
      local reason
      pump({ client }, function(_, ev)
        if ev.type == enet.EVENT_TYPE_DISCONNECT then reason = ev.reason end
        return reason ~= nil
      end, 3000)
      assert(reason == "disconnect", "client saw " .. tostring(reason))
      assert(cpeer:state() == "disconnected")
      client, cpeer = nil, nil
      full_gc()
    end
    full_gc()
    local fds_after = open_fds()
    if fds_before and fds_after then
      assert(fds_after <= fds_before + 2, ("file descriptors %d -> %d"):format(fds_before, fds_after))
    end
    restore()
  end)

  it("objects created and dropped in random order", function()
    aggressive()
    local seed = 12345
    local function rand(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local live = {}
    for _ = 1, ROUNDS * 5 do
      local action = rand(6)
      if action == 1 then
        live[#live + 1] = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2))
      elseif action == 2 and #live > 0 then
        local h = live[rand(#live)]
        if tostring(h):match("ENetHost%(127") then
          live[#live + 1] = h:connect({ host = "127.0.0.1", port = h:address().port }, 2)
        end
      elseif action == 3 then
        live[#live + 1] = enet.packet_create(string.rep("p", rand(5000)))
      elseif action == 4 and #live > 0 then
        table.remove(live, rand(#live))
      elseif action == 5 and #live > 0 then
        local o = live[rand(#live)]
        if o and o.destroy then o:destroy() end
      else
        for _, o in ipairs(live) do
          if o and o.service then o:service(0) end
        end
      end
      if rand(3) == 1 then full_gc() end
    end
    live = nil
    full_gc()
    restore()
  end)
end)

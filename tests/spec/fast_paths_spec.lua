-- The fast paths: host_service_into (flat event records in the caller's table) and
-- host_service_batch must report exactly what host_service reports, and peer_send_many must
-- deliver exactly what the same peer_send calls would, under every interpreter.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet
local CONNECT, DISCONNECT, RECEIVE = enet.EVENT_TYPE_CONNECT, enet.EVENT_TYPE_DISCONNECT, enet.EVENT_TYPE_RECEIVE

-- Services `host` with host_service_into (and `other` with host_service) until `want` records
-- (of type `kind` only, when given) arrived or about `max_ms` idle milliseconds passed; returns
-- those records as tables.
local function collect_into(host, other, want, max_ms, max, kind)
  local got, out = {}, {}
  local idle, give_up = 0, os.time() + math.ceil((max_ms or 5000) / 1000) + 1
  while #got < want and idle < (max_ms or 5000) and os.time() <= give_up do
    if other then
      other:service(0)
    end
    local n = host:service_into(1, out, max)
    assert(n >= 0, "host_service_into failed")
    if max then
      assert(n <= max, "more records than max")
    end
    if n == 0 then
      idle = idle + 1
    end
    for k = 1, 4 * n, 4 do
      if kind == nil or out[k] == kind then
        got[#got + 1] = { type = out[k], peer = out[k + 1], x = out[k + 2], y = out[k + 3] }
      end
    end
  end
  return got
end

describe("host_service_into", function()
  it("reports connect, receive and disconnect as records of four", function()
    local server = H.server(4, 3)
    local client = assert(enet.host_create(nil, 1, 3))
    local cpeer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 3, 77)
    local got = collect_into(server, client, 1)
    assert.are.equal(1, #got)
    assert.are.equal(CONNECT, got[1].type)
    assert.are.equal(77, got[1].x)
    assert.is_nil(got[1].y)
    local speer = got[1].peer
    assert.are.equal("userdata", type(speer))

    local payloads = { "a\0b", "", H.binary(3000, 3) }
    for i, p in ipairs(payloads) do
      assert.are.equal(0, cpeer:send(i - 1, p, enet.PACKET_FLAG_RELIABLE))
    end
    got = collect_into(server, client, #payloads)
    assert.are.equal(#payloads, #got)
    for i, r in ipairs(got) do
      assert.are.equal(RECEIVE, r.type)
      assert.is_true(rawequal(speer, r.peer), "receive record carries another peer handle")
      assert.are.equal(i - 1, r.x)
      assert.is_true(r.y == payloads[i], "payload " .. i .. " differs")
    end

    cpeer:disconnect(4242)
    got = collect_into(server, client, 1)
    assert.are.equal(1, #got)
    assert.are.equal(DISCONNECT, got[1].type)
    assert.is_true(rawequal(speer, got[1].peer))
    assert.are.equal(4242, got[1].x)
    assert.are.equal("disconnect", got[1].y)
    client:destroy()
    server:destroy()
  end)

  it("gives the same peer handles as host_connect and host_service", function()
    local server, client, cpeer, speer = H.connected_pair()
    assert.are.equal(0, speer:send(0, "to client"))
    local got = collect_into(client, server, 1)
    assert.are.equal(1, #got)
    assert.is_true(rawequal(cpeer, got[1].peer), "not the handle host_connect returned")
    assert.are.equal(0, cpeer:send(0, "to server"))
    got = collect_into(server, client, 1)
    assert.is_true(rawequal(speer, got[1].peer), "not the handle of the connect event")
    client:destroy()
    server:destroy()
  end)

  it("makes a new handle when the old one was collected, and keeps it for the connection", function()
    local server, client, cpeer, speer = H.connected_pair()
    local address = tostring(speer)
    local weak = setmetatable({ speer }, { __mode = "v" })
    speer = nil -- luacheck: ignore 311
    H.gc()
    assert.is_nil(weak[1], "the handle was not collected: the test would not test anything")
    cpeer:send(0, "one")
    cpeer:send(0, "two")
    local got = collect_into(server, client, 2)
    assert.are.equal(2, #got)
    assert.are.equal("userdata", type(got[1].peer))
    assert.is_true(rawequal(got[1].peer, got[2].peer), "two handles for one connection")
    assert.are.equal(address, tostring(got[1].peer))
    client:destroy()
    server:destroy()
  end)

  it("returns at most max records, in order, and leaves the rest of the table alone", function()
    local server, client, cpeer = H.connected_pair()
    for i = 1, 50 do
      cpeer:send(0, tostring(i), enet.PACKET_FLAG_RELIABLE)
    end
    client:flush()
    local out = { [1000] = "keep" }
    local seen, calls = {}, 0
    local give_up = os.time() + 6
    while #seen < 50 and calls < 20000 and os.time() <= give_up do
      calls = calls + 1
      local n = server:service_into(1, out, 7)
      assert.is_true(n >= 0 and n <= 7, "n = " .. tostring(n))
      for k = 1, 4 * n, 4 do
        assert.are.equal(RECEIVE, out[k])
        seen[#seen + 1] = out[k + 3]
      end
    end
    assert.are.equal(50, #seen)
    for i = 1, 50 do
      assert.are.equal(tostring(i), seen[i])
    end
    assert.are.equal("keep", out[1000])
    assert.are.equal(0, enet.host_service_into(server, 0, out))
    client:destroy()
    server:destroy()
  end)

  it("returns -1 and a message for a destroyed host, and names bad arguments", function()
    local server = H.server(1, 1)
    local err = H.error_of(enet.host_service_into, server, 0, nil)
    assert.are.equal("bad argument #3 to 'host_service_into' (table expected, got nil)", err)
    err = H.error_of(enet.host_service_into, server, 0, {}, 0)
    assert.is_truthy(err:match("^bad argument #4 to 'host_service_into' %(max must be between 1 and 65536"))
    err = H.error_of(enet.host_service_into, server, "soon", {})
    assert.is_truthy(err:match("^bad argument #2 to 'host_service_into'"))
    err = H.error_of(enet.host_service_into, 42, 0, {})
    assert.are.equal("bad argument #1 to 'host_service_into' (ENetHost expected, got number)", err)
    server:destroy()
    local n, message = server:service_into(0, {})
    assert.are.equal(-1, n)
    assert.are.equal("string", type(message))
  end)
end)

describe("host_service_batch", function()
  it("builds the same event tables as host_service", function()
    local server = H.server(4, 2)
    local client = assert(enet.host_create(nil, 1, 2))
    local cpeer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 2, 9)
    local events, give_up = {}, os.time() + 6
    local function drain(want, payload)
      while #events < want and os.time() <= give_up do
        client:service(0)
        local n, list = server:service_batch(1, 16, payload)
        assert.are.equal(n, #list)
        for _, e in ipairs(list) do
          events[#events + 1] = e
        end
      end
    end
    drain(1)
    assert.are.same({ "connect", 9, 0, nil, nil }, { H.type_name(events[1].type), events[1].data,
      events[1].channelID, events[1].packet, events[1].reason })
    local speer = events[1].peer
    cpeer:send(1, "packet")
    drain(2)
    assert.are.equal(RECEIVE, events[2].type)
    assert.are.equal("packet", events[2].packet:data())
    assert.are.equal(1, events[2].channelID)
    assert.are.equal(0, events[2].data)
    assert.is_true(rawequal(speer, events[2].peer))
    cpeer:send(0, "string")
    drain(3, true)
    assert.are.equal("string", events[3].payload)
    assert.is_nil(events[3].packet)
    cpeer:disconnect(5)
    drain(4)
    assert.are.equal(DISCONNECT, events[4].type)
    assert.are.equal(5, events[4].data)
    assert.are.equal("disconnect", events[4].reason)
    assert.is_true(rawequal(speer, events[4].peer))
    client:destroy()
    server:destroy()
  end)
end)

describe("peer_send_many", function()
  -- The receive records of collect_into as { channel =, data = }.
  local function drain(server, client, want, max_ms)
    local got = {}
    for _, r in ipairs(collect_into(server, client, want, max_ms, nil, RECEIVE)) do
      got[#got + 1] = { channel = r.x, data = r.y }
    end
    return got
  end

  it("sends every string of the list, in order, on the channel given", function()
    local server, client, cpeer = H.connected_pair({ channels = 2 })
    local list = {}
    for i = 1, 300 do
      list[i] = i % 7 == 0 and "" or ("message " .. i .. "\0" .. string.rep("x", i))
    end
    assert.are.equal(0, cpeer:send_many(1, list, enet.PACKET_FLAG_RELIABLE))
    assert.are.equal(0, enet.peer_send_many(cpeer, 0, { "last" }))
    local got = drain(server, client, 301)
    assert.are.equal(301, #got)
    for i = 1, 300 do
      assert.are.equal(1, got[i].channel)
      assert.is_true(got[i].data == list[i], "message " .. i .. " differs")
    end
    assert.are.same({ channel = 0, data = "last" }, got[301])
    assert.are.equal(0, cpeer:send_many(0, {}))
    client:destroy()
    server:destroy()
  end)

  it("queues while connecting like peer_send, and fails on a stale peer", function()
    local server = H.server(2, 1)
    local client = assert(enet.host_create(nil, 1, 1))
    local cpeer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 1)
    assert.are.equal(0, cpeer:send_many(0, { "early 1", "early 2" }))
    local got = drain(server, client, 2)
    assert.are.same({ "early 1", "early 2" }, { got[1] and got[1].data, got[2] and got[2].data })
    cpeer:disconnect_now()
    local rc, message = cpeer:send_many(0, { "late" })
    assert.are.equal(-1, rc)
    assert.are.equal("string", type(message))
    client:destroy()
    server:destroy()
  end)

  it("names bad arguments, and sends nothing when an element is not a string", function()
    local server, client, cpeer = H.connected_pair()
    local err = H.error_of(enet.peer_send_many, cpeer, 0, { "a", "b", 3 })
    assert.are.equal("bad argument #3 to 'peer_send_many' (string expected at index 3, got number)", err)
    err = H.error_of(enet.peer_send_many, cpeer, 0, "a")
    assert.are.equal("bad argument #3 to 'peer_send_many' (table expected, got string)", err)
    err = H.error_of(enet.peer_send_many, cpeer, 300, { "a" })
    assert.is_truthy(err:match("^bad argument #2 to 'peer_send_many'"))
    err = H.error_of(enet.peer_send_many, cpeer, 0, { "a" }, "reliable")
    assert.is_truthy(err:match("^bad argument #4 to 'peer_send_many'"))
    err = H.error_of(enet.peer_send_many, server, 0, { "a" })
    assert.are.equal("bad argument #1 to 'peer_send_many' (ENetPeer expected, got ENetHost)", err)
    assert.are.equal(0, #drain(server, client, 1, 300))
    client:destroy()
    server:destroy()
  end)
end)

describe("event wrappers under re-entry", function()
  it("a finalizer that services the same host mid-call loses and corrupts no event", function()
    local server, client, cpeer = H.connected_pair({ channels = 1 })
    local seen, bad, depth, nested = {}, 0, 0, 0
    local function record(n, ev)
      if n > 0 then
        if type(ev) ~= "table" or type(ev.peer) ~= "userdata" then
          bad = bad + 1
        elseif ev.type == RECEIVE then
          local data = ev.packet:data()
          seen[data] = (seen[data] or 0) + 1
        end
      end
    end
    local armed = true
    -- A finalizer runs when an allocation triggers a collection step, including the ones the
    -- module makes inside host_service: that is the re-entry under test (depth > 0).
    local function gc()
      if armed and depth > 0 then
        nested = nested + 1
        record(server:service(0))
      end
    end
    local function garbage(k)
      for _ = 1, k do
        if rawget(_G, "newproxy") then
          getmetatable(newproxy(true)).__gc = gc -- luacheck: ignore 143
        else
          setmetatable({}, { __gc = gc })
        end
      end
    end
    -- The most aggressive collector: a collection step on (nearly) every allocation.
    local pause, stepmul = collectgarbage("setpause", 0), collectgarbage("setstepmul", 1000)
    for i = 1, 200 do
      cpeer:send(0, "m" .. i)
    end
    local function count()
      local c = 0
      for _ in pairs(seen) do
        c = c + 1
      end
      return c
    end
    -- The garbage is made with the collector stopped and it restarts right before the call,
    -- so the collection steps (and finalizers) it owes fall due at the next allocation, which
    -- is the module's or the wrapper's when the call returns an event. Bounded by calls and by
    -- 30 s (valgrind runs this too).
    local calls, give_up = 0, os.time() + 30
    while (count() < 200 or nested == 0) and calls < 20000 and os.time() <= give_up do
      calls = calls + 1
      collectgarbage("stop")
      garbage(20)
      client:service(0)
      depth = depth + 1
      collectgarbage("restart")
      record(server:service(1))
      depth = depth - 1
      if count() >= 200 and nested == 0 then
        cpeer:send(0, "extra " .. calls)
      end
    end
    armed = false
    collectgarbage("setpause", pause)
    collectgarbage("setstepmul", stepmul)
    collectgarbage("collect")
    assert.is_true(nested > 0, "no finalizer ran inside host_service: the test tested nothing")
    assert.are.equal(0, bad)
    for i = 1, 200 do
      assert.are.equal(1, seen["m" .. i], "m" .. i .. " not delivered exactly once")
    end
    for data, times in pairs(seen) do
      assert.are.equal(1, times, data .. " delivered " .. times .. " times")
    end
    client:destroy()
    server:destroy()
  end)
end)

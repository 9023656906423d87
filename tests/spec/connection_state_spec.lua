-- The connection state machine of a peer slot (src/slot.rs): every way a connection ends makes
-- its handle stale at that moment, and nothing of it (identity, queued data, timeouts) reaches
-- the next connection that takes the same slot.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local STALE = "stale handle"

local function assert_stale(peer)
  assert.are.equal("disconnected", peer:state())
  local index, imsg = peer:index()
  assert.is_nil(index)
  assert.is_truthy(imsg:find(STALE, 1, true), imsg)
  local rc, msg = peer:send(0, "must not be sent")
  assert.is_true(rc < 0)
  assert.is_truthy(msg:find(STALE, 1, true), msg)
  assert.is_nil((peer:address()))
end

-- A host with one peer slot that is busy connecting to a server nobody services: the
-- connection stays in "connecting" for as long as the test wants.
local function connecting_host()
  local silent = H.server(4, 2)
  local host = assert(enet.host_create({ host = H.LOOPBACK, port = 0 }, 1, 2))
  local peer = assert(host:connect({ host = H.LOOPBACK, port = H.port_of(silent) }, 2))
  assert.are.equal("connecting", peer:state())
  return host, peer, silent
end

-- A newcomer connects into `host`'s only slot; returns the server-side connect event's peer, the
-- newcomer host and its peer, and every payload the newcomer received within `settle_ms`.
local function newcomer_joins(host, settle_ms)
  local newcomer = assert(enet.host_create(nil, 1, 2))
  local npeer = assert(newcomer:connect({ host = H.LOOPBACK, port = H.port_of(host) }, 2))
  local ev = H.wait_for({ host, newcomer }, host, "connect", 10000)
  local got = {}
  H.pump({ host, newcomer }, nil, settle_ms or 300, function(r)
    if r.kind == "receive" and r.host == newcomer then
      got[#got + 1] = r.event.packet:data()
    end
  end)
  return ev.peer, newcomer, npeer, got
end

local ENDS = {
  disconnect = function(p) return p:disconnect() end,
  disconnect_later = function(p) return p:disconnect_later() end,
  disconnect_now = function(p) return p:disconnect_now() end,
  reset = function(p) return p:reset() end,
}

describe("connection state", function()
  for _, name in ipairs({ "disconnect", "disconnect_later", "disconnect_now", "reset" }) do
    it(name .. " on a connecting peer makes it stale at once; the next one in its slot is a stranger", function()
      local host, h, silent = connecting_host()
      assert.are.equal(0, h:send(0, "secret"))
      assert.are.equal(0, h:send(1, enet.packet_create("secret too")))
      assert.are.equal(0, ENDS[name](h))
      assert_stale(h)
      local newcomer_peer, newcomer, npeer, got = newcomer_joins(host)
      assert.is_false(rawequal(h, newcomer_peer), "the newcomer inherited the cancelled handle")
      assert.are.equal(1, newcomer_peer:index())
      assert.are.same({}, got, "the newcomer received data queued for another connection")
      assert.are.equal("connected", newcomer_peer:state())
      assert.are.equal("connected", npeer:state())
      -- The old handle stays stale; the new one works.
      assert_stale(h)
      assert.are.equal(0, newcomer_peer:send(0, "welcome"))
      local ev = H.wait_for({ host, newcomer }, newcomer, "receive")
      assert.are.equal("welcome", ev.packet:data())
      newcomer:destroy()
      host:destroy()
      silent:destroy()
    end)
  end

  it("a cancelled connect never produces a connect event later", function()
    local host, h, silent = connecting_host()
    assert.are.equal(0, h:disconnect())
    -- The server now hears the CONNECT (and the DISCONNECT) and answers; nothing may come of it.
    local _, log = H.pump({ host, silent }, nil, 300)
    for _, r in ipairs(log) do
      assert.is_false(r.host == host, "the cancelling host saw a " .. r.kind .. " event")
    end
    assert_stale(h)
    host:destroy()
    silent:destroy()
  end)

  it("a graceful disconnect keeps the handle until its disconnect event, then makes it stale", function()
    local server, client, cpeer, speer = H.connected_pair()
    assert.are.equal(0, cpeer:disconnect(7))
    -- Still the same connection, on its way out: sends are refused, identity holds.
    assert.are.equal("disconnecting", cpeer:state())
    assert.are.equal(1, cpeer:index())
    local rc, msg = cpeer:send(0, "late")
    assert.is_true(rc < 0)
    assert.is_truthy(msg:find("disconnecting", 1, true), msg)
    local ok, log = H.pump({ server, client },
      H.all(H.seen("disconnect", client), H.seen("disconnect", server)))
    assert.is_true(ok)
    local mine = H.select(log, "disconnect", client)[1].event
    local theirs = H.select(log, "disconnect", server)[1].event
    assert.is_true(rawequal(cpeer, mine.peer))
    assert.is_true(rawequal(speer, theirs.peer))
    assert.are.equal("disconnect", mine.reason)
    assert.are.equal("disconnect", theirs.reason)
    assert.are.equal(7, theirs.data)
    assert_stale(cpeer)
    assert_stale(speer)
    client:destroy()
    server:destroy()
  end)

  it("disconnect_now and reset on a connected peer end it at once, with no event on this side", function()
    for _, name in ipairs({ "disconnect_now", "reset" }) do
      local server, client, cpeer, speer = H.connected_pair()
      assert.are.equal(0, ENDS[name](cpeer))
      assert_stale(cpeer)
      local _, log = H.pump({ server, client }, nil, 200)
      assert.are.equal(0, #H.select(log, "disconnect", client), name .. " produced a local event")
      if name == "disconnect_now" then
        -- The remote was told.
        assert.are.equal(1, #H.select(log, "disconnect", server))
        assert_stale(speer)
      end
      client:destroy()
      server:destroy()
    end
  end)

  it("a connection that ends by timeout says so, and its slot takes a stranger afterwards", function()
    local server, client, cpeer, speer = H.connected_pair({ peers = 1, channels = 2 })
    -- The client vanishes without a word (reset sends nothing); the server times it out fast.
    assert.are.equal(0, speer:timeout(4, 100, 400))
    assert.are.equal(0, cpeer:reset())
    local gone = H.wait_for({ server }, server, "disconnect", 10000)
    assert.is_true(rawequal(speer, gone.peer))
    assert.are.equal("timeout", gone.reason)
    assert_stale(speer)
    local newcomer_peer, newcomer = newcomer_joins(server, 50)
    assert.is_false(rawequal(speer, newcomer_peer))
    newcomer:destroy()
    client:destroy()
    server:destroy()
  end)

  it("host_destroy makes every handle stale, connecting ones included", function()
    local host, h, silent = connecting_host()
    assert.are.equal(0, h:send(0, "queued"))
    host:destroy()
    assert_stale(h)
    silent:destroy()
  end)

  it("the connect event of our own connection carries host_connect's handle and flushes its queue", function()
    local server = H.server(2, 2)
    local client = assert(enet.host_create(nil, 1, 2))
    local cpeer = assert(client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 2))
    for i = 1, 5 do
      assert.are.equal(0, cpeer:send(0, "q" .. i))
    end
    local ev = H.wait_for({ server, client }, client, "connect")
    assert.is_true(rawequal(cpeer, ev.peer))
    local got = {}
    H.pump({ server, client }, function() return #got == 5 end, 5000, function(r)
      if r.kind == "receive" and r.host == server then got[#got + 1] = r.event.packet:data() end
    end)
    assert.are.same({ "q1", "q2", "q3", "q4", "q5" }, got)
    client:destroy()
    server:destroy()
  end)
end)

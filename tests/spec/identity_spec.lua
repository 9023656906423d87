-- One connection is one peer userdata; a handle whose connection has ended is stale forever,
-- even when a new connection takes the same peer slot.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local function assert_stale(peer)
  local rc, msg = enet.peer_send(peer, 0, enet.packet_create("must not be sent"))
  assert.is_number(rc)
  assert.is_true(rc < 0, "peer_send on a stale handle returned " .. tostring(rc))
  assert.is_string(msg)
  assert.are.equal("disconnected", enet.peer_state(peer))
  assert.are.equal("disconnected", peer:state())
  local rc2 = peer:send(0, enet.packet_create("must not be sent either"))
  assert.is_true(rc2 < 0)
end

describe("peer identity", function()
  it("host_connect's peer is the client's connect, receive and disconnect event peer", function()
    local server, client, cpeer, speer, info = H.connected_pair()
    assert.is_true(rawequal(cpeer, info.client_connect.peer))
    assert.are.equal("connected", cpeer:state())
    assert.are.equal(0, speer:send(0, enet.packet_create("a")))
    local recv = H.wait_for({ server, client }, client, "receive")
    assert.is_true(rawequal(cpeer, recv.peer))
    local mine = H.disconnect_pair({ server, client }, client, server, cpeer)
    assert.is_true(rawequal(cpeer, mine.peer))
    client:destroy()
    server:destroy()
  end)

  it("the server's connect, receive and disconnect events of one connection share one peer", function()
    local server, client, cpeer, speer = H.connected_pair()
    for i = 1, 3 do
      assert.are.equal(0, cpeer:send(0, enet.packet_create("m" .. i)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", server, 3))
    assert.is_true(ok)
    for _, r in ipairs(H.select(log, "receive", server)) do
      assert.is_true(rawequal(speer, r.event.peer))
    end
    local _, theirs = H.disconnect_pair({ server, client }, client, server, cpeer)
    assert.is_true(rawequal(speer, theirs.peer))
    client:destroy()
    server:destroy()
  end)

  it("event peers work as table keys across events and garbage collections", function()
    local server = H.server(4, 1)
    local clients = {}
    local hosts, peers = { server }, {}
    for i = 1, 3 do
      local c = enet.host_create(nil, 1, 1)
      hosts[#hosts + 1] = c
      peers[i] = c:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 1, i)
    end
    local names = {}
    local ok = H.pump(hosts, H.seen("connect", server, 3), 5000, function(r)
      if r.host == server and r.kind == "connect" then
        clients[r.event.peer] = "client" .. r.event.data
      end
    end)
    assert.is_true(ok)
    H.gc()
    for i = 1, 3 do
      assert.are.equal(0, peers[i]:send(0, enet.packet_create("from" .. i)))
    end
    ok = H.pump(hosts, H.seen("receive", server, 3), 5000, function(r)
      if r.host == server and r.kind == "receive" then
        names[#names + 1] = clients[r.event.peer] .. "=" .. r.event.packet:data()
      end
    end)
    assert.is_true(ok)
    table.sort(names)
    assert.are.same({ "client1=from1", "client2=from2", "client3=from3" }, names)
    -- Three distinct keys, not one collapsed handle.
    local n = 0
    for _ in pairs(clients) do
      n = n + 1
    end
    assert.are.equal(3, n)
    for i = 2, #hosts do
      hosts[i]:destroy()
    end
    server:destroy()
  end)

  it("host_peers lists the same userdata the events gave", function()
    local server, client, _, speer = H.connected_pair()
    local list = server:peers()
    assert.are.equal(1, #list)
    assert.is_true(rawequal(speer, list[1]))
    client:destroy()
    server:destroy()
  end)
end)

describe("stale peer handles", function()
  it("after a polite disconnect both old handles fail: negative peer_send, state 'disconnected'", function()
    local server, client, cpeer, speer = H.connected_pair()
    H.disconnect_pair({ server, client }, client, server, cpeer)
    assert_stale(cpeer)
    assert_stale(speer)
    assert.is_nil(cpeer:address())
    assert.is_nil(speer:index())
    client:destroy()
    server:destroy()
  end)

  it("a new connection in the same server slot gets a new userdata; the old one stays stale", function()
    -- peerCount 1: the second connection must reuse the first one's slot.
    local server = H.server(1, 2)
    local _, client1, cpeer1, speer1 = H.connected_pair({ server = server, channels = 2 })
    local slot = speer1:index()
    H.disconnect_pair({ server, client1 }, client1, server, cpeer1)
    client1:destroy()

    local _, client2, cpeer2, speer2 = H.connected_pair({ server = server, channels = 2 })
    assert.are.equal(slot, speer2:index())
    assert.is_false(rawequal(speer1, speer2))
    assert.are.equal("connected", speer2:state())
    assert_stale(speer1)
    assert.is_nil(speer1:index())

    -- The stale handle must not act on the new connection either.
    local rc = speer1:disconnect(1)
    assert.is_true(rc < 0)
    assert.is_true(speer1:reset() < 0)
    local _, log = H.pump({ server, client2 }, nil, 200)
    assert.are.equal(0, #H.select(log, "disconnect"))
    assert.are.equal("connected", speer2:state())
    assert.are.equal("connected", cpeer2:state())

    -- And the new handle works.
    assert.are.equal(0, speer2:send(0, enet.packet_create("second")))
    local event = H.wait_for({ server, client2 }, client2, "receive")
    assert.are.equal("second", event.packet:data())
    assert.is_true(rawequal(cpeer2, event.peer))
    client2:destroy()
    server:destroy()
  end)

  it("a client host reconnecting from its only slot gets a new userdata; the old one stays stale", function()
    local server = H.server(2, 1)
    local client = enet.host_create(nil, 1, 1)
    local _, _, cpeer1 = H.connected_pair({ server = server, client = client, channels = 1 })
    H.disconnect_pair({ server, client }, client, server, cpeer1)
    local _, _, cpeer2 = H.connected_pair({ server = server, client = client, channels = 1 })
    assert.is_false(rawequal(cpeer1, cpeer2))
    assert_stale(cpeer1)
    assert.are.equal("connected", cpeer2:state())
    assert.are.equal(0, cpeer2:send(0, enet.packet_create("fine")))
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal("fine", event.packet:data())
    client:destroy()
    server:destroy()
  end)

  it("peer_reset makes the handle stale at once", function()
    local server, client, cpeer = H.connected_pair()
    assert.are.equal(0, cpeer:reset())
    assert_stale(cpeer)
    client:destroy()
    server:destroy()
  end)

  it("host_connect to a slot whose handle was reset gives a new userdata", function()
    local server = H.server(2, 1)
    local client = enet.host_create(nil, 1, 1)
    local addr = { host = H.LOOPBACK, port = H.port_of(server) }
    local p1 = assert(client:connect(addr, 1))
    assert.are.equal(0, p1:reset())
    local p2 = assert(client:connect(addr, 1))
    assert.is_false(rawequal(p1, p2))
    assert_stale(p1)
    local ok = H.pump({ server, client }, H.seen("connect", client))
    assert.is_true(ok)
    assert.are.equal("connected", p2:state())
    client:destroy()
    server:destroy()
  end)

  it("host_connect on a host with no free slot returns nil and a message", function()
    local server = H.server(2, 1)
    local client = enet.host_create(nil, 1, 1)
    local addr = { host = H.LOOPBACK, port = H.port_of(server) }
    assert.is_not_nil(client:connect(addr, 1))
    local peer, msg = client:connect(addr, 1)
    assert.is_nil(peer)
    assert.is_string(msg)
    client:destroy()
    server:destroy()
  end)
end)

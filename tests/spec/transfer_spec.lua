-- Data transfer between two hosts on loopback: delivery modes, channels, payloads, user data
-- on connect/disconnect, disconnect reasons, polling, and both call forms.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local function receives(log, host)
  local out = {}
  for _, r in ipairs(H.select(log, "receive", host)) do
    out[#out + 1] = { channel = r.event.channelID, data = r.event.packet:data(), event = r.event }
  end
  return out
end

describe("transfer", function()
  local server, client, cpeer, speer

  before_each(function()
    server, client, cpeer, speer = H.connected_pair({ channels = 4 })
  end)

  after_each(function()
    client:destroy()
    server:destroy()
  end)

  it("reliable packets on every channel arrive complete, in order, on their channel", function()
    local per_channel = 25
    for i = 1, per_channel do
      for ch = 0, 3 do
        local rc = cpeer:send(ch, enet.packet_create(ch .. ":" .. i, enet.PACKET_FLAG_RELIABLE))
        assert.are.equal(0, rc)
      end
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", server, per_channel * 4))
    assert.is_true(ok)
    local next_index = { [0] = 1, 1, 1, 1 }
    for _, r in ipairs(receives(log, server)) do
      local ch, i = r.data:match("^(%d+):(%d+)$")
      assert.are.equal(r.channel, tonumber(ch))
      assert.are.equal(next_index[r.channel], tonumber(i))
      next_index[r.channel] = next_index[r.channel] + 1
      assert.is_true(rawequal(speer, r.event.peer))
    end
    assert.are.same({ [0] = per_channel + 1, per_channel + 1, per_channel + 1, per_channel + 1 }, next_index)
  end)

  it("unreliable sequenced packets (flags 0) arrive in order on their channel over loopback", function()
    local n = 20
    for i = 1, n do
      assert.are.equal(0, cpeer:send(2, enet.packet_create(tostring(i), 0)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", server, n))
    assert.is_true(ok)
    local got = receives(log, server)
    assert.are.equal(n, #got)
    for i, r in ipairs(got) do
      assert.are.equal(2, r.channel)
      assert.are.equal(tostring(i), r.data)
    end
  end)

  it("unsequenced packets all arrive on their channel (order not guaranteed)", function()
    local n = 20
    for i = 1, n do
      assert.are.equal(0, cpeer:send(3, enet.packet_create(tostring(i), enet.PACKET_FLAG_UNSEQUENCED)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", server, n))
    assert.is_true(ok)
    local seen = {}
    for _, r in ipairs(receives(log, server)) do
      assert.are.equal(3, r.channel)
      local i = tonumber(r.data)
      assert.is_nil(seen[i], "duplicate " .. r.data)
      seen[i] = true
    end
    for i = 1, n do
      assert.is_true(seen[i], "missing " .. i)
    end
  end)

  it("the server can answer on several channels and the client receives each on its channel", function()
    for ch = 0, 3 do
      assert.are.equal(0, speer:send(ch, enet.packet_create("to client on " .. ch)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", client, 4))
    assert.is_true(ok)
    local by_channel = {}
    for _, r in ipairs(receives(log, client)) do
      by_channel[r.channel] = r.data
      assert.is_true(rawequal(cpeer, r.event.peer))
    end
    for ch = 0, 3 do
      assert.are.equal("to client on " .. ch, by_channel[ch])
    end
  end)

  it("binary payloads with embedded zeros arrive byte for byte", function()
    local payloads = {
      "\0",
      "a\0b",
      "\0\0\0\0",
      "trailing zero\0",
      H.binary(256),
      H.binary(3000, 13), -- over one MTU: fragmented
    }
    for i, p in ipairs(payloads) do
      assert.are.equal(0, cpeer:send(i % 4, enet.packet_create(p)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", server, #payloads))
    assert.is_true(ok)
    local got = receives(log, server)
    -- Different channels: compare as a set of (channel, bytes).
    local want = {}
    for i, p in ipairs(payloads) do
      want[(i % 4) .. "/" .. p] = true
    end
    for _, r in ipairs(got) do
      assert.is_true(want[r.channel .. "/" .. r.data] ~= nil, "unexpected payload of " .. #r.data .. " bytes")
      want[r.channel .. "/" .. r.data] = nil
    end
    assert.is_nil(next(want))
  end)

  it("a 0-byte packet arrives as an empty string", function()
    local packet = enet.packet_create("")
    assert.are.equal("", packet:data())
    assert.are.equal(0, cpeer:send(0, packet))
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal("", event.packet:data())
    assert.are.equal(0, event.channelID)
  end)

  it("a 1 MiB reliable packet is fragmented and reassembled intact", function()
    local big = H.binary(1024 * 1024, 5)
    assert.are.equal(0, cpeer:send(1, enet.packet_create(big, enet.PACKET_FLAG_RELIABLE)))
    local event = H.wait_for({ server, client }, server, "receive", 20000)
    local data = event.packet:data()
    assert.are.equal(#big, #data)
    assert.is_true(data == big, "1 MiB payload differs")
    assert.are.equal(1, event.channelID)
  end)

  it("a 1 MiB unreliable packet is delivered too (fragmented reliably)", function()
    local big = H.binary(1024 * 1024, 9)
    assert.are.equal(0, cpeer:send(0, enet.packet_create(big, 0)))
    local event = H.wait_for({ server, client }, server, "receive", 20000)
    assert.is_true(event.packet:data() == big, "1 MiB unreliable payload differs")
  end)

  it("a sent packet can be destroyed or dropped right away without affecting delivery", function()
    local packet = enet.packet_create("still delivered")
    assert.are.equal(0, cpeer:send(0, packet))
    packet:destroy()
    packet = nil
    H.gc()
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal("still delivered", event.packet:data())
  end)

  it("receive events carry data = 0 and a packet; connect/disconnect events carry no packet", function()
    assert.are.equal(0, cpeer:send(0, enet.packet_create("x")))
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal(enet.EVENT_TYPE_RECEIVE, event.type)
    assert.are.equal(0, event.data)
    assert.are.equal("userdata", type(event.packet))
    local _, remote = H.disconnect_pair({ server, client }, client, server, cpeer, 7)
    assert.is_nil(remote.packet)
    assert.are.equal(0, remote.channelID)
  end)

  it("peer_send to a channel the connection does not have fails with a negative code and message", function()
    local rc, msg = cpeer:send(4, enet.packet_create("x"))
    assert.is_true(rc < 0)
    assert.are.equal("string", type(msg))
  end)
end)

describe("connect and disconnect data", function()
  local values = { 0, 1, 42, 2 ^ 31, 2 ^ 32 - 1 }
  for _, value in ipairs(values) do
    it(("connect data %.0f reaches the server's connect event"):format(value), function()
      local server, client, cpeer, _, info = H.connected_pair({ data = value })
      assert.are.equal(value, info.server_connect.data)
      assert.is_true(math.type == nil or math.type(info.server_connect.data) == "integer")
      -- The connecting side's own connect event is not the user's data channel.
      assert.are.equal("number", type(info.client_connect.data))
      assert.is_true(rawequal(cpeer, info.client_connect.peer))
      client:destroy()
      server:destroy()
    end)

    it(("disconnect data %.0f reaches the remote's disconnect event"):format(value), function()
      local server, client, cpeer = H.connected_pair()
      local _, remote = H.disconnect_pair({ server, client }, client, server, cpeer, value)
      assert.are.equal(value, remote.data)
      client:destroy()
      server:destroy()
    end)
  end

  it("the server can disconnect a client with data, seen by the client", function()
    local server, client, _, speer = H.connected_pair()
    local _, remote = H.disconnect_pair({ server, client }, server, client, speer, 12345)
    assert.are.equal(12345, remote.data)
    client:destroy()
    server:destroy()
  end)

  it("data outside 0..2^32-1 is an argument error", function()
    local server = H.server(1, 1)
    local client = enet.host_create(nil, 1, 1)
    local addr = { host = H.LOOPBACK, port = H.port_of(server) }
    assert.matches("bad argument #4 to 'host_connect'", H.error_of(enet.host_connect, client, addr, 1, -1), 1, true)
    assert.matches("bad argument #4 to 'host_connect'", H.error_of(enet.host_connect, client, addr, 1, 2 ^ 32), 1, true)
    client:destroy()
    server:destroy()
  end)
end)

describe("disconnect events", function()
  it("a polite disconnect gives both sides a disconnect event with reason 'disconnect'", function()
    local server, client, cpeer, speer = H.connected_pair()
    local mine, theirs = H.disconnect_pair({ server, client }, client, server, cpeer, 3)
    assert.are.equal(enet.EVENT_TYPE_DISCONNECT, mine.type)
    assert.are.equal(enet.EVENT_TYPE_DISCONNECT, theirs.type)
    assert.are.equal("disconnect", mine.reason)
    assert.are.equal("disconnect", theirs.reason)
    assert.is_true(rawequal(cpeer, mine.peer))
    assert.is_true(rawequal(speer, theirs.peer))
    client:destroy()
    server:destroy()
  end)

  it("destroying a host gives the remote a disconnect event (reason 'disconnect') at once", function()
    local server, client, _, speer = H.connected_pair()
    client:destroy()
    -- Far below any ENet timeout (the minimum is 5 s): the disconnect was sent, not inferred.
    local event = H.wait_for({ server }, server, "disconnect", 3000)
    assert.are.equal("disconnect", event.reason)
    assert.is_true(rawequal(speer, event.peer))
    server:destroy()
  end)

  it("peer_disconnect_now gives the remote a disconnect event and no local one", function()
    local server, client, cpeer = H.connected_pair()
    assert.are.equal(0, cpeer:disconnect_now(9))
    local ok, log = H.pump({ server, client }, H.seen("disconnect", server), 3000)
    assert.is_true(ok)
    local event = H.select(log, "disconnect", server)[1].event
    assert.are.equal(9, event.data)
    assert.are.equal("disconnect", event.reason)
    assert.are.equal(0, #H.select(log, "disconnect", client))
    client:destroy()
    server:destroy()
  end)

  it("a remote that goes silent ends in a disconnect event with reason 'timeout'", function()
    local server, client, cpeer = H.connected_pair()
    -- Short timeouts; a reliable packet is kept outstanding by never servicing the server.
    assert.are.equal(0, cpeer:timeout(1, 200, 400))
    assert.are.equal(0, cpeer:send(0, enet.packet_create("unanswered")))
    local event = H.wait_for({ client }, client, "disconnect", 5000)
    assert.are.equal("timeout", event.reason)
    assert.is_true(rawequal(cpeer, event.peer))
    client:destroy()
    server:destroy()
  end)
end)

describe("polling", function()
  it("host_service(host, 0) on an idle host returns 0 and no event", function()
    local server = H.server(1, 1)
    for _ = 1, 100 do
      local n, event = server:service(0)
      assert.are.equal(0, n)
      assert.is_nil(event)
    end
    server:destroy()
  end)

  it("a connect/exchange/disconnect driven only by service(0) polling completes", function()
    local server = H.server(1, 2)
    local client = enet.host_create(nil, 1, 2)
    local peer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 2)
    peer:send(0, enet.packet_create("polled"))
    local got, client_connected, got_answer, server_disconnect
    local give_up = os.time() + 10
    local polls = 0
    while not server_disconnect and polls < 2000000 and os.time() <= give_up do
      polls = polls + 1
      local n, e = server:service(0)
      if n > 0 and e.type == enet.EVENT_TYPE_RECEIVE then
        got = e.packet:data()
        e.peer:send(1, enet.packet_create("answer"))
      elseif n > 0 and e.type == enet.EVENT_TYPE_DISCONNECT then
        server_disconnect = e
      end
      n, e = client:service(0)
      if n > 0 and e.type == enet.EVENT_TYPE_CONNECT then
        client_connected = true
      elseif n > 0 and e.type == enet.EVENT_TYPE_RECEIVE then
        got_answer = e.packet:data()
        assert.are.equal(1, e.channelID)
        peer:disconnect(5)
      end
    end
    assert.is_true(client_connected)
    assert.are.equal("polled", got)
    assert.are.equal("answer", got_answer)
    assert.is_table(server_disconnect)
    assert.are.equal(5, server_disconnect.data)
    client:destroy()
    server:destroy()
  end)
end)

describe("procedural and method forms", function()
  it("every procedural function on an object also exists as its method", function()
    local server = H.server(1, 1)
    local packet = enet.packet_create("x")
    local client = enet.host_create(nil, 1, 1)
    local peer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 1)
    local objects = { host = server, peer = peer, packet = packet }
    local checked = 0
    for name, f in pairs(enet) do
      local class, method = tostring(name):match("^(%a+)_(.+)$")
      if objects[class] and name ~= "host_create" and name ~= "packet_create" then
        -- Not necessarily the same function value: busted re-requires the module per file,
        -- and a userdata metatable made by an earlier require keeps that require's methods.
        assert.is_function(f, name)
        assert.is_function(objects[class][method], name .. " has no method form")
        checked = checked + 1
      end
    end
    -- The seed's own functions are among them.
    local seed = { "host_destroy", "host_connect", "host_service", "packet_destroy", "packet_data", "peer_send" }
    for _, name in ipairs(seed) do
      assert.is_function(enet[name], name)
    end
    assert.is_true(checked >= 6)
    client:destroy()
    server:destroy()
  end)

  it("an exchange written procedurally and one written with methods behave the same", function()
    local function run(procedural)
      local server = procedural and enet.host_create({ host = H.LOOPBACK, port = 0 }, 2, 2) or H.server(2, 2)
      local client = enet.host_create(nil, 1, 2)
      local port = procedural and enet.host_address(server).port or server:address().port
      local peer
      if procedural then
        peer = enet.host_connect(client, { host = H.LOOPBACK, port = port }, 2, 77)
        assert.are.equal(0, enet.peer_send(peer, 1, enet.packet_create("p", enet.PACKET_FLAG_RELIABLE)))
      else
        peer = client:connect({ host = H.LOOPBACK, port = port }, 2, 77)
        assert.are.equal(0, peer:send(1, enet.packet_create("p", enet.PACKET_FLAG_RELIABLE)))
      end
      local trace = {}
      for _ = 1, 2000 do
        local n, e
        if procedural then
          n, e = enet.host_service(server, 5)
        else
          n, e = server:service(5)
        end
        if n > 0 then
          local d = e.packet and (procedural and enet.packet_data(e.packet) or e.packet:data()) or ""
          trace[#trace + 1] = H.type_name(e.type) .. ":" .. e.channelID .. ":" .. e.data .. ":" .. d
          if e.type == enet.EVENT_TYPE_RECEIVE then
            if procedural then
              enet.packet_destroy(e.packet)
              enet.peer_disconnect(peer, 88)
            else
              e.packet:destroy()
              peer:disconnect(88)
            end
          elseif e.type == enet.EVENT_TYPE_DISCONNECT then
            break
          end
        end
        if procedural then
          enet.host_service(client, 0)
        else
          client:service(0)
        end
      end
      if procedural then
        enet.host_destroy(client)
        enet.host_destroy(server)
      else
        client:destroy()
        server:destroy()
      end
      return trace
    end
    local expected = { "connect:0:77:", "receive:1:0:p", "disconnect:0:88:" }
    assert.are.same(expected, run(true))
    assert.are.same(expected, run(false))
  end)
end)

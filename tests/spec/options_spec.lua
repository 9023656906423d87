-- host_create's options (range coder, CRC32, MTU, packet and waiting-data limits) and
-- host_compress: argument checks, traffic with each setting on both ends, mismatched ends
-- failing cleanly, and the packet size limit at send and at receive.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local function create(options, peers)
  return enet.host_create({ host = H.LOOPBACK, port = 0 }, peers or 4, 4, 0, 0, options)
end

-- A server and a client made with the given options, connected; raises when the connection
-- does not come up.
local function pair(server_options, client_options)
  local server = assert(create(server_options))
  local client = assert(enet.host_create(nil, 1, 4, 0, 0, client_options))
  return H.connected_pair({ server = server, client = client })
end

-- Sends one packet of each kind (a 100 kB one fragmented) and checks each arrives intact.
local function exchange_every_kind(server, client, cpeer, speer)
  local kinds = {
    { flags = enet.PACKET_FLAG_RELIABLE, data = H.binary(300, 1) },
    { flags = 0, data = H.binary(300, 2) },
    { flags = enet.PACKET_FLAG_UNSEQUENCED, data = H.binary(300, 3) },
    { flags = enet.PACKET_FLAG_RELIABLE, data = string.rep("fragmented ", 10000) .. H.binary(999, 4) },
  }
  for _, pair_ in ipairs({ { cpeer, server }, { speer, client } }) do
    local from, to = pair_[1], pair_[2]
    for i, k in ipairs(kinds) do
      assert.are.equal(0, from:send(i - 1, enet.packet_create(k.data, k.flags)))
    end
    local ok, log = H.pump({ server, client }, H.seen("receive", to, #kinds))
    assert.is_true(ok, "not every packet arrived")
    for _, r in ipairs(H.select(log, "receive", to)) do
      assert.are.equal(kinds[r.event.channelID + 1].data, r.event.packet:data())
    end
  end
end

-- Connects a client made with `client_options` to a server made with `server_options` and
-- sends a packet each way. Peers time out within about 1 s. Returns what happened:
-- { connected =, server_got =, client_got =, reason = } (reason of the client's disconnect).
local function mismatch(server_options, client_options)
  local server = assert(create(server_options))
  local client = assert(enet.host_create(nil, 1, 4, 0, 0, client_options))
  local cpeer = assert(client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 4))
  cpeer:timeout(32, 200, 1000)
  local data = string.rep("x", 2000)
  cpeer:send(0, data)
  local r = { connected = false, server_got = 0, client_got = 0 }
  H.pump({ server, client }, H.seen("disconnect", client), 8000, function(rec)
    local ev = rec.event
    if rec.kind == "connect" and rec.host == server then
      ev.peer:timeout(32, 200, 1000)
      ev.peer:send(0, data)
    elseif rec.kind == "connect" then
      r.connected = true
    elseif rec.kind == "receive" and rec.host == server then
      r.server_got = r.server_got + 1
    elseif rec.kind == "receive" then
      r.client_got = r.client_got + 1
    elseif rec.kind == "disconnect" and rec.host == client then
      r.reason = ev.reason
    end
  end)
  r.server_dropped = server:statistics().dropped_malformed
  r.client_dropped = client:statistics().dropped_malformed
  server:destroy()
  client:destroy()
  return r
end

describe("host_create options", function()
  it("are checked: unknown fields and bad values raise", function()
    local bad = {
      { "x", "options table expected, got string" },
      { { compression = "range_coder" }, "unknown option 'compression'" },
      { { [1] = true }, "unknown option number" },
      { { compress = "zlib" }, 'options.compress must be "range_coder" or false, got "zlib"' },
      { { checksum = true }, 'options.checksum must be "crc32" or false, got true' },
      { { mtu = 575 }, "options.mtu must be an integer between 576 and 4096, got 575" },
      { { mtu = 4097 }, "between 576 and 4096" },
      { { mtu = 1000.5 }, "between 576 and 4096" },
      { { mtu = "1000" }, "options.mtu must be an integer, got \"1000\"" },
      { { max_packet_size = 0 }, "options.max_packet_size must be an integer between 1 and 33554432" },
      { { max_waiting_data = -1 }, "options.max_waiting_data must be an integer between 1" },
    }
    for _, case in ipairs(bad) do
      local err = H.error_of(enet.host_create, nil, 1, 1, 0, 0, case[1])
      assert.is_truthy(err, case[2])
      assert.is_truthy(err:find("bad argument #6 to 'host_create' (", 1, true), err)
      assert.is_truthy(err:find(case[2], 1, true), err)
    end
    local host = assert(enet.host_create(nil, 1, 1, 0, 0, {
      compress = "range_coder", checksum = "crc32", mtu = 576,
      max_packet_size = 1, max_waiting_data = 1,
    }))
    host:destroy()
    assert(enet.host_create(nil, 1, 1, 0, 0, { compress = false, checksum = false, mtu = nil })):destroy()
  end)

  for _, case in ipairs({
    { name = "the range coder", options = { compress = "range_coder" } },
    { name = "CRC32", options = { checksum = "crc32" } },
    { name = "the range coder and CRC32", options = { compress = "range_coder", checksum = "crc32" } },
  }) do
    it("carry every kind of packet intact with " .. case.name .. " on both ends", function()
      local server, client, cpeer, speer = pair(case.options, case.options)
      local before = client:statistics().bytes_sent
      exchange_every_kind(server, client, cpeer, speer)
      local sent = client:statistics().bytes_sent - before
      if case.options.compress then
        -- The 110 kB packet is mostly repetition: compressed, the client sent far less.
        assert.is_true(sent < 60000, sent .. " bytes sent")
      else
        assert.is_true(sent > 110000, sent .. " bytes sent")
      end
      assert.are.equal(0, server:statistics().dropped_malformed)
      server:destroy()
      client:destroy()
    end)
  end

  it("fail cleanly when only one end compresses: the other drops what is compressed", function()
    local r = mismatch({ compress = "range_coder" }, nil)
    -- The server's compressed datagrams never reach the client's ENet: whether the handshake
    -- completed or not, the client ends with a timeout and never receives the packet.
    assert.are.equal(0, r.client_got)
    assert.are.equal("timeout", r.reason)
    assert.is_true(r.client_dropped > 0)
  end)

  it("fail cleanly when only one end checks CRC32: no connection", function()
    for _, sides in ipairs({ { { checksum = "crc32" }, nil }, { nil, { checksum = "crc32" } } }) do
      local r = mismatch(sides[1], sides[2])
      assert.is_false(r.connected)
      assert.are.equal(0, r.server_got + r.client_got)
      assert.are.equal("timeout", r.reason)
    end
  end)

  it("mtu is the largest datagram a connection uses", function()
    local server, client, cpeer, speer = pair(nil, { mtu = 576 })
    assert.are.equal(576, cpeer:statistics().mtu)
    assert.are.equal(576, speer:statistics().mtu)
    exchange_every_kind(server, client, cpeer, speer)
    server:destroy()
    client:destroy()
  end)
end)

describe("max_packet_size", function()
  it("refuses larger sends, connected or still connecting", function()
    local server = assert(create(nil))
    local client = assert(enet.host_create(nil, 1, 4, 0, 0, { max_packet_size = 1000 }))
    local cpeer = assert(client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 4))
    local rc, err = cpeer:send(0, string.rep("x", 1001))
    assert.are.equal(-1, rc)
    assert.are.equal("packet too large (1001 bytes, the host's max_packet_size is 1000)", err)
    assert.are.equal(0, cpeer:send(0, string.rep("x", 1000)))
    H.wait_for({ server, client }, client, "connect")
    rc, err = cpeer:send(0, enet.packet_create(string.rep("x", 1001)))
    assert.are.equal(-1, rc)
    assert.is_truthy(err:find("too large", 1, true))
    rc, err = cpeer:send_many(0, { "small", string.rep("x", 5000) })
    assert.are.equal(-1, rc)
    assert.is_truthy(err:find("at index 2", 1, true), err)
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal(1000, #event.packet:data())
    server:destroy()
    client:destroy()
  end)

  it("refuses a larger broadcast instead of skipping every peer", function()
    local server, client = pair({ max_packet_size = 1000 }, nil)
    local rc, err = server:broadcast(0, enet.packet_create(string.rep("x", 1001)))
    assert.are.equal(-1, rc)
    assert.are.equal("packet too large (1001 bytes, the host's max_packet_size is 1000)", err)
    assert.are.equal(0, server:broadcast(1, enet.packet_create(string.rep("y", 1000))))
    local event = H.wait_for({ server, client }, client, "receive")
    assert.are.equal(1, event.channelID)
    assert.are.equal(1000, #event.packet:data())
    server:destroy()
    client:destroy()
  end)

  it("drops and counts larger packets on arrival", function()
    local server, client, cpeer = pair({ max_packet_size = 1000 }, nil)
    assert.are.equal(0, server:statistics().dropped_too_large)
    assert.are.equal(0, cpeer:send(0, string.rep("u", 1001), 0))
    assert.are.equal(0, cpeer:send(1, string.rep("f", 3000), 0))
    local ok = H.pump({ server, client }, function()
      return server:statistics().dropped_too_large >= 2
    end)
    assert.is_true(ok)
    assert.are.equal(0, cpeer:send(2, string.rep("k", 1000), 0))
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal(2, event.channelID)
    server:destroy()
    client:destroy()
  end)
end)

describe("host_compress", function()
  it("switches the range coder on and off at any time", function()
    local server, client, cpeer = H.connected_pair()
    local text = string.rep("switchable ", 2000)
    local function sent_for_one()
      local before = client:statistics().bytes_sent
      assert.are.equal(0, cpeer:send(0, text))
      local event = H.wait_for({ server, client }, server, "receive")
      assert.are.equal(text, event.packet:data())
      return client:statistics().bytes_sent - before
    end
    assert.is_true(sent_for_one() > #text)
    assert.are.equal(0, enet.host_compress(server, "range_coder"))
    assert.are.equal(0, client:compress("range_coder"))
    assert.is_true(sent_for_one() < #text / 4)
    assert.are.equal(0, server:compress(nil))
    assert.are.equal(0, client:compress())
    assert.is_true(sent_for_one() > #text)
    server:destroy()
    client:destroy()
  end)

  it("checks its arguments and reports a destroyed host", function()
    local host = assert(enet.host_create())
    assert.are.equal("bad argument #2 to 'host_compress' (\"range_coder\" or nil expected, got \"zlib\")",
      H.error_of(enet.host_compress, host, "zlib"))
    assert.are.equal("bad argument #2 to 'host_compress' (\"range_coder\" or nil expected, got boolean)",
      H.error_of(enet.host_compress, host, true))
    assert.are.equal("bad argument #1 to 'host_compress' (ENetHost expected, got nil)",
      H.error_of(enet.host_compress, nil))
    host:destroy()
    local rc, err = host:compress("range_coder")
    assert.are.equal(-1, rc)
    assert.are.equal("host has been destroyed", err)
  end)
end)

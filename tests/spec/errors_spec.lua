-- Misuse raises a plain string error naming the function and the argument, worded like the
-- standard library's luaL_argerror/luaL_typeerror; nothing crashes and objects stay usable.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local function err_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "call did not raise")
  assert.are.equal("string", type(err))
  return err
end

describe("argument errors", function()
  local server, client, cpeer, packet

  before_each(function()
    server = H.server(2, 2)
    client = enet.host_create(nil, 1, 2)
    cpeer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, 2)
    packet = enet.packet_create("x")
  end)

  after_each(function()
    client:destroy()
    server:destroy()
  end)

  it("wrong object types give exact 'X expected, got Y' messages", function()
    local cases = {
      { enet.host_service, { nil }, "bad argument #1 to 'host_service' (ENetHost expected, got nil)" },
      { enet.host_service, { 42 }, "bad argument #1 to 'host_service' (ENetHost expected, got number)" },
      { enet.host_service, { cpeer }, "bad argument #1 to 'host_service' (ENetHost expected, got ENetPeer)" },
      { enet.host_destroy, { "host" }, "bad argument #1 to 'host_destroy' (ENetHost expected, got string)" },
      { enet.host_connect, { {} }, "bad argument #1 to 'host_connect' (ENetHost expected, got table)" },
      { enet.peer_send, { nil, 0, packet }, "bad argument #1 to 'peer_send' (ENetPeer expected, got nil)" },
      { enet.peer_send, { server, 0, packet }, "bad argument #1 to 'peer_send' (ENetPeer expected, got ENetHost)" },
      { enet.peer_send, { cpeer, nil, packet }, "bad argument #2 to 'peer_send' (number expected, got nil)" },
      { enet.peer_send, { cpeer, "0", packet }, "bad argument #2 to 'peer_send' (number expected, got string)" },
      { enet.peer_send, { cpeer, 0, nil }, "bad argument #3 to 'peer_send' (ENetPacket expected, got nil)" },
      { enet.peer_send, { cpeer, 0, server }, "bad argument #3 to 'peer_send' (ENetPacket expected, got ENetHost)" },
      { enet.packet_data, { nil }, "bad argument #1 to 'packet_data' (ENetPacket expected, got nil)" },
      { enet.packet_data, { "x" }, "bad argument #1 to 'packet_data' (ENetPacket expected, got string)" },
      { enet.packet_destroy, { cpeer }, "bad argument #1 to 'packet_destroy' (ENetPacket expected, got ENetPeer)" },
      { enet.packet_create, { nil }, "bad argument #1 to 'packet_create' (string expected, got nil)" },
      { enet.packet_create, { {} }, "bad argument #1 to 'packet_create' (string expected, got table)" },
      { enet.packet_create, { "x", "reliable" }, "bad argument #2 to 'packet_create' (number expected, got string)" },
      { enet.host_service, { server, "soon" }, "bad argument #2 to 'host_service' (number expected, got string)" },
    }
    for i, case in ipairs(cases) do
      local f, args, expected = case[1], case[2], case[3]
      local ok, err = pcall(f, args[1], args[2], args[3])
      assert.is_false(ok, "case " .. i .. " did not raise")
      assert.are.equal(expected, err, "case " .. i)
    end
  end)

  it("out-of-range values name the function and argument", function()
    local addr = { host = H.LOOPBACK, port = H.port_of(server) }
    local cases = {
      { "host_create", 2, enet.host_create, { nil, 0 } },
      { "host_create", 2, enet.host_create, { nil, 4096 } },
      { "host_create", 3, enet.host_create, { nil, 1, 256 } },
      { "host_create", 3, enet.host_create, { nil, 1, -1 } },
      { "host_create", 4, enet.host_create, { nil, 1, 1, -1 } },
      { "host_create", 5, enet.host_create, { nil, 1, 1, 0, 2 ^ 32 } },
      { "host_create", 1, enet.host_create, { 42 } },
      { "host_create", 1, enet.host_create, { { host = 5, port = 0 } } },
      { "host_create", 1, enet.host_create, { { host = "127.0.0.1", port = 70000 } } },
      { "host_connect", 2, enet.host_connect, { client, nil } },
      { "host_connect", 2, enet.host_connect, { client, { host = H.LOOPBACK, port = 0 } } },
      { "host_connect", 3, enet.host_connect, { client, addr, 256 } },
      { "host_connect", 4, enet.host_connect, { client, addr, 1, -1 } },
      { "host_service", 2, enet.host_service, { server, -1 } },
      { "host_service", 2, enet.host_service, { server, 0 / 0 } },
      { "peer_send", 2, enet.peer_send, { cpeer, -1, packet } },
      { "peer_send", 2, enet.peer_send, { cpeer, 255, packet } },
      { "peer_send", 2, enet.peer_send, { cpeer, 1.5, packet } },
      { "packet_create", 2, enet.packet_create, { "x", 8 } },
      { "packet_create", 2, enet.packet_create, { "x", -1 } },
      { "packet_create", 2, enet.packet_create, { "x", 0.5 } },
    }
    for i, case in ipairs(cases) do
      local name, pos, f, args = case[1], case[2], case[3], case[4]
      local err = err_of(f, args[1], args[2], args[3], args[4], args[5])
      local prefix = ("bad argument #%d to '%s' ("):format(pos, name)
      assert.are.equal(prefix, err:sub(1, #prefix), "case " .. i .. ": " .. err)
      assert.are.equal(")", err:sub(-1), "case " .. i .. ": " .. err)
    end
  end)

  it("a method called with '.' instead of ':' is an argument error on #1", function()
    assert.are.equal(
      "bad argument #1 to 'host_service' (ENetHost expected, got number)",
      err_of(server.service, 10)
    )
    assert.are.equal(
      "bad argument #1 to 'peer_send' (ENetPeer expected, got number)",
      err_of(cpeer.send, 0, packet)
    )
    assert.are.equal(
      "bad argument #1 to 'host_connect' (ENetHost expected, got table)",
      err_of(client.connect, { host = H.LOOPBACK, port = 1 })
    )
    local err = err_of(packet.data)
    assert.are.equal("bad argument #1 to 'packet_data' (ENetPacket expected, got ", err:sub(1, 59))
  end)

  it("the error points at the calling line, like the standard library's", function()
    local line = debug.getinfo(1, "l").currentline + 2
    local ok, err = pcall(function()
      enet.host_service(nil) -- this line
    end)
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    local where, rest = err:match("^(.-:%d+): (.*)$")
    assert.is_string(where, err)
    assert.are.equal("errors_spec.lua:" .. line, where:match("[^/\\]*$"))
    assert.are.equal("bad argument #1 to 'host_service' (ENetHost expected, got nil)", rest)
  end)

  it("errors are strings that string functions can inspect", function()
    local ok, err = pcall(function()
      server:service("x")
    end)
    assert.is_false(ok)
    assert.are.equal("string", type(err))
    assert.is_not_nil(err:find("host_service", 1, true))
  end)

  it("objects stay usable after a failed call", function()
    pcall(enet.host_service, server, -5)
    pcall(enet.peer_send, cpeer, "bad", packet)
    pcall(enet.packet_create, "x", 1024)
    local ok = H.pump({ server, client }, H.all(H.seen("connect", server), H.seen("connect", client)))
    assert.is_true(ok)
    assert.are.equal(0, cpeer:send(0, packet))
    local event = H.wait_for({ server, client }, server, "receive")
    assert.are.equal("x", event.packet:data())
  end)

  it("the seed's optional arguments may be omitted or nil", function()
    local h = enet.host_create()
    assert.are.equal("userdata", type(h))
    local n = h:service(0)
    assert.are.equal(0, n)
    h:destroy()
    h = enet.host_create(nil, nil, nil, nil, nil)
    assert.are.equal("userdata", type(h))
    h:destroy()
    local p = enet.packet_create("d", nil)
    assert.are.equal("d", p:data())
    assert.are.equal(0, cpeer:send(0, p))
    local peer = client:connect({ host = H.LOOPBACK, port = H.port_of(server) })
    -- The client's only slot is taken, so this returns nil, message; but it did not raise.
    assert.is_nil(peer)
  end)
end)

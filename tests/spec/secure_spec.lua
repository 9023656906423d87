-- Secure mode (api.md section 6, docs/secure.md): netcode 1.02 connect tokens and encrypted
-- datagrams under ENet, through the Lua API.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

local KEY = ("0123456789abcdef"):rep(2)
local PROTOCOL = 0x1122334455

local function secure_server(peers, key)
  local server = assert(enet.host_create({ host = H.LOOPBACK, port = 0 }, peers or 4, 2, 0, 0,
    { secure = { private_key = key or KEY, protocol_id = PROTOCOL } }))
  return server, H.LOOPBACK .. ":" .. H.port_of(server)
end

local function token_for(address, fields)
  local spec = { private_key = KEY, protocol_id = PROTOCOL, client_id = 7, servers = { address } }
  for k, v in pairs(fields or {}) do
    spec[k] = v
  end
  return assert(enet.connect_token(spec))
end

-- A secure connection: server, client host, client peer, server-side peer.
local function secure_pair(fields)
  local server, address = secure_server()
  local client = assert(enet.host_create(nil, 1, 2))
  local peer = assert(client:connect(address, 2, 5, token_for(address, fields)))
  local ok, log = H.pump({ server, client }, H.all(H.seen("connect", server), H.seen("connect", client)), 10000)
  assert(ok, "secure connection did not complete")
  return server, client, peer, H.select(log, "connect", server)[1].event.peer
end

local function wait_disconnect(hosts, host, max_ms)
  return H.wait_for(hosts, host, "disconnect", max_ms or 10000)
end

describe("secure mode", function()
  it("connect_token makes a 2048-byte public token and checks its arguments", function()
    local token = token_for("127.0.0.1:1")
    assert.are.equal(2048, #token)
    assert.are_not.equal(token, token_for("127.0.0.1:1")) -- fresh nonce and key each time
    local err = H.error_of(enet.connect_token, { private_key = "short", protocol_id = 1, client_id = 1,
      servers = { "127.0.0.1:1" } })
    assert.is_truthy(err:find("bad argument #1 to 'connect_token'", 1, true), err)
    err = H.error_of(enet.connect_token, { private_key = KEY, protocol_id = 1, client_id = 1, servers = {} })
    assert.is_truthy(err:find("servers", 1, true), err)
  end)

  it("connects, queues sends made while connecting, and exchanges data both ways", function()
    local server, address = secure_server()
    local client = assert(enet.host_create(nil, 1, 2))
    local peer = assert(client:connect(address, 2, 5, token_for(address, { user_data = "hello" })))
    assert.are.equal(0, peer:send(0, "queued 1"))
    assert.are.equal(0, peer:send(1, enet.packet_create("queued 2")))
    local got = {}
    local speer
    H.pump({ server, client }, function() return #got >= 2 and speer end, 10000, function(r)
      if r.host == server and r.kind == "connect" then
        speer = r.event.peer
        assert.are.equal(5, r.event.data)
      elseif r.host == server and r.kind == "receive" then
        got[#got + 1] = r.event.packet:data()
      end
    end)
    assert.are.same({ "queued 1", "queued 2" }, got)
    assert.are.equal(7, speer:client_id())
    assert.are.equal(256, #speer:user_data())
    assert.are.equal("hello" .. ("\0"):rep(251), speer:user_data())
    assert.are.equal(0, speer:send(0, H.binary(5000)))
    local ev = H.wait_for({ server, client }, client, "receive")
    assert.are.equal(H.binary(5000), ev.packet:data())
    -- The client side of a secure connection and plain connections have no token values.
    assert.is_nil(peer:client_id())
    assert.is_nil(peer:user_data())
    client:destroy()
    server:destroy()
  end)

  it("client ids beyond 2^53 come back as 16 hex digits", function()
    local server, client, _, speer = secure_pair({ client_id = "fedcba9876543210" })
    assert.are.equal("fedcba9876543210", speer:client_id())
    client:destroy()
    server:destroy()
  end)

  it("a graceful disconnect reaches both sides with reason 'disconnect'", function()
    local server, client, peer, speer = secure_pair()
    local mine, theirs = H.disconnect_pair({ server, client }, client, server, peer, 9)
    assert.are.equal("disconnect", mine.reason)
    assert.are.equal("disconnect", theirs.reason)
    assert.are.equal(9, theirs.data)
    assert.is_true(rawequal(speer, theirs.peer))
    client:destroy()
    server:destroy()
  end)

  it("a server-side reset ends the client's connection through netcode's disconnect", function()
    local server, client, peer = secure_pair()
    assert.are.equal(0, server:peers()[1]:reset())
    local ev = wait_disconnect({ server, client }, client)
    assert.is_true(rawequal(peer, ev.peer))
    assert.are.equal("disconnect", ev.reason)
    client:destroy()
    server:destroy()
  end)

  it("plain ENet traffic to a secure server is dropped and counted, and takes no peer slot", function()
    local server, address = secure_server(1)
    local plain = assert(enet.host_create(nil, 1, 2))
    local before = server:statistics().dropped_insecure
    local peer = assert(plain:connect(address, 2))
    local _, log = H.pump({ server, plain }, nil, 500)
    assert.are.equal(0, #H.select(log, "connect"))
    assert.is_true(server:statistics().dropped_insecure > before)
    assert.are.equal("connecting", peer:state())
    -- The one slot is still free for a real client.
    local client = assert(enet.host_create(nil, 1, 2))
    assert(client:connect(address, 2, 0, token_for(address)))
    assert.is_true((H.pump({ server, client }, H.seen("connect", server), 10000)))
    plain:destroy()
    client:destroy()
    server:destroy()
  end)

  it("a token the server cannot open ends in a timeout on the client, never a connection", function()
    local server, address = secure_server(4, ("x"):rep(32))
    local client = assert(enet.host_create(nil, 1, 2))
    local peer = assert(client:connect(address, 2, 0, token_for(address, { timeout = 1 })))
    local ok, log = H.pump({ server, client }, H.seen("disconnect", client), 10000)
    assert.is_true(ok)
    assert.are.equal(0, #H.select(log, "connect"))
    local ev = H.select(log, "disconnect", client)[1].event
    assert.is_true(rawequal(peer, ev.peer))
    assert.are.equal("timeout", ev.reason)
    assert.are.equal("disconnected", peer:state())
    client:destroy()
    server:destroy()
  end)

  it("a full server denies: the client's disconnect says 'denied'", function()
    local server, address = secure_server(1)
    local first = assert(enet.host_create(nil, 1, 2))
    assert(first:connect(address, 2, 0, token_for(address, { client_id = 1 })))
    assert.is_true((H.pump({ server, first }, H.seen("connect", server), 10000)))
    local second = assert(enet.host_create(nil, 1, 2))
    local peer = assert(second:connect(address, 2, 0, token_for(address, { client_id = 2 })))
    local ev = wait_disconnect({ server, first, second }, second)
    assert.is_true(rawequal(peer, ev.peer))
    assert.are.equal("denied", ev.reason)
    first:destroy()
    second:destroy()
    server:destroy()
  end)

  it("host_connect refuses a token that does not list the address, or has expired", function()
    local server, address = secure_server()
    local client = assert(enet.host_create(nil, 1, 2))
    local peer, err = client:connect(address, 2, 0, token_for("127.0.0.1:1"))
    assert.is_nil(peer)
    assert.is_truthy(err:find("not one of the connect token's servers", 1, true), err)
    local token = token_for(address, { expire = 1 })
    local until_s = os.time() + 2
    H.pump({ server, client }, function() return os.time() > until_s end, 5000)
    peer, err = client:connect(address, 2, 0, token)
    assert.is_nil(peer)
    assert.is_truthy(err:find("expired", 1, true), err)
    err = H.error_of(client.connect, client, address, 2, 0, "not a token")
    assert.is_truthy(err:find("bad argument #5 to 'host_connect'", 1, true), err)
    client:destroy()
    server:destroy()
  end)

  it("a secure host connects only with a token; options are checked", function()
    local server, address = secure_server()
    local other = secure_server()
    local peer, err = other:connect(address, 2)
    assert.is_nil(peer)
    assert.is_truthy(err:find("connect token", 1, true), err)
    err = H.error_of(enet.host_create, nil, 1, 1, 0, 0, { secure = { private_key = KEY, protocol_id = 1 }, mtu = 1400 })
    assert.is_truthy(err:find("options.mtu must be at most 1200", 1, true), err)
    err = H.error_of(enet.host_create, nil, 1, 1, 0, 0, { secure = { private_key = "x" } })
    assert.is_truthy(err:find("bad argument #6 to 'host_create'", 1, true), err)
    server:destroy()
    other:destroy()
  end)

  it("a client host holds a secure and a plain connection at once", function()
    local secure, address = secure_server()
    local plain = H.server(4, 2)
    local client = assert(enet.host_create(nil, 2, 2))
    local sp = assert(client:connect(address, 2, 0, token_for(address)))
    local pp = assert(client:connect({ host = H.LOOPBACK, port = H.port_of(plain) }, 2))
    assert.are.equal(0, sp:send(0, "to the secure one"))
    assert.are.equal(0, pp:send(0, "to the plain one"))
    local got = {}
    H.pump({ secure, plain, client }, function() return got.s and got.p end, 10000, function(r)
      if r.kind == "receive" then
        got[r.host == secure and "s" or "p"] = r.event.packet:data()
      end
    end)
    assert.are.equal("to the secure one", got.s)
    assert.are.equal("to the plain one", got.p)
    client:destroy()
    secure:destroy()
    plain:destroy()
  end)
end)

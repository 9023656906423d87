-- lua-enet compatibility: misuse raises where lua-enet raises, with its wording, at the
-- caller's line; runtime failures return what lua-enet returns.

local C = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "compat_helper.lua")
local enet = C.enet

local function raises(pattern, f, ...)
  local err = C.error_of(f, ...)
  assert.is_string(err, "expected an error matching " .. pattern)
  assert.truthy(err:find(pattern, 1, true), err)
  return err
end

describe("lua-enet compat: address errors", function()
  it("raise for an address without a port or a host", function()
    raises("Missing port in address", enet.host_create, "localhost")
    raises("Missing port in address", enet.host_create, "127.0.0.1:")
    raises("Missing port in address", enet.host_create, "[::1]")
    raises("Failed to parse address", enet.host_create, ":6789")
    raises("Invalid port in address", enet.host_create, "127.0.0.1:70000")
    raises("string expected, got table", enet.host_create, {})
  end)

  it("raise for a name that does not resolve", function()
    -- An unknown interface fails inside the resolver without sending a query anywhere.
    raises("Failed to resolve host name", enet.host_create, "[fe80::1%nosuchif0]:5000")
    local client = enet.host_create()
    assert.truthy(C.error_of(client.connect, client, "[fe80::1%nosuchif0]:5000"))
    client:destroy()
  end)

  it("connect raises for a bad address and when no peer slot is free", function()
    local server = C.server()
    local client = enet.host_create(nil, 1)
    raises("Missing port in address", client.connect, client, "127.0.0.1")
    raises("string expected, got nil", client.connect, client)
    raises("port must be between 1 and 65535", client.connect, client, "127.0.0.1:*")
    client:connect(server:get_socket_address())
    assert.truthy(C.error_of(client.connect, client, server:get_socket_address()))
    server:destroy(); client:destroy()
  end)
end)

describe("lua-enet compat: argument errors", function()
  local server, client, cpeer

  before_each(function()
    server, client, cpeer = C.connected_pair()
  end)

  after_each(function()
    server:destroy()
    client:destroy()
  end)

  it("name the method and argument as luaL_check* does", function()
    raises("bad argument #1 to 'service' (number expected, got string)", client.service, client, "soon")
    raises("bad argument #2 to 'host_create' (number expected, got boolean)", enet.host_create, nil, true)
    raises("bad argument #1 to 'send' (string expected, got nil)", cpeer.send, cpeer)
    raises("bad argument #2 to 'send' (number expected, got table)", cpeer.send, cpeer, "x", {})
    raises("bad argument #1 to 'channel_limit' (number expected, got nil)", server.channel_limit, server)
    raises("bad argument #2 to 'bandwidth_limit' (number expected, got nil)", server.bandwidth_limit, server, 1)
    raises("bad argument #3 to 'throttle_configure' (number expected, got nil)",
      cpeer.throttle_configure, cpeer, 1, 2)
    raises("bad argument #1 to 'get_peer' (Invalid peer index)", server.get_peer, server, 0)
    raises("bad argument #1 to 'get_peer' (Invalid peer index)", server.get_peer, server, 9)
  end)

  it("raise for an unknown packet flag", function()
    raises("Unknown packet flag: fast", cpeer.send, cpeer, "x", 0, "fast")
    raises("Unknown packet flag: fast", server.broadcast, server, "x", 0, "fast")
  end)

  it("raise when a method gets the wrong self", function()
    raises("calling 'service' on bad self (enet_host expected, got nil)", client.service)
    raises("calling 'send' on bad self (enet_peer expected, got enet_host)", cpeer.send, client, "x")
    raises("calling 'connect' on bad self (enet_host expected, got enet_peer)", client.connect, cpeer, "a:1")
  end)

  it("point at the caller's line", function()
    -- Not tail calls: those leave no caller frame to point at, in any Lua.
    local err = C.error_of(function() local _ = cpeer:send(nil) end)
    assert.truthy(err:match("compat_errors_spec%.lua:%d+: bad argument"), err)
    err = C.error_of(function() local _ = enet.host_create("nohost") end)
    assert.truthy(err:match("compat_errors_spec%.lua:%d+: Missing port"), err)
  end)

  it("accept numeric strings and floats where lua-enet takes numbers", function()
    assert.are.equal(0, cpeer:send("x", "1"))
    assert.are.equal(0, cpeer:send("x", 1.7))
    assert.are.same({ 7, 5000, 30000 }, { cpeer:timeout("7") })
  end)
end)

describe("lua-enet compat: destroyed hosts", function()
  it("raise on use, except destroy", function()
    local host = enet.host_create()
    host:destroy()
    raises("host has been destroyed", host.service, host)
    raises("host has been destroyed", host.connect, host, "127.0.0.1:1")
    raises("host has been destroyed", host.peer_count, host)
    assert.is_nil(C.error_of(host.destroy, host))
  end)
end)

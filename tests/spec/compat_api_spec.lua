-- lua-enet compatibility: the module's shape, loading, object types and tostring forms.

local C = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "compat_helper.lua")
local enet = C.enet

local HOST_METHODS = {
  "service", "check_events", "compress_with_range_coder", "connect", "flush", "broadcast",
  "channel_limit", "bandwidth_limit", "get_socket_address", "socket_get_address", "destroy",
  "total_sent_data", "total_received_data", "service_time", "peer_count", "get_peer",
}
local PEER_METHODS = {
  "disconnect", "disconnect_now", "disconnect_later", "reset", "ping", "receive", "send",
  "throttle_configure", "ping_interval", "timeout", "index", "state", "connect_id",
  "round_trip_time", "last_round_trip_time",
}

describe("lua-enet compat: module", function()
  it("has lua-enet's module functions", function()
    assert.is_function(enet.host_create)
    assert.is_function(enet.linked_version)
  end)

  it("linked_version is the ENet version rusty_enet ports", function()
    assert.are.equal("1.3.18", enet.linked_version())
  end)

  it("is one table per Lua state, loadable beside module_enet", function()
    local core = require("module_enet")
    assert.is_table(core)
    assert.are.equal(enet, require("module_enet.compat"))
    package.loaded["module_enet.compat"] = nil
    assert.are.equal(enet, require("module_enet.compat"))
  end)

  it("installs as `enet` with the documented preload line", function()
    assert.is_nil(package.loaded.enet)
    package.preload.enet = function() return require("module_enet.compat") end
    local ok, got = pcall(require, "enet")
    package.preload.enet, package.loaded.enet = nil, nil
    assert.is_true(ok, got)
    assert.are.equal(enet, got)
  end)

  it("hosts and peers are userdata with every lua-enet method", function()
    local server, client, cpeer, speer = C.connected_pair()
    assert.are.equal("userdata", type(server))
    assert.are.equal("userdata", type(cpeer))
    for _, name in ipairs(HOST_METHODS) do
      assert.is_function(server[name], "host:" .. name)
    end
    for _, name in ipairs(PEER_METHODS) do
      assert.is_function(speer[name], "peer:" .. name)
    end
    assert.has_error(function() cpeer.custom_field = 1 end)
    server:destroy()
    client:destroy()
  end)

  it("tostring(peer) is the remote's ip:port, on both ends", function()
    local server, client, cpeer, speer = C.connected_pair()
    assert.are.equal(server:get_socket_address(), tostring(cpeer))
    local port = client:get_socket_address():match(":(%d+)$")
    assert.are.equal("127.0.0.1:" .. port, tostring(speer))
    server:destroy()
    client:destroy()
  end)

  it("tostring(host) is Lua's default for lua-enet's enet_host type", function()
    local host = enet.host_create()
    local text = tostring(host)
    if _VERSION == "Lua 5.1" or _VERSION == "Lua 5.2" then
      assert.truthy(text:match("^userdata: "), text)
    else
      assert.truthy(text:match("^enet_host: "), text)
    end
    host:destroy()
  end)

  it("events are plain tables shaped as lua-enet's", function()
    local server, client, cpeer, speer, info = C.connected_pair({ data = 7 })
    local ev = info.server_connect
    assert.are.equal("connect", ev.type)
    assert.are.equal(7, ev.data)
    assert.is_nil(ev.channel)
    assert.are.equal(0, cpeer:send("payload", 2))
    local recv = C.wait_for({ server, client }, server, "receive")
    assert.are.same({ type = "receive", peer = speer, data = "payload", channel = 2 }, recv)
    speer:disconnect(9)
    local gone = C.wait_for({ server, client }, client, "disconnect")
    assert.are.equal("disconnect", gone.type)
    assert.are.equal(cpeer, gone.peer)
    assert.are.equal(9, gone.data)
    assert.are.equal("disconnect", gone.reason)
    server:destroy()
    client:destroy()
  end)
end)

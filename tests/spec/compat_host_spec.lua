-- lua-enet compatibility: enet.host_create and the host methods, as lua-enet documents them.

local C = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "compat_helper.lua")
local enet = C.enet

local function port_of(host)
  return tonumber(host:get_socket_address():match(":(%d+)$"))
end

describe("lua-enet compat: host_create", function()
  it("with no address makes a client host on an ephemeral port", function()
    local host = assert(enet.host_create())
    assert.is_true(port_of(host) > 0)
    host:destroy()
  end)

  it("binds ip:*, *:port and hostname:port forms", function()
    local a = assert(enet.host_create("127.0.0.1:*"))
    assert.truthy(a:get_socket_address():match("^127%.0%.0%.1:%d+$"))
    local b = assert(enet.host_create("*:*"))
    assert.truthy(b:get_socket_address():match("^0%.0%.0%.0:%d+$"))
    local c = assert(enet.host_create("localhost:*"))
    assert.truthy(c:get_socket_address():match("^127%.0%.0%.1:%d+$"))
    local port = port_of(a)
    a:destroy()
    local d = assert(enet.host_create("127.0.0.1:" .. port))
    assert.are.equal("127.0.0.1:" .. port, d:get_socket_address())
    b:destroy(); c:destroy(); d:destroy()
  end)

  it("returns nil and a message when the address is taken", function()
    local a = C.server()
    local b, err = enet.host_create(a:get_socket_address())
    assert.is_nil(b)
    assert.truthy(err:match("^enet: failed to create host"), err)
    a:destroy()
  end)

  it("defaults to 64 peers and accepts other counts", function()
    local a = enet.host_create()
    assert.are.equal(64, a:peer_count())
    local b = enet.host_create(nil, 3)
    assert.are.equal(3, b:peer_count())
    local c, err = enet.host_create(nil, 5000)
    assert.is_nil(c)
    assert.is_string(err)
    a:destroy(); b:destroy()
  end)

  it("defaults to one channel: the connection gets only channel 0", function()
    local server = assert(enet.host_create("127.0.0.1:*"))
    local client = assert(enet.host_create(nil, 1, 4))
    local cpeer = client:connect(server:get_socket_address(), 4)
    C.wait_for({ server, client }, client, "connect")
    assert.are.equal(-1, (cpeer:send("no such channel", 1)))
    assert.are.equal(0, cpeer:send("channel zero", 0))
    local ev = C.wait_for({ server, client }, server, "receive")
    assert.are.equal(0, ev.channel)
    server:destroy(); client:destroy()
  end)

  it("binds IPv6 loopback with the bracket form", function()
    local server = enet.host_create("[::1]:*")
    if not server then
      pending("no IPv6 loopback on this machine")
      return
    end
    assert.truthy(server:get_socket_address():match("^%[::1%]:%d+$"))
    local client = enet.host_create()
    local cpeer = client:connect(server:get_socket_address(), 1)
    local ev = C.wait_for({ server, client }, server, "connect")
    assert.truthy(tostring(ev.peer):match("^%[::1%]:%d+$"))
    assert.are.equal(server:get_socket_address(), tostring(cpeer))
    server:destroy(); client:destroy()
  end)
end)

describe("lua-enet compat: host methods", function()
  it("connect defaults to one channel and data 0", function()
    local server = C.server(4, 4)
    local client = enet.host_create(nil, 1, 4)
    local cpeer = client:connect(server:get_socket_address())
    local ok, log = C.pump({ server, client }, C.all(C.seen("connect", server), C.seen("connect", client)))
    assert.is_true(ok)
    assert.are.equal(0, C.select(log, "connect", server)[1].data)
    assert.are.equal(-1, (cpeer:send("x", 1)))
    assert.are.equal(0, (cpeer:send("x", 0)))
    server:destroy(); client:destroy()
  end)

  it("service() polls and returns nothing when idle", function()
    local host = enet.host_create()
    assert.are.equal(0, select("#", host:service()))
    assert.are.equal(0, select("#", host:service(1)))
    assert.are.equal(0, select("#", host:service("1")))
    assert.are.equal(0, select("#", host:check_events()))
    host:destroy()
  end)

  it("flush sends queued commands without a service call", function()
    local server = C.server()
    local client = enet.host_create()
    client:connect(server:get_socket_address())
    client:flush()
    -- Only the server is serviced: the connect request got out through flush alone (the
    -- server's connect event needs the client's reply, so count bytes instead).
    for _ = 1, 500 do
      server:service(10)
      if server:total_received_data() > 0 then break end
    end
    assert.is_true(server:total_received_data() > 0)
    assert.is_true(client:total_sent_data() > 0)
    server:destroy(); client:destroy()
  end)

  it("broadcast queues a packet to every connected peer", function()
    local server = C.server(4, 2)
    local _, c1 = C.connected_pair({ server = server, channels = 2 })
    local _, c2 = C.connected_pair({ server = server, channels = 2 })
    server:broadcast("to all", 1, "unsequenced")
    server:broadcast("reliably")
    local hosts = { server, c1, c2 }
    local ok, log = C.pump(hosts, C.all(C.seen("receive", c1, 2), C.seen("receive", c2, 2)))
    assert.is_true(ok)
    for _, c in ipairs({ c1, c2 }) do
      local got = {}
      for _, ev in ipairs(C.select(log, "receive", c)) do got[ev.data] = ev.channel end
      assert.are.same({ ["to all"] = 1, reliably = 0 }, got)
    end
    server:destroy(); c1:destroy(); c2:destroy()
  end)

  it("channel_limit and bandwidth_limit take numbers and return nothing", function()
    local host = C.server()
    assert.are.equal(0, select("#", host:channel_limit(2)))
    assert.are.equal(0, select("#", host:channel_limit(0)))
    assert.are.equal(0, select("#", host:bandwidth_limit(100000, 50000)))
    assert.are.equal(0, select("#", host:bandwidth_limit(0, 0)))
    host:destroy()
  end)

  it("compress_with_range_coder reports that compression is not enabled", function()
    local host = enet.host_create()
    assert.is_false(host:compress_with_range_coder())
    host:destroy()
  end)

  it("counts sent and received bytes", function()
    local server, client, cpeer = C.connected_pair()
    local sent, received = client:total_sent_data(), server:total_received_data()
    assert.is_true(sent > 0)
    assert.is_true(received > 0)
    cpeer:send(string.rep("x", 1000))
    C.wait_for({ server, client }, server, "receive")
    assert.is_true(client:total_sent_data() >= sent + 1000)
    assert.is_true(server:total_received_data() >= received + 1000)
    server:destroy(); client:destroy()
  end)

  it("service_time is a non-decreasing millisecond clock", function()
    local host = enet.host_create()
    local t1 = host:service_time()
    host:service(5)
    local t2 = host:service_time()
    assert.is_number(t1)
    assert.is_true(t2 >= t1 + 4, t1 .. " -> " .. t2)
    host:destroy()
  end)

  it("get_peer hands out every slot, connected or not", function()
    local server, client, _, speer = C.connected_pair({ peers = 3 })
    assert.are.equal(speer, server:get_peer(speer:index()))
    for i = 1, 3 do
      local p = server:get_peer(i)
      assert.are.equal("userdata", type(p))
      assert.are.equal(i, p:index())
      if i ~= speer:index() then assert.are.equal("disconnected", p:state()) end
    end
    assert.are.equal(server:get_peer(1), server:get_peer(1))
    server:destroy(); client:destroy()
  end)

  it("get_peer's handle on a free slot becomes the next connection there", function()
    local server = C.server(1)
    local slot = server:get_peer(1)
    assert.are.equal("disconnected", slot:state())
    local _, client, _, speer = C.connected_pair({ server = server })
    assert.are.equal(slot, speer)
    assert.are.equal("connected", slot:state())
    server:destroy(); client:destroy()
  end)

  it("destroy frees the port, is idempotent, and later calls raise", function()
    local server, client, _, speer = C.connected_pair()
    local address = server:get_socket_address()
    server:destroy()
    server:destroy()
    assert.truthy(C.error_of(server.service, server, 0))
    assert.truthy(C.error_of(server.get_socket_address, server))
    assert.are.equal("disconnected", speer:state())
    assert.are.equal(-1, (speer:send("gone")))
    -- The client is told at once: a disconnect event, not a timeout.
    local ev = C.wait_for({ client }, client, "disconnect")
    assert.are.equal("disconnect", ev.type)
    local again = assert(enet.host_create(address))
    again:destroy(); client:destroy()
  end)

  it("a host nobody references is destroyed by the collector", function()
    local address
    do
      local host = C.server()
      address = host:get_socket_address()
      host = nil
    end
    C.gc()
    local again, err = enet.host_create(address)
    assert.is_truthy(again, err)
    again:destroy()
  end)
end)

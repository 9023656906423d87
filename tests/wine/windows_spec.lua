-- Windows variants, under Wine (ci/suites.d/wine.sh), of the specs tests/wine/excluded.lua
-- leaves out:
--   - interface names: Windows' if_nametoindex takes NDIS names ("loopback_0", "ethernet_32768";
--     Wine numbers them from 1: "loopback_1"), not Linux's "lo";
--   - host_service's wait (WSAPoll) and host_fd (a SOCKET): the Rust tests time them on Linux
--     only. On Windows os.clock() is wall time (the CRT's clock() counts from process start), so
--     it times the waits here;
--   - name resolution through a real DNS server: tests/spec/dns_resolve_spec.lua starts
--     tests/dns_server.py itself through a POSIX shell, which a Windows Lua cannot; wine.sh
--     starts two (one answering, one --silent) on the Linux side and passes their ports in
--     DNS_PORT and DNS_SILENT_PORT. The lookups run through tokio's Windows sockets (IOCP).

local H = dofile("tests/spec/helper.lua")
local enet = H.enet

local dns_port = tonumber(os.getenv("DNS_PORT") or "")
local silent_port = tonumber(os.getenv("DNS_SILENT_PORT") or "")

local function configure(server_port, timeout)
  assert(enet.resolver_configure({ nameservers = { "127.0.0.1:" .. server_port }, timeout = timeout or 3000 }))
end

describe("host_service on Windows", function()
  it("waits about the timeout it is given when nothing arrives", function()
    local host = assert(enet.host_create("127.0.0.1:0", 1, 1))
    for _, ms in ipairs({ 0, 1, 50, 300, 1000 }) do
      local t0 = os.clock()
      assert.are.equal(0, host:service(ms))
      local took = (os.clock() - t0) * 1000
      -- Never early; late by at most a busy machine's scheduling delay.
      assert.is_true(took >= ms - 1 and took <= ms + 750, ("service(%d) took %.1f ms"):format(ms, took))
    end
    host:destroy()
  end)

  it("wakes from a long wait when a datagram arrives", function()
    local server = assert(enet.host_create("127.0.0.1:0", 1, 1))
    -- Another process (this interpreter, arg[-1]) connects after 300 ms; cmd.exe keeps inner
    -- quotes when the whole command is quoted once more.
    local command = ('""%s" "tests/wine/wake_sender.lua" %d 300"'):format(H.interpreter(), H.port_of(server))
    local sender = assert(io.popen(command, "r"))
    local t0 = os.clock()
    local n, event = server:service(15000)
    local took = os.clock() - t0
    local disconnect
    if n == 1 then
      event.peer:send(0, enet.packet_create("hello"))
      disconnect = H.wait_for({ server }, server, "disconnect", 10000)
    end
    local output = sender:read("*a")
    sender:close()
    assert.are.equal(1, n, "no event in 15 s; " .. output)
    assert.are.equal(enet.EVENT_TYPE_CONNECT, event.type)
    -- The sender starts, waits 300 ms and connects: well under the 15 s the call may wait.
    assert.is_true(took < 10, ("the connect came after %.1f s"):format(took))
    assert.are.equal("disconnect", disconnect.reason)
    assert.truthy(output:find("sender: connected, received hello, disconnected", 1, true), output)
    server:destroy()
  end)
end)

describe("host_fd on Windows", function()
  it("is the host's SOCKET handle, and nil once the host is destroyed", function()
    local a = assert(enet.host_create("127.0.0.1:0", 1, 1))
    local b = assert(enet.host_create("[::1]:0", 1, 1))
    local fa, fb = a:fd(), b:fd()
    assert.is_number(fa)
    assert.is_true(fa > 0 and fa == math.floor(fa))
    assert.are_not.equal(fa, fb)
    local ok, ffi = pcall(require, "ffi")
    if ok then
      -- LuaJIT: ask Winsock which port the handle is bound to.
      ffi.cdef([[
        int getsockname(uintptr_t s, void *name, int *namelen);
        unsigned short ntohs(unsigned short v);
      ]])
      local ws2 = ffi.load("ws2_32")
      for _, pair in ipairs({ { a, fa }, { b, fb } }) do
        local storage = ffi.new("uint8_t[128]")
        local len = ffi.new("int[1]", 128)
        assert.are.equal(0, ws2.getsockname(pair[2], storage, len))
        local port = ws2.ntohs(ffi.cast("unsigned short *", storage + 2)[0])
        assert.are.equal(H.port_of(pair[1]), port)
      end
    end
    a:destroy()
    b:destroy()
    local fd, err = a:fd()
    assert.is_nil(fd)
    assert.is_string(err)
  end)
end)

describe("interface names on Windows", function()
  local function one(name)
    local list = assert(enet.address_resolve(name))
    assert.are.equal(1, #list)
    return list[1]
  end

  it("keeps the scope id of a link-local address, by number or NDIS interface name", function()
    -- Wine names its loopback "loopback_1" (index 1); Windows itself "loopback_0".
    assert.are.same({ host = "fe80::1", port = 0, sin6_scope_id = 1 }, one("fe80::1%loopback_1"))
    assert.are.same({ host = "fe80::1", port = 9, sin6_scope_id = 1 }, one("[fe80::1%1]:9"))
    local t = { host = "fe80::2", port = 3, sin6_scope_id = 7 }
    assert.are.same(t, one(t))
  end)

  it("refuses Linux's interface names", function()
    local list, err = enet.address_resolve("fe80::1%lo")
    assert.is_nil(list)
    assert.truthy(err:find("unknown network interface 'lo'", 1, true), err)
  end)
end)

describe("system resolver configuration on Windows", function()
  it("reads the system configuration and answers localhost without a query", function()
    -- No nameservers given: hickory reads Windows' own configuration (the registry).
    assert.is_true(enet.resolver_configure())
    assert.are.same(
      { { host = "127.0.0.1", port = 5 }, { host = "::1", port = 5, sin6_scope_id = 0 } },
      assert(enet.address_resolve("localhost:5"))
    )
  end)
end)

describe("dns on Windows", function()
  it("has the test DNS servers' ports", function()
    assert.is_number(dns_port, "DNS_PORT is not set")
    assert.is_number(silent_port, "DNS_SILENT_PORT is not set")
  end)

  if not (dns_port and silent_port) then
    return
  end

  before_each(function()
    configure(dns_port)
  end)

  teardown(function()
    enet.resolver_configure() -- wine.sh stops the servers
  end)

  it("resolves A, AAAA and both, in the configured order", function()
    assert.are.same({ { host = "127.0.0.1", port = 0 } }, assert(enet.address_resolve("v4.test")))
    assert.are.same({ { host = "::1", port = 6789, sin6_scope_id = 0 } }, assert(enet.address_resolve("v6.test:6789")))
    local list = assert(enet.address_resolve("both.test"))
    assert.are.equal(2, #list)
    assert.are.equal("127.0.0.1", list[1].host)
    assert(enet.resolver_configure({ nameservers = { "127.0.0.1:" .. dns_port }, prefer = "ipv6" }))
    assert.are.equal("::1", assert(enet.address_resolve("both.test"))[1].host)
  end)

  it("connects to a name", function()
    local server = assert(enet.host_create("[::]:0", 2, 1))
    local client = assert(enet.host_create(nil, 1, 1))
    local peer = assert(client:connect("v6.test:" .. H.port_of(server), 1))
    H.wait_for({ server, client }, client, "connect")
    assert.are.equal("::1", peer:address().host)
    client:destroy()
    server:destroy()
  end)

  it("fails at once on NXDOMAIN and on names without addresses", function()
    local t0 = os.time()
    local list, err = enet.address_resolve("missing.test")
    assert.is_nil(list)
    assert.truthy(err:find("no such host"), err)
    list, err = enet.address_resolve("nodata.test")
    assert.is_nil(list)
    assert.truthy(err:find("no addresses"), err)
    assert.is_true(os.time() - t0 <= 1, "took " .. (os.time() - t0) .. " s")
  end)

  it("times out within the configured time when the server never answers", function()
    configure(silent_port, 300)
    local t0 = os.time()
    local list, err = enet.address_resolve("v4.test")
    assert.is_nil(list)
    assert.truthy(err:find("timed out after 300 ms"), err)
    assert.is_true(os.time() - t0 <= 2, "took " .. (os.time() - t0) .. " s")
  end)

  it("resolves off the caller's thread with address_resolve_start", function()
    local req = enet.address_resolve_start("both.test:99")
    local idle = assert(enet.host_create(nil, 1, 1))
    local list, err
    local give_up = os.time() + 5
    for _ = 1, 1000 do
      list, err = req:result()
      if list or err or os.time() > give_up then
        break
      end
      idle:service(5)
    end
    idle:destroy()
    assert.is_table(list, err)
    assert.are.equal(2, #list)
    assert.are.equal(99, list[1].port)
  end)
end)

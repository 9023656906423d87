-- The examples of seed-api.md, each run as written (only the fixed port 6789 becomes an
-- ephemeral one, and infinite loops are bounded), plus the seed's server and client as two
-- separate processes of this interpreter.

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

-- Collects what a snippet prints.
local function printer()
  local lines = {}
  return lines, function(...)
    local parts = {}
    for i = 1, select("#", ...) do
      parts[i] = tostring((select(i, ...)))
    end
    lines[#lines + 1] = table.concat(parts, "\t")
  end
end

describe("seed example", function()
  it("initialize returns 0 and prints the success branch", function()
    local lines, print = printer()
    local result = enet.initialize()
    if result == 0 then
      print("ENet initialized successfully")
    else
      print("ENet initialization failed")
    end
    assert.are.equal(0, result)
    assert.are.same({ "ENet initialized successfully" }, lines)
  end)

  it("deinitialize after initialize does not raise, any number of times, in any order", function()
    local lines, print = printer()
    enet.initialize()
    -- Perform networking operations
    enet.deinitialize()
    print("ENet deinitialized")
    assert.are.same({ "ENet deinitialized" }, lines)
    -- Any number of times, in any order (api.md section 2).
    enet.deinitialize()
    assert.are.equal(0, enet.initialize())
    assert.are.equal(0, enet.initialize())
    enet.deinitialize()
  end)

  it("host_create with an address table, 32 peers, 2 channels gives a server host", function()
    enet.initialize()
    local host = enet.host_create({ host = "0.0.0.0", port = 0 }, 32, 2)
    assert.are.equal("userdata", type(host))
    assert.are.equal("0.0.0.0", host:address().host)
    assert.is_true(host:address().port > 0)
    assert.are.equal(2, host:channel_limit())
    enet.host_destroy(host)
  end)

  it("host_destroy destroys the host (its port can be bound again)", function()
    enet.initialize()
    local host = enet.host_create({ host = "0.0.0.0", port = 0 }, 32, 2)
    local port = host:address().port
    -- While it lives, the port is taken.
    local again, err = enet.host_create({ host = "0.0.0.0", port = port }, 1, 1)
    assert.is_nil(again)
    assert.are.equal("string", type(err))
    enet.host_destroy(host)
    again = enet.host_create({ host = "0.0.0.0", port = port }, 1, 1)
    assert.are.equal("userdata", type(again))
    again:destroy()
  end)

  it("host_connect from a client host created with nil returns a peer", function()
    enet.initialize()
    local server = H.server(1, 2)
    local host = enet.host_create(nil, 1, 2) -- Client host
    local peer = enet.host_connect(host, { host = "127.0.0.1", port = H.port_of(server) }, 2)
    assert.are.equal("userdata", type(peer))
    assert.matches("^ENetPeer%(", tostring(peer))
    local ok = H.pump({ server, host }, H.all(H.seen("connect", server), H.seen("connect", host)))
    assert.is_true(ok)
    host:destroy()
    server:destroy()
  end)

  it("host_service loop (bounded) reports connect, receive with data, and disconnect", function()
    enet.initialize()
    local lines, print = printer()
    local host = enet.host_create({ host = "127.0.0.1", port = 0 }, 32, 2)
    local client = enet.host_create(nil, 1, 2)
    local peer = client:connect({ host = "127.0.0.1", port = H.port_of(host) }, 2)
    peer:send(0, enet.packet_create("Hello, world!"))
    local disconnecting = false
    -- The seed loop, with `while true` bounded and the client serviced alongside.
    for _ = 1, 2000 do
      client:service(0)
      local result, event = enet.host_service(host, 5)
      if result > 0 then
        if event.type == enet.EVENT_TYPE_CONNECT then
          print("Peer connected")
        elseif event.type == enet.EVENT_TYPE_RECEIVE then
          local data = enet.packet_data(event.packet)
          print("Received data: " .. data)
          enet.packet_destroy(event.packet)
        elseif event.type == enet.EVENT_TYPE_DISCONNECT then
          print("Peer disconnected")
          break
        end
      end
      if #lines == 2 and not disconnecting then
        peer:disconnect()
        disconnecting = true
      end
    end
    assert.are.same({ "Peer connected", "Received data: Hello, world!", "Peer disconnected" }, lines)
    client:destroy()
    host:destroy()
  end)

  it("packet_create with PACKET_FLAG_RELIABLE returns a packet", function()
    local packet = enet.packet_create("Hello, world!", enet.PACKET_FLAG_RELIABLE)
    assert.are.equal("userdata", type(packet))
    assert.are.equal("Hello, world!", enet.packet_data(packet))
  end)

  it("packet_destroy destroys the packet (without initialize)", function()
    local packet = enet.packet_create("Hello, world!")
    -- Use packet
    enet.packet_destroy(packet)
    assert.is_nil(enet.packet_data(packet))
  end)

  it("functions the seed documents as 'Return: None' return no values", function()
    -- select("#") tells "returns nothing" from "returns nil": print(enet.deinitialize())
    -- must print an empty line, as for a C function that pushes nothing.
    local host = H.server(1, 1)
    local packet = enet.packet_create("x")
    local counts = {
      deinitialize = select("#", enet.deinitialize()),
      host_destroy = select("#", enet.host_destroy(host)),
      packet_destroy = select("#", enet.packet_destroy(packet)),
    }
    assert.are.same({ deinitialize = 0, host_destroy = 0, packet_destroy = 0 }, counts)
  end)

  it("packet_data returns the packet's string", function()
    local lines, print = printer()
    local packet = enet.packet_create("Hello, world!")
    local data = enet.packet_data(packet)
    print("Packet data: " .. data)
    enet.packet_destroy(packet)
    assert.are.same({ "Packet data: Hello, world!" }, lines)
  end)

  it("peer_send right after host_connect returns 0 and the packet arrives once connected", function()
    enet.initialize()
    local server = H.server(1, 2)
    local host = enet.host_create(nil, 1, 2)
    local peer = enet.host_connect(host, { host = "127.0.0.1", port = H.port_of(server) }, 2)
    local packet = enet.packet_create("Hello, server!", enet.PACKET_FLAG_RELIABLE)
    local result = enet.peer_send(peer, 0, packet)
    assert.are.equal(0, result)
    local event = H.wait_for({ server, host }, server, "receive")
    assert.are.equal("Hello, server!", event.packet:data())
    assert.are.equal(0, event.channelID)
    host:destroy()
    server:destroy()
  end)

  it("constants have C ENet's values", function()
    assert.are.equal(0, enet.EVENT_TYPE_NONE)
    assert.are.equal(1, enet.EVENT_TYPE_CONNECT)
    assert.are.equal(2, enet.EVENT_TYPE_DISCONNECT)
    assert.are.equal(3, enet.EVENT_TYPE_RECEIVE)
    assert.are.equal(1, enet.PACKET_FLAG_RELIABLE)
    assert.are.equal(2, enet.PACKET_FLAG_UNSEQUENCED)
    assert.are.equal(4, enet.PACKET_FLAG_NO_ALLOCATE)
  end)
end)

describe("seed server and client as two processes", function()
  local function read_all(f)
    return f:read("*a") or ""
  end

  -- pclose's status exists from Lua 5.2 on; 5.1 and LuaJIT return only `true`.
  local function exited_cleanly(f)
    local ok, how, code = f:close()
    if how == nil then
      return ok ~= nil and ok ~= false
    end
    return how == "exit" and code == 0
  end

  it("exchange hello messages and both see the disconnect", function()
    local interp = H.interpreter()
    assert.is_string(interp, "cannot find the interpreter in arg[-n]")
    local root = (debug.getinfo(1, "S").source:match("^@(.*)tests[/\\]spec[/\\]") or "")
    local port = H.free_port()
    local function command(script)
      local line = H.shell_quote(interp) .. " " .. H.shell_quote(root .. "examples/" .. script) .. " " .. port
      return H.shell_command(line .. " 2>&1")
    end

    local server = assert(io.popen(command("server.lua"), "r"))
    -- The server flushes this line once its socket is bound: then the client can start.
    local first = server:read("*l")
    assert.are.equal("Server running on port " .. port .. "...", first)

    local client = assert(io.popen(command("client.lua"), "r"))
    local client_out = read_all(client)
    local client_ok = exited_cleanly(client)
    local server_out = first .. "\n" .. read_all(server)
    local server_ok = exited_cleanly(server)

    assert.matches("Client connecting...", client_out, 1, true)
    assert.matches("Connected to server", client_out, 1, true)
    assert.matches("Received: Hello, client!", client_out, 1, true)
    assert.matches("Disconnected from server", client_out, 1, true)
    assert.is_true(client_ok, client_out)

    assert.matches("Client connected", server_out, 1, true)
    assert.matches("Received: Hello, server!", server_out, 1, true)
    assert.matches("Client disconnected", server_out, 1, true)
    assert.is_true(server_ok, server_out)

    -- Order on each side: connect, message, disconnect.
    local a = server_out:find("Client connected", 1, true)
    local b = server_out:find("Received: Hello, server!", 1, true)
    local c = server_out:find("Client disconnected", 1, true)
    assert.is_true(a < b and b < c, server_out)
    local d = client_out:find("Received: Hello, client!", 1, true)
    local e = client_out:find("Disconnected from server", 1, true)
    assert.is_true(d < e, client_out)
  end)
end)

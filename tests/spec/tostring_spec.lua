-- __tostring of hosts, peers and packets (api.md section 1).

local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
local enet = H.enet

describe("tostring", function()
  it("a host shows its bound address: ENetHost(127.0.0.1:PORT)", function()
    local server = H.server(1, 1)
    assert.are.equal("ENetHost(127.0.0.1:" .. H.port_of(server) .. ")", tostring(server))
    server:destroy()
  end)

  it("a host bound to all interfaces shows ENetHost(0.0.0.0:PORT)", function()
    local host = enet.host_create({ host = "0.0.0.0", port = 0 }, 1, 1)
    assert.are.equal("ENetHost(0.0.0.0:" .. H.port_of(host) .. ")", tostring(host))
    host:destroy()
  end)

  it("peers show the remote address: ENetPeer(127.0.0.1:PORT) on both sides", function()
    local server, client, cpeer, speer = H.connected_pair()
    assert.are.equal("ENetPeer(127.0.0.1:" .. H.port_of(server) .. ")", tostring(cpeer))
    assert.are.equal("ENetPeer(127.0.0.1:" .. H.port_of(client) .. ")", tostring(speer))
    client:destroy()
    server:destroy()
  end)

  it("a packet shows its size: ENetPacket(13 bytes)", function()
    assert.are.equal("ENetPacket(13 bytes)", tostring(enet.packet_create("Hello, world!")))
    assert.are.equal("ENetPacket(0 bytes)", tostring(enet.packet_create("")))
    assert.are.equal("ENetPacket(3 bytes)", tostring(enet.packet_create("a\0b")))
  end)

  it("destroyed objects and stale peers still convert to a string of their class", function()
    local server, client, cpeer = H.connected_pair()
    local packet = enet.packet_create("Hello, world!")
    packet:destroy()
    client:destroy()
    server:destroy()
    assert.matches("^ENetHost%(", tostring(server))
    assert.matches("^ENetPeer%(", tostring(cpeer))
    assert.matches("^ENetPacket%(", tostring(packet))
    assert.are_not.equal("ENetPacket(13 bytes)", tostring(packet))
  end)
end)

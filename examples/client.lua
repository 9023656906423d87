-- The seed's client example, unchanged except that the loop ends: after the server's answer
-- (then it disconnects politely), or after 30 s. Optional argument: the port (default 6789).
local enet = require("module_enet")
enet.initialize()

local port = tonumber(arg and arg[1]) or 6789
local host = enet.host_create(nil, 1, 2)
if not host then
    error("Failed to create client")
end

local peer = enet.host_connect(host, { host = "127.0.0.1", port = port }, 2)
if not peer then
    error("Failed to connect to server")
end

local packet = enet.packet_create("Hello, server!", enet.PACKET_FLAG_RELIABLE)
enet.peer_send(peer, 0, packet)

print("Client connecting...")

local deadline = os.time() + 30
while os.time() < deadline do
    local result, event = enet.host_service(host, 1000)
    if result > 0 then
        if event.type == enet.EVENT_TYPE_CONNECT then
            print("Connected to server")
        elseif event.type == enet.EVENT_TYPE_RECEIVE then
            local data = enet.packet_data(event.packet)
            print("Received: " .. data)
            enet.packet_destroy(event.packet)
            enet.peer_disconnect(peer)
        elseif event.type == enet.EVENT_TYPE_DISCONNECT then
            print("Disconnected from server")
            break
        end
    end
end

enet.deinitialize()

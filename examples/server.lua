-- The seed's server example, unchanged except that the loop ends: after the first client has
-- come and gone, or after 30 s. Optional argument: the port (default 6789, as in the seed).
local enet = require("module_enet")
enet.initialize()

local port = tonumber(arg and arg[1]) or 6789
local host = enet.host_create({ host = "0.0.0.0", port = port }, 32, 2)
if not host then
    error("Failed to create server")
end

print("Server running on port " .. port .. "...")
io.stdout:flush()

local served, deadline = false, os.time() + 30
while not served and os.time() < deadline do
    local result, event = enet.host_service(host, 1000)
    if result > 0 then
        if event.type == enet.EVENT_TYPE_CONNECT then
            print("Client connected")
        elseif event.type == enet.EVENT_TYPE_RECEIVE then
            local data = enet.packet_data(event.packet)
            print("Received: " .. data)
            local response = enet.packet_create("Hello, client!", enet.PACKET_FLAG_RELIABLE)
            enet.peer_send(event.peer, 0, response)
            enet.packet_destroy(event.packet)
        elseif event.type == enet.EVENT_TYPE_DISCONNECT then
            print("Client disconnected")
            served = true
        end
    end
end

enet.host_destroy(host)
enet.deinitialize()

-- A server and a client in one process, exchanging messages over loopback.
-- Run: cargo run --release -- examples/loopback.lua   (or: lua examples/loopback.lua)
local enet = require("module_enet")

local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 8, 2))
local port = server:address().port
local client = assert(enet.host_create(nil, 1, 2))
local peer = assert(client:connect({ host = "127.0.0.1", port = port }, 2, 42))

-- Queued until the connection is up, then delivered in order.
peer:send(0, enet.packet_create("hello from the client"))

local replies, deadline = 0, os.time() + 10
while replies < 3 and os.time() < deadline do
  for _, host in ipairs({ server, client }) do
    local n, event = host:service(5)
    if n > 0 then
      if event.type == enet.EVENT_TYPE_CONNECT then
        print(host == server and "server: client connected, data " .. event.data
          or "client: connected to " .. tostring(event.peer))
      elseif event.type == enet.EVENT_TYPE_RECEIVE then
        local text = event.packet:data()
        print((host == server and "server" or "client") .. " received: " .. text)
        if host == server then
          event.peer:send(event.channelID, enet.packet_create("echo: " .. text))
        else
          replies = replies + 1
          if replies < 3 then
            peer:send(1, enet.packet_create("message " .. (replies + 1)))
          end
        end
      end
    end
  end
end
assert(replies == 3, "expected 3 replies, got " .. replies)

peer:disconnect()
local done = false
deadline = os.time() + 10
while not done and os.time() < deadline do
  client:service(5)
  local n, event = server:service(5)
  if n > 0 and event.type == enet.EVENT_TYPE_DISCONNECT then
    print("server: client left (" .. event.reason .. ")")
    done = true
  end
end
assert(done, "no disconnect event")
server:destroy()
client:destroy()
print("loopback OK")

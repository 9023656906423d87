-- The other process of windows_spec.lua's wake-up test: waits DELAY ms (in host_service, on a
-- host of its own), connects to 127.0.0.1:PORT, waits for the server's "hello" (so the
-- server has seen the connection), then disconnects. Each step gives up after 10 s.
--   lua.exe tests/wine/wake_sender.lua PORT DELAY
local enet = require("module_enet")
local port, delay = tonumber(arg[1]), tonumber(arg[2])
local client = assert(enet.host_create(nil, 1, 1))
client:service(delay)
local peer = assert(client:connect("127.0.0.1:" .. port, 1))

local function wait_for(kind)
  for _ = 1, 200 do
    local n, event = client:service(50)
    if n > 0 and event.type == kind then
      return event
    end
  end
end

local steps = {}
steps[#steps + 1] = wait_for(enet.EVENT_TYPE_CONNECT) and "connected" or "no connect"
local hello = wait_for(enet.EVENT_TYPE_RECEIVE)
steps[#steps + 1] = hello and ("received " .. hello.packet:data()) or "no hello"
peer:disconnect()
steps[#steps + 1] = wait_for(enet.EVENT_TYPE_DISCONNECT) and "disconnected" or "no disconnect"
print("sender: " .. table.concat(steps, ", "))

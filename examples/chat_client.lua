-- A small chat client: joins as NAME, says each MESSAGE, prints what the room says, and leaves
-- once it has seen its own messages come back. Usage: lua chat_client.lua port name msg...
local enet = require("module_enet")

local port = assert(tonumber(arg[1]), "usage: chat_client.lua port name message...")
local name = arg[2] or "guest"
local messages = {}
for i = 3, #arg do messages[#messages + 1] = arg[i] end

local client = assert(enet.host_create(nil, 1, 1))
local server = assert(client:connect("127.0.0.1:" .. port, 1))
server:send(0, name) -- a string is sent as a reliable packet
for _, m in ipairs(messages) do server:send(0, m) end

local echoed, leaving = 0, false
local deadline = os.time() + 30
while os.time() < deadline do
  local n, event = client:service(100)
  if n > 0 then
    if event.type == enet.EVENT_TYPE_RECEIVE then
      local line = event.packet:data()
      print(line)
      io.stdout:flush()
      if line:sub(1, #name + 2) == name .. ": " then echoed = echoed + 1 end
      if echoed == #messages and not leaving then
        leaving = true
        server:disconnect()
      end
    elseif event.type == enet.EVENT_TYPE_DISCONNECT then
      break
    end
  end
end
client:destroy()

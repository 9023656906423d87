-- A small chat server: every line a client sends is relayed to all clients as "name: text".
-- A client's first message is its name. Usage: lua chat_server.lua [port] [seconds] [clients]
-- It stops when the time is up, or once `clients` clients (default 1) have come and all left.
local enet = require("module_enet")

local port = tonumber(arg and arg[1]) or 6790
local seconds = tonumber(arg and arg[2]) or 60
local expected = tonumber(arg and arg[3]) or 1
local server = assert(enet.host_create({ host = "*", port = port }, 64, 1))
print("chat server on port " .. server:address().port)
io.stdout:flush()

local names, online, seen = {}, 0, 0

local function broadcast(text)
  print(text)
  io.stdout:flush()
  server:broadcast(0, enet.packet_create(text))
end

local deadline = os.time() + seconds
while os.time() < deadline and not (seen >= expected and online == 0) do
  local n, event = server:service(100)
  if n > 0 then
    if event.type == enet.EVENT_TYPE_CONNECT then
      online, seen = online + 1, seen + 1
    elseif event.type == enet.EVENT_TYPE_RECEIVE then
      local text = event.packet:data()
      if not names[event.peer] then
        names[event.peer] = text
        broadcast("* " .. text .. " joined")
      else
        broadcast(names[event.peer] .. ": " .. text)
      end
    elseif event.type == enet.EVENT_TYPE_DISCONNECT then
      online = online - 1
      if names[event.peer] then
        broadcast("* " .. names[event.peer] .. " left (" .. event.reason .. ")")
        names[event.peer] = nil
      end
    end
  end
end
server:flush()
server:destroy()

-- A secure game client: connects with the token its backend issued (see secure_backend.lua),
-- says hello, prints what the server answers and leaves.
-- Usage: lua secure_client.lua port token_file
local enet = require("module_enet")

local port = assert(tonumber(arg and arg[1]), "usage: secure_client.lua port token_file")
local file = assert(io.open(assert(arg[2], "token_file"), "rb"))
local token = file:read("*a")
file:close()

local client = assert(enet.host_create(nil, 1, 1))
local peer = assert(client:connect("127.0.0.1:" .. port, 1, 0, token))
peer:send(0, "hello") -- queued until the connection is up

local answers = 0
for _ = 1, 200 do -- at most 200 x 50 ms
  local n, event = client:service(50)
  if n > 0 then
    if event.type == enet.EVENT_TYPE_RECEIVE then
      print(event.packet:data())
      answers = answers + 1
      if answers == 2 then
        peer:disconnect()
      end
    elseif event.type == enet.EVENT_TYPE_DISCONNECT then
      print("disconnected (" .. event.reason .. ")")
      break
    end
  end
end
client:destroy()

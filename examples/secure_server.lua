-- A secure game server: only clients with a token from the backend (secure_backend.lua) get in,
-- and everything on the wire is encrypted. It greets each player by the name the backend put
-- in the token and echoes what they send. Usage: lua secure_server.lua [port] [seconds] [players]
-- It stops when the time is up, or once `players` players (default 1) have come and all left.
local enet = require("module_enet")
local KEY = os.getenv("GAME_SERVER_KEY") or "an example key: 32 bytes long!!!"
local PROTOCOL_ID = 0x5e3c0de

local port = tonumber(arg and arg[1]) or 6791
local seconds = tonumber(arg and arg[2]) or 60
local expected = tonumber(arg and arg[3]) or 1
local server = assert(enet.host_create({ host = "127.0.0.1", port = port }, 32, 1, 0, 0, {
  secure = { private_key = KEY, protocol_id = PROTOCOL_ID },
}))
print("secure server on port " .. server:address().port)
io.stdout:flush()

local online, seen = 0, 0
local deadline = os.time() + seconds
while os.time() < deadline and not (seen >= expected and online == 0) do
  local n, event = server:service(100)
  if n > 0 then
    local peer = event.peer
    if event.type == enet.EVENT_TYPE_CONNECT then
      online, seen = online + 1, seen + 1
      -- The token's user data is 256 bytes, zero-padded.
      local name = peer:user_data():gsub("%z+$", "")
      print(("player %s (id %s) joined"):format(name, tostring(peer:client_id())))
      peer:send(0, "welcome, " .. name)
    elseif event.type == enet.EVENT_TYPE_RECEIVE then
      local text = event.packet:data()
      print("got: " .. text)
      peer:send(0, "echo: " .. text)
    elseif event.type == enet.EVENT_TYPE_DISCONNECT then
      online = online - 1
      print("player left (" .. event.reason .. ")")
    end
    io.stdout:flush()
  end
end
print(("secure server done: %d players"):format(seen))
print(("datagrams refused: %d"):format(server:statistics().dropped_insecure))
server:destroy()

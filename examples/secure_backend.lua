-- The game's backend, for the secure examples: after a player logs in, it issues a connect token
-- for one of its servers and hands it to the player's client (here: writes it to stdout).
-- The private key is shared by the backend and the game servers only, never by clients.
-- Usage: lua secure_backend.lua port client_id name > token
local enet = require("module_enet")
local KEY = os.getenv("GAME_SERVER_KEY") or "an example key: 32 bytes long!!!"
local PROTOCOL_ID = 0x5e3c0de -- the game's own number, so tokens of other games never match

local port = assert(tonumber(arg and arg[1]), "usage: secure_backend.lua port client_id name")
local token = assert(enet.connect_token({
  private_key = KEY,
  protocol_id = PROTOCOL_ID,
  client_id = assert(tonumber(arg[2]), "client_id"),
  servers = { "127.0.0.1:" .. port },
  expire = 30, -- seconds to use it in
  timeout = 5, -- seconds of silence that end the connection
  user_data = arg[3] or "player",
}))
io.stdout:write(token)

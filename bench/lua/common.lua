-- Shared by the module_enet benchmark programs: benchutil's helpers plus the module and the
-- seed-API host set-up. Only the seed API is used unless a program says otherwise.
local M = require("benchutil")
local enet = require("module_enet")
M.enet = enet

-- BENCH_SECURE=1: both ends in secure mode (netcode under ENet; the client issues its own
-- token with the key, as only a development setup would), to measure what secure mode costs.
local SECURE = os.getenv("BENCH_SECURE") == "1"
local KEY, PROTOCOL = ("b"):rep(32), 0xbe7c4

--- A server host on 127.0.0.1 and an ephemeral port; prints "PORT n" for bench/run.sh.
function M.server(peers)
  local options = SECURE and { secure = { private_key = KEY, protocol_id = PROTOCOL } } or nil
  local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, peers, 2, 0, 0, options))
  print("PORT " .. enet.host_address(host).port)
  io.stdout:flush()
  return host
end

--- A client host connected to 127.0.0.1:port (seed style: host_create(nil, ...)).
function M.connect(port, limit)
  local host = assert(enet.host_create(nil, 1, 2))
  local token = SECURE and assert(enet.connect_token({ private_key = KEY, protocol_id = PROTOCOL,
    client_id = 1, servers = { "127.0.0.1:" .. port } })) or nil
  local peer = assert(enet.host_connect(host, { host = "127.0.0.1", port = port }, 2, 0, token))
  local deadline = M.now() + (limit or 10)
  while M.now() < deadline do
    local r, event = enet.host_service(host, 100)
    if r > 0 and event.type == enet.EVENT_TYPE_CONNECT then
      return host, peer
    end
  end
  error("connect to port " .. tostring(port) .. " failed")
end

--- Services until the remote's disconnect arrives or `limit` seconds pass.
function M.await_disconnect(host, limit)
  local deadline = M.now() + limit
  while M.now() < deadline do
    local r, event = enet.host_service(host, 10)
    if r > 0 and event.type == enet.EVENT_TYPE_DISCONNECT then
      return true
    end
  end
  return false
end

return M

-- The interop tests' echo server or client (echo.lua) on lua-enet's API: LÖVE's own enet when
-- tests/love/game runs it (it sets LUA_ENET), module_enet.compat otherwise:
--   lua lua_enet_peer.lua server|client PORT [--compress] [--timeout-ms N] [--deadline-ms N]
-- lua-enet has no CRC32: --crc32 is refused.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local enet = rawget(_G, "LUA_ENET") or require("module_enet.compat")

local function host(address, peers, o)
  assert(not o.crc32, "lua-enet cannot enable CRC32")
  local h = assert(enet.host_create(address, peers, 4))
  if o.compress then assert(h:compress_with_range_coder(), "compress_with_range_coder failed") end
  return h
end

local A = {}
function A.server(o)
  local h = host("127.0.0.1:*", 4, o)
  return h, tonumber(h:get_socket_address():match(":(%d+)$"))
end
function A.client(o) return host(nil, 1, o) end
function A.connect(h, port) return h:connect("127.0.0.1:" .. port, 4) end
function A.service(h, ms)
  local event = h:service(ms)
  if not event then return nil end
  return { type = event.type, peer = event.peer, channel = event.channel, data = event.data }
end
function A.send(peer, channel, data, mode)
  local status = peer:send(data, channel, mode)
  return status == nil or status == 0, "send returned " .. tostring(status)
end
function A.timeout(peer, limit, minimum, maximum) peer:timeout(limit, minimum, maximum) end
function A.throttle(peer, interval, acceleration, deceleration)
  peer:throttle_configure(interval, acceleration, deceleration)
end
function A.disconnect(peer) peer:disconnect() end
function A.flush(h) h:flush() end
function A.statistics() return nil end

dofile(here .. "echo.lua")(A, rawget(_G, "LUA_ENET_ARGS") or arg)

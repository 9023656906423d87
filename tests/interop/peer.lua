-- The interop tests' echo server or client (echo.lua) on module_enet's own API, run by
-- ci/suites.d/interop.sh against C ENet (enet_peer.c) and LÖVE under every interpreter:
--   lua peer.lua server|client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local enet = require("module_enet")

local KIND = {
  [enet.EVENT_TYPE_CONNECT] = "connect",
  [enet.EVENT_TYPE_DISCONNECT] = "disconnect",
  [enet.EVENT_TYPE_RECEIVE] = "receive",
}
local FLAGS = {
  reliable = enet.PACKET_FLAG_RELIABLE,
  unreliable = 0,
  unsequenced = enet.PACKET_FLAG_UNSEQUENCED,
}

local function host_options(o)
  return { compress = o.compress and "range_coder" or nil, checksum = o.crc32 and "crc32" or nil }
end

local A = {}
function A.server(o)
  local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 4, 4, 0, 0, host_options(o)))
  return host, host:address().port
end
function A.client(o)
  return assert(enet.host_create(nil, 1, 4, 0, 0, host_options(o)))
end
function A.connect(host, port)
  return assert(host:connect({ host = "127.0.0.1", port = port }, 4))
end
function A.service(host, ms)
  local n, event = host:service(ms)
  if n < 0 then error(event) end
  if n == 0 then return nil end
  return {
    type = KIND[event.type],
    peer = event.peer,
    channel = event.channelID,
    data = event.packet and event.packet:data(),
  }
end
function A.send(peer, channel, data, mode)
  local status, err = peer:send(channel, data, FLAGS[mode])
  return status == 0, err
end
function A.timeout(peer, limit, minimum, maximum) peer:timeout(limit, minimum, maximum) end
function A.throttle(peer, interval, acceleration, deceleration)
  peer:throttle_configure(interval, acceleration, deceleration)
end
function A.disconnect(peer) peer:disconnect() end
function A.flush(host) host:flush() end
function A.statistics(host)
  local st = host:statistics()
  return st and ("dropped_malformed=%d dropped_too_large=%d"):format(st.dropped_malformed, st.dropped_too_large)
end

dofile(here .. "echo.lua")(A, arg)

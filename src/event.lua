-- Event tables for host_service, host_check_events and host_service_batch. The Rust side
-- (event.rs) writes each event as a record of four values into a table; these wrappers turn
-- records into `{type = ..., peer = ...}` tables. A table constructor with constant keys costs
-- a fraction of setting the same six fields one C API call at a time.
-- A record: type, peer, channelID (receive) or data (connect, disconnect), then the packet or
-- payload (receive) or the reason (disconnect).
local ERR, error = ...
local DISCONNECT, RECEIVE = 2, 3

local function event(kind, peer, x, y)
  if kind == RECEIVE then
    return { type = kind, peer = peer, channelID = x, data = 0, packet = y }
  elseif kind == DISCONNECT then
    return { type = kind, peer = peer, channelID = 0, data = x, reason = y }
  end
  return { type = kind, peer = peer, channelID = 0, data = x }
end

local function payload_event(kind, peer, x, y)
  if kind == RECEIVE then
    return { type = kind, peer = peer, channelID = x, data = 0, payload = y }
  end
  return event(kind, peer, x, y)
end

local M = {}

-- host_service(host, timeout) and host_check_events(host): at most one event. The record table
-- is reused, except by a call made while another one is using it: a finalizer can run at any
-- allocation (the module's, or LuaJIT's at a trace exit) and may service a host. `busy` stays
-- set until the record has been read into locals and cleared, so such a call gets its own table.
function M.single(fill)
  local shared, busy = {}, false
  return function(host, timeout)
    local outer = busy
    local r = outer and {} or shared
    busy = true
    local n, message = fill(r, host, timeout)
    if n == 1 then
      local kind, peer, x, y = r[1], r[2], r[3], r[4]
      r[2], r[4] = nil, nil -- hold no peer or packet
      busy = outer
      return 1, event(kind, peer, x, y)
    end
    busy = outer
    if n == ERR then
      error(message, 2)
    end
    return n, message
  end
end

-- host_service_batch(host, timeout, max, payload): a list of event tables.
function M.batch(fill)
  return function(host, timeout, max, payload)
    local r = {}
    local n, message = fill(r, host, timeout, max, payload)
    if n == ERR then
      error(message, 2)
    elseif n < 0 then
      return n, message
    end
    local make = payload and payload_event or event
    local list = {}
    for i = 1, n do
      local k = 4 * i - 3
      list[i] = make(r[k], r[k + 1], r[k + 2], r[k + 3])
    end
    return n, list
  end
end

return M

-- Event tables for host_service, host_check_events and host_service_batch. The Rust side
-- (event.rs) hands each event over as a record of four values (returned, or written into a
-- table for batches); these wrappers turn records into `{type = ..., peer = ...}` tables. A
-- table constructor with constant keys costs a fraction of setting the same six fields one C
-- API call at a time.
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

-- host_service(host, timeout) and host_check_events(host): the one event comes back as values
-- (1, type, peer, channelID or data, packet or reason), or 0, or -1 and a message.
function M.single(fill)
  return function(host, timeout)
    local n, kind, peer, x, y = fill(host, timeout)
    if n == 1 then
      return 1, event(kind, peer, x, y)
    elseif n == ERR then
      error(kind, 2)
    end
    return n, kind
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

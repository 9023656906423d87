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

-- An event table with every key present: filling it assigns existing keys only, which never
-- allocates, so it is made before the event is taken from the host (see M.single).
local function blank()
  return { type = 0, peer = false, channelID = 0, data = 0, packet = false, reason = false }
end

-- host_service(host, timeout) and host_check_events(host): the one event comes back as values
-- (1, type, peer, channelID or data, packet or reason), or 0, or -1 and a message.
-- Out of memory must never cost an event: the table is ready before `fill` takes one, and
-- nothing after it allocates. A spare table is kept for the next call (no garbage for the
-- calls that find nothing), taken out first so a re-entrant call (a finalizer) makes its own.
function M.single(fill)
  local spare
  return function(host, timeout)
    local t = spare or blank()
    spare = nil
    local n, kind, peer, x, y = fill(host, timeout)
    if n == 1 then
      t.type, t.peer = kind, peer
      if kind == RECEIVE then
        t.channelID, t.data, t.packet, t.reason = x, 0, y, nil
      else
        t.channelID, t.data, t.packet, t.reason = 0, x, nil, y
      end
      return 1, t
    end
    spare = t
    if n == ERR then
      error(kind, 2)
    end
    return n, kind
  end
end

-- host_service_batch(host, timeout, max, payload): a list of event tables. If building the
-- tables runs out of memory, the records stay held for the host and the next call hands them
-- out before taking new events.
function M.batch(fill)
  local held = setmetatable({}, { __mode = "k" })
  return function(host, timeout, max, payload)
    local r = held[host]
    if r == nil then
      r = { n = 0, payload = false }
      -- nil and NaN cannot be keys (and fill rejects them as hosts anyway).
      local keyed = host ~= nil and host == host
      if keyed then
        held[host] = r
      end
      local n, message = fill(r, host, timeout, max, payload)
      if n == ERR or n < 0 then
        if keyed then
          held[host] = nil
        end
        if n == ERR then
          error(message, 2)
        end
        return n, message
      end
      r.n, r.payload = n, payload and true or false
    end
    local make = r.payload and payload_event or event
    local list = {}
    for i = 1, r.n do
      local k = 4 * i - 3
      list[i] = make(r[k], r[k + 1], r[k + 2], r[k + 3])
    end
    held[host] = nil
    return r.n, list
  end
end

return M

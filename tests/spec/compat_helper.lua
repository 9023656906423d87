-- Helpers for the lua-enet compatibility specs (compat_*_spec.lua); not a spec itself.
-- Load with
--   local C = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "compat_helper.lua")
--
-- Waits are bounded twice: by a count of host:service(step) calls (each sleeps at most `step`
-- ms when idle) and by the wall clock. No fixed sleeps.

local enet = require("module_enet.compat")

local C = { enet = enet, STEP_MS = 2, MAX_MS = 5000 }

-- pump(hosts, until_fn, max_ms, on_event) -> reached, log
-- Services every host until until_fn(log) is true or about max_ms of idle waiting passed.
-- log lists {host=, event=} in arrival order. until_fn nil: pump the whole max_ms.
function C.pump(hosts, until_fn, max_ms, on_event)
  max_ms = max_ms or C.MAX_MS
  local log = {}
  if until_fn and until_fn(log) then return true, log end
  local idle_budget = math.ceil(max_ms / C.STEP_MS)
  local give_up = os.time() + math.ceil(max_ms / 1000) + 1
  local idle, busy_calls = 0, 0
  while idle < idle_budget and busy_calls < 200000 and os.time() <= give_up do
    local any = false
    for _, host in ipairs(hosts) do
      local event = host:service(any and 0 or C.STEP_MS)
      if not any then idle = idle + 1 end
      while event do
        any = true
        busy_calls = busy_calls + 1
        log[#log + 1] = { host = host, event = event }
        if on_event then on_event(host, event) end
        if until_fn and until_fn(log) then return true, log end
        event = host:service(0)
      end
    end
  end
  return until_fn == nil, log
end

-- Events of `kind` seen by `host` (any host when nil).
function C.select(log, kind, host)
  local out = {}
  for _, r in ipairs(log) do
    if r.event.type == kind and (host == nil or rawequal(r.host, host)) then
      out[#out + 1] = r.event
    end
  end
  return out
end

function C.seen(kind, host, count)
  return function(log) return #C.select(log, kind, host) >= (count or 1) end
end

function C.all(...)
  local fns = { ... }
  return function(log)
    for _, f in ipairs(fns) do
      if not f(log) then return false end
    end
    return true
  end
end

-- Pumps until `host` sees an event of `kind`; raises if it does not come.
function C.wait_for(hosts, host, kind, max_ms)
  local ok, log = C.pump(hosts, C.seen(kind, host), max_ms)
  if not ok then error("no " .. kind .. " event within " .. (max_ms or C.MAX_MS) .. " ms", 2) end
  return C.select(log, kind, host)[1], log
end

-- A server on 127.0.0.1, ephemeral port (lua-enet's "*" port).
function C.server(peer_count, channels)
  return assert(enet.host_create("127.0.0.1:*", peer_count or 8, channels or 4))
end

-- connected_pair{peers=, channels=, data=} -> server, client, client_peer, server_peer, info
function C.connected_pair(opts)
  opts = opts or {}
  local channels = opts.channels or 4
  local server = opts.server or C.server(opts.peers, channels)
  local client = opts.client or assert(enet.host_create(nil, 1, channels))
  local cpeer = client:connect(server:get_socket_address(), channels, opts.data)
  local ok, log = C.pump({ server, client }, C.all(C.seen("connect", server), C.seen("connect", client)))
  if not ok then error("connection did not complete within 5 s", 2) end
  local sc, cc = C.select(log, "connect", server)[1], C.select(log, "connect", client)[1]
  return server, client, cpeer, sc.peer, { server_connect = sc, client_connect = cc, log = log }
end

function C.error_of(f, ...)
  local ok, err = pcall(f, ...)
  if ok then return nil end
  return tostring(err)
end

-- A full collection (see helper.lua's H.gc for jit.flush).
function C.gc()
  if jit then
    jit.flush()
  end
  collectgarbage("collect")
  collectgarbage("collect")
end

return C

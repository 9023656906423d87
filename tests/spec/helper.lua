-- Shared helpers for the busted specs (not a spec itself: busted only runs *_spec.lua).
--
-- Load it from a spec with
--   local H = dofile((debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./") .. "helper.lua")
-- so it works whatever directory busted is started from.
--
-- Every wait here is bounded twice: by a number of host_service calls and by the wall clock
-- (os.time, whole seconds, the only clock every Lua has). host_service(host, step) returns as
-- soon as an event is ready and otherwise sleeps `step` ms in the OS, so N idle calls last
-- at most N * step ms. No fixed sleeps.

local enet = require("module_enet")

local H = { enet = enet }

H.LOOPBACK = "127.0.0.1"
H.STEP_MS = 1
H.DEFAULT_MAX_MS = 5000

local function type_name(t)
  if t == enet.EVENT_TYPE_CONNECT then
    return "connect"
  elseif t == enet.EVENT_TYPE_DISCONNECT then
    return "disconnect"
  elseif t == enet.EVENT_TYPE_RECEIVE then
    return "receive"
  end
  return tostring(t)
end
H.type_name = type_name

-- pump(hosts, until_fn, max_ms, on_event) -> reached, log
-- Services the hosts until until_fn(log) is true, or about max_ms (default 5000) of idle
-- waiting has passed. log is the list of records {host=, event=, kind=} of every event seen,
-- in order; kind is "connect" / "disconnect" / "receive". on_event(record), if given, runs
-- for each event as it arrives (to answer it, for example).
-- until_fn may be nil: then the hosts are pumped for the whole max_ms (used to let traffic
-- settle when a test checks that something does NOT happen).
--
-- A host that returns an event is drained with service(0) at once, and after a round with
-- events every host is polled again with service(0); only a round with no event at all
-- sleeps, H.STEP_MS per host. So max_ms bounds the idle time, and the count of event-bearing
-- calls is bounded separately (MAX_BUSY_CALLS).
local MAX_BUSY_CALLS = 200000
function H.pump(hosts, until_fn, max_ms, on_event)
  max_ms = max_ms or H.DEFAULT_MAX_MS
  local log = {}
  if until_fn and until_fn(log) then
    return true, log
  end
  local idle_budget = math.ceil(max_ms / H.STEP_MS)
  local give_up = os.time() + math.ceil(max_ms / 1000) + 1
  local idle, busy_calls, busy = 0, 0, true
  while idle < idle_budget and busy_calls < MAX_BUSY_CALLS and os.time() <= give_up do
    local any = false
    for _, host in ipairs(hosts) do
      local timeout = busy and 0 or H.STEP_MS
      if timeout > 0 then
        idle = idle + 1
      end
      while true do
        local n, event = host:service(timeout)
        if n == 0 then
          break
        elseif n < 0 then
          error("host_service failed: " .. tostring(event), 2)
        end
        busy_calls = busy_calls + 1
        any = true
        timeout = 0
        local record = { host = host, event = event, kind = type_name(event.type) }
        log[#log + 1] = record
        if on_event then
          on_event(record)
        end
        if until_fn and until_fn(log) then
          return true, log
        end
      end
    end
    busy = any
    -- Also after a quiet round: until_fn may watch something other than events (statistics).
    if not any and until_fn and until_fn(log) then
      return true, log
    end
  end
  return until_fn == nil, log
end

-- The records of `log` of a kind ("connect"...), optionally only those seen by `host`.
function H.select(log, kind, host)
  local out = {}
  for _, r in ipairs(log) do
    if r.kind == kind and (host == nil or rawequal(r.host, host)) then
      out[#out + 1] = r
    end
  end
  return out
end

-- An until_fn: true once `count` (default 1) events of `kind` were seen by `host`.
function H.seen(kind, host, count)
  count = count or 1
  return function(log)
    return #H.select(log, kind, host) >= count
  end
end

-- An until_fn: true when every until_fn given is.
function H.all(...)
  local fns = { ... }
  return function(log)
    for _, f in ipairs(fns) do
      if not f(log) then
        return false
      end
    end
    return true
  end
end

-- wait_for(hosts, host, kind, max_ms) -> event, log: pumps until `host` sees an event of
-- `kind`; raises (failing the test) if it does not come in time.
function H.wait_for(hosts, host, kind, max_ms)
  local ok, log = H.pump(hosts, H.seen(kind, host), max_ms)
  if not ok then
    error(("no %s event within %d ms (%d other events)"):format(kind, max_ms or H.DEFAULT_MAX_MS, #log), 2)
  end
  local found = H.select(log, kind, host)
  return found[1].event, log
end

-- A server on 127.0.0.1, ephemeral port.
function H.server(peer_count, channels)
  local server, err = enet.host_create({ host = H.LOOPBACK, port = 0 }, peer_count or 8, channels or 4)
  assert(server, err)
  return server
end

function H.port_of(host)
  return assert(host:address()).port
end

-- connected_pair(opts) -> server, client, client_peer, server_peer, info
-- opts: peers (server peerCount, 8), channels (4), data (connect data, 0), client (an
-- existing client host to reuse), server (an existing server host to reuse).
-- info = { server_connect = event, client_connect = event, log = log }.
-- Raises if the connection does not complete within 5 s.
function H.connected_pair(opts)
  opts = opts or {}
  local channels = opts.channels or 4
  local server = opts.server or H.server(opts.peers, channels)
  local client = opts.client or assert(enet.host_create(nil, 1, channels))
  local client_peer, err =
    client:connect({ host = H.LOOPBACK, port = H.port_of(server) }, channels, opts.data or 0)
  assert(client_peer, err)
  local ok, log = H.pump(
    { server, client },
    H.all(H.seen("connect", server), H.seen("connect", client)),
    opts.max_ms or 5000
  )
  if not ok then
    error("connection did not complete within 5 s", 2)
  end
  local sc = H.select(log, "connect", server)[1].event
  local cc = H.select(log, "connect", client)[1].event
  return server, client, client_peer, sc.peer, { server_connect = sc, client_connect = cc, log = log }
end

-- Disconnects `peer` politely and pumps until both hosts have seen the disconnect.
-- Returns the disconnect events: local_event (host of `peer`), remote_event, log.
function H.disconnect_pair(hosts, local_host, remote_host, peer, data, max_ms)
  local rc, msg = peer:disconnect(data)
  assert(rc == 0, msg)
  local ok, log = H.pump(hosts, H.all(H.seen("disconnect", local_host), H.seen("disconnect", remote_host)), max_ms)
  if not ok then
    error("disconnect not seen on both sides", 2)
  end
  return H.select(log, "disconnect", local_host)[1].event, H.select(log, "disconnect", remote_host)[1].event, log
end

-- A port that was free a moment ago (bind port 0, read it, close it), for the example scripts
-- that take a port number.
function H.free_port(bind_host)
  local h = assert(enet.host_create({ host = bind_host or "0.0.0.0", port = 0 }, 1, 1))
  local port = H.port_of(h)
  h:destroy()
  return port
end

-- The command that started this interpreter: the lowest negative index of `arg`
-- (busted runs as `lua5.x /usr/bin/busted ...`, so that is arg[-1]).
function H.interpreter()
  if type(arg) ~= "table" then
    return nil
  end
  local i = 0
  while arg[i - 1] ~= nil do
    i = i - 1
  end
  if i == 0 then
    return nil
  end
  return arg[i]
end

-- io.popen runs its command through /bin/sh, or through cmd.exe on Windows (Wine included).
H.windows = package.config:sub(1, 1) == "\\"

-- One word for that shell. cmd.exe takes no single quotes; its double quotes cannot be
-- escaped, so a word with one in it is refused.
function H.shell_quote(s)
  s = tostring(s)
  if H.windows then
    assert(not s:find('"', 1, true), "cannot quote a double quote for cmd.exe: " .. s)
    return '"' .. s .. '"'
  end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- A command line for io.popen. `cmd /c` drops the first and the last double quote of a line
-- that starts with one and has more, so on Windows the line gets a pair of its own.
function H.shell_command(line)
  return H.windows and '"' .. line .. '"' or line
end

-- Full garbage collection (twice: finalizers run in the first, their garbage goes in the
-- second). LuaJIT first drops its compiled traces: a trace may hold an object it saw as a
-- constant (an upvalue never reassigned, like the host an until_fn compares events with),
-- which keeps that object alive however the test dropped it; whether the trace exists depends
-- on loop counts, i.e. timing (a host that "survived" collection 1 run in 6-8).
function H.gc()
  if jit then
    jit.flush()
  end
  collectgarbage("collect")
  collectgarbage("collect")
end

-- Error message of a failing call, or nil when the call succeeds.
function H.error_of(f, ...)
  local ok, err = pcall(f, ...)
  if ok then
    return nil
  end
  return err
end

-- A byte string of `n` bytes containing every byte value, zeros included.
function H.binary(n, seed)
  seed = seed or 0
  local parts = {}
  local chunk = {}
  for i = 0, 255 do
    chunk[#chunk + 1] = string.char((i * 7 + seed) % 256)
  end
  local block = table.concat(chunk)
  local full = math.floor(n / 256)
  for _ = 1, full do
    parts[#parts + 1] = block
  end
  parts[#parts + 1] = block:sub(1, n - full * 256)
  return table.concat(parts)
end

return H

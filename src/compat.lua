-- lua-enet's API (the binding LÖVE ships) on module_enet's hosts and peers.
-- Loaded by src/compat.rs with the module's table and a few Rust primitives; returns the
-- module table, the host and peer method tables, the peer __tostring and what the raw
-- functions of src/compat.rs need.
-- docs/lua-enet.md lists every function and each intentional difference.
local core, prim = ...

local type, error, tostring, tonumber, setmetatable, pairs =
  type, error, tostring, tonumber, setmetatable, pairs
local floor, ceil, huge = math.floor, math.ceil, math.huge
local format, find, match = string.format, string.find, string.match
local tremove = table.remove

local core_host_create = core.host_create
local host_check_events = core.host_check_events
local host_connect, host_flush, host_broadcast = core.host_connect, core.host_flush, core.host_broadcast
local host_destroy, host_address, host_statistics = core.host_destroy, core.host_address, core.host_statistics
local host_channel_limit, host_bandwidth_limit = core.host_channel_limit, core.host_bandwidth_limit
local host_compress = core.host_compress
local packet_create, packet_data = core.packet_create, core.packet_data
local peer_disconnect = core.peer_disconnect
local peer_disconnect_now, peer_disconnect_later = core.peer_disconnect_now, core.peer_disconnect_later
local peer_reset, peer_ping, peer_ping_interval = core.peer_reset, core.peer_ping, core.peer_ping_interval
local peer_timeout, peer_throttle_configure = core.peer_timeout, core.peer_throttle_configure
local peer_round_trip_time, peer_state = core.peer_round_trip_time, core.peer_state
local peer_address, peer_index = core.peer_address, core.peer_index
local address_resolve = core.address_resolve -- optional: only used to raise early on bad names

local new_host, new_peer, slot_peer = prim.new_host, prim.new_peer, prim.slot_peer
local peer_field, host_time = prim.peer_field, prim.host_time

local RECEIVE, CONNECT = core.EVENT_TYPE_RECEIVE, core.EVENT_TYPE_CONNECT
local RELIABLE, UNSEQUENCED = core.PACKET_FLAG_RELIABLE, core.PACKET_FLAG_UNSEQUENCED
local HOST, PEER = "enet_host", "enet_peer"
-- ENet's values for a reset peer: what lua-enet reports for a peer whose connection ended.
local DEFAULT_RTT, DEFAULT_PING_INTERVAL = 500, 500
local TIMEOUT_LIMIT, TIMEOUT_MINIMUM, TIMEOUT_MAXIMUM = 32, 5000, 30000
local MAX_PEERS, MAX_CHANNELS = 4095, 255
local U32 = 4294967296

-- proxy userdata -> its record. Records never point back at a proxy (host.proxies is weak
-- both ways), so a proxy nobody holds is collected on every Lua version, 5.1 included.
local recs = setmetatable({}, { __mode = "k" })
local WEAK_KV = { __mode = "kv" }

------------------------------------------------------------------------------------------
-- Arguments, checked the way lua-enet's luaL_check* calls do. Numbering skips self, as
-- Lua's own messages do for method calls; every raise points at the caller's line.

local function typename(v)
  local r = recs[v]
  if r then return r.kind end
  return type(v)
end

local function badarg(i, f, msg)
  return format("bad argument #%d to '%s' (%s)", i, f, msg)
end

-- luaL_checknumber then lua-enet's (int) cast: truncation toward zero. nil gives `default`
-- (an error when there is none). Raises at the caller of the method that calls this.
local function int(v, i, f, default)
  if v == nil and default ~= nil then return default end
  local n = v
  if type(n) ~= "number" then
    n = type(v) == "string" and tonumber(v) or nil
    if n == nil then error(badarg(i, f, "number expected, got " .. typename(v)), 3) end
  end
  if n ~= n or n == huge or n == -huge then
    error(badarg(i, f, "number has no integer representation"), 3)
  end
  if n >= 0 then return floor(n) end
  return ceil(n)
end

-- luaL_checklstring: strings, and numbers converted.
local function str(v, i, f)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return tostring(v) end
  error(badarg(i, f, "string expected, got " .. typename(v)), 3)
end

local FLAGS = { reliable = RELIABLE, unreliable = 0, unsequenced = UNSEQUENCED }

local function flag(v, i, f)
  if v == nil then return RELIABLE end
  local t = type(v)
  if t ~= "string" and t ~= "number" then
    error(badarg(i, f, "string expected, got " .. typename(v)), 3)
  end
  local flags = FLAGS[v]
  if flags == nil then error("Unknown packet flag: " .. tostring(v), 3) end
  return flags
end

-- "host:port", "*:port", "host:*", "[v6addr%zone]:port" -> host (nil = any) and port.
local function parse_address(v, i, f)
  local s = str(v, i, f)
  local host, port = match(s, "^%[(.*)%]:(.*)$")
  if not host then
    if find(s, "^%[") then
      error(find(s, "^%[.*%]$") and "Missing port in address" or "Failed to parse address", 3)
    end
    host, port = match(s, "^([^:]*):(.*)$")
    if not host then host, port = s, "" end
  end
  if host == "" then error("Failed to parse address", 3) end
  if port == "" then error("Missing port in address", 3) end
  if host == "*" then host = nil end
  if port == "*" then return host, 0 end
  local n = match(port, "^%d+$") and tonumber(port)
  if not n or n > 65535 then error("Invalid port in address: " .. port, 3) end
  return host, n
end

local function clamp(n, lo, hi)
  if n < lo then return lo end
  if n > hi then return hi end
  return n
end

local function format_address(a)
  if not a then return "0.0.0.0:0" end
  local host = a.host
  if find(host, ":", 1, true) then
    local scope = a.sin6_scope_id
    if scope and scope ~= 0 then host = host .. "%" .. scope end
    return "[" .. host .. "]:" .. a.port
  end
  return host .. ":" .. a.port
end

------------------------------------------------------------------------------------------
-- Records.
-- host record: inner (module host, nil once destroyed), peer_count, proxies (inner peer ->
--   proxy, weak), live (inner peer -> {addr=, index=} for each connection not yet seen to
--   end: keeps its handle, and so its identity, until its disconnect event), stash (module
--   events set aside by peer:receive(), delivered first by service/check_events).
-- peer record: inner (module peer), host (host record), addr and index (last known, for
--   tostring/index after the connection ended, as lua-enet keeps them).

local function peer_proxy(h, inner)
  local p = h.proxies[inner]
  if p then return p end
  p = new_peer(inner)
  local c = h.live[inner]
  recs[p] = { kind = PEER, inner = inner, host = h, addr = c and c.addr, index = c and c.index }
  h.proxies[inner] = p
  return p
end

local function forget(h, inner)
  local c = h.live[inner]
  if not c then return end
  local p = h.proxies[inner]
  if p then
    local r = recs[p]
    r.addr, r.index = c.addr, c.index
  end
  h.live[inner] = nil
  h.nlive = h.nlive - 1
end

-- Connections can end without an event we see (a slot taken over after a reset we were not
-- told of): drop entries whose handle went stale.
local function sweep(h)
  for inner in pairs(h.live) do
    if not peer_index(inner) then forget(h, inner) end
  end
end

local function remember(h, inner)
  if h.live[inner] then return end
  local index = peer_index(inner)
  if not index then return end
  h.live[inner] = { addr = format_address(peer_address(inner)), index = index }
  h.nlive = h.nlive + 1
  if h.nlive > 2 * h.peer_count then sweep(h) end
end

local function to_event(h, ev)
  local inner, kind = ev.peer, ev.type
  if kind == RECEIVE then
    return { type = "receive", peer = peer_proxy(h, inner), data = packet_data(ev.packet),
             channel = ev.channelID }
  elseif kind == CONNECT then
    remember(h, inner)
    return { type = "connect", peer = peer_proxy(h, inner), data = ev.data }
  end
  local p = peer_proxy(h, inner)
  forget(h, inner)
  return { type = "disconnect", peer = p, data = ev.data, reason = ev.reason }
end

local function host_rec(self, f)
  local h = recs[self]
  if h == nil or h.kind ~= HOST then
    error(format("calling '%s' on bad self (enet_host expected, got %s)", f, typename(self)), 3)
  end
  if h.inner == nil then error("enet: host has been destroyed", 3) end
  return h
end

local function peer_rec(self, f)
  local r = recs[self]
  if r == nil or r.kind ~= PEER then
    error(format("calling '%s' on bad self (enet_peer expected, got %s)", f, typename(self)), 3)
  end
  return r
end

------------------------------------------------------------------------------------------
-- enet

local enet = {}

function enet.host_create(address, peer_count, channel_count, in_bandwidth, out_bandwidth)
  local F = "host_create"
  local bind
  if address ~= nil then
    local host, port = parse_address(address, 1, F)
    if host and address_resolve then
      local found, err = address_resolve(host)
      if not found then error("Failed to resolve host name (" .. tostring(err) .. ")", 2) end
    end
    bind = { host = host, port = port }
  end
  local peers = int(peer_count, 2, F, 64)
  local channels = clamp(int(channel_count, 3, F, 1), 0, MAX_CHANNELS)
  local incoming = int(in_bandwidth, 4, F, 0) % U32
  local outgoing = int(out_bandwidth, 5, F, 0) % U32
  if peers < 1 or peers > MAX_PEERS then
    return nil, "enet: failed to create host (peer_count must be between 1 and 4095)"
  end
  local inner, err = core_host_create(bind, peers, channels, incoming, outgoing)
  if not inner then return nil, "enet: failed to create host (" .. tostring(err) .. ")" end
  -- The proxy shares `proxies` and `stash` with its record (src/compat.rs reads them).
  local proxies, stash = setmetatable({}, WEAK_KV), {}
  local p = new_host(inner, proxies, stash)
  recs[p] = { kind = HOST, inner = inner, peer_count = peers,
              proxies = proxies, live = {}, nlive = 0, stash = stash }
  return p
end

function enet.linked_version()
  return prim.linked_version
end

------------------------------------------------------------------------------------------
-- host

local Host = {}

-- Host.service, Host.check_events and Peer.send are raw functions (src/compat.rs): the
-- per-message calls. They use `recs`, `to_event` (events they do not build themselves) and
-- `from_stash`, handed over below.
local function from_stash(h)
  return to_event(h, tremove(h.stash, 1))
end

-- lua-enet returns whether enet_host_compress_with_range_coder succeeded.
function Host.compress_with_range_coder(self)
  local h = host_rec(self, "compress_with_range_coder")
  return host_compress(h.inner, "range_coder") == 0
end

function Host.connect(self, address, channel_count, data)
  local F = "connect"
  local h = host_rec(self, F)
  local host, port = parse_address(address, 1, F)
  if port == 0 then error(badarg(1, F, "port must be between 1 and 65535"), 2) end
  local channels = clamp(int(channel_count, 2, F, 1), 1, MAX_CHANNELS)
  local d = int(data, 3, F, 0) % U32
  local inner, err = host_connect(h.inner, { host = host, port = port }, channels, d)
  if not inner then error(err, 2) end
  remember(h, inner)
  return peer_proxy(h, inner)
end

function Host.flush(self)
  host_flush(host_rec(self, "flush").inner)
end

function Host.broadcast(self, data, channel, flags)
  local F = "broadcast"
  local h = host_rec(self, F)
  local s = str(data, 1, F)
  local f = flag(flags, 3, F)
  local ch = int(channel, 2, F, 0)
  if ch < 0 or ch >= MAX_CHANNELS then return end
  local packet = packet_create(s, f)
  if packet then host_broadcast(h.inner, ch, packet) end
end

function Host.channel_limit(self, limit)
  local h = host_rec(self, "channel_limit")
  host_channel_limit(h.inner, clamp(int(limit, 1, "channel_limit"), 0, MAX_CHANNELS))
end

function Host.bandwidth_limit(self, incoming, outgoing)
  local F = "bandwidth_limit"
  local h = host_rec(self, F)
  local i = int(incoming, 1, F) % U32
  local o = int(outgoing, 2, F) % U32
  host_bandwidth_limit(h.inner, i, o)
end

function Host.get_socket_address(self)
  return format_address((host_address(host_rec(self, "get_socket_address").inner)))
end
Host.socket_get_address = Host.get_socket_address

function Host.total_sent_data(self)
  local stats = host_statistics(host_rec(self, "total_sent_data").inner)
  return stats and stats.bytes_sent or 0
end

function Host.total_received_data(self)
  local stats = host_statistics(host_rec(self, "total_received_data").inner)
  return stats and stats.bytes_received or 0
end

function Host.service_time(self)
  return host_time(host_rec(self, "service_time").inner) or 0
end

function Host.peer_count(self)
  return host_rec(self, "peer_count").peer_count
end

function Host.get_peer(self, index)
  local h = host_rec(self, "get_peer")
  local i = int(index, 1, "get_peer")
  if i < 1 or i > h.peer_count then error(badarg(1, "get_peer", "Invalid peer index"), 2) end
  local inner = slot_peer(h.inner, i - 1)
  if peer_state(inner) ~= "disconnected" then remember(h, inner) end
  local p = peer_proxy(h, inner)
  local r = recs[p]
  r.index = r.index or i
  return p
end

function Host.destroy(self)
  local h = recs[self]
  if h == nil or h.kind ~= HOST then
    error(format("calling 'destroy' on bad self (enet_host expected, got %s)", typename(self)), 2)
  end
  if h.inner == nil then return end
  for inner in pairs(h.live) do forget(h, inner) end
  local stash = h.stash
  for i = #stash, 1, -1 do stash[i] = nil end
  host_destroy(h.inner)
  h.inner = nil
end

------------------------------------------------------------------------------------------
-- peer

local Peer = {}

function Peer.disconnect(self, data)
  local r = peer_rec(self, "disconnect")
  peer_disconnect(r.inner, int(data, 1, "disconnect", 0) % U32)
end

function Peer.disconnect_now(self, data)
  local r = peer_rec(self, "disconnect_now")
  local d = int(data, 1, "disconnect_now", 0) % U32
  forget(r.host, r.inner)
  peer_disconnect_now(r.inner, d)
end

function Peer.disconnect_later(self, data)
  local r = peer_rec(self, "disconnect_later")
  peer_disconnect_later(r.inner, int(data, 1, "disconnect_later", 0) % U32)
end

function Peer.reset(self)
  local r = peer_rec(self, "reset")
  forget(r.host, r.inner)
  peer_reset(r.inner)
end

function Peer.ping(self)
  peer_ping(peer_rec(self, "ping").inner)
end

-- ENet hands a peer's packets out of its own queue; the module only exposes the host's
-- event queue, so take events from it (no socket I/O, as in ENet) and set aside those of
-- other peers for service/check_events, in order.
function Peer.receive(self)
  local r = peer_rec(self, "receive")
  local h, inner = r.host, r.inner
  if h.inner == nil then return end
  local stash = h.stash
  for i = 1, #stash do
    local ev = stash[i]
    if ev.peer == inner then
      if ev.type ~= RECEIVE then break end
      tremove(stash, i)
      return packet_data(ev.packet), ev.channelID
    end
  end
  while true do
    local n, ev = host_check_events(h.inner)
    if n ~= 1 then return end
    if ev.peer == inner and ev.type == RECEIVE then
      return packet_data(ev.packet), ev.channelID
    end
    stash[#stash + 1] = ev
  end
end

-- Setting is accepted but has no effect: rusty_enet keeps these fields private.
function Peer.round_trip_time(self, value)
  local r = peer_rec(self, "round_trip_time")
  if value ~= nil then int(value, 1, "round_trip_time") end
  return peer_round_trip_time(r.inner) or DEFAULT_RTT
end

local function field(r, name, default)
  local host = r.host.inner
  local index = host and peer_index(r.inner)
  if not index then return default end
  return peer_field(host, index - 1, name) or default
end

function Peer.last_round_trip_time(self, value)
  local r = peer_rec(self, "last_round_trip_time")
  if value ~= nil then int(value, 1, "last_round_trip_time") end
  return field(r, "lastRoundTripTime", DEFAULT_RTT)
end

function Peer.ping_interval(self, interval)
  local r = peer_rec(self, "ping_interval")
  if interval ~= nil then
    peer_ping_interval(r.inner, int(interval, 1, "ping_interval") % U32)
  end
  return field(r, "pingInterval", DEFAULT_PING_INTERVAL)
end

-- ENet replaces each 0 by its default, so the values in force are known without reading.
function Peer.timeout(self, limit, minimum, maximum)
  local F = "timeout"
  local r = peer_rec(self, F)
  local l = int(limit, 1, F, 0) % U32
  local mn = int(minimum, 2, F, 0) % U32
  local mx = int(maximum, 3, F, 0) % U32
  peer_timeout(r.inner, l, mn, mx)
  return l ~= 0 and l or TIMEOUT_LIMIT, mn ~= 0 and mn or TIMEOUT_MINIMUM,
    mx ~= 0 and mx or TIMEOUT_MAXIMUM
end

function Peer.throttle_configure(self, interval, acceleration, deceleration)
  local F = "throttle_configure"
  local r = peer_rec(self, F)
  local i = int(interval, 1, F) % U32
  local a = int(acceleration, 2, F) % U32
  local d = int(deceleration, 3, F) % U32
  peer_throttle_configure(r.inner, i, a, d)
end

function Peer.state(self)
  return (peer_state(peer_rec(self, "state").inner))
end

function Peer.connect_id(self)
  return field(peer_rec(self, "connect_id"), "connectID", 0)
end

function Peer.index(self)
  local r = peer_rec(self, "index")
  local index = peer_index(r.inner)
  if index then return index end
  local c = r.host.live[r.inner]
  return c and c.index or r.index
end

local function peer_tostring(self)
  local r = recs[self]
  local c = r.host.live[r.inner]
  if c then return c.addr end
  local a = peer_address(r.inner)
  if a then return format_address(a) end
  return r.addr or "0.0.0.0:0"
end

return enet, Host, Peer, peer_tostring, { recs = recs, to_event = to_event, from_stash = from_stash }

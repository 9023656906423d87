-- The echo protocol of the interop tests, written once against a small adapter so it runs on
-- module_enet (peer.lua), on lua-enet's API (lua_enet_peer.lua: LÖVE's own enet, or
-- module_enet.compat) and, translated to C, on C ENet (enet_peer.c).
--
--   ... server [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
--   ... client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
--
-- The server binds 127.0.0.1 on an ephemeral port, prints "PORT n", checks every packet it
-- receives and echoes it on the same channel with the same delivery mode, and exits at the
-- client's disconnect. The client connects, sends per channel: 0 reliable (20 packets),
-- 1 unreliable (20), 2 unsequenced (20), 3 reliable 100 kB, fragmented (3); waits for each
-- batch's echoes and checks them, then disconnects. Payload: the kind letter (R U S F), a
-- big-endian 32-bit sequence number, a pattern derived from both, and the Adler-32 of all of
-- that, big-endian. Both end with "RESULT ok|corrupt|failed ..." and exit 0 (everything intact
-- and complete), 2 (a payload was corrupt) or 3 (no connection, timeout or disconnect: a clean
-- failure, what mismatched settings must give).
--
-- An adapter has: server(options) -> host, port; client(options) -> host;
-- connect(host, port) -> peer; service(host, ms) -> nil | { type = "connect" | "disconnect" |
-- "receive", peer =, channel =, data = }; send(peer, channel, data, mode) -> true | false,
-- message (mode "reliable" | "unreliable" | "unsequenced"); timeout(peer, limit, min, max);
-- throttle(peer, interval, acceleration, deceleration); disconnect(peer); flush(host);
-- statistics(host) -> string or nil. options = { compress = bool, crc32 = bool }.

local KINDS = { [0] = "R", "U", "S", "F" }
local COUNTS = { [0] = 20, 20, 20, 3 }
local MODES = { [0] = "reliable", "unreliable", "unsequenced", "reliable" }
local EXIT_OK, EXIT_CORRUPT, EXIT_FAILED, EXIT_USAGE = 0, 2, 3, 64
local unpack = table.unpack or unpack
local floor = math.floor

local function length_of(channel, seq)
  if channel == 0 then return 64 + (seq * 97) % 1200 end
  if channel == 3 then return 100000 + seq end
  return 64 + (seq * 53) % 1000
end

local function be32(n)
  return string.char(floor(n / 16777216) % 256, floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
end

-- Adler-32 with float-safe arithmetic (Lua 5.1 has no integers or bit operators).
local function adler32(s)
  local a, b = 1, 0
  for i = 1, #s, 256 do
    local bytes = { s:byte(i, math.min(i + 255, #s)) }
    for j = 1, #bytes do
      a = (a + bytes[j]) % 65521
      b = (b + a) % 65521
    end
  end
  return b * 65536 + a
end

local cache = {}
local function payload(channel, seq)
  local key = channel * 65536 + seq
  if cache[key] then return cache[key] end
  local n, kind = length_of(channel, seq), KINDS[channel]:byte()
  local parts, chunk = { KINDS[channel], be32(seq) }, {}
  -- Byte at 0-based offset i: (i * 7 + seq * 31 + kind) mod 256, as in enet_peer.c.
  for i = 5, n - 5 do
    chunk[#chunk + 1] = (i * 7 + seq * 31 + kind) % 256
    if #chunk == 200 then
      parts[#parts + 1] = string.char(unpack(chunk))
      chunk = {}
    end
  end
  if #chunk > 0 then parts[#parts + 1] = string.char(unpack(chunk)) end
  local body = table.concat(parts)
  cache[key] = body .. be32(adler32(body))
  return cache[key]
end

-- The sequence number of an intact payload that belongs on `channel`, or nil.
local function check(channel, data)
  if not KINDS[channel] or type(data) ~= "string" or #data < 9 or data:sub(1, 1) ~= KINDS[channel] then
    return nil
  end
  local b1, b2, b3, b4 = data:byte(2, 5)
  local seq = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if seq > 1000 or data ~= payload(channel, seq) then return nil end
  return seq
end

local function usage()
  io.stderr:write("usage: server|client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]\n")
  os.exit(EXIT_USAGE)
end

return function(A, args)
  local mode = args[1]
  local port = mode == "client" and tonumber(args[2])
  if mode ~= "server" and not port then usage() end
  local options, timeout_ms, deadline_ms = { compress = false, crc32 = false }, 5000, 30000
  local i = port and 3 or 2
  while args[i] do
    local a = args[i]
    if a == "--compress" then options.compress = true
    elseif a == "--crc32" then options.crc32 = true
    elseif a == "--timeout-ms" then i = i + 1; timeout_ms = tonumber(args[i])
    elseif a == "--deadline-ms" then i = i + 1; deadline_ms = tonumber(args[i])
    else usage() end
    i = i + 1
  end

  -- A wall-clock deadline in whole seconds (os.time is the only clock every Lua has), rounded
  -- up, and a bound on idle service calls of 20 ms each.
  local give_up = os.time() + math.ceil(deadline_ms / 1000)
  local idle_left = math.ceil(deadline_ms / 20)
  local function in_time()
    return os.time() <= give_up and idle_left > 0
  end
  local host
  local function service()
    local event = A.service(host, 20)
    if not event then idle_left = idle_left - 1 end
    return event
  end
  local function finish(code, line)
    local stats = host and A.statistics(host)
    print("RESULT " .. line .. (stats and " " .. stats or ""))
    io.stdout:flush()
    os.exit(code)
  end
  local function configure(peer)
    A.timeout(peer, 32, floor(timeout_ms / 5), timeout_ms)
  end
  -- As in enet_peer.c: ENet's sender-side throttle drops unreliable packets when round-trip
  -- times vary, as they do on a busy machine; deceleration 0 keeps it open, so a missing
  -- packet is a real loss. Set once connected: the handshake checks the values it sent.
  local function open_throttle(peer)
    A.throttle(peer, 5000, 2, 0)
  end

  if mode == "server" then
    local bound
    host, bound = A.server(options)
    print("PORT " .. bound)
    io.stdout:flush()
    local received, corrupt, connected = 0, 0, false
    while in_time() do
      local event = service()
      if event and event.type == "connect" then
        connected = true
        configure(event.peer)
        open_throttle(event.peer)
      elseif event and event.type == "receive" then
        received = received + 1
        if check(event.channel, event.data) then
          A.send(event.peer, event.channel, event.data, MODES[event.channel])
        else
          corrupt = corrupt + 1
        end
      elseif event and event.type == "disconnect" then
        A.flush(host)
        finish(corrupt > 0 and EXIT_CORRUPT or EXIT_OK, ("%s received=%d corrupt=%d"):format(
          corrupt > 0 and "corrupt" or "ok", received, corrupt))
      end
    end
    finish(corrupt > 0 and EXIT_CORRUPT or EXIT_FAILED, ("failed %s received=%d corrupt=%d"):format(
      connected and "deadline before disconnect" or "no connection", received, corrupt))
  end

  host = A.client(options)
  local peer = A.connect(host, port)
  configure(peer)
  local got, corrupt, connected, disconnected = { [0] = 0, 0, 0, 0 }, 0, false, false
  local function pump_until(done)
    while not done() and not disconnected and in_time() do
      local event = service()
      if event and event.type == "connect" then
        connected = true
        open_throttle(peer)
      elseif event and event.type == "disconnect" then
        disconnected = true
      elseif event and event.type == "receive" then
        if check(event.channel, event.data) then
          got[event.channel] = got[event.channel] + 1
        else
          corrupt = corrupt + 1
        end
      end
    end
  end
  pump_until(function() return connected end)
  if not connected then
    finish(EXIT_FAILED, "failed no connection (" .. (disconnected and "disconnect event" or "deadline") .. ")")
  end
  for ch = 0, 3 do
    for seq = 1, COUNTS[ch] do
      local ok, err = A.send(peer, ch, payload(ch, seq), MODES[ch])
      if not ok then finish(EXIT_FAILED, "failed send: " .. tostring(err)) end
    end
    pump_until(function() return got[ch] >= COUNTS[ch] end)
  end
  local complete = true
  for ch = 0, 3 do complete = complete and got[ch] == COUNTS[ch] end
  if complete and not disconnected then
    A.disconnect(peer)
    pump_until(function() return false end)
  end
  local ok = complete and disconnected
  finish(corrupt > 0 and EXIT_CORRUPT or ok and EXIT_OK or EXIT_FAILED,
    ("%s R=%d/%d U=%d/%d S=%d/%d F=%d/%d corrupt=%d"):format(
      corrupt > 0 and "corrupt" or ok and "ok" or "failed", got[0], COUNTS[0], got[1], COUNTS[1],
      got[2], COUNTS[2], got[3], COUNTS[3], corrupt))
end

-- One end of the interop matrix on module_enet: the same program as enet_peer.c (C ENet), run
-- against it by ci/suites.d/interop.sh under every interpreter.
--
--   lua peer.lua server [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
--   lua peer.lua client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]
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

local enet = require("module_enet")

local KINDS = { [0] = "R", "U", "S", "F" }
local COUNTS = { [0] = 20, 20, 20, 3 }
local FLAGS = { [0] = enet.PACKET_FLAG_RELIABLE, 0, enet.PACKET_FLAG_UNSEQUENCED, enet.PACKET_FLAG_RELIABLE }
local EXIT_OK, EXIT_CORRUPT, EXIT_FAILED = 0, 2, 3
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
  if not KINDS[channel] or #data < 9 or data:sub(1, 1) ~= KINDS[channel] then return nil end
  local b1, b2, b3, b4 = data:byte(2, 5)
  local seq = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if seq > 1000 or data ~= payload(channel, seq) then return nil end
  return seq
end

local mode = arg[1]
local options, timeout_ms, deadline_ms = {}, 5000, 30000
local first = mode == "client" and 3 or 2
local i = first
while arg[i] do
  local a = arg[i]
  if a == "--compress" then options.compress = "range_coder"
  elseif a == "--crc32" then options.checksum = "crc32"
  elseif a == "--timeout-ms" then i = i + 1; timeout_ms = tonumber(arg[i])
  elseif a == "--deadline-ms" then i = i + 1; deadline_ms = tonumber(arg[i])
  else io.stderr:write("unknown argument " .. a .. "\n"); os.exit(64) end
  i = i + 1
end

-- A wall-clock deadline in whole seconds (os.time is the only clock every Lua has), rounded
-- up, plus a bound on idle host_service calls of 20 ms each.
local give_up = os.time() + math.ceil(deadline_ms / 1000)
local idle_left = math.ceil(deadline_ms / 20)
local function in_time()
  return os.time() <= give_up and idle_left > 0
end
local function service(host)
  local n, event = host:service(20)
  if n == 0 then idle_left = idle_left - 1 end
  if n < 0 then error(event) end
  return n > 0 and event or nil
end

local host
-- As in enet_peer.c: ENet's sender-side throttle drops unreliable packets when round-trip
-- times vary, as they do on a busy machine; deceleration 0 keeps it open, so a missing packet
-- is a real loss. (Set once connected: the handshake checks the values it sent.)
local function configure(peer)
  peer:timeout(32, floor(timeout_ms / 5), timeout_ms)
end
local function open_throttle(peer)
  peer:throttle_configure(5000, 2, 0)
end

local function finish(code, line)
  local st = host and host:statistics()
  if st then
    line = line .. (" dropped_malformed=%d dropped_too_large=%d"):format(st.dropped_malformed, st.dropped_too_large)
  end
  print("RESULT " .. line)
  io.stdout:flush()
  os.exit(code)
end

if mode == "server" then
  host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 4, 4, 0, 0, options))
  print("PORT " .. host:address().port)
  io.stdout:flush()
  local received, corrupt, connected = 0, 0, false
  while in_time() do
    local event = service(host)
    if event and event.type == enet.EVENT_TYPE_CONNECT then
      connected = true
      configure(event.peer)
      open_throttle(event.peer)
    elseif event and event.type == enet.EVENT_TYPE_RECEIVE then
      received = received + 1
      local data = event.packet:data()
      if check(event.channelID, data) then
        event.peer:send(event.channelID, data, FLAGS[event.channelID])
      else
        corrupt = corrupt + 1
      end
    elseif event and event.type == enet.EVENT_TYPE_DISCONNECT then
      host:flush()
      finish(corrupt > 0 and EXIT_CORRUPT or EXIT_OK, ("%s received=%d corrupt=%d"):format(
        corrupt > 0 and "corrupt" or "ok", received, corrupt))
    end
  end
  finish(corrupt > 0 and EXIT_CORRUPT or EXIT_FAILED, ("failed %s received=%d corrupt=%d"):format(
    connected and "deadline before disconnect" or "no connection", received, corrupt))
elseif mode == "client" and tonumber(arg[2]) then
  host = assert(enet.host_create(nil, 1, 4, 0, 0, options))
  local peer = assert(host:connect({ host = "127.0.0.1", port = tonumber(arg[2]) }, 4))
  configure(peer)
  local got, corrupt, connected, disconnected = { [0] = 0, 0, 0, 0 }, 0, false, false
  local function pump_until(done)
    while not done() and not disconnected and in_time() do
      local event = service(host)
      if event and event.type == enet.EVENT_TYPE_CONNECT then
        connected = true
        open_throttle(peer)
      elseif event and event.type == enet.EVENT_TYPE_DISCONNECT then
        disconnected = true
      elseif event and event.type == enet.EVENT_TYPE_RECEIVE then
        if check(event.channelID, event.packet:data()) then
          got[event.channelID] = got[event.channelID] + 1
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
      assert(peer:send(ch, payload(ch, seq), FLAGS[ch]) == 0)
    end
    pump_until(function() return got[ch] >= COUNTS[ch] end)
  end
  local complete = true
  for ch = 0, 3 do complete = complete and got[ch] == COUNTS[ch] end
  if complete and not disconnected then
    peer:disconnect()
    pump_until(function() return false end)
  end
  local verdict = corrupt > 0 and "corrupt" or (complete and disconnected) and "ok" or "failed"
  finish(corrupt > 0 and EXIT_CORRUPT or (complete and disconnected) and EXIT_OK or EXIT_FAILED,
    ("%s R=%d/%d U=%d/%d S=%d/%d F=%d/%d corrupt=%d"):format(verdict, got[0], COUNTS[0], got[1],
      COUNTS[1], got[2], COUNTS[2], got[3], COUNTS[3], corrupt))
else
  io.stderr:write("usage: peer.lua server|client PORT [--compress] [--crc32] [--timeout-ms N] [--deadline-ms N]\n")
  os.exit(64)
end

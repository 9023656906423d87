-- A server and a client driven by luv (libuv for Lua) instead of a host_service loop: each host
-- is serviced with host_service(host, 0) when its socket is readable (a poll handle on
-- host_fd) and on a 50 ms timer, which runs ENet's own timers (resends, pings, timeouts).
-- The client sends 300 messages, checks every echo, idles for a second (checking that the loop
-- sleeps: the process uses almost no CPU time), then disconnects.
--   lua5.4 examples/luv_echo.lua        (Debian: apt install lua-luv; Lua 5.1-5.4)
local uv = require("luv")
local enet = require("module_enet")

local MESSAGES, IDLE_MS, TICK_MS, LIMIT_MS = 300, 1000, 50, 20000
-- Idle CPU allowed: a spinning loop uses most of the second (0.47 s measured on a loaded
-- 2-core machine), this one a few ms: it wakes 20 times a second.
local MAX_IDLE_CPU_S = 0.15

local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 8, 2))
local client = assert(enet.host_create(nil, 1, 2))
local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2))

-- Services `host` when its socket is readable and every TICK_MS; returns a function that stops.
local function attach(host, on_event)
  local poll = uv.new_socket_poll(host:fd())
  local timer = uv.new_timer()
  local function service()
    while true do
      local n, event = host:service(0)
      if n <= 0 then break end
      on_event(event)
    end
    host:flush() -- what the handlers sent goes out now, not at the next wake-up
  end
  poll:start("r", service)
  timer:start(TICK_MS, TICK_MS, service)
  return function()
    poll:stop()
    poll:close()
    timer:stop()
    timer:close()
  end
end

local result = { echoes = 0 }
local detach_server, detach_client

detach_server = attach(server, function(event)
  if event.type == enet.EVENT_TYPE_RECEIVE then
    event.peer:send(event.channelID, event.packet:data())
  elseif event.type == enet.EVENT_TYPE_DISCONNECT then
    result.server_reason = event.reason
    detach_server()
  end
end)

local function idle_then_disconnect()
  local cpu = os.clock()
  local idle = uv.new_timer()
  idle:start(IDLE_MS, 0, function()
    idle:close()
    result.idle_cpu = os.clock() - cpu
    peer:disconnect()
    client:flush()
  end)
end

detach_client = attach(client, function(event)
  if event.type == enet.EVENT_TYPE_CONNECT then
    for i = 1, MESSAGES do
      peer:send(0, "message " .. i)
    end
  elseif event.type == enet.EVENT_TYPE_RECEIVE then
    result.echoes = result.echoes + 1
    assert(event.packet:data() == "message " .. result.echoes, "echo out of order or corrupt")
    if result.echoes == MESSAGES then idle_then_disconnect() end
  elseif event.type == enet.EVENT_TYPE_DISCONNECT then
    result.client_reason = event.reason
    detach_client()
  end
end)

-- uv.run returns once every handle is closed; the watchdog does not keep the loop alive.
local watchdog = uv.new_timer()
watchdog:start(LIMIT_MS, 0, function()
  io.stderr:write("luv_echo: not done after " .. LIMIT_MS .. " ms\n")
  os.exit(1)
end)
watchdog:unref()
uv.run()
watchdog:close()
-- Let the loop finish closing the watchdog: luv (1.44) frees a handle whose close is still
-- pending at exit twice, and the interpreter crashes in lua_close.
uv.run()
server:destroy()
client:destroy()

print(("luv: %d/%d echoes; %.3f s CPU while idle for %d ms; disconnect reasons %s/%s"):format(
  result.echoes, MESSAGES, result.idle_cpu or -1, IDLE_MS, tostring(result.client_reason),
  tostring(result.server_reason)))
assert(result.echoes == MESSAGES)
assert(result.client_reason == "disconnect" and result.server_reason == "disconnect")
assert(result.idle_cpu < MAX_IDLE_CPU_S, "the loop was busy while idle")

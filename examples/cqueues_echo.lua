-- A server and a client driven by cqueues instead of a host_service loop: one coroutine per
-- host waits until the host's socket is readable (cqueues.poll on host_fd) or 50 ms have
-- passed, which runs ENet's own timers (resends, pings, timeouts), then calls
-- host_service(host, 0) until it has no more events. The client sends 300 messages, checks
-- every echo, idles for a second (checking that the loop sleeps: the process uses almost no
-- CPU time), then disconnects.
--   lua5.4 examples/cqueues_echo.lua    (Debian: apt install lua-cqueues; Lua 5.1-5.4)
local cqueues = require("cqueues")
local enet = require("module_enet")

local MESSAGES, IDLE_S, TICK_S, LIMIT_S = 300, 1, 0.05, 20
-- Idle CPU allowed: a spinning loop uses most of the second, this one a few ms.
local MAX_IDLE_CPU_S = 0.15

local cq = cqueues.new()
local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 8, 2))
local client = assert(enet.host_create(nil, 1, 2))
local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2))

-- Services `host` whenever its socket is readable and every TICK_S; returns a function that
-- stops it (the coroutine ends within TICK_S).
local function attach(host, on_event)
  local running = true
  local socket = { pollfd = host:fd(), events = "r" }
  cq:wrap(function()
    while running do
      cqueues.poll(socket, TICK_S)
      while running do
        local n, event = host:service(0)
        if n <= 0 then break end
        on_event(event)
      end
      if running then host:flush() end -- what the handlers sent goes out now
    end
  end)
  return function() running = false end
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

detach_client = attach(client, function(event)
  if event.type == enet.EVENT_TYPE_CONNECT then
    for i = 1, MESSAGES do
      peer:send(0, "message " .. i)
    end
  elseif event.type == enet.EVENT_TYPE_RECEIVE then
    result.echoes = result.echoes + 1
    assert(event.packet:data() == "message " .. result.echoes, "echo out of order or corrupt")
    if result.echoes == MESSAGES then
      cq:wrap(function()
        local cpu = os.clock()
        cqueues.sleep(IDLE_S)
        result.idle_cpu = os.clock() - cpu
        peer:disconnect()
        client:flush()
      end)
    end
  elseif event.type == enet.EVENT_TYPE_DISCONNECT then
    result.client_reason = event.reason
    detach_client()
  end
end)

-- Step the queue until every coroutine has ended, within LIMIT_S.
local deadline = cqueues.monotime() + LIMIT_S
while not cq:empty() do
  if cqueues.monotime() > deadline then
    io.stderr:write("cqueues_echo: not done after " .. LIMIT_S .. " s\n")
    os.exit(1)
  end
  assert(cq:step(1))
end
server:destroy()
client:destroy()

print(("cqueues: %d/%d echoes; %.3f s CPU while idle for %d s; disconnect reasons %s/%s"):format(
  result.echoes, MESSAGES, result.idle_cpu or -1, IDLE_S, tostring(result.client_reason),
  tostring(result.server_reason)))
assert(result.echoes == MESSAGES)
assert(result.client_reason == "disconnect" and result.server_reason == "disconnect")
assert(result.idle_cpu < MAX_IDLE_CPU_S, "the loop was busy while idle")

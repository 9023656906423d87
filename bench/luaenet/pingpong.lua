-- Ping-pong, written against lua-enet's API as a LÖVE game would: the twin of
-- bench/lua/pingpong.lua (send=string: lua-enet sends strings and receives them in the event).
-- Runs unchanged on LÖVE's lua-enet and on module_enet.compat (see stream.lua).
--   pingpong.lua server [limit=S]                   prints "PORT n", echoes until disconnect
--   pingpong.lua client port=N [n=] [warmup=] [size=] [limit=S]
local b = require("benchutil")
local enet = require("enet")

local mode, o = b.options(arg)

if mode == "server" then
  local host = assert(enet.host_create("127.0.0.1:*", 8, 2))
  print("PORT " .. host:get_socket_address():match(":(%d+)$"))
  io.stdout:flush()
  local deadline = b.now() + (o.limit or 120)
  while b.now() < deadline do
    local event = host:service(100)
    if event then
      if event.type == "receive" then
        event.peer:send(event.data, 0, "reliable")
      elseif event.type == "disconnect" then
        break
      end
    end
  end
  host:destroy()
  return
end

local n, warmup, size = o.n or 10000, o.warmup or 500, o.size or 32
local host = assert(enet.host_create(nil, 1, 2))
local peer = host:connect("127.0.0.1:" .. o.port, 2)
local now = b.now
local deadline = now() + 10
repeat
  local event = host:service(100)
  if now() > deadline then
    error("connect to port " .. tostring(o.port) .. " failed")
  end
until event and event.type == "connect"

local payload = string.rep("p", size)
local samples = {}
deadline = now() + (o.limit or 120)
local cpu0 = 0
for i = 1, warmup + n do
  if i == warmup + 1 then
    cpu0 = b.cpu()
  end
  local t0 = now()
  peer:send(payload, 0, "reliable")
  local answered
  repeat
    local event = host:service(1000)
    answered = event ~= nil and event.type == "receive"
  until answered or now() > deadline
  local t1 = now()
  if not answered then
    break
  end
  if i > warmup then
    samples[#samples + 1] = (t1 - t0) * 1e6
  end
end
local cpu = b.cpu() - cpu0
local got = #samples
peer:disconnect()
deadline = now() + 1
while now() < deadline do
  local event = host:service(10)
  if event and event.type == "disconnect" then
    break
  end
end
local mean, p50, p99, max = b.summarize(samples)
b.result("n", got, "mean_us", mean, "p50_us", p50, "p99_us", p99, "max_us", max,
  "client_cpu_us", got > 0 and cpu / got * 1e6 or 0)
host:destroy()
os.exit(got == n and 0 or 1)

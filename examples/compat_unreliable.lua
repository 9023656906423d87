-- lua-enet's unreliable example in one process: on connect the server sends one reliable
-- greeting and a burst of unreliable (sequenced) packets on channel 1. Unreliable packets may
-- be lost but never arrive out of order. Only the require line differs from code for
-- lua-enet itself:
--   local enet = require "enet"
-- Run: LUA_CPATH="target/lua/lua54/?.so;;" lua5.4 examples/compat_unreliable.lua
local enet = require "module_enet.compat"

local host = enet.host_create("localhost:*", nil, 2)
local client = enet.host_create(nil, 1, 2)
local server = client:connect(host:get_socket_address(), 2)

local greeting
local last, received = -1, 0
local rounds = 0
while rounds < 1000 do
  rounds = rounds + 1

  local event = host:service(10)
  while event do
    if event.type == "connect" then
      event.peer:send("hello world")
      for i = 0, 100 do
        event.peer:send(tostring(i), 1, "unreliable")
      end
      event.peer:send("that was all", 0, "reliable")
    end
    event = host:service()
  end

  local finished = false
  event = client:service(10)
  while event do
    if event.type == "receive" then
      if event.channel == 1 then
        local n = tonumber(event.data)
        assert(n > last, "unreliable packets out of order")
        last, received = n, received + 1
      elseif event.data == "hello world" then
        greeting = event.data
      elseif event.data == "that was all" then
        finished = true
      end
    end
    event = client:service()
  end
  if finished then break end
end

print(("greeting %q, %d of 101 unreliable packets, last %d"):format(tostring(greeting), received, last))
assert(greeting == "hello world", "no reliable greeting")
assert(received > 0, "no unreliable packet arrived")

server:disconnect()
client:flush()
client:destroy()
host:destroy()
print("unreliable example OK")

-- lua-enet's channels example in one process: the client sends on channels 0 and 1; the server
-- ignores channel 0 and sends channel 1 back. Only the require line differs from code for
-- lua-enet itself:
--   local enet = require "enet"
-- Run: LUA_CPATH="target/lua/lua54/?.so;;" lua5.4 examples/compat_channels.lua
local enet = require "module_enet.compat"

local host = enet.host_create("localhost:*", nil, 2)
local client = enet.host_create(nil, 1, 2)
local server = client:connect(host:get_socket_address(), 2)

local ignored = 0
local channel_responders = {
  [0] = function(event)
    print("doing nothing")
    ignored = ignored + 1
  end,
  [1] = function(event)
    print("sending back...")
    event.peer:send(event.data, event.channel)
  end,
}

local reply
local rounds = 0
while not reply and rounds < 1000 do
  rounds = rounds + 1

  local event = host:service(10)
  while event do
    if event.type == "receive" then
      print("receive, channel:", event.channel)
      channel_responders[event.channel](event)
    else
      print(event.type, event.peer)
    end
    event = host:service()
  end

  event = client:service(10)
  while event do
    if event.type == "connect" then
      server:send("wally world", 0)
      server:send("nut house", 1)
    elseif event.type == "receive" then
      print(event.type, event.data, event.channel)
      reply = event
    end
    event = client:service()
  end
end

assert(reply, "no reply")
assert(reply.data == "nut house" and reply.channel == 1, "reply came back on the wrong channel")
assert(ignored == 1, "channel 0 message not seen")

server:disconnect()
client:flush()
client:destroy()
host:destroy()
print("channels example OK")

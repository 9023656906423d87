-- lua-enet's tutorial (an echo server and its client) in one process, written against
-- lua-enet's API. Only the require line differs from code for lua-enet itself:
--   local enet = require "enet"
-- Run: LUA_CPATH="target/lua/lua54/?.so;;" lua5.4 examples/compat_simple.lua
local enet = require "module_enet.compat"

-- "*" as the port picks a free one; get_socket_address tells which.
local server = enet.host_create("localhost:*")
local address = server:get_socket_address()
print("server listening on", address)

local client = enet.host_create()
local server_peer = client:connect(address)

local done = false
local rounds = 0
while not done and rounds < 1000 do
  rounds = rounds + 1

  -- The server: echo every message back.
  local event = server:service(10)
  while event do
    if event.type == "receive" then
      print("Got message: ", event.data, event.peer)
      event.peer:send(event.data)
    elseif event.type == "connect" then
      print(event.peer, "connected.")
    elseif event.type == "disconnect" then
      print(event.peer, "disconnected.")
    end
    event = server:service()
  end

  -- The client: say hello once connected, stop at the answer.
  event = client:service(10)
  while event do
    if event.type == "connect" then
      print("Connected to", event.peer)
      event.peer:send("hello world")
    elseif event.type == "receive" then
      print("Got message: ", event.data, event.peer)
      assert(event.data == "hello world")
      done = true
    end
    event = client:service()
  end
end
assert(done, "no answer from the server")

server_peer:disconnect()
client:flush()

-- The server sees the client leave (instead of waiting for a timeout).
local left = false
for _ = 1, 500 do
  local event = server:service(10)
  if event and event.type == "disconnect" then
    print(event.peer, "disconnected.")
    left = true
    break
  end
end
assert(left, "the server did not see the disconnect")

client:destroy()
server:destroy()
print("simple example OK")

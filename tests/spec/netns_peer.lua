-- One side of the link-local test in address_ipv6_spec.lua (not a spec: busted only runs
-- *_spec.lua). The spec runs it inside a network namespace with `ip netns exec`.
--
--   netns_peer.lua server IFACE          binds [fe80::a%IFACE]:0, prints "port P scope S",
--                                        answers the first client with its view of the
--                                        client's address ("fe80::b%S"), ends on disconnect
--   netns_peer.lua client ADDR%IFACE P   connects, prints "reply <what the server sent>"
--
-- Each side gives up after 15 s (os.time) or 300 service calls of 50 ms.

package.cpath = os.getenv("NETNS_PEER_CPATH") or package.cpath
local enet = require("module_enet")

local role = arg[1]
local give_up = os.time() + 15

local function serve(host, on_event)
  for _ = 1, 300 do
    if os.time() > give_up then
      return false
    end
    local n, ev = host:service(50)
    if n > 0 and on_event(ev) then
      return true
    end
  end
  return false
end

if role == "server" then
  local host = assert(enet.host_create("[fe80::a%" .. arg[2] .. "]:0", 2, 1))
  local a = host:address()
  io.stdout:write(("port %d scope %d\n"):format(a.port, a.sin6_scope_id))
  io.stdout:flush()
  local done = serve(host, function(ev)
    if ev.type == enet.EVENT_TYPE_CONNECT then
      local pa = ev.peer:address()
      ev.peer:send(0, enet.packet_create(pa.host .. "%" .. tostring(pa.sin6_scope_id)))
      host:flush()
    elseif ev.type == enet.EVENT_TYPE_DISCONNECT then
      return true
    end
  end)
  io.stdout:write(done and "server done\n" or "server gave up\n")
  host:destroy()
elseif role == "client" then
  local host = assert(enet.host_create(nil, 1, 1))
  local bare = arg[2]:match("^([^%%]+)")
  local nope, err = host:connect("[" .. bare .. "]:" .. arg[3])
  io.stdout:write("without scope: " .. tostring(nope) .. " " .. tostring(err) .. "\n")
  local peer = assert(host:connect("[" .. arg[2] .. "]:" .. arg[3], 1))
  local pa = peer:address()
  io.stdout:write(("target %s %d\n"):format(pa.host, pa.sin6_scope_id))
  local reply
  serve(host, function(ev)
    if ev.type == enet.EVENT_TYPE_RECEIVE then
      reply = ev.packet:data()
      return true
    end
  end)
  io.stdout:write("reply " .. tostring(reply) .. "\n")
  if reply then
    peer:disconnect()
    serve(host, function(ev)
      return ev.type == enet.EVENT_TYPE_DISCONNECT
    end)
  end
  host:destroy()
else
  error("usage: netns_peer.lua server IFACE | client ADDR%IFACE PORT")
end

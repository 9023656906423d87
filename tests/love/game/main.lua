-- Runs one end of the interop echo test (tests/interop/echo.lua) inside LÖVE:
--   love tests/love/game module_enet server|client PORT [--compress] [--crc32] ...
--     module_enet, the luajit build in target/lua/luajit, found through package.cpath
--   love tests/love/game lua_enet server|client PORT [--compress] ...
--     LÖVE's own lua-enet (require "enet")
-- Exits with echo.lua's codes; prints "RESULT ...".
local source = love.filesystem.getSource()
local interop = source .. "/../../interop/"
package.cpath = source .. "/../../../target/lua/luajit/?.so;" .. package.cpath

local args = {}
for i = 2, #arg do
  args[#args + 1] = arg[i]
end
local api = table.remove(args, 1)
local major, minor, revision = love.getVersion()
print(("LÖVE %d.%d.%d, %s, enet API %s"):format(major, minor, revision, jit and jit.version or _VERSION,
  tostring(api)))
if api == "lua_enet" then
  LUA_ENET = require("enet")
  LUA_ENET_ARGS = args
  dofile(interop .. "lua_enet_peer.lua")
elseif api == "module_enet" then
  arg = args
  dofile(interop .. "peer.lua")
end
io.stderr:write("usage: love tests/love/game module_enet|lua_enet server|client PORT [options]\n")
os.exit(64)

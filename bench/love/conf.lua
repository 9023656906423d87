-- LÖVE 11 without a window, graphics, audio or input: the benchmark needs only LuaJIT, the
-- bundled lua-enet (`require("enet")`, not a love module) and stdout. Runs with no display.
-- luacheck: globals love
function love.conf(t)
  t.identity = "module_enet_bench"
  t.window = false
  t.console = false
  for name in pairs(t.modules) do
    t.modules[name] = false
  end
end

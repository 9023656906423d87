-- LuaJIT under injected out-of-memory, with no module_enet at all: plain table and string work
-- inside pcall, each allocation failing in turn (and, as in the sweeps, every one after it until
-- the call returns). Debian's LuaJIT 2.1.0-beta3 crashes with a segmentation fault once the loop
-- is JIT-compiled, every time (also with single failures; with -joff only now and then); so did
-- a LuaJIT 2.1 rolling built from the luajit-src crate. This is why ci/suites.d/faults.sh runs
-- its LuaJIT sweeps with -joff, where the module's sweeps pass.
local fa = require("failalloc")
fa.install()
local function work(n)
  local t = {}
  for i = 1, n do
    t[i] = { i, tostring(i) .. "x" }
  end
  return #t
end
local surfaced = 0
for _ = 1, 3000 do
  for k = 1, 60, 7 do
    fa.arm(k)
    fa.enable(true)
    local ok, err = pcall(work, 20)
    fa.enable(false)
    if fa.fired() then
      fa.arm(0)
    end
    if not ok then
      surfaced = surfaced + 1
      assert(tostring(err):find("not enough memory"), tostring(err))
    end
  end
end
print("survived; out-of-memory errors: " .. surfaced)

-- luacheck (Debian's lua-check) settings. ci/suites.d/docs.sh runs luacheck over examples/,
-- tests/spec/, bench/ and the docs tooling (docs/api-source.lua, ci/*.lua, library/).

-- Every example and test must run on Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT: "max" knows the
-- globals of all of them (and `arg`, which the examples read for their command line).
std = "max"
max_line_length = 120

files["tests/spec"] = { std = "+busted" }
files["bench"] = { std = "max" }

-- Generated LuaLS stubs: parameters only declare signatures, the class tables exist only for
-- their annotations, and the doc comments are prose copied from docs/api-source.lua.
files["library"] = {
  unused_args = false,
  ignore = { "241" },
  max_comment_line_length = false,
}

-- Garbage-collection tests drop references on purpose (`x = nil` right before
-- collectgarbage()), which luacheck reports as unused assignments.
files["tests/spec/memory_spec.lua"] = { std = "+busted", ignore = { "311", "231/server" } }
files["tests/spec/transfer_spec.lua"] = { std = "+busted", ignore = { "311/packet" } }
-- The GC stress spec drops references on purpose (`x = nil` before a collection).
files["tests/spec/gc_stress_spec.lua"] = { std = "+busted", ignore = { "311", "231" } }
files["tests/spec/battery_api_spec.lua"] = { std = "+busted", ignore = { "311/doomed", "311/h" } }
files["tests/spec/compat_host_spec.lua"] = { std = "+busted", ignore = { "311/host" } }

-- lua-enet's own examples, kept unchanged apart from the require line (docs/lua-enet.md):
-- their channel callbacks take `event` whether or not they use it.
files["examples/compat_channels.lua"] = { ignore = { "212/event" } }

-- The LÖVE game of the interop suite: LÖVE's globals, and the two it hands to
-- tests/interop/lua_enet_peer.lua (LÖVE's enet module and the command line).
files["tests/love"] = { globals = { "love", "LUA_ENET", "LUA_ENET_ARGS", "arg" } }

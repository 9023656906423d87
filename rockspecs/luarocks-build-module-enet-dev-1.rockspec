-- The LuaRocks build back-end that module-enet's rockspecs name as `build.type = "module-enet"`.
rockspec_format = "3.0"
package = "luarocks-build-module-enet"
version = "dev-1"
source = {
   url = "git+https://github.com/module-enet/module-enet.git",
   branch = "main",
}
description = {
   summary = "LuaRocks build back-end for module-enet: verified prebuilt binaries, cargo fallback",
   detailed = [[
Installs module-enet's prebuilt library for the running Lua version, OS and CPU after checking
the SHA-256 pinned in the rockspec and loading it once in the target interpreter; builds from
source with cargo when no prebuilt library fits.]],
   homepage = "https://github.com/module-enet/module-enet",
   license = "MIT",
}
dependencies = {
   "lua >= 5.1",
}
build = {
   type = "builtin",
   modules = {
      ["luarocks.build.module-enet"] = "luarocks/build/module-enet.lua",
   },
}

-- Development rockspec: builds the current main branch from source with cargo (Rust 1.88+).
-- `luarocks make rockspecs/module-enet-dev-1.rockspec` in a checkout builds that checkout.
-- Releases use module-enet-<version>-1.rockspec, rendered from module-enet.rockspec.in, which
-- installs a prebuilt library instead (docs/distribution.md).
rockspec_format = "3.0"
package = "module-enet"
version = "dev-1"
source = {
   url = "git+https://github.com/module-enet/module-enet.git",
   branch = "main",
}
description = {
   summary = "ENet (reliable UDP for games and real-time apps) for Lua 5.1-5.5 and LuaJIT",
   detailed = [[
Hosts, peers, channels and packets of the ENet protocol, written in Rust on rusty_enet and
mlua. Misuse raises a Lua error; network failures return nil and a message.]],
   homepage = "https://github.com/module-enet/module-enet",
   license = "MIT",
   labels = { "networking", "udp", "enet", "gamedev" },
}
dependencies = {
   "lua >= 5.1, < 5.6",
}
-- LuaRocks 3.10+ would find the back-end from build.type alone; 3.8 and 3.9 need this line.
build_dependencies = {
   "luarocks-build-module-enet",
}
build = {
   -- No `archives` table: the back-end goes straight to cargo.
   type = "module-enet",
}

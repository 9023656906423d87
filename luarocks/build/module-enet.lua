-- LuaRocks build back-end for module-enet (`build.type = "module-enet"`).
--
-- LuaRocks binary rocks cannot say which Lua version they were built for, and a module built
-- for one Lua does not load in another, so the release rockspec lists one prebuilt archive per
-- Lua flavour and target triple, each with a pinned SHA-256. This back-end picks the archive
-- for the interpreter LuaRocks installs for, downloads it, checks the hash, loads it once in
-- that interpreter and installs it as module_enet.so / module_enet.dll. When any of that fails
-- it says why and builds from the source tree with cargo instead.
--
-- Rockspec fields read (all under `build`):
--   base_url  where the archives are, e.g. a GitHub release's download URL
--   archives  { ["<flavour>-<triple>"] = { file = "<archive name>", sha256 = "<hex>" }, ... }
-- A rockspec without archives (the dev rockspec) always builds from source.
--
-- Environment:
--   MODULE_ENET_BUILD_FROM_SOURCE=1  skip the prebuilt archives
--   MODULE_ENET_REQUIRE_PREBUILT=1   fail instead of building from source (release checks)
--   CARGO_TARGET_DIR                 where the source build puts its output (default: target)
--   LUA_LIB, LUA_LIB_NAME, LUA_LINK  (Windows, source build) link against this Lua import
--                                    library; passed to mlua as they are
--
-- Runs inside LuaRocks (3.8 or newer), under whatever Lua LuaRocks itself runs on: the code
-- sticks to what Lua 5.1 through 5.4 share.

local cfg = require("luarocks.core.cfg")
local dir = require("luarocks.dir")
local fetch = require("luarocks.fetch")
local fs = require("luarocks.fs")
local path = require("luarocks.path")
local util = require("luarocks.util")

local M = {}

local unpack = unpack or table.unpack -- luacheck: ignore 143

-- LuaRocks >= 3.10 otherwise insists on lua.h, which neither the download nor cargo needs
-- (mlua carries its own Lua declarations). 3.8 checks before loading any back-end.
M.skip_lua_inc_lib_check = true

local FLAVOURS = {
   ["Lua 5.1"] = "lua51",
   ["Lua 5.2"] = "lua52",
   ["Lua 5.3"] = "lua53",
   ["Lua 5.4"] = "lua54",
   ["Lua 5.5"] = "lua55",
}

-- LuaRocks quotes for cmd.exe on every Windows platform (MSVC, MinGW, MSYS2), so this follows
-- its platform, not the path separator of the Lua LuaRocks runs on.
local is_windows = cfg.is_platform("windows")

local function say(msg)
   util.printout("module-enet: " .. msg)
end

local function warn(msg)
   util.printerr("module-enet: " .. msg)
end

local function env_flag(name)
   local v = os.getenv(name)
   return v ~= nil and v ~= "" and v ~= "0"
end

-- Runs a shell command and returns (succeeded, output with stderr). LuaRocks' own popen helper
-- reads one line and has no exit status; this works on the Lua LuaRocks runs on, 5.1 to 5.4.
local function capture(cmd, scratch)
   local out = dir.path(scratch, "output.txt")
   local full = cmd .. " > " .. fs.Q(out) .. " 2>&1"
   -- cmd.exe strips the first and last quote of a line that starts with one.
   if is_windows then
      full = '"' .. full .. '"'
   end
   local r1, _, r3 = os.execute(full)
   local ok
   if type(r1) == "number" then
      ok = r1 == 0
   else
      ok = r1 == true and (r3 == nil or r3 == 0)
   end
   local text = ""
   local fd = io.open(out, "rb")
   if fd then
      text = fd:read("*a") or ""
      fd:close()
   end
   os.remove(out)
   return ok, text
end

local function interpreter()
   local lua = cfg.variables and cfg.variables.LUA
   if (not lua or lua == "") and cfg.variables and cfg.variables.LUA_BINDIR and cfg.lua_interpreter then
      lua = dir.path(cfg.variables.LUA_BINDIR, cfg.lua_interpreter)
   end
   return lua
end

-- The flavour of the interpreter that will load the module: asked of the interpreter itself,
-- because LuaRocks' own Lua may be another version, and LuaJIT reports "Lua 5.1".
local function detect_flavour(scratch)
   local lua = interpreter()
   if lua then
      local ok, out = capture(fs.Q(lua) .. [[ -e "io.write(type(jit) == 'table' and 'LuaJIT' or _VERSION)"]], scratch)
      if ok then
         if out:match("^LuaJIT") then
            return "luajit"
         end
         local flavour = FLAVOURS[out:match("^Lua %d%.%d")]
         if flavour then
            return flavour
         end
      end
   end
   if cfg.luajit_version or (util.get_luajit_version and util.get_luajit_version()) then
      return "luajit"
   end
   return FLAVOURS["Lua " .. tostring(cfg.lua_version)]
end

local function detect_triple()
   local cpu = tostring(cfg.target_cpu or ""):lower()
   if cpu == "x86_64" or cpu == "amd64" or cpu == "x64" then
      cpu = "x86_64"
   elseif cpu == "arm64" or cpu == "aarch64" then
      cpu = "aarch64"
   else
      return nil, "no prebuilt library for CPU '" .. tostring(cfg.target_cpu) .. "'"
   end
   if cfg.is_platform("windows") then
      if cpu ~= "x86_64" then
         return nil, "no prebuilt library for Windows on " .. cpu
      end
      return cpu .. "-pc-windows-msvc"
   elseif cfg.is_platform("macosx") then
      return cpu .. "-apple-darwin"
   elseif cfg.is_platform("linux") then
      -- Built against glibc; on musl the test load fails and the source build takes over.
      return cpu .. "-unknown-linux-gnu"
   end
   return nil, "no prebuilt library for this operating system"
end

local function sha256_of(file, scratch)
   local q = fs.Q(file)
   local commands = {
      "sha256sum " .. q,
      "shasum -a 256 " .. q,
      "openssl dgst -sha256 " .. q,
   }
   if is_windows then
      table.insert(commands, 1, "certutil -hashfile " .. q .. " SHA256")
      table.insert(commands, 2, [[powershell -NoProfile -Command "(Get-FileHash -Algorithm SHA256 -LiteralPath ']]
         .. file .. [[').Hash"]])
   end
   local hex64 = string.rep("%x", 64)
   for _, cmd in ipairs(commands) do
      local ok, out = capture(cmd, scratch)
      if ok then
         -- Older certutil prints the hash as space-separated bytes.
         for line in out:gmatch("[^\r\n]+") do
            local h = line:gsub(" ", ""):match(hex64)
            if h then
               return h:lower()
            end
         end
      end
   end
   return nil, "no SHA-256 tool found (tried sha256sum, shasum, openssl"
      .. (is_windows and ", certutil, powershell" or "") .. ")"
end

local function find_library(root, flavour)
   local wanted = "module_enet_" .. flavour
   for _, rel in ipairs(fs.find(root)) do
      local base = dir.base_name(rel)
      local stem = base:match("^lib(.+)%.so$") or base:match("^lib(.+)%.dylib$") or base:match("^(.+)%.dll$")
      if stem == wanted then
         return dir.path(root, rel)
      end
   end
   return nil
end

-- The LuaRocks version of a Cargo (SemVer) version: rockspec versions must match
-- `[%w.]+-%d+`, so `0.2.0-rc.1` becomes `0.2.0rc1`. LuaRocks orders alpha < beta < pre < rc
-- below the release; other pre-release words would sort above it, so they have no mapping
-- (ci/dist-render-rockspec.py refuses to render them; keep the two in step).
function M.luarocks_version(cargo_version)
   local core, pre = tostring(cargo_version):match("^(%d+%.%d+%.%d+)%-?(.*)$")
   if not core then
      return nil
   end
   if pre == "" then
      return core
   end
   local word, n = pre:match("^(%a+)%.?(%d*)$")
   if word == "alpha" or word == "beta" or word == "pre" or word == "rc" then
      return core .. word .. n
   end
   return nil
end

-- Loads the library in the target interpreter and checks it is module-enet and, when the
-- rockspec has a release version, that version. Every install path runs it before installing.
local function test_load(lib, rockspec, scratch)
   local lua = interpreter()
   if not lua then
      return nil, "LuaRocks does not know the Lua interpreter to test with"
   end
   local script = dir.path(scratch, "probe.lua")
   local fd = io.open(script, "wb")
   if not fd then
      return nil, "cannot write " .. script
   end
   fd:write([[
local lib = ...
local open, err = package.loadlib(lib, "luaopen_module_enet")
if not open then io.write("loadlib failed: ", tostring(err)) os.exit(1) end
local ok, m = pcall(open, "module_enet")
if not ok then io.write("luaopen_module_enet failed: ", tostring(m)) os.exit(1) end
if type(m) ~= "table" or type(m.host_create) ~= "function" then io.write("not module-enet") os.exit(1) end
io.write("module-enet ", tostring(m.VERSION), " loads")
]])
   fd:close()
   local ok, out = capture(fs.Q(lua) .. " " .. fs.Q(script) .. " " .. fs.Q(lib), scratch)
   out = out:gsub("%s+$", "")
   local loaded = ok and out:match("module%-enet (%S+) loads$")
   if not loaded then
      return nil, "test load in " .. lua .. " failed: " .. out
   end
   -- "dev-1" and the like build whatever the checkout holds: no version to match.
   local want = tostring(rockspec.version):match("^(%d[%w.]*)%-%d+$")
   if want and M.luarocks_version(loaded) ~= want then
      return nil, "test load in " .. lua .. ": the library is module-enet " .. loaded
         .. ", the rockspec is " .. tostring(rockspec.version)
   end
   return true, "module-enet " .. loaded .. " loads in " .. lua
end

local function install(lib, rockspec, no_install)
   if no_install then
      return true
   end
   local libdir = path.lib_dir(rockspec.name, rockspec.version)
   local ok, err = fs.make_dir(libdir)
   if not ok then
      return nil, "cannot create " .. libdir .. ": " .. tostring(err)
   end
   local dest = dir.path(libdir, "module_enet." .. cfg.lib_extension)
   ok, err = fs.copy(lib, dest, "exec")
   if not ok then
      return nil, "cannot copy " .. lib .. " to " .. dest .. ": " .. tostring(err)
   end
   return true
end

local function prebuilt(rockspec, no_install, scratch)
   local build = rockspec.build
   if type(build.archives) ~= "table" or next(build.archives) == nil then
      return nil, "this rockspec lists no prebuilt archives"
   end
   if env_flag("MODULE_ENET_BUILD_FROM_SOURCE") then
      return nil, "MODULE_ENET_BUILD_FROM_SOURCE is set"
   end
   local flavour = detect_flavour(scratch)
   if not flavour then
      return nil, "cannot tell which Lua this is (LuaRocks says " .. tostring(cfg.lua_version) .. ")"
   end
   local triple, err = detect_triple()
   if not triple then
      return nil, err
   end
   local key = flavour .. "-" .. triple
   local entry = build.archives[key]
   if type(entry) ~= "table" or type(entry.file) ~= "string" or type(entry.sha256) ~= "string" then
      return nil, "the rockspec has no archive for " .. key
   end
   local url = tostring(build.base_url or ""):gsub("/+$", "") .. "/" .. entry.file
   say("downloading " .. url)
   local archive = dir.path(scratch, entry.file)
   local got, ferr = fetch.fetch_url(url, archive)
   if not got then
      return nil, "download failed: " .. tostring(ferr)
   end
   local sum, serr = sha256_of(archive, scratch)
   if not sum then
      return nil, serr
   end
   if sum ~= entry.sha256:lower() then
      return nil, "SHA-256 mismatch for " .. entry.file .. ": got " .. sum .. ", the rockspec pins " .. entry.sha256
   end
   local unpacked = dir.path(scratch, "unpacked")
   fs.make_dir(unpacked)
   fs.change_dir(unpacked)
   local uok, uerr = fs.unpack_archive(archive)
   fs.pop_dir()
   if not uok then
      return nil, "cannot unpack " .. entry.file .. ": " .. tostring(uerr)
   end
   local lib = find_library(unpacked, flavour)
   if not lib then
      return nil, entry.file .. " holds no module_enet_" .. flavour .. " library"
   end
   local lok, lmsg = test_load(lib, rockspec, scratch)
   if not lok then
      return nil, lmsg
   end
   local iok, ierr = install(lib, rockspec, no_install)
   if not iok then
      return nil, ierr
   end
   say("installed the prebuilt " .. key .. " library (SHA-256 verified; " .. lmsg .. ")")
   return true
end

local function find_cargo(scratch)
   local candidates = { "cargo" }
   local home = os.getenv("CARGO_HOME") or (os.getenv("HOME") and dir.path(os.getenv("HOME"), ".cargo"))
      or (os.getenv("USERPROFILE") and dir.path(os.getenv("USERPROFILE"), ".cargo"))
   if home then
      table.insert(candidates, dir.path(home, "bin", is_windows and "cargo.exe" or "cargo"))
   end
   for i, c in ipairs(candidates) do
      local cmd = i == 1 and c or fs.Q(c)
      if capture(cmd .. " --version", scratch) then
         return cmd
      end
   end
   return nil
end

-- Windows: mlua links the module to the Lua DLL by name (raw-dylib: lua51.dll for 5.1 and
-- LuaJIT, lua52.dll ... lua55.dll) unless it is given an import library. When LuaRocks knows
-- this Lua's library, link against it, so a Lua whose DLL has another name works too.
-- LuaRocks >= 3.10 fills LUALIB only in its Lua library check, which it skips for this
-- back-end (skip_lua_inc_lib_check), so run that check here; 3.8 and 3.9 ran it already.
-- Returns the environment for cargo (empty: link by name) and a sentence for the log.
local function windows_lua_link(cargo, scratch)
   local user = os.getenv("LUA_LIB_NAME")
   if user and user ~= "" then
      return {}, "linking as LUA_LIB_NAME=" .. user .. " says"
   end
   local vars = cfg.variables or {}
   if not vars.LUALIB or vars.LUALIB == "" then
      local dok, deps = pcall(require, "luarocks.deps")
      if dok and type(deps) == "table" and deps.check_lua_libdir then
         pcall(deps.check_lua_libdir, vars)
      end
   end
   local lib, libdir = vars.LUALIB, vars.LUA_LIBDIR
   if not lib or lib == "" or not libdir or libdir == "" or not fs.exists(dir.path(libdir, lib)) then
      return {}, "LuaRocks found no Lua import library; linking to the Lua DLL by its usual name"
   end
   local name = lib:match("^(.+)%.lib$")
   if not name then
      -- MinGW forms (liblua54.dll.a, lua54.dll): only a GNU toolchain links those.
      local _, version = capture(cargo .. " -vV", scratch)
      if version:match("host: %S+%-gnu") or version:match("host: %S+%-gnullvm") then
         name = lib:gsub("%.dll%.a$", ""):gsub("%.a$", ""):gsub("%.dll$", ""):gsub("^lib", "")
      else
         return {}, "the Lua library " .. lib .. " is not an MSVC import library; "
            .. "linking to the Lua DLL by its usual name"
      end
   end
   return { LUA_LIB = libdir, LUA_LIB_NAME = name, LUA_LINK = "dylib" },
      "linking against " .. dir.path(libdir, lib)
end

local function from_source(rockspec, no_install, scratch)
   if not fs.exists("Cargo.toml") then
      return nil, "the source tree (" .. fs.current_dir() .. ") has no Cargo.toml"
   end
   local flavour = detect_flavour(scratch)
   if not flavour then
      return nil, "cannot tell which Lua this is (LuaRocks says " .. tostring(cfg.lua_version) .. ")"
   end
   local cargo = find_cargo(scratch)
   if not cargo then
      return nil, "cargo was not found. Install Rust 1.88 or newer (https://rustup.rs), make sure "
         .. "cargo is on PATH, and run the install again"
   end
   local target_dir = os.getenv("CARGO_TARGET_DIR")
   if not target_dir or target_dir == "" then
      target_dir = dir.path(fs.current_dir(), "target")
   end
   local env, link_note = {}, nil
   if is_windows then
      env, link_note = windows_lua_link(cargo, scratch)
      say(link_note)
   end
   local args = {
      "build", "--release", "--locked", "--lib", "--no-default-features",
      "--features", flavour .. ",module", "--target-dir", target_dir,
   }
   say("building from source (a few minutes): cargo " .. table.concat(args, " "))
   local ok
   if next(env) then
      ok = fs.execute_env(env, cargo, unpack(args))
   else
      ok = fs.execute(cargo, unpack(args))
   end
   if not ok then
      return nil, "cargo build failed (see its output above)"
   end
   local out = dir.path(target_dir, "release")
   local lib
   if is_windows then
      lib = dir.path(out, "module_enet.dll")
   elseif cfg.is_platform("macosx") then
      lib = dir.path(out, "libmodule_enet.dylib")
   else
      lib = dir.path(out, "libmodule_enet.so")
   end
   if not fs.exists(lib) then
      return nil, "cargo succeeded but " .. lib .. " is missing"
   end
   local lok, lmsg = test_load(lib, rockspec, scratch)
   if not lok then
      if is_windows then
         lmsg = lmsg .. " (" .. link_note .. "; to link against your Lua's import library set "
            .. "LUA_LIB=<its directory> and LUA_LIB_NAME=<its name without .lib> and install again)"
      end
      return nil, lmsg
   end
   local iok, ierr = install(lib, rockspec, no_install)
   if not iok then
      return nil, ierr
   end
   say("installed the " .. flavour .. " library built from source (" .. lmsg .. ")")
   return true
end

function M.run(rockspec, no_install)
   local scratch, terr = fs.make_temp_dir("module-enet")
   if not scratch then
      return nil, "cannot create a temporary directory: " .. tostring(terr)
   end
   local ok, why = prebuilt(rockspec, no_install, scratch)
   if not ok then
      if env_flag("MODULE_ENET_REQUIRE_PREBUILT") then
         fs.delete(scratch)
         return nil, "prebuilt library required (MODULE_ENET_REQUIRE_PREBUILT) but not usable: " .. why
      end
      warn("not using a prebuilt library: " .. why)
      warn("falling back to building from source with cargo")
      ok, why = from_source(rockspec, no_install, scratch)
   end
   fs.delete(scratch)
   if not ok then
      return nil, "module-enet: " .. why
   end
   return true
end

return M

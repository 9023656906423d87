-- luacheck: std +busted
-- Unit tests of the LuaRocks build back-end (luarocks/build/module-enet.lua) for every OS
-- (Linux, macOS, Windows) x Lua (5.1 ... 5.5, LuaJIT), without LuaRocks and without that OS.
-- LuaRocks' modules are stand-ins in package.preload; os.execute is a stand-in shell that
-- answers the commands the back-end runs (interpreter probe, SHA-256 tools, cargo, test
-- load) the way each OS would. Files (scratch dirs, archives, installed libraries) are real,
-- under one temporary directory per test.
--
-- Run: lua5.X /usr/bin/busted luarocks/spec   (ci/suites.d/dist.sh runs it under lua5.1-5.4
-- and LuaJIT: the back-end runs on whatever Lua LuaRocks runs on).

local real_execute, real_getenv = os.execute, os.getenv
local BACKEND = "luarocks/build/module-enet.lua"
local MODULES = { "luarocks.core.cfg", "luarocks.dir", "luarocks.fetch", "luarocks.fs", "luarocks.path",
   "luarocks.util", "luarocks.deps" }

local function sh(s)
   return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function run(cmd)
   local r = real_execute(cmd)
   return r == true or r == 0
end

local function read(file)
   local fd = io.open(file, "rb")
   if not fd then
      return nil
   end
   local s = fd:read("*a")
   fd:close()
   return s
end

local function write(file, s)
   local fd = assert(io.open(file, "wb"))
   fd:write(s)
   fd:close()
end

local function sha256(file)
   local p = assert(io.popen("sha256sum " .. sh(file)))
   local out = p:read("*a")
   p:close()
   return assert(out:match("^(%x+)"))
end

-- os.execute's return values in the Lua running the tests, which the stand-in shell imitates.
local EXIT_AS_NUMBER = type(real_execute("exit 0")) == "number"
local function exit_status(ok)
   if EXIT_AS_NUMBER then
      return ok and 0 or 1
   end
   if ok then
      return true, "exit", 0
   end
   return nil, "exit", 1
end

local OSES = {
   linux = { platforms = { unix = true, linux = true }, cpu = "x86_64", ext = "so",
      triple = "x86_64-unknown-linux-gnu", archive = ".tar.gz", lib = "lib%s.so", built = "libmodule_enet.so",
      tools = { sha256sum = true } },
   macos = { platforms = { unix = true, bsd = true, macosx = true }, cpu = "aarch64", ext = "so",
      triple = "aarch64-apple-darwin", archive = ".tar.gz", lib = "lib%s.dylib", built = "libmodule_enet.dylib",
      tools = { shasum = true } },
   windows = { platforms = { windows = true, win32 = true }, cpu = "x86_64", ext = "dll",
      triple = "x86_64-pc-windows-msvc", archive = ".zip", lib = "%s.dll", built = "module_enet.dll",
      tools = { certutil = true } },
}
local LUAS = {
   ["5.1"] = { flavour = "lua51", version = "5.1", reports = "Lua 5.1" },
   ["5.2"] = { flavour = "lua52", version = "5.2", reports = "Lua 5.2" },
   ["5.3"] = { flavour = "lua53", version = "5.3", reports = "Lua 5.3" },
   ["5.4"] = { flavour = "lua54", version = "5.4", reports = "Lua 5.4" },
   ["5.5"] = { flavour = "lua55", version = "5.5", reports = "Lua 5.5" },
   luajit = { flavour = "luajit", version = "5.1", reports = "LuaJIT" },
}
local OS_NAMES = { "linux", "macos", "windows" }
local LUA_NAMES = { "5.1", "5.2", "5.3", "5.4", "5.5", "luajit" }
local ALL_TRIPLES = { "x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu", "x86_64-apple-darwin",
   "aarch64-apple-darwin", "x86_64-pc-windows-msvc" }
local BASE_URL = "https://example.invalid/releases/download/v0.1.0"

-- A world: one OS, one Lua, a LuaRocks configuration, the replies of the shell, and a record of
-- what the back-end did. opts may override any field.
local function new_world(os_name, lua_name, opts)
   opts = opts or {}
   local o, l = OSES[os_name], LUAS[lua_name]
   local root = os.tmpname()
   os.remove(root)
   assert(run("mkdir -p " .. sh(root .. "/src") .. " " .. sh(root .. "/tree") .. " " .. sh(root .. "/tmp")))
   write(root .. "/src/Cargo.toml", "[package]\n")
   local w = {
      root = root, os = o, lua = l, src = root .. "/src",
      cpu = o.cpu, reports = l.reports, version = "0.1.0", env = {},
      tools = o.tools, cargo = true, cargo_host = "x86_64-pc-windows-msvc",
      variables = { LUA = "/opt/lua/bin/" .. (lua_name == "luajit" and "luajit" or "lua") },
      lualib_found = nil, loads = function() return true end,
      archive_bytes = "archive of " .. l.flavour .. "-" .. o.triple,
      -- record
      log = {}, fetched = {}, tried_tools = {}, loaded = {}, cargo_runs = {}, libdir_checks = 0, temp = 0,
   }
   for k, v in pairs(opts) do
      w[k] = v
   end
   return w
end

local PINS = {} -- archive content -> SHA-256, computed once

-- The release rockspec as ci/dist-render-rockspec.py writes it, 30 archives; `bad` spoils pins.
local function release_rockspec(w, version, bad)
   local archives = {}
   for _, f in ipairs({ "lua51", "lua52", "lua53", "lua54", "lua55", "luajit" }) do
      for _, t in ipairs(ALL_TRIPLES) do
         local file = "module-enet-" .. f .. "-" .. t .. (t:match("windows") and ".zip" or ".tar.gz")
         local content = "archive of " .. f .. "-" .. t
         local pin = PINS[content]
         if not pin then
            write(w.root .. "/tmp/pin", content)
            pin = sha256(w.root .. "/tmp/pin")
            PINS[content] = pin
         end
         if bad then
            pin = (pin:sub(1, 1) == "0" and "1" or "0") .. pin:sub(2)
         end
         archives[f .. "-" .. t] = { file = file, sha256 = pin }
      end
   end
   return { name = "module-enet", version = version or "0.1.0-1",
      build = { type = "module-enet", base_url = BASE_URL .. "/", archives = archives } }
end

local function dev_rockspec()
   return { name = "module-enet", version = "dev-1", build = { type = "module-enet" } }
end

local function unquote(w, s)
   if w.os.platforms.windows then
      return (s:gsub('^"(.*)"$', "%1"))
   end
   return (s:gsub("^'(.*)'$", "%1"):gsub("'\\''", "'"))
end

-- The stand-in shell behind os.execute: the back-end always runs `CMD > "OUT" 2>&1`.
local function shell(w, full)
   if w.os.platforms.windows then
      full = assert(full:match('^"(.*)"$'), "cmd.exe line not wrapped in quotes: " .. full)
   end
   local cmd, out = full:match("^(.-) > (%S+) 2>&1$")
   assert(cmd, "unexpected command line: " .. full)
   out = unquote(w, out)
   local reply, ok = "", false
   local lua_q = w.os.platforms.windows and '"' .. w.variables.LUA .. '"' or sh(w.variables.LUA)
   local function file_arg(prefix, suffix)
      local q = cmd:match("^" .. prefix:gsub("%p", "%%%0") .. "(.-)" .. (suffix or "") .. "$")
      return q and unquote(w, q)
   end
   if cmd:find("io.write(type(jit)", 1, true) then
      ok, reply = w.reports ~= nil, w.reports or "lua: not found"
   elseif file_arg("sha256sum ") or file_arg("shasum -a 256 ") or file_arg("openssl dgst -sha256 ") then
      local tool = cmd:match("^(%S+)")
      table.insert(w.tried_tools, tool)
      local f = file_arg("sha256sum ") or file_arg("shasum -a 256 ") or file_arg("openssl dgst -sha256 ")
      if w.tools[tool] then
         ok = true
         reply = tool == "openssl" and ("SHA2-256(" .. f .. ")= " .. sha256(f)) or (sha256(f) .. "  " .. f)
      end
   elseif file_arg("certutil -hashfile ", " SHA256") then
      table.insert(w.tried_tools, "certutil")
      if w.tools.certutil then
         -- certutil before Windows 10 printed the hash as space-separated bytes.
         local h = sha256(file_arg("certutil -hashfile ", " SHA256")):gsub("(%x%x)", "%1 ")
         ok, reply = true, "SHA256 hash of file:\r\n" .. h
            .. "\r\nCertUtil: -hashfile command completed successfully.\r\n"
      end
   elseif cmd:match("^powershell ") then
      table.insert(w.tried_tools, "powershell")
   elseif cmd:match("cargo%S* %-%-version$") then
      ok, reply = w.cargo, w.cargo and "cargo 1.88.0" or "'cargo' is not recognized"
   elseif cmd:match("cargo%S* %-vV$") then
      ok, reply = w.cargo, "cargo 1.88.0\nrelease: 1.88.0\nhost: " .. w.cargo_host .. "\n"
   elseif cmd:sub(1, #lua_q + 1) == lua_q .. " " then
      local probe, lib = cmd:sub(#lua_q + 2):match("^(%S+) (%S+)$")
      probe, lib = unquote(w, probe), unquote(w, lib)
      assert(read(probe):find("package.loadlib", 1, true), "the test load script does not loadlib")
      assert(read(lib), "test load of a missing file " .. lib)
      table.insert(w.loaded, { lib = lib, content = read(lib) })
      if w.loads(lib) then
         ok, reply = true, "module-enet " .. w.version .. " loads"
      else
         reply = "loadlib failed: The specified module could not be found."
      end
   else
      error("the stand-in shell does not know: " .. cmd)
   end
   write(out, reply)
   return exit_status(ok)
end

-- Installs the stand-ins for `w` and loads a fresh copy of the back-end.
local function load_backend(w)
   local function quote(s)
      if w.os.platforms.windows then
         return '"' .. s .. '"'
      end
      return sh(s)
   end
   local cwd = { w.src }
   local function abs(p)
      if p:sub(1, 1) == "/" then
         return p
      end
      return cwd[#cwd] .. "/" .. p
   end
   local cfg = {
      lua_version = w.lua.version, target_cpu = w.cpu, lib_extension = w.os.ext, variables = w.variables,
      luajit_version = w.luajit_version, lua_interpreter = "lua",
      is_platform = function(p)
         return w.os.platforms[p] == true
      end,
   }
   local stand_ins = {
      ["luarocks.core.cfg"] = cfg,
      ["luarocks.dir"] = {
         path = function(...)
            return (table.concat({ ... }, "/"):gsub("//+", "/"))
         end,
         base_name = function(p)
            return (p:match("([^/]+)/*$"))
         end,
      },
      ["luarocks.fetch"] = {
         fetch_url = function(url, dest)
            table.insert(w.fetched, url)
            if w.download_fails then
               return nil, "404"
            end
            write(dest, w.archive_bytes)
            return true
         end,
      },
      ["luarocks.fs"] = {
         Q = quote,
         exists = function(p)
            return read(abs(p)) ~= nil or run("test -d " .. sh(abs(p)))
         end,
         make_dir = function(p)
            return run("mkdir -p " .. sh(abs(p)))
         end,
         make_temp_dir = function(name)
            w.temp = w.temp + 1
            local d = w.root .. "/tmp/" .. name .. w.temp
            assert(run("mkdir -p " .. sh(d)))
            return d
         end,
         delete = function(p)
            run("rm -rf " .. sh(abs(p)))
         end,
         copy = function(from, to, perms)
            w.copied = { from = from, to = to, perms = perms }
            write(abs(to), assert(read(abs(from))))
            return true
         end,
         find = function(d)
            local list = {}
            local p = assert(io.popen("cd " .. sh(d) .. " && find . -type f"))
            for line in p:lines() do
               table.insert(list, (line:gsub("^%./", "")))
            end
            p:close()
            return list
         end,
         change_dir = function(d)
            table.insert(cwd, abs(d))
         end,
         pop_dir = function()
            table.remove(cwd)
         end,
         current_dir = function()
            return cwd[#cwd]
         end,
         unpack_archive = function(archive)
            assert(read(archive) == w.archive_bytes)
            local d = cwd[#cwd] .. "/module-enet-" .. w.lua.flavour .. "-" .. w.os.triple
            assert(run("mkdir -p " .. sh(d)))
            write(d .. "/" .. w.os.lib:format("module_enet_" .. w.lua.flavour), "prebuilt " .. w.lua.flavour)
            return true
         end,
         execute = function(cmd, ...)
            return w.cargo_run(cmd, nil, ...)
         end,
         execute_env = function(env, cmd, ...)
            return w.cargo_run(cmd, env, ...)
         end,
      },
      ["luarocks.path"] = {
         lib_dir = function(name, version)
            return w.root .. "/tree/lib/luarocks/rocks/" .. name .. "/" .. version .. "/lib"
         end,
      },
      ["luarocks.util"] = {
         printout = function(s)
            table.insert(w.log, s)
         end,
         printerr = function(s)
            table.insert(w.log, s)
         end,
      },
      ["luarocks.deps"] = {
         check_lua_libdir = function(vars)
            w.libdir_checks = w.libdir_checks + 1
            if w.lualib_found then
               vars.LUA_LIBDIR, vars.LUALIB = w.lualib_found.dir, w.lualib_found.file
               assert(run("mkdir -p " .. sh(vars.LUA_LIBDIR)))
               write(vars.LUA_LIBDIR .. "/" .. vars.LUALIB, "import library")
               return true
            end
            return nil, "Failed finding the Lua library."
         end,
      },
   }
   function w.cargo_run(cmd, env, ...)
      local args = { ... }
      table.insert(w.cargo_runs, { cmd = cmd, env = env, args = args })
      local target
      for i, a in ipairs(args) do
         if a == "--target-dir" then
            target = args[i + 1]
         end
      end
      assert(run("mkdir -p " .. sh(target .. "/release")))
      write(target .. "/release/" .. w.os.built, "built " .. w.lua.flavour)
      return true
   end
   for _, m in ipairs(MODULES) do
      package.loaded[m] = nil
      package.preload[m] = function()
         return stand_ins[m]
      end
   end
   os.execute = function(full) -- luacheck: ignore 122
      return shell(w, full)
   end
   os.getenv = function(k) -- luacheck: ignore 122
      if w.env[k] ~= nil then
         return w.env[k] or nil
      end
      if k == "CARGO_TARGET_DIR" or k:match("^MODULE_ENET_") or k:match("^LUA_LIB") then
         return nil
      end
      return real_getenv(k)
   end
   return assert(loadfile(BACKEND))()
end

local function restore()
   os.execute, os.getenv = real_execute, real_getenv -- luacheck: ignore 122
   for _, m in ipairs(MODULES) do
      package.preload[m] = nil
      package.loaded[m] = nil
   end
end

local function installed(w, version)
   return w.root .. "/tree/lib/luarocks/rocks/module-enet/" .. (version or "0.1.0-1") .. "/lib/module_enet." .. w.os.ext
end

local function logged(w, pattern)
   for _, line in ipairs(w.log) do
      if line:find(pattern, 1, true) then
         return true
      end
   end
   return false
end

local function run_backend(w, rockspec)
   local backend = load_backend(w)
   local ok, err = backend.run(rockspec, false)
   restore()
   run("rm -rf " .. sh(w.root))
   return ok, err, backend
end

describe("module-enet build back-end", function()
   after_each(restore)

   it("asks LuaRocks >= 3.10 not to look for lua.h (neither the download nor cargo needs it)", function()
      local w = new_world("linux", "5.4")
      local backend = load_backend(w)
      restore()
      assert.is_true(backend.skip_lua_inc_lib_check)
   end)

   for _, os_name in ipairs(OS_NAMES) do
      for _, lua_name in ipairs(LUA_NAMES) do
         local cell = os_name .. " / " .. (lua_name == "luajit" and "LuaJIT" or "Lua " .. lua_name)

         it(cell .. ": installs the verified prebuilt archive of its own flavour and triple", function()
            local w = new_world(os_name, lua_name)
            local key = w.lua.flavour .. "-" .. w.os.triple
            local ok, err = run_backend(w, release_rockspec(w))
            assert.is_true(ok, err)
            assert.same({ BASE_URL .. "/module-enet-" .. key .. w.os.archive }, w.fetched)
            -- The first SHA-256 tool each OS has: certutil on Windows, shasum on macOS.
            assert.equal(os_name == "windows" and "certutil" or os_name == "macos" and "shasum" or "sha256sum",
               w.tried_tools[#w.tried_tools])
            assert.equal(1, #w.loaded)
            assert.equal(w.os.lib:format("module_enet_" .. w.lua.flavour), w.loaded[1].lib:match("[^/]+$"))
            assert.equal(installed(w), w.copied.to)
            assert.equal(w.loaded[1].lib, w.copied.from)
            assert.equal(0, #w.cargo_runs)
            assert.is_true(logged(w, "installed the prebuilt " .. key .. " library (SHA-256 verified"))
         end)

         it(cell .. ": a wrong pin falls back to cargo with its flavour, test-loads, then installs", function()
            local w = new_world(os_name, lua_name)
            local ok, err = run_backend(w, release_rockspec(w, nil, true))
            assert.is_true(ok, err)
            assert.is_true(logged(w, "SHA-256 mismatch"))
            assert.equal(1, #w.cargo_runs)
            local args = table.concat(w.cargo_runs[1].args, " ")
            assert.truthy(args:find("build --release --locked --lib --no-default-features --features "
               .. w.lua.flavour .. ",module --target-dir " .. w.src .. "/target", 1, true))
            assert.equal(1, #w.loaded)
            assert.equal(w.src .. "/target/release/" .. w.os.built, w.loaded[1].lib)
            assert.equal(w.loaded[1].lib, w.copied.from)
            assert.equal(installed(w), w.copied.to)
            assert.is_true(logged(w, "installed the " .. w.lua.flavour .. " library built from source"))
         end)

         it(cell .. ": a source build that does not load is an error, and nothing is installed", function()
            local w = new_world(os_name, lua_name, { loads = function(lib)
               return not lib:find("/target/release/", 1, true)
            end })
            local ok, err = run_backend(w, dev_rockspec())
            assert.is_nil(ok)
            assert.truthy(err:find("test load", 1, true), err)
            assert.equal(1, #w.cargo_runs)
            assert.equal(1, #w.loaded)
            assert.is_nil(w.copied)
         end)
      end
   end

   describe("platform detection", function()
      local cases = {
         { "linux", "x86_64", "x86_64-unknown-linux-gnu" },
         { "linux", "aarch64", "aarch64-unknown-linux-gnu" },
         { "linux", "arm64", "aarch64-unknown-linux-gnu" },
         { "macos", "x86_64", "x86_64-apple-darwin" },
         { "macos", "arm64", "aarch64-apple-darwin" },
         { "windows", "x86_64", "x86_64-pc-windows-msvc" },
         { "windows", "AMD64", "x86_64-pc-windows-msvc" },
      }
      for _, c in ipairs(cases) do
         it(c[1] .. " on CPU " .. c[2] .. " picks " .. c[3], function()
            local w = new_world(c[1], "5.4", { cpu = c[2] })
            w.archive_bytes = "archive of lua54-" .. c[3]
            w.os = setmetatable({ triple = c[3] }, { __index = w.os })
            local ok, err = run_backend(w, release_rockspec(w))
            assert.is_true(ok, err)
            assert.same({ BASE_URL .. "/module-enet-lua54-" .. c[3] .. w.os.archive }, w.fetched)
         end)
      end

      for _, c in ipairs({ { "windows", "arm64", "no prebuilt library for Windows on aarch64" },
         { "linux", "riscv64", "no prebuilt library for CPU 'riscv64'" },
         { "linux", "i386", "no prebuilt library for CPU 'i386'" } }) do
         it(c[1] .. " on " .. c[2] .. " builds from source: " .. c[3], function()
            local w = new_world(c[1], "5.4", { cpu = c[2] })
            local ok, err = run_backend(w, release_rockspec(w))
            assert.is_true(ok, err)
            assert.same({}, w.fetched)
            assert.is_true(logged(w, c[3]))
            assert.equal(1, #w.cargo_runs)
         end)
      end

      it("an OS LuaRocks knows as neither builds from source", function()
         local w = new_world("linux", "5.4")
         w.os = setmetatable({ platforms = { unix = true, freebsd = true } }, { __index = w.os })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.is_true(logged(w, "no prebuilt library for this operating system"))
      end)

      it("tells LuaJIT from Lua 5.1 by asking the interpreter", function()
         local w = new_world("linux", "luajit")
         assert.equal("5.1", w.lua.version)
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.truthy(w.fetched[1]:find("module-enet-luajit-", 1, true))
      end)

      it("falls back to LuaRocks' luajit_version, then lua_version, when the probe fails", function()
         local w = new_world("linux", "luajit", { reports = false, luajit_version = "2.1.0" })
         w.reports = nil
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.truthy(w.fetched[1]:find("module-enet-luajit-", 1, true))
         w = new_world("linux", "5.3")
         w.reports = nil
         ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.truthy(w.fetched[1]:find("module-enet-lua53-", 1, true))
      end)
   end)

   describe("checksums", function()
      it("tries sha256sum, shasum, openssl in turn on Unix", function()
         local w = new_world("linux", "5.4", { tools = { openssl = true } })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.same({ "sha256sum", "shasum", "openssl" }, w.tried_tools)
      end)

      it("fails over to cargo when no SHA-256 tool exists", function()
         local w = new_world("macos", "5.4", { tools = {} })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.is_true(logged(w, "no SHA-256 tool found (tried sha256sum, shasum, openssl)"))
         assert.equal(1, #w.loaded)
      end)

      it("on Windows tries certutil, then PowerShell, then the Unix tools", function()
         local w = new_world("windows", "5.4", { tools = { sha256sum = true } })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.same({ "certutil", "powershell", "sha256sum" }, w.tried_tools)
      end)
   end)

   describe("environment", function()
      it("MODULE_ENET_REQUIRE_PREBUILT turns a bad pin into an error without cargo", function()
         local w = new_world("linux", "5.4", { env = { MODULE_ENET_REQUIRE_PREBUILT = "1" } })
         local ok, err = run_backend(w, release_rockspec(w, nil, true))
         assert.is_nil(ok)
         assert.truthy(err:find("prebuilt library required (MODULE_ENET_REQUIRE_PREBUILT) but not usable: "
            .. "SHA-256 mismatch", 1, true), err)
         assert.equal(0, #w.cargo_runs)
         assert.is_nil(w.copied)
      end)

      it("MODULE_ENET_BUILD_FROM_SOURCE skips the download", function()
         local w = new_world("linux", "5.4", { env = { MODULE_ENET_BUILD_FROM_SOURCE = "1" } })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.same({}, w.fetched)
         assert.equal(1, #w.cargo_runs)
      end)

      it("CARGO_TARGET_DIR is where the source build goes and is read from", function()
         local w = new_world("linux", "5.4")
         w.env.CARGO_TARGET_DIR = w.root .. "/elsewhere"
         local ok, err = run_backend(w, dev_rockspec())
         assert.is_true(ok, err)
         assert.equal(w.root .. "/elsewhere/release/libmodule_enet.so", w.copied.from)
      end)

      it("without cargo the error says how to get it", function()
         local w = new_world("linux", "5.4", { cargo = false })
         local ok, err = run_backend(w, dev_rockspec())
         assert.is_nil(ok)
         assert.truthy(err:find("cargo was not found", 1, true), err)
      end)

      it("a failed download falls back to cargo", function()
         local w = new_world("linux", "5.4", { download_fails = true })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_true(ok, err)
         assert.is_true(logged(w, "download failed: 404"))
      end)
   end)

   describe("versions", function()
      it("maps Cargo versions to LuaRocks versions, and has no mapping for the rest", function()
         local w = new_world("linux", "5.4")
         local backend = load_backend(w)
         restore()
         local cases = {
            ["0.1.0"] = "0.1.0", ["0.2.0-rc.1"] = "0.2.0rc1", ["1.0.0-alpha.2"] = "1.0.0alpha2",
            ["1.0.0-beta"] = "1.0.0beta", ["1.0.0-pre.3"] = "1.0.0pre3", ["10.20.30-rc10"] = "10.20.30rc10",
         }
         for cargo, luarocks in pairs(cases) do
            assert.equal(luarocks, backend.luarocks_version(cargo), cargo)
         end
         for _, bad in ipairs({ "1.0.0-foo.1", "1.0.0-rc.1.2", "1.0.0+build", "1.0", "dev" }) do
            assert.is_nil(backend.luarocks_version(bad), bad)
         end
      end)

      it("a prerelease rockspec (0.2.0rc1-1) accepts the library that says 0.2.0-rc.1", function()
         local w = new_world("linux", "5.4", { version = "0.2.0-rc.1" })
         local ok, err = run_backend(w, release_rockspec(w, "0.2.0rc1-1"))
         assert.is_true(ok, err)
         assert.equal(installed(w, "0.2.0rc1-1"), w.copied.to)
         assert.equal(0, #w.cargo_runs)
      end)

      it("a prebuilt library of another version is refused, and the source build is checked too", function()
         local w = new_world("linux", "5.4", { version = "0.1.1" })
         local ok, err = run_backend(w, release_rockspec(w))
         assert.is_nil(ok)
         assert.is_true(logged(w, "the library is module-enet 0.1.1, the rockspec is 0.1.0-1"))
         assert.truthy(err:find("the library is module-enet 0.1.1", 1, true), err)
         assert.equal(2, #w.loaded)
         assert.is_nil(w.copied)
      end)
   end)

   describe("Windows source build: which Lua library to link", function()
      local function windows_build(opts)
         local w = new_world("windows", "5.4", opts)
         local ok, err = run_backend(w, dev_rockspec())
         return w, ok, err
      end

      it("LuaRocks >= 3.10 (LUALIB empty): runs LuaRocks' Lua library check and links what it found", function()
         local w, ok, err = windows_build({ lualib_found = { dir = os.tmpname() .. ".d", file = "lua.lib" } })
         assert.is_true(ok, err)
         assert.equal(1, w.libdir_checks)
         assert.same({ LUA_LIB = w.lualib_found.dir, LUA_LIB_NAME = "lua", LUA_LINK = "dylib" }, w.cargo_runs[1].env)
         run("rm -rf " .. sh(w.lualib_found.dir))
      end)

      it("LuaRocks 3.8 (LUALIB filled before the back-end runs): no second check", function()
         local d = os.tmpname() .. ".d"
         assert(run("mkdir -p " .. sh(d)))
         write(d .. "/lua54.lib", "import library")
         local w, ok, err = windows_build({ variables = { LUA = "/opt/lua/bin/lua", LUALIB = "lua54.lib",
            LUA_LIBDIR = d } })
         assert.is_true(ok, err)
         assert.equal(0, w.libdir_checks)
         assert.same({ LUA_LIB = d, LUA_LIB_NAME = "lua54", LUA_LINK = "dylib" }, w.cargo_runs[1].env)
         run("rm -rf " .. sh(d))
      end)

      it("a MinGW import library is used with a GNU Rust toolchain only", function()
         local found = { dir = os.tmpname() .. ".d", file = "liblua.dll.a" }
         local w, ok, err = windows_build({ lualib_found = found, cargo_host = "x86_64-pc-windows-gnu" })
         assert.is_true(ok, err)
         assert.same({ LUA_LIB = found.dir, LUA_LIB_NAME = "lua", LUA_LINK = "dylib" }, w.cargo_runs[1].env)
         w, ok, err = windows_build({ lualib_found = found, cargo_host = "x86_64-pc-windows-msvc" })
         assert.is_true(ok, err)
         assert.is_nil(w.cargo_runs[1].env)
         assert.is_true(logged(w, "liblua.dll.a is not an MSVC import library"))
         run("rm -rf " .. sh(found.dir))
      end)

      it("no library found: links lua54.dll by name, and a failed test load says how to fix it", function()
         local w, ok, err = windows_build({ loads = function()
            return false
         end })
         assert.is_nil(ok)
         assert.equal(1, w.libdir_checks)
         assert.is_nil(w.cargo_runs[1].env)
         assert.truthy(err:find("set LUA_LIB=<its directory> and LUA_LIB_NAME=", 1, true), err)
         assert.is_nil(w.copied)
      end)

      it("LUA_LIB_NAME set by the user is left to mlua as it is", function()
         local w, ok, err = windows_build({ env = { LUA_LIB_NAME = "mylua" },
            lualib_found = { dir = "/nonexistent", file = "lua.lib" } })
         assert.is_true(ok, err)
         assert.equal(0, w.libdir_checks)
         assert.is_nil(w.cargo_runs[1].env)
         assert.is_true(logged(w, "linking as LUA_LIB_NAME=mylua says"))
      end)

      it("Linux and macOS source builds link no Lua library", function()
         for _, os_name in ipairs({ "linux", "macos" }) do
            local w = new_world(os_name, "5.4", { lualib_found = { dir = "/nonexistent", file = "lua.lib" } })
            local ok, err = run_backend(w, dev_rockspec())
            assert.is_true(ok, err)
            assert.equal(0, w.libdir_checks)
            assert.is_nil(w.cargo_runs[1].env)
         end
      end)
   end)
end)

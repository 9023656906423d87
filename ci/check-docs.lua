-- Compares what require("module_enet") really exports with docs/api-source.lua, checks the
-- shapes of the tables the module hands out, and runs every documented example.
-- Plain Lua 5.1-5.4 / LuaJIT. Run by ci/suites.d/docs.sh once per interpreter, with LUA_CPATH
-- pointing at that interpreter's build of the module:
--   LUA_CPATH="$PWD/target/lua/lua54/?.so;;" lua5.4 ci/check-docs.lua [docs/api-source.lua]
-- Prints "ok - ..." / "FAIL - ..." per check and ends with "N passed, N failed".

local source = (arg and arg[1]) or "docs/api-source.lua"
local api = dofile(source)
local interpreter = (jit and jit.version) or _VERSION

local passed, failed = 0, 0
local function check(ok, label, detail)
  if ok then
    passed = passed + 1
    print("ok - " .. label)
  else
    failed = failed + 1
    print("FAIL - " .. label .. (detail and (": " .. detail) or ""))
  end
end

local loaded, enet = pcall(require, api.module)
check(loaded and type(enet) == "table", "require('" .. api.module .. "') under " .. interpreter,
  not loaded and tostring(enet) or nil)
if not (loaded and type(enet) == "table") then
  print(passed .. " passed, " .. failed .. " failed")
  os.exit(1)
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

local function landing_note(fn)
  return fn.issue and (" [expected from issue " .. fn.issue .. ": not landed yet?]") or ""
end

-- 1. Module table: every export documented, every documented name exported -----------------------

local documented = {}
for _, fn in ipairs(api.functions) do
  if fn.name then documented[fn.name] = fn end
end
local constants = {}
for _, c in ipairs(api.constants) do
  if c.name then constants[c.name] = c end
end
local external = {}
for _, e in ipairs(api.external or {}) do
  if e.name then external[e.name] = e end
end

local undocumented = {}
for _, key in ipairs(sorted_keys(enet)) do
  if not (documented[key] or constants[key] or external[key]) then
    undocumented[#undocumented + 1] = key .. " (" .. type(enet[key]) .. ")"
  end
end
check(#undocumented == 0, "every export of " .. api.module .. " is documented",
  "undocumented: " .. table.concat(undocumented, ", ") .. " -- add to " .. source)

local missing = {}
for _, fn in ipairs(api.functions) do
  if fn.name and type(enet[fn.name]) ~= "function" then
    missing[#missing + 1] = fn.name .. landing_note(fn)
  end
end
check(#missing == 0, "every documented function is exported",
  "documented but not exported: " .. table.concat(missing, ", "))

local wrong_constants = {}
for _, c in ipairs(api.constants) do
  if c.name then
    local value = enet[c.name]
    if value == nil then
      wrong_constants[#wrong_constants + 1] = c.name .. " is not exported"
    elseif type(value) ~= (c.type == "integer" and "number" or c.type) then
      wrong_constants[#wrong_constants + 1] = c.name .. " is a " .. type(value)
    elseif c.value ~= nil and value ~= c.value then
      wrong_constants[#wrong_constants + 1] = c.name .. " = " .. tostring(value) .. ", documented " .. tostring(c.value)
    end
  end
end
check(#wrong_constants == 0, "every constant exported with its documented value", table.concat(wrong_constants, "; "))

-- 2. Method tables of each class, reached through an instance -------------------------------------

-- mlua protects userdata metatables (getmetatable gives false), hence debug.getmetatable.
local function method_table(object)
  local mt = debug.getmetatable(object)
  return mt, mt and mt.__index
end

-- In a block of its own: the objects go out of scope, and the collector closes the sockets.
do
  local instances = {}
  do
    local ok, err = pcall(function()
      local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2))
      instances.ENetHost = host
      instances.ENetPeer = assert(host:connect({ host = "127.0.0.1", port = host:address().port }))
      instances.ENetPacket = assert(enet.packet_create("x"))
      if type(enet.address_resolve_start) == "function" then
        instances.ENetResolveRequest = enet.address_resolve_start("localhost")
      end
    end)
    check(ok, "made one object of each class", err)
  end

  for _, class in ipairs(api.classes) do
    if class.kind == "userdata" then
      local object = instances[class.name]
      local methods = {}
      for _, fn in ipairs(api.functions) do
        if fn.class == class.name and fn.method then methods[fn.method] = fn end
      end
      if object == nil then
        local pending = {}
        for _, fn in ipairs(api.functions) do
          if fn.class == class.name and fn.method then pending[#pending + 1] = fn.method .. landing_note(fn) end
        end
        check(false, class.name .. " methods", "no " .. class.name .. " object could be made; documented methods: "
          .. table.concat(pending, ", "))
      else
        local mt, index = method_table(object)
        local problems = {}
        if not mt then
          problems[#problems + 1] = "has no metatable"
        else
          if mt.__name ~= nil and mt.__name ~= class.name then
            problems[#problems + 1] = "__name is " .. tostring(mt.__name)
          end
          if type(index) == "table" then
            for _, key in ipairs(sorted_keys(index)) do
              if not methods[key] then problems[#problems + 1] = "undocumented method :" .. key end
            end
          elseif index == nil then
            problems[#problems + 1] = "no __index"
          end
          for _, fn in ipairs(api.functions) do
            if methods[fn.method] == fn then
              local ok, method = pcall(function() return object[fn.method] end)
              if not ok or type(method) ~= "function" then
                problems[#problems + 1] = "documented method :" .. fn.method .. " missing" .. landing_note(fn)
              elseif fn.name and enet[fn.name] ~= nil and method ~= enet[fn.name] then
                problems[#problems + 1] = ":" .. fn.method .. " is not the same function as " .. fn.name
              end
            end
          end
        end
        check(#problems == 0, class.name .. " methods match the description (procedural and method forms)",
          table.concat(problems, "; "))
      end
    end
  end
end
collectgarbage()

-- 3. Shapes of the tables the module hands out ----------------------------------------------------

local fields_of = {}
for _, class in ipairs(api.classes) do
  if class.fields then
    local set = {}
    for _, f in ipairs(class.fields) do set[f.name] = f end
    fields_of[class.name] = set
  end
end

-- Every key of `t` documented; with `complete`, every non-optional documented field present.
local function shape(t, class_name, complete, problems, where)
  local set = fields_of[class_name]
  for _, key in ipairs(sorted_keys(t)) do
    if not set[key] then problems[#problems + 1] = where .. ": undocumented field " .. key end
  end
  if complete then
    for _, f in ipairs(api.classes) do
      if f.name == class_name then
        for _, field in ipairs(f.fields) do
          if not field.optional and t[field.name] == nil then
            problems[#problems + 1] = where .. ": documented field " .. field.name .. " missing"
          end
        end
      end
    end
  end
end

do
  local problems = {}
  local ok, err = pcall(function()
    local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2))
    local client = assert(enet.host_create(nil, 1, 2))
    local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2, 5))
    peer:send(0, "shape")
    local seen, done = {}, false
    for _ = 1, 400 do
      for _, host in ipairs({ server, client }) do
        local n, event = host:service(5)
        if n > 0 then
          seen[#seen + 1] = event
          if host == server and event.type == enet.EVENT_TYPE_RECEIVE then peer:disconnect(6) end
          if host == server and event.type == enet.EVENT_TYPE_DISCONNECT then done = true end
        end
      end
      if done then break end
    end
    assert(done, "no disconnect event within the bound")
    for i, event in ipairs(seen) do
      shape(event, "ENetEvent", true, problems, "event " .. i .. " (type " .. tostring(event.type) .. ")")
    end
    shape(server:statistics(), "ENetHostStatistics", true, problems, "host_statistics")
    shape(server:address(), "ENetAddress", false, problems, "host_address")
    shape(client:address(), "ENetAddress", false, problems, "host_address (client)")
    server:destroy()
    client:destroy()
  end)
  if not ok then problems[#problems + 1] = tostring(err) end
  check(#problems == 0, "event, address and host statistics tables have the documented fields",
    table.concat(problems, "; "))
end

do
  local problems = {}
  local ok, err = pcall(function()
    local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2))
    local client = assert(enet.host_create(nil, 1, 2))
    local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2))
    local up = false
    for _ = 1, 400 do
      server:service(5)
      local n, event = client:service(5)
      if n > 0 and event.type == enet.EVENT_TYPE_CONNECT then up = true break end
    end
    assert(up, "no connect event within the bound")
    shape(peer:statistics(), "ENetPeerStatistics", true, problems, "peer_statistics")
    shape(peer:address(), "ENetAddress", false, problems, "peer_address")
    server:destroy()
    client:destroy()
  end)
  if not ok then problems[#problems + 1] = tostring(err) end
  check(#problems == 0, "peer statistics and address tables have the documented fields", table.concat(problems, "; "))
end

-- 4. Every example runs ---------------------------------------------------------------------------

local function load_chunk(text, name, env)
  if setfenv then
    local chunk, err = loadstring(text, name)
    if chunk then setfenv(chunk, env) end
    return chunk, err
  end
  return load(text, name, "t", env)
end

local function available(fn)
  if fn.name then return type(enet[fn.name]) == "function" end
  -- A method-only function (request:result) needs the function that makes its object.
  for _, other in ipairs(api.functions) do
    if other.name and other.class == fn.class and not other.method then
      return type(enet[other.name]) == "function"
    end
  end
  return true
end

local function run_example(label, text)
  local env = setmetatable({ print = function() end }, { __index = _G })
  local chunk, err = load_chunk(text, "=" .. label, env)
  if chunk then
    local ok, run_err = pcall(chunk)
    err = not ok and tostring(run_err) or nil
  end
  collectgarbage()
  return err
end

for _, fn in ipairs(api.functions) do
  local label = "example " .. (fn.name or (fn.class .. ":" .. fn.method))
  if not available(fn) then
    print("skip - " .. label .. ": not exported" .. landing_note(fn))
  else
    local text = fn.example
    if fn.setup then text = api.setups[fn.setup] .. "\n" .. text end
    local err = run_example(label, text)
    check(err == nil, label .. " runs", err)
  end
end

-- The code blocks of the prose sections are examples too (only those that start a program).
for _, section in ipairs(api.sections) do
  local n = 0
  for code in section.text:gmatch("```lua\n(.-)```") do
    if code:find('require%("module_enet"%)') then
      n = n + 1
      local label = "example in section " .. section.title .. " #" .. n
      local err = run_example(label, code)
      check(err == nil, label .. " runs", err)
    end
  end
end

print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0 and 0 or 1)

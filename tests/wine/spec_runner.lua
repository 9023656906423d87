-- A small runner for our busted specs where busted cannot run: under Wine, with a Windows Lua
-- built from the lua-src / luajit-src crates (ci/suites.d/wine.sh). Busted needs C modules
-- (luasystem, lfs) we have no Windows build of, so this implements the part of busted's and
-- luassert's interface that tests/spec/*_spec.lua use, written for this project:
--   describe, it, pending, setup, teardown, before_each, after_each, and
--   assert(v, msg), assert.<modifiers>.<check>(...) with the modifiers is/are/has/does/was
--   (no-ops) and not/no (negation), and the checks equal(s), same, truthy, falsy, true, false,
--   nil, string, number, table, function, boolean, userdata, match(es), error(s).
-- Unmodified spec files run as under busted: each file in turn, its describe bodies run when
-- reached, setup before a block's first child, before_each/after_each around every test
-- (outermost first / innermost first), teardown after the block; package.loaded and the
-- globals a file adds are dropped after it, as busted's default file insulation does.
--
--   lua.exe tests/wine/spec_runner.lua [--exclude LIST.lua] SPEC_FILE...
--
-- LIST.lua returns { ["full name"] = "reason", ... }; a full name is the describe names and
-- the test name joined by spaces, as busted prints them. An excluded test or describe block is
-- not run (a block's body neither) and is reported as excluded with its reason; an entry that
-- matches nothing is an error, so the list cannot go stale silently.
-- Prints a line per failure and per exclusion, then busted's summary:
--   "N successes / N failures / N errors / N pending : S seconds"
-- and exits non-zero if anything failed.

local unpack = table.unpack or unpack

-- ---------------------------------------------------------------------------------------------
-- Assertions
-- ---------------------------------------------------------------------------------------------

-- A failed assertion is raised as this table, so the runner tells failures (assertion) from
-- errors (anything else) as busted does.
local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(f)
  return f.message
end

local this_file = debug.getinfo(1, "S").source

-- Raises a Failure that names the first caller outside this file (the spec line).
local function fail(message)
  local level, where = 2, ""
  while true do
    local info = debug.getinfo(level, "Sl")
    if info == nil then
      break
    end
    if info.source ~= this_file and info.currentline and info.currentline > 0 then
      where = info.short_src .. ":" .. info.currentline .. ": "
      break
    end
    level = level + 1
  end
  error(setmetatable({ message = where .. message }, Failure), 0)
end

local function show(v)
  if type(v) == "string" then
    return ("%q"):format(v)
  end
  return ("(%s) %s"):format(type(v), tostring(v))
end

local function deep_equal(a, b, seen)
  if a == b then
    return true
  end
  if type(a) ~= "table" or type(b) ~= "table" then
    return false
  end
  seen = seen or {}
  if seen[a] == b then
    return true
  end
  seen[a] = b
  for k, v in pairs(a) do
    if not deep_equal(v, rawget(b, k), seen) then
      return false
    end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then
      return false
    end
  end
  return true
end

local function dump(v, indent, seen)
  if type(v) ~= "table" then
    return show(v)
  end
  indent = indent or ""
  seen = seen or {}
  if seen[v] then
    return "(recursive table)"
  end
  seen[v] = true
  local keys = {}
  for k in pairs(v) do
    keys[#keys + 1] = k
  end
  table.sort(keys, function(x, y)
    return tostring(x) < tostring(y)
  end)
  local lines = { "{" }
  for _, k in ipairs(keys) do
    lines[#lines + 1] = ("%s  [%s] = %s"):format(indent, show(k), dump(v[k], indent .. "  ", seen))
  end
  lines[#lines + 1] = indent .. "}"
  return table.concat(lines, "\n")
end

local function type_check(name)
  return {
    nargs = 1,
    test = function(v)
      return type(v) == name
    end,
    says = function(v)
      return ("Expected a %s, got %s"):format(name, show(v))
    end,
  }
end

-- Each check: nargs (how many arguments it takes; the next one is the message), test(...) ->
-- boolean, says(...) -> what was expected, for the failure message.
local checks = {
  equal = {
    nargs = 2,
    test = function(expected, actual)
      return expected == actual
    end,
    says = function(expected, actual)
      return ("Expected objects to be equal.\nPassed in:\n%s\nExpected:\n%s"):format(show(actual), show(expected))
    end,
  },
  same = {
    nargs = 2,
    test = deep_equal,
    says = function(expected, actual)
      return ("Expected objects to be the same.\nPassed in:\n%s\nExpected:\n%s"):format(dump(actual), dump(expected))
    end,
  },
  truthy = {
    nargs = 1,
    test = function(v)
      return v ~= nil and v ~= false
    end,
    says = function(v)
      return "Expected to be truthy, but value was:\n" .. show(v)
    end,
  },
  falsy = {
    nargs = 1,
    test = function(v)
      return v == nil or v == false
    end,
    says = function(v)
      return "Expected to be falsy, but value was:\n" .. show(v)
    end,
  },
  ["true"] = {
    nargs = 1,
    test = function(v)
      return v == true
    end,
    says = function(v)
      return "Expected true, got " .. show(v)
    end,
  },
  ["false"] = {
    nargs = 1,
    test = function(v)
      return v == false
    end,
    says = function(v)
      return "Expected false, got " .. show(v)
    end,
  },
  ["nil"] = type_check("nil"),
  string = type_check("string"),
  number = type_check("number"),
  table = type_check("table"),
  ["function"] = type_check("function"),
  boolean = type_check("boolean"),
  userdata = type_check("userdata"),
  -- matches(pattern, text [, init [, plain]] [, message])
  match = {
    nargs = 4,
    test = function(pattern, text, init, plain)
      return type(text) == "string" and text:find(pattern, init, plain) ~= nil
    end,
    says = function(pattern, text)
      return ("Expected the string to match.\nPassed in:\n%s\nPattern:\n%s"):format(show(text), show(pattern))
    end,
  },
  -- error(fn [, expected error value]); with the negation: fn runs without error.
  error = {
    nargs = 2,
    test = function(fn, expected, nargs_given)
      local ok, err = pcall(fn)
      if ok then
        return false
      end
      if nargs_given >= 2 and expected ~= nil then
        if type(err) == "string" and type(expected) == "string" then
          -- luassert compares the message without the "file:line: " prefix error() adds.
          return err == expected or err:gsub("^[^\n]-:%d+: ", "", 1) == expected
        end
        return deep_equal(expected, err)
      end
      return true
    end,
    says = function(_, expected)
      if expected ~= nil then
        return "Expected the function to raise " .. show(expected)
      end
      return "Expected the function to raise an error"
    end,
    says_not = function(fn)
      local _, err = pcall(fn)
      return "Expected no error, but got:\n" .. tostring(err)
    end,
  },
}
checks.equals = checks.equal
checks.matches = checks.match
checks.errors = checks.error

local modifiers = { is = true, are = true, has = true, have = true, does = true, was = true, to = true }
local negations = { ["not"] = true, no = true }

local function run_check(name, negated, ...)
  local check = checks[name]
  local nargs_given = select("#", ...)
  local args = { ... }
  local ok
  if check == checks.error then
    ok = check.test(args[1], args[2], nargs_given)
  else
    ok = check.test(unpack(args, 1, check.nargs))
  end
  if negated then
    ok = not ok
  end
  if not ok then
    local message = args[check.nargs + 1]
    if message == nil then
      if negated then
        message = check.says_not and check.says_not(unpack(args, 1, check.nargs))
          or ("Negated: " .. check.says(unpack(args, 1, check.nargs)))
      else
        message = check.says(unpack(args, 1, check.nargs))
      end
    end
    fail(tostring(message))
  end
  return ...
end

-- assert.are.equal, assert.is_not_nil, assert.has_no.errors, ...: every word of the chain is a
-- modifier, a negation or (last) the check.
local function chain(negated)
  return setmetatable({}, {
    __index = function(_, key)
      local neg = negated
      local words = {}
      for word in tostring(key):gmatch("[^_]+") do
        words[#words + 1] = word
      end
      local last
      for i, word in ipairs(words) do
        if negations[word] then
          neg = not neg
        elseif modifiers[word] then -- luacheck: ignore 542
        elseif checks[word] and i == #words then
          last = word
        else
          error("spec_runner: unknown assertion word '" .. word .. "' in '" .. tostring(key) .. "'", 2)
        end
      end
      if last == nil then
        return chain(neg)
      end
      return function(...)
        return run_check(last, neg, ...)
      end
    end,
  })
end

local assert_object = chain(false)
getmetatable(assert_object).__call = function(_, v, message, ...)
  if not v then
    fail(message ~= nil and tostring(message) or "assertion failed!")
  end
  return v, message, ...
end

-- ---------------------------------------------------------------------------------------------
-- Blocks and tests
-- ---------------------------------------------------------------------------------------------

local counts = { successes = 0, failures = 0, errors = 0, pending = 0 }
local reports = {}
local exclusions, exclusion_used = {}, {}

local function report(kind, name, detail)
  reports[#reports + 1] = { kind = kind, name = name, detail = detail }
  local line = ("%s %s"):format(kind, name)
  if detail and detail ~= "" then
    line = line .. "\n  " .. tostring(detail):gsub("\n", "\n  ")
  end
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

local function describe_error(err)
  if getmetatable(err) == Failure then
    return "failure", err.message
  end
  return "error", tostring(err)
end

local function traceback_handler(err)
  if getmetatable(err) == Failure then
    return err
  end
  -- The frames below the test function are the runner's own: cut them.
  local trace = debug.traceback(tostring(err), 2)
  return (trace:gsub("\n%s*%[C%]: in function 'xpcall'.*$", ""))
end

local function call(fn)
  return xpcall(fn, traceback_handler)
end

local function join(prefix, name)
  if prefix == "" then
    return name
  end
  return prefix .. " " .. name
end

-- A block: name, full name, parent, children (in declaration order), hooks.
local function new_block(name, full, parent)
  return {
    name = name,
    full = full,
    parent = parent,
    children = {},
    setup = {},
    teardown = {},
    before_each = {},
    after_each = {},
  }
end

local current -- the block whose body is running

local function add_child(kind, name, fn)
  if current == nil then
    error(kind .. "() outside of a spec file", 3)
  end
  current.children[#current.children + 1] = { kind = kind, name = tostring(name), fn = fn }
end

local function add_hook(kind, fn)
  if current == nil then
    error(kind .. "() outside of a spec file", 3)
  end
  local list = current[kind]
  list[#list + 1] = fn
end

local env = {
  describe = function(name, fn)
    add_child("describe", name, fn)
  end,
  it = function(name, fn)
    add_child("it", name, fn)
  end,
  pending = function(name)
    add_child("pending", name)
  end,
  setup = function(fn)
    add_hook("setup", fn)
  end,
  teardown = function(fn)
    add_hook("teardown", fn)
  end,
  before_each = function(fn)
    add_hook("before_each", fn)
  end,
  after_each = function(fn)
    add_hook("after_each", fn)
  end,
}
env.lazy_setup, env.strict_setup = env.setup, env.setup
env.lazy_teardown, env.strict_teardown = env.teardown, env.teardown

local function excluded(full)
  local reason = exclusions[full]
  if reason then
    exclusion_used[full] = true
    report("EXCLUDED", full, reason)
    counts.pending = counts.pending + 1
    return true
  end
  return false
end

-- Runs the hooks of `kind` of block and its ancestors: before_each outermost first,
-- after_each innermost first. Returns false, kind, message on the first failure.
local function run_each_hooks(block, kind)
  local chain_of = {}
  local b = block
  while b do
    table.insert(chain_of, 1, b)
    b = b.parent
  end
  local from, to, step = 1, #chain_of, 1
  if kind == "after_each" then
    from, to, step = #chain_of, 1, -1
  end
  for i = from, to, step do
    for _, fn in ipairs(chain_of[i][kind]) do
      local ok, err = call(fn)
      if not ok then
        return false, describe_error(err)
      end
    end
  end
  return true
end

local function count_result(kind, full, message)
  if kind == "failure" then
    counts.failures = counts.failures + 1
    report("FAIL", full, message)
  else
    counts.errors = counts.errors + 1
    report("ERROR", full, message)
  end
end

local run_block

local function run_test(block, child)
  local full = join(block.full, child.name)
  if excluded(full) then
    return
  end
  if child.kind == "pending" then
    counts.pending = counts.pending + 1
    report("PENDING", full)
    return
  end
  local ok, kind, message = run_each_hooks(block, "before_each")
  if ok then
    local passed, err = call(child.fn)
    if not passed then
      ok, kind, message = false, describe_error(err)
    end
  end
  -- after_each runs even when the test failed; its own failure counts when the test passed.
  local after_ok, after_kind, after_message = run_each_hooks(block, "after_each")
  if ok and not after_ok then
    ok, kind, message = false, after_kind, after_message
  end
  if ok then
    counts.successes = counts.successes + 1
  else
    count_result(kind, full, message)
  end
end

-- Runs a block's body (collecting its children), then setup, the children, teardown.
-- Runs a block's setup or teardown functions; the first failure is reported and ends them.
local function run_block_hooks(list, label)
  for _, fn in ipairs(list) do
    local ok, err = call(fn)
    if not ok then
      local kind, message = describe_error(err)
      count_result(kind, label, message)
      return false
    end
  end
  return true
end

-- label names the block in reports (the file name for a file's root block).
run_block = function(block, body, label)
  label = label or block.full
  local previous = current
  current = block
  local body_ok, body_err = call(body)
  current = previous
  if not body_ok then
    local kind, message = describe_error(body_err)
    count_result(kind, label, message)
    return
  end
  local has_tests = false
  for _, child in ipairs(block.children) do
    if child.kind ~= "pending" then
      has_tests = true
    end
  end
  if has_tests and not run_block_hooks(block.setup, join(label, "setup")) then
    return
  end
  for _, child in ipairs(block.children) do
    if child.kind == "describe" then
      local full = join(block.full, child.name)
      if not excluded(full) then
        run_block(new_block(child.name, full, block), child.fn)
      end
    else
      run_test(block, child)
    end
  end
  if has_tests then
    run_block_hooks(block.teardown, join(label, "teardown"))
  end
end

-- ---------------------------------------------------------------------------------------------
-- Files
-- ---------------------------------------------------------------------------------------------

local function run_file(path)
  local loaded_before, globals_before = {}, {}
  for k in pairs(package.loaded) do
    loaded_before[k] = true
  end
  for k in pairs(_G) do
    globals_before[k] = true
  end
  local chunk, load_err = loadfile(path)
  if not chunk then
    count_result("error", path, load_err)
    return
  end
  -- The file's top level is the body of an unnamed root block, as in busted.
  local root = new_block("", "", nil)
  run_block(root, chunk, path)
  for k in pairs(package.loaded) do
    if not loaded_before[k] then
      package.loaded[k] = nil
    end
  end
  for k in pairs(_G) do
    if not globals_before[k] then
      _G[k] = nil
    end
  end
  collectgarbage("collect")
  collectgarbage("collect")
end

local files = {}
local i = 1
while arg[i] do
  if arg[i] == "--exclude" then
    local list = assert(dofile(assert(arg[i + 1], "--exclude needs a file")))
    for name, reason in pairs(list) do
      exclusions[name] = reason
    end
    i = i + 2
  else
    files[#files + 1] = arg[i]
    i = i + 1
  end
end
if #files == 0 then
  io.stderr:write("usage: spec_runner.lua [--exclude LIST.lua] SPEC_FILE...\n")
  os.exit(2)
end

for k, v in pairs(env) do
  _G[k] = v
end
_G.assert = assert_object

local started = os.clock()
local wall_started = os.time()
for _, path in ipairs(files) do
  io.stdout:write("=== ", path, "\n")
  run_file(path)
end
for name in pairs(exclusions) do
  if not exclusion_used[name] then
    counts.errors = counts.errors + 1
    report("ERROR", name, "the exclusion list names a test or block that does not exist")
  end
end

local function plural(n, one, many)
  return ("%d %s"):format(n, n == 1 and one or many)
end
local seconds = math.max(os.time() - wall_started, os.clock() - started)
io.stdout:write(
  ("%s / %s / %s / %d pending : %.2f seconds\n"):format(
    plural(counts.successes, "success", "successes"),
    plural(counts.failures, "failure", "failures"),
    plural(counts.errors, "error", "errors"),
    counts.pending,
    seconds
  )
)
io.stdout:flush()
os.exit(counts.failures + counts.errors == 0 and 0 or 1)

-- Generates docs/api.md and library/module_enet.lua (LuaLS ---@meta stubs) from the one API
-- description, docs/api-source.lua. Plain Lua 5.1-5.4 / LuaJIT, no dependencies.
--
-- Usage (from anywhere):  lua ci/gen-docs.lua [--out DIR] [--source FILE]
--   --out DIR      write DIR/docs/api.md and DIR/library/module_enet.lua (default: the repo)
--   --source FILE  the description (default: <repo>/docs/api-source.lua)
-- The output depends only on the description (arrays are walked in order, never pairs), so
-- ci/suites.d/docs.sh can regenerate into a temporary directory and compare byte for byte.

local script = (arg and arg[0]) or "ci/gen-docs.lua"
local root = script:match("^(.*)[/\\]ci[/\\][^/\\]+$") or "."

local out_dir, source = root, nil
do
  local i = 1
  while arg and arg[i] do
    if arg[i] == "--out" and arg[i + 1] then
      out_dir, i = arg[i + 1], i + 2
    elseif arg[i] == "--source" and arg[i + 1] then
      source, i = arg[i + 1], i + 2
    else
      io.stderr:write("usage: lua ci/gen-docs.lua [--out DIR] [--source FILE]\n")
      os.exit(2)
    end
  end
end
source = source or (root .. "/docs/api-source.lua")

local api = dofile(source)

-- Helpers ---------------------------------------------------------------------------------------

local function append(list, ...)
  for i = 1, select("#", ...) do
    list[#list + 1] = select(i, ...)
  end
end

local function split_lines(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do
    lines[#lines + 1] = line
  end
  return lines
end

-- GitHub's heading anchors: lower case, punctuation dropped, spaces become hyphens.
local function anchor(title)
  return (title:lower():gsub("[^%w%- _]", ""):gsub(" ", "-"))
end

local classes_by_name, groups_by_id = {}, {}
for _, class in ipairs(api.classes) do
  classes_by_name[class.name] = class
end
for _, alias in ipairs(api.aliases or {}) do
  classes_by_name[alias.name] = alias
end
for _, group in ipairs(api.groups) do
  groups_by_id[group.id] = group
end

-- The heading (and so the anchor) of a function: its procedural name, or object:method.
local function object_name(fn)
  return fn.args[1] and fn.args[1].name or "object"
end
local function heading(fn)
  return fn.name or (object_name(fn) .. ":" .. fn.method)
end

-- Validates the description before anything is written: a typo must fail loudly.
local function validate()
  local problems, seen = {}, {}
  local function problem(message)
    problems[#problems + 1] = message
  end
  for i, fn in ipairs(api.functions) do
    local label = fn.name or fn.method or ("functions[" .. i .. "]")
    if not (fn.name or fn.method) then problem(label .. ": needs name or method") end
    if fn.method and not fn.class then problem(label .. ": a method needs a class") end
    if fn.method and not (fn.args[1] and fn.args[1].type == fn.class) then
      problem(label .. ": a method's first argument must be its " .. tostring(fn.class))
    end
    if not groups_by_id[fn.group] then problem(label .. ": unknown group " .. tostring(fn.group)) end
    if not fn.summary then problem(label .. ": no summary") end
    if not fn.example then problem(label .. ": no example") end
    if fn.setup and not api.setups[fn.setup] then problem(label .. ": unknown setup " .. fn.setup) end
    if fn.class and not classes_by_name[fn.class] then problem(label .. ": unknown class " .. fn.class) end
    local key = heading(fn)
    if seen[key] then problem(label .. ": documented twice") end
    seen[key] = true
    for _, a in ipairs(fn.args) do
      if not (a.name and a.type and a.description) then
        problem(label .. ": argument needs name, type and description")
      end
    end
    for _, r in ipairs(fn.returns) do
      if not r.when then problem(label .. ": every return outcome needs `when`") end
    end
  end
  if #problems > 0 then
    io.stderr:write("docs/api-source.lua is inconsistent:\n  " .. table.concat(problems, "\n  ") .. "\n")
    os.exit(1)
  end
end
validate()

-- Markdown --------------------------------------------------------------------------------------

local function link_type(type_text)
  local parts = {}
  for part in type_text:gmatch("[^|]+") do
    local base, suffix = part:match("^([%w_]+)(.*)$")
    if base and classes_by_name[base] then
      parts[#parts + 1] = "[" .. base .. "](#" .. anchor(base) .. ")" .. suffix
    else
      parts[#parts + 1] = part
    end
  end
  return table.concat(parts, " \\| ")
end

local function cell(text)
  return (tostring(text or ""):gsub("\n", " "):gsub("|", "\\|"))
end

local function signature_args(args, skip_first)
  local names = {}
  for i, a in ipairs(args) do
    if not (skip_first and i == 1) then
      names[#names + 1] = a.name .. (a.optional and "?" or "")
    end
  end
  return table.concat(names, ", ")
end

local function outcome_text(outcome)
  local values = {}
  for _, v in ipairs(outcome.values) do
    values[#values + 1] = v.value or v.name
  end
  return table.concat(values, ", ")
end

local function returns_summary(fn)
  if #fn.returns == 0 then return "" end
  local outcomes, seen = {}, {}
  for _, outcome in ipairs(fn.returns) do
    local text = outcome_text(outcome)
    if not seen[text] then
      seen[text] = true
      outcomes[#outcomes + 1] = text
    end
  end
  return " -> " .. table.concat(outcomes, " | ")
end

local function substitute(text)
  return (text:gsub("{{setup:([%w_]+)}}", function(name)
    return assert(api.setups[name], "unknown setup " .. name)
  end))
end

local function functions_of(group_id)
  local list = {}
  for _, fn in ipairs(api.functions) do
    if fn.group == group_id then list[#list + 1] = fn end
  end
  return list
end

local function render_function(md, fn)
  append(md, "### " .. heading(fn), "", "```lua")
  local returns = returns_summary(fn)
  if fn.name then
    append(md, "enet." .. fn.name .. "(" .. signature_args(fn.args) .. ")" .. returns)
  end
  if fn.method then
    append(md, object_name(fn) .. ":" .. fn.method .. "(" .. signature_args(fn.args, true) .. ")"
      .. (fn.name and "" or returns))
  end
  append(md, "```", "", fn.summary, "")
  if fn.description then append(md, fn.description, "") end

  if #fn.args > 0 then
    append(md, "| Argument | Type | Default | Range | Description |", "| --- | --- | --- | --- | --- |")
    for i, a in ipairs(fn.args) do
      local default = a.default and ("`" .. a.default .. "`") or (a.optional and "nil" or "required")
      if fn.method and i == 1 then default = "(the object)" end
      append(md, "| `" .. a.name .. "` | " .. link_type(a.type) .. " | " .. default .. " | "
        .. cell(a.range) .. " | " .. cell(a.description) .. " |")
    end
    append(md, "")
  end

  if #fn.returns == 0 then
    append(md, "**Returns** nothing.", "")
  else
    append(md, "| Returns | When |", "| --- | --- |")
    for _, outcome in ipairs(fn.returns) do
      local values = {}
      for _, v in ipairs(outcome.values) do
        if v.value then
          values[#values + 1] = "`" .. v.value .. "`"
        else
          values[#values + 1] = "`" .. v.name .. "` (" .. link_type(v.type) .. ")"
        end
      end
      append(md, "| " .. table.concat(values, ", ") .. " | " .. (outcome.failure and "*failure:* " or "")
        .. cell(outcome.when) .. " |")
    end
    append(md, "")
  end

  if fn.raises and #fn.raises > 0 then
    append(md, "**Raises** ([misuse](#errors)) when:", "")
    for _, r in ipairs(fn.raises) do
      append(md, "- " .. r)
    end
    append(md, "")
  end

  if fn.setup then
    append(md, "Example (*needs a " .. fn.setup .. "*, see [Conventions](#conventions)):", "")
  else
    append(md, "Example:", "")
  end
  append(md, "```lua", fn.example, "```", "")
end

local function render_class(md, class)
  append(md, "### " .. class.name, "", class.description, "")
  if class.values then
    local values = {}
    for _, v in ipairs(class.values) do
      values[#values + 1] = "`\"" .. v .. "\"`"
    end
    append(md, "One of " .. table.concat(values, ", ") .. ".", "")
  end
  if class.fields then
    append(md, "| Field | Type | Description |", "| --- | --- | --- |")
    for _, f in ipairs(class.fields) do
      append(md, "| `" .. f.name .. "` | " .. link_type(f.type) .. (f.optional and " (optional)" or "")
        .. " | " .. cell(f.description) .. " |")
    end
    append(md, "")
  end
  if class.kind == "userdata" then
    local methods = {}
    for _, fn in ipairs(api.functions) do
      if fn.class == class.name and fn.method then
        methods[#methods + 1] = "[" .. object_name(fn) .. ":" .. fn.method .. "](#" .. anchor(heading(fn)) .. ")"
      end
    end
    if #methods > 0 then
      append(md, "Methods: " .. table.concat(methods, ", ") .. ".", "")
    end
  end
end

local function render_markdown()
  local md = {}
  append(md,
    "<!-- Generated by ci/gen-docs.lua from docs/api-source.lua: edit that file, then run"
      .. " `lua ci/gen-docs.lua`. -->",
    "",
    "# " .. api.title,
    "",
    api.intro,
    "")

  local before, after = {}, {}
  for _, section in ipairs(api.sections) do
    if section.position == "before" then before[#before + 1] = section else after[#after + 1] = section end
  end

  append(md, "## Contents", "")
  local function toc(title)
    append(md, "- [" .. title .. "](#" .. anchor(title) .. ")")
  end
  for _, s in ipairs(before) do toc(s.title) end
  toc("Function index")
  for _, g in ipairs(api.groups) do toc(g.title) end
  for _, s in ipairs(after) do toc(s.title) end
  toc("Constants")
  toc("Types")
  if api.external and #api.external > 0 then toc("Documented elsewhere") end
  append(md, "")

  for _, s in ipairs(before) do
    append(md, "## " .. s.title, "", substitute(s.text), "")
  end

  append(md, "## Function index", "", "| Function | Method | Summary |", "| --- | --- | --- |")
  for _, group in ipairs(api.groups) do
    for _, fn in ipairs(functions_of(group.id)) do
      local link = "[" .. heading(fn) .. "](#" .. anchor(heading(fn)) .. ")"
      local method = fn.method and ("`" .. object_name(fn) .. ":" .. fn.method .. "`") or ""
      append(md, "| " .. (fn.name and link or "") .. " | " .. (fn.name and method or link) .. " | "
        .. cell(fn.summary) .. " |")
    end
  end
  append(md, "")

  for _, group in ipairs(api.groups) do
    append(md, "## " .. group.title, "")
    if group.text then append(md, group.text, "") end
    for _, fn in ipairs(functions_of(group.id)) do
      render_function(md, fn)
    end
  end

  for _, s in ipairs(after) do
    append(md, "## " .. s.title, "", substitute(s.text), "")
  end

  append(md, "## Constants", "")
  local open_table = false
  for _, c in ipairs(api.constants) do
    if c.group then
      if open_table then append(md, "") end
      append(md, "### " .. c.group, "", "| Name | Value | Meaning |", "| --- | --- | --- |")
      open_table = true
    else
      local value = c.value == nil and ("a " .. c.type)
        or (type(c.value) == "string" and ("`\"" .. c.value .. "\"`") or ("`" .. tostring(c.value) .. "`"))
      append(md, "| `enet." .. c.name .. "` | " .. value .. " | " .. cell(c.description) .. " |")
    end
  end
  append(md, "")

  append(md, "## Types", "")
  for _, class in ipairs(api.classes) do
    render_class(md, class)
  end
  for _, alias in ipairs(api.aliases or {}) do
    render_class(md, alias)
  end

  if api.external and #api.external > 0 then
    append(md, "## Documented elsewhere", "")
    for _, e in ipairs(api.external) do
      local what = e.module and ('require("' .. e.module .. '")') or ("enet." .. e.name)
      append(md, "- `" .. what .. "`: " .. e.description .. " See [" .. e.doc .. "](" .. e.doc .. ").")
    end
    append(md, "")
  end

  -- One trailing newline, no trailing blank lines.
  while md[#md] == "" do md[#md] = nil end
  return table.concat(md, "\n") .. "\n"
end

-- LuaLS stubs -----------------------------------------------------------------------------------

-- Links inside the reference mean nothing in an editor's hover: keep their text only.
local function plain(text)
  return (text:gsub("%[([^%]]+)%]%(#[^)]*%)", "%1"))
end

local function comment(lua, text)
  for _, line in ipairs(split_lines(plain(text))) do
    append(lua, line == "" and "---" or ("---" .. line))
  end
end

local function param_text(a)
  local extra = {}
  if a.default then extra[#extra + 1] = "default `" .. a.default .. "`" end
  if a.range then extra[#extra + 1] = "range " .. a.range end
  local text = plain(a.description)
  if #extra > 0 then text = text .. " (" .. table.concat(extra, ", ") .. ")" end
  return text
end

-- One ---@return per position: the union of the types every outcome puts there.
local function stub_returns(fn)
  local count = 0
  for _, outcome in ipairs(fn.returns) do
    if #outcome.values > count then count = #outcome.values end
  end
  local lines = {}
  for pos = 1, count do
    local types, names, seen_type, seen_name, nilable = {}, {}, {}, {}, false
    for _, outcome in ipairs(fn.returns) do
      local v = outcome.values[pos]
      if not v or v.value == "nil" then
        nilable = true
      elseif not seen_type[v.type] then
        seen_type[v.type] = true
        types[#types + 1] = v.type
      end
      if v and not seen_name[v.name] then
        seen_name[v.name] = true
        names[#names + 1] = v.name
      end
    end
    local type_text = table.concat(types, "|")
    if #types == 0 then
      type_text = "nil"
    elseif nilable then
      type_text = (#types == 1 and not type_text:find('"')) and (type_text .. "?") or (type_text .. "|nil")
    end
    lines[#lines + 1] = "---@return " .. type_text .. " " .. table.concat(names, "_or_")
  end
  return lines
end

local function stub_doc(lua, fn, skip_first)
  comment(lua, fn.summary)
  if fn.description then
    append(lua, "---")
    comment(lua, fn.description)
  end
  if #fn.returns > 0 then
    append(lua, "---", "---Returns:")
    for _, outcome in ipairs(fn.returns) do
      append(lua, "---* `" .. outcome_text(outcome) .. "`: " .. (outcome.failure and "failure, " or "")
        .. plain(outcome.when))
    end
  end
  if fn.raises and #fn.raises > 0 then
    append(lua, "---", "---Raises an error when:")
    for _, r in ipairs(fn.raises) do
      append(lua, "---* " .. plain(r))
    end
  end
  for i, a in ipairs(fn.args) do
    if not (skip_first and i == 1) then
      append(lua, "---@param " .. a.name .. (a.optional and "?" or "") .. " " .. a.type .. " " .. param_text(a))
    end
  end
  for _, line in ipairs(stub_returns(fn)) do
    append(lua, line)
  end
end

local function arg_names(args, skip_first)
  local names = {}
  for i, a in ipairs(args) do
    if not (skip_first and i == 1) then names[#names + 1] = a.name end
  end
  return table.concat(names, ", ")
end

local function render_stubs()
  local lua = {}
  append(lua,
    "---@meta " .. api.module,
    "",
    "-- Generated by ci/gen-docs.lua from docs/api-source.lua: edit that file, then run",
    "-- `lua ci/gen-docs.lua`.",
    "--",
    "-- Type stubs for lua-language-server. Add this folder to LuaLS's workspace.library",
    "-- (see .luarc.json and README.md). Never install this file as " .. api.module .. ".lua on",
    "-- package.path: it would shadow the real (binary) module.",
    "")

  for _, alias in ipairs(api.aliases or {}) do
    comment(lua, alias.description)
    append(lua, "---@alias " .. alias.name)
    for _, v in ipairs(alias.values) do
      append(lua, '---| "' .. v .. '"')
    end
    append(lua, "")
  end

  for _, class in ipairs(api.classes) do
    comment(lua, class.description)
    append(lua, "---@class " .. class.name)
    for _, f in ipairs(class.fields or {}) do
      append(lua, "---@field " .. f.name .. (f.optional and "?" or "") .. " " .. f.type .. " " .. plain(f.description))
    end
    if class.kind == "userdata" then
      append(lua, "local " .. class.name .. " = {}")
    end
    append(lua, "")
  end

  append(lua, "---@class " .. api.module, "local enet = {}", "")

  for _, fn in ipairs(api.functions) do
    if fn.name then
      stub_doc(lua, fn, false)
      append(lua, "function enet." .. fn.name .. "(" .. arg_names(fn.args) .. ") end", "")
    end
    if fn.method then
      stub_doc(lua, fn, true)
      append(lua, "function " .. fn.class .. ":" .. fn.method .. "(" .. arg_names(fn.args, true) .. ") end", "")
    end
  end

  for _, c in ipairs(api.constants) do
    if c.group then
      if lua[#lua] ~= "" then append(lua, "") end
      append(lua, "-- " .. plain(c.group):gsub("`", ""), "")
    else
      comment(lua, c.description)
      if c.value == nil then
        append(lua, "---@type " .. c.type, "enet." .. c.name .. ' = ""')
      elseif type(c.value) == "string" then
        append(lua, "enet." .. c.name .. ' = "' .. c.value .. '"')
      else
        append(lua, "enet." .. c.name .. " = " .. tostring(c.value))
      end
    end
  end
  append(lua, "", "return enet")
  return table.concat(lua, "\n") .. "\n"
end

-- Output ----------------------------------------------------------------------------------------

local function write(relative, text)
  local path = out_dir .. "/" .. relative
  local file = io.open(path, "wb")
  if not file then
    -- The only portable-enough way to make a directory from plain Lua.
    local dir = path:match("^(.*)/[^/]+$")
    os.execute('mkdir -p "' .. dir .. '" 2>/dev/null || mkdir "' .. dir .. '"')
    file = io.open(path, "wb")
  end
  if not file then
    io.stderr:write("cannot write " .. path .. "\n")
    os.exit(1)
  end
  file:write(text)
  file:close()
  print("wrote " .. path)
end

write("docs/api.md", render_markdown())
write("library/" .. api.module .. ".lua", render_stubs())

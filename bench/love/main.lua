-- Runs a benchmark program inside LÖVE, with the command-line shape of a Lua interpreter:
--   love bench/love [-l MODULE] /path/to/program.lua ARGS...
-- `-l use_compat` puts module_enet.compat in place of LÖVE's lua-enet, as `lua -l` does.
-- LUA_PATH / LUA_CPATH find the program's modules (bench/run.sh sets them); the program sees
-- `arg` and `...` as under `lua`. The exit status is the program's (os.exit) or 0, 1 on error.
-- luacheck: globals love arg
function love.run()
  return function()
    local argv = {}
    for i = 2, #arg do
      argv[#argv + 1] = arg[i]
    end
    while argv[1] == "-l" do
      require(argv[2])
      table.remove(argv, 1)
      table.remove(argv, 1)
    end
    local script = table.remove(argv, 1)
    if not script then
      io.stderr:write("usage: love bench/love [-l MODULE] PROGRAM.lua ARGS...\n")
      return 2
    end
    argv[0] = script
    arg = argv
    local chunk = assert(loadfile(script))
    local ok, err = xpcall(function() return chunk(unpack(argv)) end, debug.traceback)
    io.stdout:flush()
    if not ok then
      io.stderr:write(tostring(err), "\n")
      return 1
    end
    return 0
  end
end

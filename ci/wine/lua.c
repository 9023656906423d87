/* lua.exe for the Wine suite (ci/suites.d/wine.sh): the smallest stand-alone interpreter that
 * runs a script the way `lua script.lua args...` does. lua-src ships Lua's library sources
 * without lua.c, so this is ours. It links against lua54.dll, the name mlua's `module` feature
 * imports on Windows, so the module and the interpreter share one Lua state implementation.
 *
 *   lua.exe SCRIPT [ARGS...]
 *   lua.exe -e CHUNK          (ci/chat-test.sh asks the interpreter for a free port this way)
 *
 * arg[-1] is this program, arg[0] the script, arg[1..] the rest, as in the real lua.c (the specs
 * find their interpreter in arg[-1]). Errors go to stderr with a traceback; exit code 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      return 1;
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

static int run(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int i, handler;
  luaL_openlibs(L);
  lua_createtable(L, argc - 2, 2);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  handler = lua_gettop(L);
  if (strcmp(argv[1], "-e") == 0) {
    if (argc != 3)
      return luaL_error(L, "-e takes one chunk and nothing else");
    if (luaL_loadstring(L, argv[2]) != LUA_OK)
      return lua_error(L);
    argc = 2; /* no arguments for the chunk */
  } else if (luaL_loadfile(L, argv[1]) != LUA_OK) {
    return lua_error(L);
  }
  for (i = 2; i < argc; i++)
    lua_pushstring(L, argv[i]);
  if (lua_pcall(L, argc - 2, 0, handler) != LUA_OK)
    return lua_error(L);
  return 0;
}

int main(int argc, char **argv) {
  lua_State *L;
  int status;
  if (argc < 2) {
    fprintf(stderr, "usage: %s SCRIPT [ARGS...] | -e CHUNK\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create a Lua state\n", argv[0]);
    return 1;
  }
  lua_pushcfunction(L, run);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  status = lua_pcall(L, 2, 0, 0);
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "%s: %s\n", argv[0], msg ? msg : "(error object is not a string)");
    fflush(stderr);
  }
  fflush(stdout);
  lua_close(L);
  return status == LUA_OK ? EXIT_SUCCESS : EXIT_FAILURE;
}

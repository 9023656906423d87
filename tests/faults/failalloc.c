/* failalloc: allocation-failure injection for the fault sweeps (tests/faults/sweep.lua).
 *
 * A Lua C module that wraps the running state's allocator (lua_getallocf / lua_setallocf, in
 * every Lua from 5.1 to 5.4 and in LuaJIT) with one that counts the allocations made while it
 * is enabled and fails the n-th of them and every one after it until it is disabled (SQLite's
 * "persistent" malloc failure: Lua 5.2+ retries a failed allocation after an emergency
 * collection, so a single refusal would usually be absorbed). Only requests that need new
 * memory can fail (a grow or a fresh block); frees and shrinks always succeed, as the Lua
 * manual requires. Built per interpreter by tests/faults/run.sh.
 *
 *   failalloc.install()         wrap the allocator (idempotent)
 *   failalloc.arm(n [, persistent]) from now, fail the n-th counted allocation and, unless
 *                               persistent is false, those after it (0: never)
 *   failalloc.enable(on)        count (and fail) only while enabled
 *   failalloc.pcall(f, ...)     pcall(f, ...) with counting (and failing) enabled exactly while
 *                               f runs: the call's own set-up (stack, CallInfo) happens inside
 *                               the protected call, so a refused allocation there is caught too
 *   failalloc.count()           allocations counted since the last arm
 *   failalloc.fired()           true once the armed allocation has been refused
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <lauxlib.h>
#include <lua.h>
#include <stddef.h>

static lua_Alloc real_alloc;
static void *real_ud;
static int installed;
static int enabled;
static long counted;
static long fail_at;
static int persistent = 1;
static int fired;

static void *failing_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    /* With ptr NULL, osize encodes the kind of object (5.2+), not a size. */
    int needs_memory = nsize > 0 && (ptr == NULL || nsize > osize);
    if (enabled && needs_memory) {
        counted++;
        if (fail_at > 0 && (counted == fail_at || (persistent && counted > fail_at))) {
            fired = 1;
            return NULL;
        }
    }
    return real_alloc(real_ud, ptr, osize, nsize);
}

static int install(lua_State *L) {
    if (!installed) {
        /* lua_close unloads C modules before it frees the last objects through the allocator:
         * this library must stay mapped until the process ends. */
        Dl_info self;
        if (dladdr((void *)failing_alloc, &self) && self.dli_fname != NULL)
            dlopen(self.dli_fname, RTLD_NOW | RTLD_NODELETE);
        real_alloc = lua_getallocf(L, &real_ud);
        lua_setallocf(L, failing_alloc, NULL);
        installed = 1;
    }
    return 0;
}

static int arm(lua_State *L) {
    fail_at = (long)luaL_checknumber(L, 1);
    persistent = lua_isnoneornil(L, 2) || lua_toboolean(L, 2);
    counted = 0;
    fired = 0;
    return 0;
}

static int enable(lua_State *L) {
    enabled = lua_toboolean(L, 1);
    return 0;
}

static int count(lua_State *L) {
    lua_pushnumber(L, (lua_Number)counted);
    return 1;
}

static int was_fired(lua_State *L) {
    lua_pushboolean(L, fired);
    return 1;
}

static int protected_call(lua_State *L) {
    int n = lua_gettop(L);
    luaL_checkany(L, 1);
    enabled = 1;
    int status = lua_pcall(L, n - 1, LUA_MULTRET, 0);
    enabled = 0;
    luaL_checkstack(L, 1, "failalloc.pcall");
    lua_pushboolean(L, status == 0);
    lua_insert(L, 1);
    return lua_gettop(L);
}

int luaopen_failalloc(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, install);
    lua_setfield(L, -2, "install");
    lua_pushcfunction(L, arm);
    lua_setfield(L, -2, "arm");
    lua_pushcfunction(L, enable);
    lua_setfield(L, -2, "enable");
    lua_pushcfunction(L, count);
    lua_setfield(L, -2, "count");
    lua_pushcfunction(L, was_fired);
    lua_setfield(L, -2, "fired");
    lua_pushcfunction(L, protected_call);
    lua_setfield(L, -2, "pcall");
    return 1;
}

/* A Lua module for the benchmark programs: the clocks the C programs use, so Lua and C numbers
 * (and timestamps sent from a C load generator to a Lua server) are on the same time base.
 * Plain Lua has only os.time (seconds) and os.clock (CPU time). Built per interpreter by
 * bench/run.sh; works with the Lua 5.1 to 5.4 and LuaJIT C APIs alike. */
#include <lauxlib.h>
#include <lua.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CLOCK_MONOTONIC in seconds: system-wide, so comparable across processes. */
static int now(lua_State *L) {
    lua_pushnumber(L, clock_s(CLOCK_MONOTONIC));
    return 1;
}

/* This process's CPU time (user + system) in seconds. */
static int cpu(lua_State *L) {
    lua_pushnumber(L, clock_s(CLOCK_PROCESS_CPUTIME_ID));
    return 1;
}

/* Clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
static int clk_tck(lua_State *L) {
    lua_pushnumber(L, (lua_Number)sysconf(_SC_CLK_TCK));
    return 1;
}

int luaopen_benchclock(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, now);
    lua_setfield(L, -2, "now");
    lua_pushcfunction(L, cpu);
    lua_setfield(L, -2, "cpu");
    lua_pushcfunction(L, clk_tck);
    lua_setfield(L, -2, "clk_tck");
    return 1;
}

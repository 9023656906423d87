/* The floor: the least Lua-facing work any binding must do per message for the seed API and for
 * the batch pair, with no network and no protocol at all. Built as a module named module_enet, it
 * runs bench/lua/loop.lua unchanged (bench/profile.sh PARTS=floor), so its instructions per
 * message are what the interpreter, its collector and the C API cost for the loop's objects and
 * calls; an ENet implementation adds its protocol on top (C ENet's whole loop: `enet_bench loop`).
 *
 * What it keeps of the real work, because the API's contract needs it: a packet object per
 * packet_create (its bytes copied in), the bytes copied out on send, an event table with the
 * seed's five fields and a packet object per receive, a string per packet_data, a type check of
 * every object argument (the cheapest safe one we know, the module's own: the block's length and
 * a tag derived from its address, no metatable fetched; a metatable compare cost twice as much
 * on LuaJIT), and integer arguments read. What it drops: the protocol, sockets, peers beyond one
 * pair, errors beyond luaL_error. Keys are interned once (upvalues), tables pre-sized: the
 * cheapest C API paths there are. Not part of the product: a measuring stick for
 * docs/performance.md. */
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM >= 504
#define newuserdata(L, size) lua_newuserdatauv(L, size, 0)
#else
#define newuserdata lua_newuserdata
#endif
#if LUA_VERSION_NUM >= 502
#define objlen lua_rawlen
#else
#define objlen lua_objlen
#endif

enum { UV_PACKET = 1, UV_PEER, UV_HOST, UV_TYPE, UV_PEERKEY, UV_CHANNEL, UV_DATA, UV_PACKETKEY, NUP = UV_PACKETKEY };
#define UV(i) lua_upvalueindex(i)

enum { CONNECT = 1, DISCONNECT = 2, RECEIVE = 3 };
enum { SLOTS = 4096, MAXLEN = 2048 };

typedef struct {
  unsigned char kind;
  unsigned char channel;
  unsigned short len;
  unsigned char data[MAXLEN];
} Entry;

enum { HOST = 1, PEER, PACKET };

/* A host's incoming queue: a ring of events (what ENet's dispatch queue would hold). The ring is
 * outside Lua's heap, as a real binding's protocol state is: 8 MiB in a userdata would make the
 * collector's pace (a multiple of the heap) skip every cycle of a run and flatter the floor. */
typedef struct {
  uintptr_t tag;
  unsigned head, tail;
  int peer_ref; /* the handle of this host's one peer, in the registry */
  Entry *ring;
} Host;

typedef struct {
  uintptr_t tag;
  Host *remote; /* where sends go */
} Peer;

typedef struct {
  uintptr_t tag;
  size_t len;
  int live;
} Packet;

static uintptr_t tag(const void *p, int class) {
  uintptr_t x = (uintptr_t)p ^ (uintptr_t)0x6d6f64756c655f65ULL;
  return ((x << 23) | (x >> (8 * sizeof x - 23))) ^ (uintptr_t)class;
}

static const size_t sizes[] = {0, sizeof(Host), sizeof(Peer), sizeof(Packet)};

static void *checked(lua_State *L, int i, int class, const char *what) {
  void *p = lua_touserdata(L, i);
  if (p == NULL || objlen(L, i) < sizes[class] || *(uintptr_t *)p != tag(p, class))
    luaL_error(L, "bad argument #%d (%s expected)", i, what);
  return p;
}

static void enqueue(lua_State *L, Host *h, int kind, int channel, const void *data, size_t len) {
  if (h->tail - h->head == SLOTS || len > MAXLEN) luaL_error(L, "floor: queue full");
  Entry *e = &h->ring[h->tail++ % SLOTS];
  e->kind = (unsigned char)kind;
  e->channel = (unsigned char)channel;
  e->len = (unsigned short)len;
  memcpy(e->data, data, len);
}

static Host *new_host(lua_State *L) {
  Host *h = newuserdata(L, sizeof(Host));
  h->tag = tag(h, HOST);
  h->head = h->tail = 0;
  h->ring = NULL;
  h->peer_ref = LUA_NOREF;
  lua_pushvalue(L, UV(UV_HOST));
  lua_setmetatable(L, -2);
  h->ring = malloc(SLOTS * sizeof(Entry)); /* never freed: the process ends with the run */
  if (h->ring == NULL) luaL_error(L, "floor: out of memory");
  return h;
}

static Host *server; /* the last host created with an address: where host_connect connects */

static int host_create(lua_State *L) {
  int bound = !lua_isnoneornil(L, 1);
  Host *h = new_host(L);
  if (bound) server = h;
  return 1;
}

static void push_peer(lua_State *L, Host *from, Host *to) {
  Peer *p = newuserdata(L, sizeof(Peer));
  p->tag = tag(p, PEER);
  p->remote = to;
  lua_pushvalue(L, UV(UV_PEER));
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  from->peer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

static int host_connect(lua_State *L) {
  Host *client = checked(L, 1, HOST, "host");
  if (server == NULL) return luaL_error(L, "floor: no server host");
  push_peer(L, server, client); /* the server's handle for the client */
  lua_pop(L, 1);
  push_peer(L, client, server);
  enqueue(L, server, CONNECT, 0, "", 0);
  enqueue(L, client, CONNECT, 0, "", 0);
  return 1;
}

/* t[key] = the value pushed by `push`: key first, so nothing is moved on the stack. */
#define SET(t, key, push)          \
  do {                             \
    lua_pushvalue(L, UV(key));     \
    push;                          \
    lua_rawset(L, t);              \
  } while (0)

static int host_service(lua_State *L) {
  Host *h = checked(L, 1, HOST, "host");
  (void)luaL_optinteger(L, 2, 0);
  if (h->head == h->tail) {
    lua_pushinteger(L, 0);
    return 1;
  }
  Entry *e = &h->ring[h->head % SLOTS];
  lua_pushinteger(L, 1);
  lua_createtable(L, 0, 5);
  int t = lua_gettop(L);
  SET(t, UV_TYPE, lua_pushinteger(L, e->kind));
  SET(t, UV_PEERKEY, lua_rawgeti(L, LUA_REGISTRYINDEX, h->peer_ref));
  SET(t, UV_CHANNEL, lua_pushinteger(L, e->channel));
  SET(t, UV_DATA, lua_pushinteger(L, 0));
  if (e->kind == RECEIVE) {
    lua_pushvalue(L, UV(UV_PACKETKEY));
    Packet *p = newuserdata(L, sizeof(Packet) + e->len);
    p->tag = tag(p, PACKET);
    p->len = e->len;
    p->live = 1;
    memcpy(p + 1, e->data, e->len);
    lua_pushvalue(L, UV(UV_PACKET));
    lua_setmetatable(L, -2);
    lua_rawset(L, t);
  }
  h->head++; /* taken only once every Lua object exists, as the real binding must */
  return 2;
}

static int host_address(lua_State *L) {
  checked(L, 1, HOST, "host");
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "127.0.0.1");
  lua_setfield(L, -2, "host");
  lua_pushinteger(L, 1);
  lua_setfield(L, -2, "port");
  return 1;
}

static int host_destroy(lua_State *L) {
  checked(L, 1, HOST, "host");
  return 0;
}

static int packet_create(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  (void)luaL_optinteger(L, 2, 0);
  Packet *p = newuserdata(L, sizeof(Packet) + len);
  p->tag = tag(p, PACKET);
  p->len = len;
  p->live = 1;
  memcpy(p + 1, s, len);
  lua_pushvalue(L, UV(UV_PACKET));
  lua_setmetatable(L, -2);
  return 1;
}

static Packet *live_packet(lua_State *L, int i) {
  Packet *p = checked(L, i, PACKET, "packet");
  if (!p->live) luaL_error(L, "bad argument #%d (packet destroyed)", i);
  return p;
}

static int peer_send(lua_State *L) {
  Peer *peer = checked(L, 1, PEER, "peer");
  int channel = (int)luaL_checkinteger(L, 2);
  Packet *p = live_packet(L, 3);
  enqueue(L, peer->remote, RECEIVE, channel, p + 1, p->len);
  p->live = 0; /* the seed's send takes the packet */
  lua_pushinteger(L, 0);
  return 1;
}

static int peer_send_many(lua_State *L) {
  Peer *peer = checked(L, 1, PEER, "peer");
  int channel = (int)luaL_checkinteger(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  int n = (int)objlen(L, 3);
  for (int i = 1; i <= n; i++) {
    size_t len;
    lua_rawgeti(L, 3, i);
    const char *s = lua_tolstring(L, -1, &len);
    if (s == NULL) return luaL_error(L, "bad argument #3 (string expected at %d)", i);
    enqueue(L, peer->remote, RECEIVE, channel, s, len);
    lua_pop(L, 1);
  }
  lua_pushinteger(L, n);
  return 1;
}

/* Event i as out[4i-3..4i]: type, peer, channelID or data, payload string. */
static int host_service_into(lua_State *L) {
  Host *h = checked(L, 1, HOST, "host");
  (void)luaL_optinteger(L, 2, 0);
  luaL_checktype(L, 3, LUA_TTABLE);
  int max = (int)luaL_optinteger(L, 4, 256), n = 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->peer_ref);
  int peer = lua_gettop(L);
  for (; n < max && h->head != h->tail; n++) {
    Entry *e = &h->ring[h->head % SLOTS];
    lua_pushinteger(L, e->kind);
    lua_rawseti(L, 3, 4 * n + 1);
    lua_pushvalue(L, peer);
    lua_rawseti(L, 3, 4 * n + 2);
    lua_pushinteger(L, e->channel);
    lua_rawseti(L, 3, 4 * n + 3);
    if (e->kind == RECEIVE)
      lua_pushlstring(L, (const char *)e->data, e->len);
    else
      lua_pushnil(L);
    lua_rawseti(L, 3, 4 * n + 4);
    h->head++;
  }
  lua_pushinteger(L, n);
  return 1;
}

static int packet_data(lua_State *L) {
  Packet *p = live_packet(L, 1);
  lua_pushlstring(L, (const char *)(p + 1), p->len);
  return 1;
}

static int packet_destroy(lua_State *L) {
  Packet *p = checked(L, 1, PACKET, "packet");
  p->live = 0;
  return 0;
}

static const luaL_Reg functions[] = {
    {"host_create", host_create},     {"host_connect", host_connect},
    {"host_service", host_service},   {"host_address", host_address},
    {"host_destroy", host_destroy},   {"packet_create", packet_create},
    {"peer_send", peer_send},         {"peer_send_many", peer_send_many},
    {"host_service_into", host_service_into},
    {"packet_data", packet_data},     {"packet_destroy", packet_destroy},
    {NULL, NULL},
};

int luaopen_module_enet(lua_State *L) {
  static const char *keys[] = {"type", "peer", "channelID", "data", "packet"};
  lua_newtable(L);
  int module = lua_gettop(L);
  for (int i = 0; i < 3; i++) lua_newtable(L); /* packet, peer and host metatables */
  for (int i = 0; i < 5; i++) lua_pushstring(L, keys[i]);
  for (const luaL_Reg *f = functions; f->name; f++) {
    for (int i = 1; i <= NUP; i++) lua_pushvalue(L, module + i);
    lua_pushcclosure(L, f->func, NUP);
    lua_setfield(L, module, f->name);
  }
  lua_settop(L, module);
  lua_pushinteger(L, CONNECT);
  lua_setfield(L, module, "EVENT_TYPE_CONNECT");
  lua_pushinteger(L, DISCONNECT);
  lua_setfield(L, module, "EVENT_TYPE_DISCONNECT");
  lua_pushinteger(L, RECEIVE);
  lua_setfield(L, module, "EVENT_TYPE_RECEIVE");
  lua_pushinteger(L, 1);
  lua_setfield(L, module, "PACKET_FLAG_RELIABLE");
  return 1;
}

-- The one structured description of module_enet's Lua API.
--
-- ci/gen-docs.lua turns it into docs/api.md and library/module_enet.lua (LuaLS stubs);
-- ci/suites.d/docs.sh checks it against what require("module_enet") really exports under every
-- interpreter and runs every example below. Edit this file, then run `lua ci/gen-docs.lua`.
--
-- Shape (plain data, Lua 5.1 syntax):
--   functions[i] = {
--     name = "host_service",        procedural name in the module table (nil: method only)
--     class = "ENetHost",           class of the first argument / of the method
--     method = "service",           method name, or nil when there is no method form
--     group = "hosts",              section of docs/api.md
--     summary, description,         one line; then Markdown prose
--     args = { { name, type (LuaLS syntax), optional, default, range, description } },
--       (for methods the first argument is the object itself and is dropped from the method form)
--     returns = { { when, failure = true?, values = { { name, type, value?, description? } } } },
--       one entry per outcome; a `value` is a literal (e.g. "0") shown instead of the name
--     raises = { "..." },           misuse that raises a Lua error (see the Errors section)
--     example = [[...]],            runs under every interpreter in ci/suites.d/docs.sh
--     setup = "connection",         example runs after setups.connection (see below)
--     issue = "3",                  where an unlanded function is expected from
--   }
--   constants, classes, aliases, sections, groups, setups, external: see below.

local api = {}

api.module = "module_enet"
api.title = "module_enet API reference"

api.intro = [[
`local enet = require("module_enet")` returns a table of functions and constants. Every
function that acts on an object also exists as a method of that object: the method name drops
the type prefix, so `enet.host_service(host, 10)` is `host:service(10)`,
`enet.peer_send(peer, 0, packet)` is `peer:send(0, packet)` and `enet.packet_data(packet)` is
`packet:data()`. Both forms are the same function; this page shows both for every entry.

The module works unchanged on Lua 5.1, 5.2, 5.3, 5.4 and LuaJIT, keeps no global state (each
Lua state that requires it gets its own independent copy) and never crashes the interpreter:
misuse raises a Lua error, runtime failures return a failure value (see [Errors](#errors)).
The lua-enet compatible API (`require("module_enet.compat")`) is documented separately in
[lua-enet.md](lua-enet.md).]]

-- Prose sections, placed by `position`: "before" the function groups or "after" them.
api.sections = {
  {
    id = "conventions",
    title = "Conventions",
    position = "before",
    text = [[
- **Procedural and method forms.** `enet.NAME_VERB(object, ...)` and `object:VERB(...)` are one
  function. Functions that create objects (`host_create`, `packet_create`) and module-level
  functions (`initialize`, `address_resolve`, ...) have the procedural form only.
- **Optional arguments** are marked `?`; `nil` or an absent argument means the default.
  Integer arguments accept a Lua integer or a float with an exact integer value (`2.0`).
- **Returns** list every outcome; a row marked *failure* is a runtime failure, which is
  returned, never raised.
- **Objects** print usefully: `tostring(host)` is `ENetHost(127.0.0.1:6789)`,
  `tostring(peer)` is `ENetPeer(127.0.0.1:51234)`, `tostring(packet)` is
  `ENetPacket(13 bytes)`; destroyed or stale ones say so (`ENetHost(destroyed)`,
  `ENetPeer(stale)`, `ENetPacket(destroyed)`). On Lua 5.4 hosts and packets are to-be-closed
  values: `local host <close> = enet.host_create(...)` destroys the host when the block ends.
- **Examples** are complete programs. Examples marked *needs a connection* start from the
  following lines, which make a server and a client in one process and connect them over
  loopback; `wait_for(host, type)` services both hosts until `host` reports an event of that
  type (at most about 4 s) and returns it:

```lua
{{setup:connection}}
```]],
  },
  {
    id = "addresses",
    title = "Addresses",
    position = "after",
    text = [[
The details (canonical form, dual stack, link-local scope ids, name resolution and resolver
settings) are in [addresses.md](addresses.md); the essentials:

Every function that takes an address (`host_create`, `host_connect`) accepts either form:

- a table `{ host = "127.0.0.1", port = 6789, sin6_scope_id = 3 }`, every field optional:
  - `host`: an IPv4 or IPv6 literal or a host name. Omitted, `"*"` or `"0.0.0.0"` means all
    IPv4 interfaces; `"::"` means all interfaces, IPv4 and IPv6 (a dual-stack socket).
    An IPv6 literal may carry its zone: `"fe80::1%eth0"` or `"fe80::1%3"`.
  - `port`: 0..65535; 0 (or omitted) picks an ephemeral port when binding. `host_connect`
    needs a real port (1..65535).
  - `sin6_scope_id`: the IPv6 zone (interface index) for link-local addresses (`fe80::/10`).
- a string: `"127.0.0.1:6789"`, `"localhost:6789"`, `"*:6789"`, `"[::1]:6789"`,
  `"[fe80::1%eth0]:6789"`, or just a host (`"::1"`, `"localhost"`, port 0).

A malformed address (a port outside 0..65535, `"[::1"`, a field of the wrong type) is misuse
and raises. A name that does not resolve, a family the host's socket cannot reach (an IPv6
target from an IPv4-only host) or a link-local IPv6 target without a scope id are runtime
failures: `nil, message`.

`host_create(nil)` makes a client host on an ephemeral port that reaches both IPv4 and IPv6
peers (a dual-stack socket where the OS allows it, IPv4 otherwise). A host bound to
`"0.0.0.0"` reaches IPv4 peers only; one bound to `"::"` reaches both.

`"localhost"` always resolves to `127.0.0.1` and `::1` without asking any resolver. Other names
are resolved when the function is called (it blocks for the lookup; use
`address_resolve_start` to resolve off the game loop), preferring an address the host's socket
can reach.

Addresses come back (from `host_address`, `peer_address`, `address_resolve`) as tables in one
canonical form: `{ host = "127.0.0.1", port = 6789 }` for IPv4 (an IPv4 peer seen through a
dual-stack socket is shown as IPv4, never as `::ffff:127.0.0.1`), and
`{ host = "::1", port = 6789, sin6_scope_id = 0 }` for IPv6, where the scope id is non-zero only
for link-local addresses.

```lua
local enet = require("module_enet")
local server = assert(enet.host_create("127.0.0.1:0", 4))        -- string form, any free port
local port = server:address().port
local client = assert(enet.host_create())                        -- client: IPv4 and IPv6
local peer = assert(client:connect({ host = "localhost", port = port }))
print(server:address().host, port, peer)   --> 127.0.0.1  <port>  ENetPeer(127.0.0.1:<port>)
print(enet.host_connect(client, { host = "fe80::1", port = 1 }))
--> nil   link-local address fe80::1 needs a scope id (e.g. %eth0)
```]],
  },
  {
    id = "identity",
    title = "Identity, staleness and memory",
    position = "after",
    text = [[
- One connection is one `ENetPeer` userdata: `host_connect` returns it, and the connect event,
  every receive event and the disconnect event of that connection carry the *same* userdata, so
  `clients[event.peer] = ...` works as a table key.
- After the disconnect event, `peer_reset`, `peer_disconnect_now` or `host_destroy`, the handle
  is **stale**: its functions return their failure value (`-1, message` or `nil, message`;
  `peer_state` says `"disconnected"`) and never act on whatever new connection reuses the slot.
- Hosts, peers and packets are collected by Lua's garbage collector. A peer handle keeps its
  host's memory alive, but not usable after `host_destroy`. A host that becomes garbage closes
  its socket. Packets are independent of hosts: the same packet may be sent to several peers,
  and destroying or collecting it after a send never affects delivery.]],
  },
  {
    id = "disconnect-reasons",
    title = "Disconnect reasons",
    position = "after",
    text = [[
A disconnect event carries `reason`:

- `"disconnect"`: the connection was closed on purpose, by this side (`peer_disconnect`,
  `peer_disconnect_later`) or by the remote side (its `peer_disconnect*` or `host_destroy`): a
  DISCONNECT command that ENet accepted for this connection. A datagram that merely contains
  one (from a spoofed source, or with the wrong ENet session id) changes nothing: the reason
  comes from ENet moving the peer to its disconnect states, not from raw datagrams.
- `"timeout"`: anything else, i.e. the remote stopped acknowledging (it crashed, lost its
  network, or was `peer_reset`), as limited by `peer_timeout`. On a secure connection also:
  the server ignored the connect token (wrong key or protocol, expired, its address not
  listed), or netcode heard nothing for the token's `timeout`.
- `"denied"`: a secure server refused the connection because it is full.

`peer_disconnect_now` and `peer_reset` produce no event on the side that calls them, and
neither does any way of ending a connection that is still connecting (`peer_disconnect`,
`peer_disconnect_later`, `peer_disconnect_now`, `peer_reset`): its handle is stale at once,
sends queued on it are dropped, and whatever connection takes the slot next gets a new handle.
A connection that is disconnecting (after `peer_disconnect` or `peer_disconnect_later`) keeps
its handle until its disconnect event; sends on it fail.]],
  },
  {
    id = "host-options",
    title = "Host options",
    position = "after",
    text = [[
`host_create`'s sixth argument sets what a C ENet program sets on its `ENetHost`, so module_enet
talks to C ENet hosts (and LÖVE games) configured that way. None of it is negotiated: both ends
of a connection must use the same `compress` and `checksum` settings, or nothing gets through
(the connection times out; nothing crashes).

| C ENet | module_enet |
| --- | --- |
| `enet_host_compress_with_range_coder(host)` | `{ compress = "range_coder" }` or `host_compress(host, "range_coder")` |
| `enet_host_compress(host, NULL)` | `host_compress(host, nil)` |
| `host->checksum = enet_crc32` | `{ checksum = "crc32" }` (at creation only) |
| `host->mtu = n` | `{ mtu = n }` |
| `host->maximumPacketSize = n` | `{ max_packet_size = n }` |
| `host->maximumWaitingData = n` | `{ max_waiting_data = n }` |

The two limits bound what one peer can make the host hold. A packet larger than
`max_packet_size` is refused by `peer_send` (`-1, "packet too large (...)"`) and dropped on
arrival, counted in `host_statistics().dropped_too_large`; ENet drops the rest of that datagram
too and does not acknowledge it, so a reliable one is resent until the sender times out.
`max_waiting_data` counts, per peer, the bytes of packets received but not yet returned by
`host_service`: packets still being reassembled (the whole declared size counts from the first
fragment), out of order, or queued. Once it is reached, that peer's new data is neither accepted
nor acknowledged until the backlog drains, exactly as in C ENet, so a peer that never completes
its packets stalls only itself. A peer therefore holds at most `max_waiting_data` plus one packet
of `max_packet_size` (64 MiB with the defaults); `tests/hostile.rs` measures 271 KiB for a peer
that starts 2 000 packets of 64 KiB against `{ max_packet_size = 65536, max_waiting_data = 262144 }`.

```lua
local enet = require("module_enet")
-- A server for LÖVE clients that call host:compress_with_range_coder():
local server = assert(enet.host_create("127.0.0.1:0", 64, 2, 0, 0, { compress = "range_coder" }))
-- A small-memory server: 64 KiB packets, 256 KiB backlog per peer.
local small = assert(enet.host_create("127.0.0.1:0", 64, 2, 0, 0,
  { max_packet_size = 65536, max_waiting_data = 262144 }))
local client = assert(enet.host_create(nil, 1, 2))
local peer = assert(client:connect(small:address(), 2))
print(peer:send(0, string.rep("x", 70000)))  --> 0   (the client's own limit is 32 MiB)
print(small:statistics().dropped_too_large)  --> 0   (nothing has arrived yet)
```]],
  },
  {
    id = "secure-connections",
    title = "Secure connections",
    position = "after",
    text = [[
A host may opt in to netcode.io's standard, version 1.02: the game's backend issues each player
a connect token (`connect_token`, signed and encrypted with a private key that only the backend
and the game servers know), the client passes it to `host_connect`, and every datagram of the
connection is then ChaCha20-Poly1305 encrypted with replay protection; ENet's own datagrams
travel inside netcode's payload packets, byte for byte as the standard says. docs/secure.md has
the threat model, how a backend issues tokens, and key handling.

- A server is a host created with `options.secure = {private_key=, protocol_id=,
  public_address=}`. Only clients that complete netcode's handshake with a valid token reach ENet:
  plain ENet datagrams, spoofed connect requests and tampered or replayed packets are dropped and
  counted (`host_statistics().dropped_insecure`) and cost no peer slot. A secure server connects
  out only with a token. Its MTU is at most 1200 (a datagram plus netcode's 25 bytes fits 1280,
  the IPv6 minimum).
- A client is any host; `host_connect(host, address, channels, data, token)` makes that one
  connection secure (others on the same host may stay plain). `address` must be one of the
  token's servers. A token already expired on this machine's clock, or one that does not list
  `address`, makes `host_connect` return `nil, message`. A server that ignores the token (wrong
  key, wrong protocol, expired, its own address not listed) answers nothing: the client gets a
  disconnect event with reason `"timeout"` after the token's `timeout`; a full server's refusal
  gives reason `"denied"`.
- On the server, `peer_client_id` and `peer_user_data` return the token's values.

```lua
local enet = require("module_enet")
local key = "an example key: 32 bytes long!!!"  -- shared by backend and servers, never clients
local server = assert(enet.host_create("127.0.0.1:0", 32, 1, 0, 0,
  { secure = { private_key = key, protocol_id = 0x5e3c0de } }))
local address = "127.0.0.1:" .. server:address().port
-- The backend, after the player logged in:
local token = assert(enet.connect_token({ private_key = key, protocol_id = 0x5e3c0de,
  client_id = 42, servers = { address }, user_data = "alice" }))
-- The player's client:
local client = assert(enet.host_create(nil, 1, 1))
local peer = assert(client:connect(address, 1, 0, token))
for _ = 1, 200 do
  local n, event = server:service(5)
  if n > 0 and event.type == enet.EVENT_TYPE_CONNECT then
    print(event.peer:client_id(), (event.peer:user_data():gsub("%z+$", "")))  --> 42  alice
    break
  end
  client:service(5)
end
```]],
  },
  {
    id = "errors",
    title = "Errors",
    position = "after",
    text = [[
Two kinds of failure, kept apart like the standard library does:

**Misuse raises.** A wrong argument type, a value out of its documented range, unknown packet
flags or a malformed address raise a Lua error whose message is a plain string naming the
function and the argument, pointing at the caller's line:

```lua
local enet = require("module_enet")
local ok, err = pcall(enet.host_service, nil)
print(err)  --> bad argument #1 to 'host_service' (ENetHost expected, got nil)
ok, err = pcall(enet.packet_create, "x", 8)
print(err)  --> bad argument #2 to 'packet_create' (unknown packet flags 0x8)
```

These are bugs in the calling code; you normally do not catch them.

**Runtime failure returns.** Things that can go wrong in a correct program (a port in use, an
unknown host name, a stale peer, a destroyed host) return a failure value and a message:

- functions that return an object or a table return `nil, message`;
- functions that return a status code return a negative integer (`-1`) and a message; `0` is
  success;
- `host_service` and `host_check_events` return `-1, message` for a destroyed host;
- `packet_data` and `packet_flags` return a bare `nil` for a destroyed packet, and `peer_state`
  returns `"disconnected"` for a stale peer.

```lua
local enet = require("module_enet")
local a = assert(enet.host_create("127.0.0.1:0"))
local b, message = enet.host_create({ host = "127.0.0.1", port = a:address().port })
print(b, message)  --> nil   address already in use (127.0.0.1:<port>)
a:destroy()
print(a:service(0))  --> -1  host has been destroyed
```

Nothing crashes the interpreter: every failure of the underlying ENet or the OS surfaces as
one of the two.]],
  },
}

-- Function groups, in the order docs/api.md shows them.
api.groups = {
  { id = "module", title = "Module", text = "Set-up functions kept for code written for C ENet." },
  {
    id = "hosts",
    title = "Hosts",
    class = "ENetHost",
    text = "A host is one UDP socket plus its peers: a server, a client or both at once.",
  },
  {
    id = "peers",
    title = "Peers",
    class = "ENetPeer",
    text = "A peer is one connection to a remote host (see [Identity](#identity-staleness-and-memory)).",
  },
  {
    id = "packets",
    title = "Packets",
    class = "ENetPacket",
    text = "A packet is a byte string plus delivery flags. `peer_send` also takes a plain string.",
  },
  {
    id = "resolver",
    title = "Name resolution",
    text = "Resolving host names without blocking the game loop, and configuring the resolver. "
      .. "See also [Addresses](#addresses).",
  },
  {
    id = "secure",
    title = "Secure connections",
    text = "Opt-in authentication and encryption: netcode 1.02 connect tokens and encrypted "
      .. "datagrams under ENet. See [Secure connections](#secure-connections) and docs/secure.md.",
  },
}

-- Code run before examples that declare `setup = "connection"`; also shown in Conventions.
api.setups = {
  connection = [[
local enet = require("module_enet")
local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 8, 2))
local client = assert(enet.host_create(nil, 1, 2))
local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2))
local backlog = { [server] = {}, [client] = {} }
local function wait_for(host, kind)
  for _ = 1, 400 do
    for i, event in ipairs(backlog[host]) do
      if event.type == kind then return table.remove(backlog[host], i) end
    end
    for _, h in ipairs({ server, client }) do
      local n, event = h:service(5)
      if n > 0 then table.insert(backlog[h], event) end
    end
  end
  error("no event of type " .. kind)
end
wait_for(client, enet.EVENT_TYPE_CONNECT)
local server_peer = wait_for(server, enet.EVENT_TYPE_CONNECT).peer  -- the server's view]],
}

-- Classes: userdata objects (with methods) and the shapes of tables the API hands out.
api.classes = {
  {
    name = "ENetHost",
    kind = "userdata",
    prefix = "host",
    description = "A host: one UDP socket and up to `peerCount` peers. Made by `host_create`; "
      .. "`tostring` gives `ENetHost(<bound address>)`; a to-be-closed value on Lua 5.4.",
  },
  {
    name = "ENetPeer",
    kind = "userdata",
    prefix = "peer",
    description = "One connection to a remote host. The same userdata for the whole "
      .. "connection; stale once it ends. `tostring` gives `ENetPeer(<remote address>)`.",
  },
  {
    name = "ENetPacket",
    kind = "userdata",
    prefix = "packet",
    description = "A byte string with delivery flags. `tostring` gives `ENetPacket(<n> bytes)`; "
      .. "a to-be-closed value on Lua 5.4.",
  },
  {
    name = "ENetResolveRequest",
    kind = "userdata",
    description = "A name lookup running in the background, made by `address_resolve_start`. "
      .. "`tostring` gives `ENetResolveRequest(pending)`, `(done)` or `(failed)`.",
    prefix = "request",
  },
  {
    name = "ENetEvent",
    kind = "table",
    description = "What `host_service` and `host_check_events` return with `1`.",
    fields = {
      {
        name = "type",
        type = "integer",
        description = "`EVENT_TYPE_CONNECT`, `EVENT_TYPE_DISCONNECT` or `EVENT_TYPE_RECEIVE`.",
      },
      { name = "peer", type = "ENetPeer", description = "The connection; the same userdata for all its events." },
      { name = "channelID", type = "integer", description = "Channel of a receive event; 0 otherwise." },
      {
        name = "data",
        type = "integer",
        description = "The connect or disconnect user data (32-bit unsigned); 0 for receive events.",
      },
      {
        name = "packet",
        type = "ENetPacket",
        optional = true,
        description = "Receive events only: the received packet (absent when "
          .. "`host_service_batch` was asked for `payload` strings).",
      },
      {
        name = "payload",
        type = "string",
        optional = true,
        description = "Receive events of `host_service_batch(host, timeout, max, true)` only: "
          .. "the received bytes, in place of `packet`.",
      },
      {
        name = "reason",
        type = '"disconnect"|"timeout"',
        optional = true,
        description = "Disconnect events only; see [Disconnect reasons](#disconnect-reasons).",
      },
    },
  },
  {
    name = "ENetAddress",
    kind = "table",
    description = "An address: argument to `host_create`/`host_connect` (a `\"host:port\"` string works too), "
      .. "result of `host_address`, `peer_address`, `address_resolve`. See [Addresses](#addresses).",
    fields = {
      {
        name = "host",
        type = "string",
        optional = true,
        description = "IP literal or host name; results are always literals.",
      },
      {
        name = "port",
        type = "integer",
        optional = true,
        description = "0..65535; 0 or omitted picks an ephemeral port when binding.",
      },
      {
        name = "sin6_scope_id",
        type = "integer",
        optional = true,
        description = "IPv6 zone (interface index); present in every IPv6 result, non-zero only for link-local "
          .. "addresses.",
      },
    },
  },
  {
    name = "ENetHostStatistics",
    kind = "table",
    description = "Totals since the host was created, counted by its socket.",
    fields = {
      { name = "datagrams_received", type = "integer", description = "UDP datagrams received." },
      { name = "datagrams_sent", type = "integer", description = "UDP datagrams sent." },
      { name = "bytes_received", type = "integer", description = "Bytes received (UDP payload)." },
      { name = "bytes_sent", type = "integer", description = "Bytes sent (UDP payload)." },
      {
        name = "dropped_malformed",
        type = "integer",
        description = "Datagrams dropped before ENet saw them because they were malformed, or "
          .. "compressed while this host's range coder is off (C ENet drops those too).",
      },
      {
        name = "dropped_oversized",
        type = "integer",
        description = "Datagrams dropped because they were larger than ENet accepts.",
      },
      {
        name = "dropped_too_large",
        type = "integer",
        description = "Received packets larger than the host's `max_packet_size`, dropped (each "
          .. "arrival counts: a reliable one is resent until the sender gives up).",
      },
      {
        name = "dropped_insecure",
        type = "integer",
        description = "Datagrams secure mode refused before ENet saw them: plain ENet traffic to a "
          .. "secure server, bad or replayed tokens, tampered or replayed packets (0 on plain hosts).",
      },
      {
        name = "send_errors",
        type = "integer",
        description = "Sends the OS refused (counted, never fatal to the host).",
      },
      {
        name = "receive_errors",
        type = "integer",
        description = "Receive errors the OS reported (counted and skipped).",
      },
    },
  },
  {
    name = "ENetPeerStatistics",
    kind = "table",
    description = "ENet's own per-peer measurements.",
    fields = {
      {
        name = "incoming_data_total",
        type = "integer",
        description = "Bytes received in the current bandwidth-throttle window (ENet resets it about once a second).",
      },
      {
        name = "outgoing_data_total",
        type = "integer",
        description = "Bytes sent in the current bandwidth-throttle window.",
      },
      {
        name = "packets_sent",
        type = "integer",
        description = "Reliable packets sent in the current packet-loss window (10 s).",
      },
      {
        name = "packets_lost",
        type = "integer",
        description = "Reliable packets lost in the current packet-loss window.",
      },
      {
        name = "packet_loss",
        type = "integer",
        description = "Mean packet loss of reliable packets, scaled so that 65536 is 100%.",
      },
      { name = "packet_loss_variance", type = "integer", description = "Variance of `packet_loss`, same scale." },
      { name = "round_trip_time", type = "integer", description = "Mean round trip time, milliseconds." },
      { name = "round_trip_time_variance", type = "integer", description = "Its variance, milliseconds." },
      { name = "mtu", type = "integer", description = "The path MTU in use, bytes." },
      { name = "channel_count", type = "integer", description = "Channels of this connection." },
    },
  },
  {
    name = "ENetHostOptions",
    kind = "table",
    description = "The sixth argument of `host_create`; omitted fields take C ENet's defaults. "
      .. "A field not listed here raises.",
    fields = {
      {
        name = "compress",
        type = '"range_coder"|false',
        optional = true,
        description = "ENet's range coder, as `enet_host_compress_with_range_coder` in C "
          .. "(default: off). Switch it later with `host_compress`.",
      },
      {
        name = "checksum",
        type = '"crc32"|false',
        optional = true,
        description = "ENet's CRC32 on every datagram, as `host->checksum = enet_crc32` in C "
          .. "(default: off). Fixed for the host's life.",
      },
      {
        name = "mtu",
        type = "integer",
        optional = true,
        description = "576..4096 (default 1392): the largest datagram this host's new connections "
          .. "use; a connection takes the smaller of both ends' values.",
      },
      {
        name = "max_packet_size",
        type = "integer",
        optional = true,
        description = "1..33554432 (default 32 MiB): larger packets are refused by `peer_send` "
          .. "and dropped on arrival (counted in `dropped_too_large`).",
      },
      {
        name = "max_waiting_data",
        type = "integer",
        optional = true,
        description = "1..1073741824 (default 32 MiB): bytes of received packets a peer may have "
          .. "waiting (incomplete, out of order or not yet returned by `host_service`); past it, "
          .. "that peer's new data is not accepted until the backlog drains.",
      },
      {
        name = "secure",
        type = "ENetSecureOptions",
        optional = true,
        description = "Makes the host a netcode 1.02 server: only clients with a valid connect "
          .. "token get in (see [Secure connections](#secure-connections)). `mtu` is then at "
          .. "most 1200 (the default too).",
      },
    },
  },
  {
    name = "ENetSecureOptions",
    kind = "table",
    description = "`options.secure` of `host_create`. A field not listed here raises.",
    fields = {
      {
        name = "private_key",
        type = "string",
        description = "32 bytes, shared with the backend that issues connect tokens.",
      },
      {
        name = "protocol_id",
        type = "integer|string",
        description = "The game's 64-bit protocol id: an integer (exact up to 2^53) or 16 hex digits.",
      },
      {
        name = "public_address",
        type = "ENetAddress|string",
        optional = true,
        description = "The address tokens list for this server (default: the bound address; a "
          .. "server bound to a wildcard must give it).",
      },
    },
  },
  {
    name = "ENetConnectTokenSpec",
    kind = "table",
    description = "The argument of `connect_token`. A field not listed here raises.",
    fields = {
      { name = "private_key", type = "string", description = "32 bytes, shared with the servers." },
      {
        name = "protocol_id",
        type = "integer|string",
        description = "The game's 64-bit protocol id: an integer (exact up to 2^53) or 16 hex digits.",
      },
      {
        name = "client_id",
        type = "integer|string",
        description = "The player's 64-bit id, as `protocol_id`; a server admits one connection per id.",
      },
      {
        name = "servers",
        type = "(ENetAddress|string)[]",
        description = "1..32 server addresses the token is good for; the client connects to one of them.",
      },
      {
        name = "expire",
        type = "integer",
        optional = true,
        description = "Seconds from now until the token can no longer start a connection (default 30).",
      },
      {
        name = "timeout",
        type = "integer",
        optional = true,
        description = "Seconds of silence that end the connection, -1 for none (default 10).",
      },
      {
        name = "user_data",
        type = "string",
        optional = true,
        description = "Up to 256 bytes the server reads with `peer_user_data` (zero-padded to 256).",
      },
    },
  },
  {
    name = "ENetResolverOptions",
    kind = "table",
    description = "Options for `resolver_configure`; omitted fields take their defaults.",
    fields = {
      {
        name = "nameservers",
        type = "string[]",
        optional = true,
        description = "DNS servers as IP literals with an optional port (default 53): `{\"127.0.0.1:5353\", "
          .. "\"[::1]:53\", \"192.0.2.1\"}`. Omitted: the system configuration (or the OS resolver where "
          .. "there is none).",
      },
      {
        name = "timeout",
        type = "number",
        optional = true,
        description = "Lookup timeout in milliseconds, at least 1 (default 5000).",
      },
      {
        name = "prefer",
        type = '"auto"|"ipv4"|"ipv6"',
        optional = true,
        description = "Which family to list first when a name has both. `\"auto\"` (the default): IPv4 first, "
          .. "families this machine has no route to last.",
      },
    },
  },
}

api.aliases = {
  {
    name = "ENetPeerState",
    description = "What `peer_state` returns; also the values of the `PEER_STATE_*` constants.",
    values = {
      "disconnected", "connecting", "acknowledging_connect", "connection_pending",
      "connection_succeeded", "connected", "disconnect_later", "disconnecting",
      "acknowledging_disconnect", "zombie",
    },
  },
}

-- Shorthands for the descriptions below.
local function host_arg()
  return { name = "host", type = "ENetHost", description = "The host." }
end
local function peer_arg()
  return { name = "peer", type = "ENetPeer", description = "The peer." }
end
local function packet_arg()
  return { name = "packet", type = "ENetPacket", description = "The packet." }
end
local function channel_arg()
  return {
    name = "channelID",
    type = "integer",
    range = "0..254",
    description = "Channel to send on; must be below the connection's channel count.",
  }
end
-- The wait of host_service and the batch functions; `what`: "an event" or "the first event".
local function timeout_arg(what)
  return {
    name = "timeout",
    type = "number",
    optional = true,
    default = "1000",
    range = ">= 0",
    description = "Milliseconds to wait for " .. what .. "; fractions round up.",
  }
end
local function destroyed_host_return()
  return {
    when = "the host has been destroyed",
    failure = true,
    values = { { name = "n", type = "integer", value = "-1" }, { name = "message", type = "string" } },
  }
end
local BAD_TIMEOUT = "`timeout` is not a number, is negative or NaN."
local function max_events_arg()
  return {
    name = "max",
    type = "integer",
    optional = true,
    default = "256",
    range = "1..65536",
    description = "At most this many events per call; the rest wait for the next call.",
  }
end
local STALE = "the handle is stale (its connection or host has ended)"
local function status_returns(...)
  local out = {
    { when = "success", values = { { name = "status", type = "integer", value = "0" } } },
  }
  for _, when in ipairs({ ... }) do
    out[#out + 1] = {
      when = when,
      failure = true,
      values = {
        { name = "status", type = "integer", value = "-1" },
        { name = "message", type = "string" },
      },
    }
  end
  return out
end
local function object_returns(name, type, success, ...)
  local out = { { when = success, values = { { name = name, type = type } } } }
  for _, when in ipairs({ ... }) do
    out[#out + 1] = {
      when = when,
      failure = true,
      values = { { name = name, type = type, value = "nil" }, { name = "message", type = "string" } },
    }
  end
  return out
end
local function event_returns()
  return {
    {
      when = "an event was dispatched",
      values = { { name = "result", type = "integer", value = "1" }, { name = "event", type = "ENetEvent" } },
    },
    { when = "no event", values = { { name = "result", type = "integer", value = "0" } } },
    {
      when = "the host has been destroyed",
      failure = true,
      values = { { name = "result", type = "integer", value = "-1" }, { name = "message", type = "string" } },
    },
  }
end
local NOT_HOST = "`host` is not an ENetHost."
local NOT_PEER = "`peer` is not an ENetPeer."
local NOT_PACKET = "`packet` is not an ENetPacket."
local U32 = "0..4294967295"

api.functions = {
  -- Module -------------------------------------------------------------------------------------
  {
    name = "initialize",
    group = "module",
    summary = "Does nothing and returns 0; kept so code written for C ENet runs unchanged.",
    description = "Nothing needs global set-up. Safe to call any number of times, in any order "
      .. "with `deinitialize`; nothing requires it.",
    args = {},
    returns = { { when = "always", values = { { name = "result", type = "integer", value = "0" } } } },
    example = [[
local enet = require("module_enet")
assert(enet.initialize() == 0)]],
  },
  {
    name = "deinitialize",
    group = "module",
    summary = "Does nothing; kept so code written for C ENet runs unchanged.",
    description = "Hosts, peers and packets are freed by the garbage collector or by their "
      .. "`*_destroy` functions, not by this. Safe to call any number of times.",
    args = {},
    returns = {},
    example = [[
local enet = require("module_enet")
enet.initialize()
enet.deinitialize()
enet.deinitialize()]],
  },

  -- Hosts --------------------------------------------------------------------------------------
  {
    name = "host_create",
    group = "hosts",
    class = "ENetHost",
    summary = "Creates a host: a UDP socket bound to `address` that can hold `peerCount` connections.",
    description = "With `address` nil the host is a client on an ephemeral port that reaches "
      .. "both IPv4 and IPv6 peers. A server binds a known port; `port = 0` picks a free one "
      .. "(read it back with `host_address`). See [Addresses](#addresses).",
    args = {
      {
        name = "address",
        type = "ENetAddress|string",
        optional = true,
        default = "nil",
        description = "Where to bind; nil for a client host.",
      },
      {
        name = "peerCount",
        type = "integer",
        optional = true,
        default = "1",
        range = "1..4095",
        description = "Maximum number of simultaneous connections (incoming and outgoing).",
      },
      {
        name = "channelCount",
        type = "integer",
        optional = true,
        default = "0",
        range = "0..255",
        description = "Maximum channels per connection; 0 means the maximum, 255.",
      },
      {
        name = "incomingBandwidth",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "Bytes per second this host can receive; 0 is unlimited.",
      },
      {
        name = "outgoingBandwidth",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "Bytes per second this host can send; 0 is unlimited.",
      },
      {
        name = "options",
        type = "ENetHostOptions",
        optional = true,
        default = "nil",
        description = "What C ENet sets on its host struct: the range coder, CRC32, the MTU and the "
          .. "packet and waiting-data limits (see [Host options](#host-options)). Every field is optional.",
      },
    },
    returns = object_returns(
      "host",
      "ENetHost",
      "the host was created",
      "the address is in use (`\"address already in use (127.0.0.1:6789)\"`), cannot be bound "
        .. "(the OS's message) or its name does not resolve"
    ),
    raises = {
      "`address` is not nil, a table or a string, or is malformed (see [Addresses](#addresses)).",
      "`peerCount`, `channelCount` or a bandwidth is not an integer in its range.",
      "`options` is not nil or a table, has a field not listed in ENetHostOptions, or a value "
        .. "out of its range: `bad argument #6 to 'host_create' (options.mtu must be an integer "
        .. "between 576 and 4096, got 100)`.",
    },
    example = [[
local enet = require("module_enet")
local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 32, 2))
local client = assert(enet.host_create(nil, 1, 2))
print(server, client)  --> ENetHost(127.0.0.1:<port>)  ENetHost([::]:<port>)
-- For a C ENet server that calls enet_host_compress_with_range_coder and sets enet_crc32:
local c_compatible = assert(enet.host_create(nil, 1, 2, 0, 0, { compress = "range_coder", checksum = "crc32" }))
print(pcall(enet.host_create, nil, 1, 2, 0, 0, { mtu = 100 }))
--> false  bad argument #6 to 'host_create' (options.mtu must be an integer between 576 and 4096, got 100)]],
  },
  {
    name = "host_destroy",
    method = "destroy",
    group = "hosts",
    class = "ENetHost",
    summary = "Closes the host's socket; connected peers are told at once.",
    description = "Connected peers are sent a disconnect right away, so they see a disconnect "
      .. "event (reason `\"disconnect\"`) instead of timing out. Every peer handle of the host "
      .. "becomes stale and every other host function returns its failure value. Idempotent. "
      .. "A host that becomes garbage is destroyed the same way.",
    args = { host_arg() },
    returns = {},
    raises = { NOT_HOST },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }))
host:destroy()
enet.host_destroy(host)          -- a second destroy does nothing
print(host, host:service(0))     --> ENetHost(destroyed)  -1  host has been destroyed]],
  },
  {
    name = "host_connect",
    method = "connect",
    group = "hosts",
    class = "ENetHost",
    summary = "Starts connecting to a remote host; returns the new connection's peer at once.",
    description = "The connection completes later: both hosts report an `EVENT_TYPE_CONNECT` "
      .. "from `host_service`. Sends made before that are queued and go out in order once the "
      .. "connection is up (see `peer_send`). If it never completes, a disconnect event "
      .. "(reason `\"timeout\"`) follows. The peer returned here is the same userdata that the "
      .. "connect, receive and disconnect events of this connection carry.",
    args = {
      host_arg(),
      {
        name = "address",
        type = "ENetAddress|string",
        description = "The remote host; the port must be 1..65535. See [Addresses](#addresses).",
      },
      {
        name = "channelCount",
        type = "integer",
        optional = true,
        default = "0",
        range = "0..255",
        description = "Channels to ask for; 0 means this host's channel limit.",
      },
      {
        name = "data",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "User data delivered in the remote host's connect event (`event.data`).",
      },
      {
        name = "token",
        type = "string",
        optional = true,
        description = "A 2048-byte connect token from `connect_token`: the connection is secure "
          .. "(see [Secure connections](#secure-connections)).",
      },
    },
    returns = object_returns(
      "peer",
      "ENetPeer",
      "connecting has started",
      "the name does not resolve, the host's socket cannot reach that address family, a "
        .. "link-local IPv6 address has no scope id, every peer slot is taken "
        .. "(`\"no free peer slot (peerCount reached)\"`), or the host has been destroyed",
      "the token has expired, does not list `address`, or is not a connect token; or the host "
        .. "is a secure server and no token was given"
    ),
    raises = {
      NOT_HOST,
      "`address` is missing or malformed, or its port is 0.",
      "`channelCount` or `data` is not an integer in its range.",
      "`token` is not a string of 2048 bytes.",
    },
    example = [[
local enet = require("module_enet")
local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }))
local client = assert(enet.host_create())
local peer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, 2, 42))
print(peer, peer:state())  --> ENetPeer(127.0.0.1:<port>)  connecting]],
  },
  {
    name = "host_service",
    method = "service",
    group = "hosts",
    class = "ENetHost",
    summary = "Sends and receives, waiting up to `timeout` ms for the next event.",
    description = "Waits in the OS (no busy loop) and wakes as soon as a datagram arrives; "
      .. "`timeout` 0 polls. Returns one event per call; events already queued are returned "
      .. "first, so call it until it returns 0 to drain a frame's events. This is what sends "
      .. "queued packets and keeps connections alive: call it regularly.",
    args = {
      host_arg(),
      timeout_arg("an event"),
    },
    returns = event_returns(),
    raises = { NOT_HOST, BAD_TIMEOUT },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, 32, 2))
for _ = 1, 10 do                       -- a game calls this once per frame
  local result, event = host:service(0)
  while result > 0 do
    if event.type == enet.EVENT_TYPE_CONNECT then
      print("connected", event.peer, event.data)
    elseif event.type == enet.EVENT_TYPE_RECEIVE then
      print("received", event.packet:data(), "on channel", event.channelID)
    elseif event.type == enet.EVENT_TYPE_DISCONNECT then
      print("disconnected", event.peer, event.reason)
    end
    result, event = host:service(0)
  end
end]],
  },
  {
    name = "host_service_batch",
    method = "service_batch",
    group = "hosts",
    class = "ENetHost",
    summary = "Like `host_service`, but returns every ready event at once, as a list.",
    description = "Waits up to `timeout` ms for the first event exactly like `host_service`, then "
      .. "takes whatever else is ready without waiting, up to `max` events. One call per frame "
      .. "replaces a loop of `host_service(host, 0)` calls and costs less per event on busy "
      .. "servers. The event tables are the same as `host_service`'s.",
    args = {
      host_arg(),
      timeout_arg("the first event"),
      max_events_arg(),
      {
        name = "payload",
        type = "boolean",
        optional = true,
        default = "false",
        description = "true: receive events carry the bytes as `payload` (a string) and no "
          .. "`packet` userdata; one object and one call fewer per message (docs/performance.md).",
      },
    },
    returns = {
      {
        when = "events were dispatched (`n` >= 1 is `#events`)",
        values = { { name = "n", type = "integer" }, { name = "events", type = "ENetEvent[]" } },
      },
      {
        when = "no event before the timeout (an empty list)",
        values = { { name = "n", type = "integer", value = "0" }, { name = "events", type = "ENetEvent[]" } },
      },
      destroyed_host_return(),
    },
    raises = {
      NOT_HOST,
      BAD_TIMEOUT,
      "`payload` is not a boolean or nil.",
      "`max` is not an integer in 1..65536.",
    },
    setup = "connection",
    example = [[
for i = 1, 3 do peer:send(0, "message " .. i) end
client:flush()
local received = 0
for _ = 1, 200 do                            -- one call per frame
  local n, events = server:service_batch(5)
  for i = 1, math.max(n, 0) do
    if events[i].type == enet.EVENT_TYPE_RECEIVE then received = received + 1 end
  end
  if received == 3 then break end
end
print(received)  --> 3]],
  },
  {
    name = "host_service_into",
    method = "service_into",
    group = "hosts",
    class = "ENetHost",
    summary = "The fastest receive: every ready event as flat records in a table you reuse.",
    description = "Waits and takes events exactly like `host_service_batch`, but makes no table "
      .. "per event: event `i` (1..`n`) is written to `out[4i-3]` .. `out[4i]` as *type*, "
      .. "*peer*, then *channelID* and *payload* (a string) for a receive event, *data* and "
      .. "*reason* for a disconnect event, *data* and nil for a connect event. Entries past "
      .. "`out[4n]` are left as they were, so one table can serve every frame. The peer handles "
      .. "are the same userdata `host_service` gives. This is the path docs/performance.md "
      .. "measures as closest to C ENet.",
    args = {
      host_arg(),
      timeout_arg("the first event"),
      {
        name = "out",
        type = "table",
        description = "Receives the records; only `out[1]` .. `out[4n]` are written.",
      },
      max_events_arg(),
    },
    returns = {
      {
        when = "`n` events were written (0: none before the timeout)",
        values = { { name = "n", type = "integer" } },
      },
      destroyed_host_return(),
    },
    raises = {
      NOT_HOST,
      BAD_TIMEOUT,
      "`out` is not a table.",
      "`max` is not an integer in 1..65536.",
    },
    setup = "connection",
    example = [[
for i = 1, 3 do peer:send(0, "message " .. i) end
client:flush()
local records, got = {}, {}
for _ = 1, 200 do                            -- one call per frame
  local n = server:service_into(5, records)
  for k = 1, 4 * n, 4 do
    local kind, from, channel, payload = records[k], records[k + 1], records[k + 2], records[k + 3]
    if kind == enet.EVENT_TYPE_RECEIVE then got[#got + 1] = payload .. " on " .. channel end
    assert(from)
  end
  if #got == 3 then break end
end
print(table.concat(got, ", "))  --> message 1 on 0, message 2 on 0, message 3 on 0]],
  },
  {
    name = "host_check_events",
    method = "check_events",
    group = "hosts",
    class = "ENetHost",
    summary = "Returns an event already received, without touching the socket.",
    description = "Like `host_service(host, 0)` but never sends or receives: it only hands out "
      .. "events that an earlier `host_service` already took in.",
    args = { host_arg() },
    returns = event_returns(),
    raises = { NOT_HOST },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create({ host = "127.0.0.1", port = 0 }))
print(host:check_events())  --> 0]],
  },
  {
    name = "host_flush",
    method = "flush",
    group = "hosts",
    class = "ENetHost",
    summary = "Sends every queued packet now, without waiting for the next `host_service`.",
    args = { host_arg() },
    returns = status_returns("the host has been destroyed"),
    raises = { NOT_HOST },
    setup = "connection",
    example = [[
peer:send(0, "now, please")
assert(client:flush() == 0)
print(wait_for(server, enet.EVENT_TYPE_RECEIVE).packet:data())  --> now, please]],
  },
  {
    name = "host_broadcast",
    method = "broadcast",
    group = "hosts",
    class = "ENetHost",
    summary = "Queues a packet for every connected peer of the host.",
    description = "Peers that are still connecting are skipped, and so are peers with fewer than "
      .. "`channelID + 1` channels (as in C ENet). A packet larger than the host's `max_packet_size` "
      .. "goes to nobody and the call fails (C ENet and rusty_enet skip every peer without saying "
      .. "so). The packet stays usable afterwards.",
    args = {
      host_arg(),
      { name = "channelID", type = "integer", range = "0..254", description = "Channel to send on." },
      packet_arg(),
    },
    returns = status_returns("the host or the packet has been destroyed, or the packet is larger "
      .. "than the host's `max_packet_size`"),
    raises = { NOT_HOST, "`channelID` is not an integer in 0..254.", NOT_PACKET },
    setup = "connection",
    example = [[
assert(server:broadcast(0, enet.packet_create("to everyone")) == 0)
print(wait_for(client, enet.EVENT_TYPE_RECEIVE).packet:data())  --> to everyone]],
  },
  {
    name = "host_address",
    method = "address",
    group = "hosts",
    class = "ENetHost",
    summary = "The address the host's socket is bound to, with its real port.",
    args = { host_arg() },
    returns = object_returns("address", "ENetAddress", "the host is alive", "the host has been destroyed"),
    raises = { NOT_HOST },
    example = [[
local enet = require("module_enet")
local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }))
local address = server:address()
print(address.host, address.port)  --> 127.0.0.1  <the port the OS picked>]],
  },
  {
    name = "host_channel_limit",
    method = "channel_limit",
    group = "hosts",
    class = "ENetHost",
    summary = "Reads, or sets and reads, the channel limit for future connections.",
    args = {
      host_arg(),
      {
        name = "channelLimit",
        type = "integer",
        optional = true,
        range = "0..255",
        description = "New limit; 0 means 255. Omitted: only read the current one.",
      },
    },
    returns = object_returns(
      "limit",
      "integer",
      "the (new) limit",
      "the host has been destroyed or the limit cannot be set"
    ),
    raises = { NOT_HOST, "`channelLimit` is not an integer in 0..255." },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create(nil, 1, 4))
print(host:channel_limit(), host:channel_limit(8))  --> 4  8]],
  },
  {
    name = "host_bandwidth_limit",
    method = "bandwidth_limit",
    group = "hosts",
    class = "ENetHost",
    summary = "Reads, or sets and reads, the host's bandwidth limits in bytes per second.",
    description = "With either argument given, both limits are set (a nil one becomes 0, "
      .. "unlimited). ENet shares the bandwidth among peers by throttling unreliable packets.",
    args = {
      host_arg(),
      { name = "incomingBandwidth", type = "integer", optional = true, range = U32, description = "0 is unlimited." },
      { name = "outgoingBandwidth", type = "integer", optional = true, range = U32, description = "0 is unlimited." },
    },
    returns = {
      {
        when = "the host is alive",
        values = { { name = "incoming", type = "integer" }, { name = "outgoing", type = "integer" } },
      },
      {
        when = "the host has been destroyed",
        failure = true,
        values = { { name = "incoming", type = "integer", value = "nil" }, { name = "message", type = "string" } },
      },
    },
    raises = { NOT_HOST, "A bandwidth is not an integer in " .. U32 .. "." },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create())
print(host:bandwidth_limit())               --> 0  0
print(host:bandwidth_limit(100000, 50000))  --> 100000  50000]],
  },
  {
    name = "host_peers",
    method = "peers",
    group = "hosts",
    class = "ENetHost",
    summary = "The host's connected peers, as a list of the same peer userdata the events carry.",
    description = "Only fully connected peers are listed (not those still connecting or "
      .. "disconnecting).",
    args = { host_arg() },
    returns = object_returns("peers", "ENetPeer[]", "the host is alive", "the host has been destroyed"),
    raises = { NOT_HOST },
    setup = "connection",
    example = [[
local peers = server:peers()
print(#peers, peers[1] == server_peer)  --> 1  true]],
  },
  {
    name = "host_statistics",
    method = "statistics",
    group = "hosts",
    class = "ENetHost",
    summary = "Socket-level totals: datagrams and bytes in and out, drops and errors.",
    args = { host_arg() },
    returns = object_returns(
      "statistics",
      "ENetHostStatistics",
      "the host is alive",
      "the host has been destroyed"
    ),
    raises = { NOT_HOST },
    setup = "connection",
    example = [[
local stats = server:statistics()
print(stats.datagrams_received > 0, stats.dropped_malformed)  --> true  0]],
  },
  {
    name = "host_fd",
    method = "fd",
    group = "hosts",
    class = "ENetHost",
    summary = "The OS socket descriptor, for waiting on the host from an external event loop.",
    description = "Register it for readability with luv, cqueues or similar, then call "
      .. "`host_service(host, 0)` when it is readable. Also call `host_service` on a timer: "
      .. "ENet's retransmissions and pings run from it, not from the socket. On Windows it is "
      .. "the SOCKET handle.",
    args = { host_arg() },
    returns = object_returns("fd", "integer", "the host is alive", "the host has been destroyed"),
    raises = { NOT_HOST },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create())
print(host:fd())  --> a small integer, e.g. 3]],
  },
  {
    name = "host_compress",
    method = "compress",
    group = "hosts",
    class = "ENetHost",
    summary = "Switches ENet's range coder on or off, at any time.",
    description = "What `enet_host_compress_with_range_coder(host)` and "
      .. "`enet_host_compress(host, NULL)` do in C. Compression is not negotiated: both ends of "
      .. "a connection must agree, and a host with it off drops compressed datagrams (counted "
      .. "in `dropped_malformed`), so switch both ends, or set it from the start with "
      .. "`host_create`'s `compress` option. A datagram is sent compressed only when that makes "
      .. "it smaller.",
    args = {
      host_arg(),
      {
        name = "mode",
        type = '"range_coder"',
        optional = true,
        default = "nil",
        description = "`\"range_coder\"` to compress, nil to stop.",
      },
    },
    returns = status_returns("the host has been destroyed"),
    raises = { NOT_HOST, "`mode` is neither `\"range_coder\"` nor nil." },
    setup = "connection",
    example = [[
assert(server:compress("range_coder") == 0 and client:compress("range_coder") == 0)
peer:send(0, string.rep("squeeze me ", 1000))
print(#wait_for(server, enet.EVENT_TYPE_RECEIVE).packet:data())  --> 11000
assert(server:compress(nil) == 0 and client:compress() == 0)]],
  },

  -- Peers --------------------------------------------------------------------------------------
  {
    name = "peer_send",
    method = "send",
    group = "peers",
    class = "ENetPeer",
    summary = "Queues a packet (or a string) for the peer on a channel.",
    description = "The packet goes out on the next `host_service` or `host_flush`. `packet` "
      .. "may be a plain Lua string, sent with `flags` (no ENetPacket needed). The same "
      .. "packet may be sent to several peers, and destroying or collecting it after the send "
      .. "never affects delivery. A received packet (`event.packet`) sent on is sent reliably: "
      .. "ENet does not tell how it was sent.\n\n"
      .. "A peer that is still connecting (right after `host_connect`) accepts sends: they are "
      .. "queued in order and go out once the connection is established, and are dropped if it "
      .. "fails. At most 1024 packets are queued this way; past that `peer_send` fails.",
    args = {
      peer_arg(),
      channel_arg(),
      {
        name = "packet",
        type = "ENetPacket|string",
        description = "What to send; a string is sent as a new packet with `flags`.",
      },
      {
        name = "flags",
        type = "integer",
        optional = true,
        default = "PACKET_FLAG_RELIABLE",
        description = "Only when `packet` is a string: `PACKET_FLAG_*` bits, as for `packet_create`.",
      },
    },
    returns = status_returns(
      STALE .. ", the connection is closing, the channel is beyond the connection's channel "
        .. "count, the packet has been destroyed or is larger than the host's `max_packet_size` "
        .. "(32 MiB unless set), or 1024 sends are already queued on a connecting peer"
    ),
    raises = {
      NOT_PEER,
      "`channelID` is not an integer in 0..254.",
      "`packet` is neither an ENetPacket nor a string.",
      "`flags` (with a string `packet`) has unknown bits.",
    },
    setup = "connection",
    example = [[
assert(peer:send(0, enet.packet_create("hello")) == 0)
assert(enet.peer_send(peer, 1, "unsequenced", enet.PACKET_FLAG_UNSEQUENCED) == 0)
print(wait_for(server, enet.EVENT_TYPE_RECEIVE).packet:data())  --> hello
print(peer:send(7, "x"))  --> -1  channel 7 out of range (peer has 2 channels)]],
  },
  {
    name = "peer_send_many",
    method = "send_many",
    group = "peers",
    class = "ENetPeer",
    summary = "Queues every string of a list for the peer, in order, in one call.",
    description = "The same as calling `peer_send(peer, channelID, list[i], flags)` for `i` = 1 "
      .. "to `#list`, for the price of one call: the fastest way to push many messages "
      .. "(docs/performance.md). Every element is checked to be a string before anything is "
      .. "queued. A runtime failure part-way (for example the 1024-send queue of a connecting "
      .. "peer filling up) leaves the earlier strings queued; the message says how many.",
    args = {
      peer_arg(),
      channel_arg(),
      {
        name = "list",
        type = "string[]",
        description = "The messages, `list[1]` .. `list[#list]`; an empty list sends nothing.",
      },
      {
        name = "flags",
        type = "integer",
        optional = true,
        default = "PACKET_FLAG_RELIABLE",
        description = "`PACKET_FLAG_*` bits for every message, as for `packet_create`.",
      },
    },
    returns = status_returns(
      "the same conditions as `peer_send`, for the first string that fails (the message names "
        .. "its index and how many were queued before it)"
    ),
    raises = {
      NOT_PEER,
      "`channelID` is not an integer in 0..254.",
      "`list` is not a table, or one of its elements is not a string.",
      "`flags` has unknown bits.",
    },
    setup = "connection",
    example = [[
assert(peer:send_many(0, { "one", "two", "three" }) == 0)
local got = {}
while #got < 3 do got[#got + 1] = wait_for(server, enet.EVENT_TYPE_RECEIVE).packet:data() end
print(table.concat(got, " "))  --> one two three]],
  },
  {
    name = "peer_disconnect",
    method = "disconnect",
    group = "peers",
    class = "ENetPeer",
    summary = "Closes the connection gracefully.",
    description = "Queued reliable data may be dropped. Both sides get a disconnect event "
      .. "(reason `\"disconnect\"`) once the remote acknowledges; the remote's event carries "
      .. "`data`. The handle stays usable until that event. A client that disconnects while "
      .. "handling its own connect event may end a connection the server has not reported yet: "
      .. "ENet then forgets it on the server without any event and without an acknowledgement, "
      .. "and the client's disconnect event comes when its retries give up, about 30 s later "
      .. "(C ENet 1.3.17 does the same, measured).",
    args = {
      peer_arg(),
      {
        name = "data",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "User data for the remote's disconnect event.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "`data` is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
assert(peer:disconnect(7) == 0)
local event = wait_for(server, enet.EVENT_TYPE_DISCONNECT)
print(event.data, event.reason)  --> 7  disconnect
wait_for(client, enet.EVENT_TYPE_DISCONNECT)]],
  },
  {
    name = "peer_disconnect_now",
    method = "disconnect_now",
    group = "peers",
    class = "ENetPeer",
    summary = "Tells the remote the connection is closed and forgets it at once.",
    description = "One unacknowledged disconnect is sent; no event is produced on this side and "
      .. "the handle is stale immediately. The remote gets a disconnect event with `data` if "
      .. "the datagram arrives (it times out otherwise).",
    args = {
      peer_arg(),
      {
        name = "data",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "User data for the remote's disconnect event.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "`data` is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
assert(peer:disconnect_now() == 0)
print(peer:state())  --> disconnected
print(wait_for(server, enet.EVENT_TYPE_DISCONNECT).reason)  --> disconnect]],
  },
  {
    name = "peer_disconnect_later",
    method = "disconnect_later",
    group = "peers",
    class = "ENetPeer",
    summary = "Closes the connection gracefully after all queued packets are sent.",
    args = {
      peer_arg(),
      {
        name = "data",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "User data for the remote's disconnect event.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "`data` is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
peer:send(0, "last words")
assert(peer:disconnect_later() == 0)
print(wait_for(server, enet.EVENT_TYPE_RECEIVE).packet:data())  --> last words
print(wait_for(server, enet.EVENT_TYPE_DISCONNECT).reason)      --> disconnect]],
  },
  {
    name = "peer_reset",
    method = "reset",
    group = "peers",
    class = "ENetPeer",
    summary = "Drops the connection without telling the remote.",
    description = "No event on this side; the handle is stale at once; the remote eventually "
      .. "sees a disconnect with reason `\"timeout\"`.",
    args = { peer_arg() },
    returns = status_returns(STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
assert(peer:reset() == 0)
print(peer:state(), peer:send(0, "x"))  --> disconnected  -1  peer is not connected (stale ...)]],
  },
  {
    name = "peer_ping",
    method = "ping",
    group = "peers",
    class = "ENetPeer",
    summary = "Sends a ping now (ENet also pings on its own every `peer_ping_interval` ms).",
    args = { peer_arg() },
    returns = status_returns(STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
assert(peer:ping() == 0)]],
  },
  {
    name = "peer_ping_interval",
    method = "ping_interval",
    group = "peers",
    class = "ENetPeer",
    summary = "Sets how often ENet pings an otherwise idle connection.",
    description = "Pings keep the connection alive and measure the round trip time.",
    args = {
      peer_arg(),
      {
        name = "interval",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "Milliseconds; 0 means ENet's default, 500.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "`interval` is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
assert(peer:ping_interval(1000) == 0)]],
  },
  {
    name = "peer_timeout",
    method = "timeout",
    group = "peers",
    class = "ENetPeer",
    summary = "Sets when an unresponsive peer is considered disconnected.",
    description = "ENet resends an unacknowledged reliable packet with a timeout that doubles on "
      .. "every try. The peer is dropped once that backoff has reached `limit` (a factor: 32 "
      .. "means the sixth try) and `minimum` ms have passed since the oldest unacknowledged "
      .. "packet was sent, or once `maximum` ms have passed in any case. Its disconnect event "
      .. "then says `reason = \"timeout\"`.\n\n"
      .. "An incoming connection whose handshake is not yet acknowledged (it has no handle yet) "
      .. "is given up after 5 s instead of `maximum`, so a flood of connect requests cannot hold "
      .. "every peer slot for long (docs/reliability.md); ENet's defaults (32, 5000, 30000) "
      .. "apply once it is connected.",
    args = {
      peer_arg(),
      {
        name = "limit",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "0 means ENet's default, 32.",
      },
      {
        name = "minimum",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "Milliseconds; 0 means ENet's default, 5000.",
      },
      {
        name = "maximum",
        type = "integer",
        optional = true,
        default = "0",
        range = U32,
        description = "Milliseconds; 0 means ENet's default, 30000.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "An argument is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
assert(peer:timeout(0, 2000, 5000) == 0)  -- drop a silent server within 2-5 s]],
  },
  {
    name = "peer_throttle_configure",
    method = "throttle_configure",
    group = "peers",
    class = "ENetPeer",
    summary = "Tunes how ENet throttles unreliable packets when the link degrades.",
    description = "An omitted argument takes ENet's default (5000, 2, 2); 0 is taken "
      .. "literally. On a peer that is still connecting the values are kept and applied "
      .. "when the connection is up (ENet's handshake checks them, so changing them mid-way "
      .. "would fail it). The throttle is a probability (out of 32) that an "
      .. "unreliable packet is sent; it rises by `acceleration` when the round trip time "
      .. "improves on the mean over `interval` ms and falls by `deceleration` when it worsens.",
    args = {
      peer_arg(),
      {
        name = "interval",
        type = "integer",
        optional = true,
        default = "5000",
        range = U32,
        description = "Measurement interval, milliseconds.",
      },
      {
        name = "acceleration",
        type = "integer",
        optional = true,
        default = "2",
        range = U32,
        description = "Throttle increase step.",
      },
      {
        name = "deceleration",
        type = "integer",
        optional = true,
        default = "2",
        range = U32,
        description = "Throttle decrease step.",
      },
    },
    returns = status_returns(STALE),
    raises = { NOT_PEER, "An argument is not an integer in " .. U32 .. "." },
    setup = "connection",
    example = [[
assert(peer:throttle_configure(5000, 2, 2) == 0)]],
  },
  {
    name = "peer_round_trip_time",
    method = "round_trip_time",
    group = "peers",
    class = "ENetPeer",
    summary = "The mean round trip time to the peer, in milliseconds.",
    description = "Starts at ENet's estimate of 500 ms and converges as acknowledgements and "
      .. "pings (every `peer_ping_interval`) are measured.",
    args = { peer_arg() },
    returns = object_returns("rtt", "integer", "the peer is live", STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
print(peer:round_trip_time())  --> 500 right after connecting: ENet's first estimate]],
  },
  {
    name = "peer_state",
    method = "state",
    group = "peers",
    class = "ENetPeer",
    summary = "The connection's state as a string, such as `\"connected\"`.",
    description = "One of the `PEER_STATE_*` values. A stale handle says `\"disconnected\"` "
      .. "(this function never fails).",
    args = { peer_arg() },
    returns = { { when = "always", values = { { name = "state", type = "ENetPeerState" } } } },
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
print(peer:state() == enet.PEER_STATE_CONNECTED)  --> true]],
  },
  {
    name = "peer_address",
    method = "address",
    group = "peers",
    class = "ENetPeer",
    summary = "The remote address of the connection.",
    args = { peer_arg() },
    returns = object_returns("address", "ENetAddress", "the peer is live", STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
local address = server_peer:address()
print(address.host, address.port)  --> 127.0.0.1  <the client's port>]],
  },
  {
    name = "peer_index",
    method = "index",
    group = "peers",
    class = "ENetPeer",
    summary = "The peer's slot in its host, 1..peerCount.",
    description = "A slot is reused by later connections; use the peer userdata itself, not its "
      .. "index, as a key for per-connection state.",
    args = { peer_arg() },
    returns = object_returns("index", "integer", "the peer is live", STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
print(peer:index())  --> 1]],
  },
  {
    name = "peer_statistics",
    method = "statistics",
    group = "peers",
    class = "ENetPeer",
    summary = "ENet's measurements of the connection: traffic, loss, round trip time, MTU.",
    args = { peer_arg() },
    returns = object_returns("statistics", "ENetPeerStatistics", "the peer is live", STALE),
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
local stats = peer:statistics()
print(stats.channel_count, stats.mtu, stats.packet_loss / 65536)  --> 2  1392  0]],
  },
  {
    name = "peer_client_id",
    method = "client_id",
    group = "secure",
    class = "ENetPeer",
    summary = "The connect token's client id, on the server side of a secure connection.",
    description = "An integer up to 2^53, above that the 16 hex digits `connect_token` accepts.",
    args = { peer_arg() },
    returns = {
      { when = "a secure connection, server side", values = { { name = "id", type = "integer|string" } } },
      { when = "a plain connection, the client side, or a stale handle", values = { { name = "id", type = "nil" } } },
    },
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
print(server_peer:client_id())  --> nil   (a plain connection)]],
  },
  {
    name = "peer_user_data",
    method = "user_data",
    group = "secure",
    class = "ENetPeer",
    summary = "The connect token's 256 bytes of user data, on the server side of a secure connection.",
    description = "Zero-padded to 256 bytes, as netcode carries it.",
    args = { peer_arg() },
    returns = {
      { when = "a secure connection, server side", values = { { name = "data", type = "string" } } },
      { when = "a plain connection, the client side, or a stale handle", values = { { name = "data", type = "nil" } } },
    },
    raises = { NOT_PEER },
    setup = "connection",
    example = [[
print(server_peer:user_data())  --> nil   (a plain connection)]],
  },

  -- Packets ------------------------------------------------------------------------------------
  {
    name = "packet_create",
    group = "packets",
    class = "ENetPacket",
    summary = "Makes a packet from a string (binary-safe, up to 32 MiB).",
    description = "`flags` is a sum of `PACKET_FLAG_*`: `PACKET_FLAG_RELIABLE` (the default) "
      .. "is delivered and in order; 0 is unreliable but sequenced (late packets are dropped); "
      .. "`PACKET_FLAG_UNSEQUENCED` is unreliable and unordered. `PACKET_FLAG_NO_ALLOCATE` is "
      .. "accepted and has no effect (the data is always copied). Unreliable packets larger "
      .. "than the MTU are fragmented and sent reliably, as C ENet does.",
    args = {
      { name = "data", type = "string", description = "The payload; any bytes, including zeros, 0 bytes allowed." },
      {
        name = "flags",
        type = "integer",
        optional = true,
        default = "PACKET_FLAG_RELIABLE",
        range = "sum of PACKET_FLAG_*",
        description = "Delivery flags.",
      },
    },
    returns = object_returns("packet", "ENetPacket", "the packet was made", "`data` is larger than 32 MiB"),
    raises = { "`data` is not a string.", "`flags` is not an integer or has unknown bits." },
    example = [[
local enet = require("module_enet")
local packet = enet.packet_create("Hello\0world", enet.PACKET_FLAG_RELIABLE)
print(packet, #packet:data())  --> ENetPacket(11 bytes)  11
local fast = enet.packet_create("position", enet.PACKET_FLAG_UNSEQUENCED)
print(fast:flags() == enet.PACKET_FLAG_UNSEQUENCED)  --> true]],
  },
  {
    name = "packet_destroy",
    method = "destroy",
    group = "packets",
    class = "ENetPacket",
    summary = "Ends the packet: its data can no longer be read or sent. Idempotent.",
    description = "Afterwards `packet_data` returns nil and sending it fails. Sends already "
      .. "made are not affected. The bytes live in the packet object itself (which needs no "
      .. "finalizer), so their memory goes back with the object at garbage collection.",
    args = { packet_arg() },
    returns = {},
    raises = { NOT_PACKET },
    example = [[
local enet = require("module_enet")
local packet = enet.packet_create("bye")
packet:destroy()
enet.packet_destroy(packet)
print(packet:data(), packet)  --> nil  ENetPacket(destroyed)]],
  },
  {
    name = "packet_data",
    method = "data",
    group = "packets",
    class = "ENetPacket",
    summary = "The packet's payload as a Lua string.",
    args = { packet_arg() },
    returns = {
      { when = "the packet is alive", values = { { name = "data", type = "string" } } },
      {
        when = "the packet has been destroyed",
        failure = true,
        values = { { name = "data", type = "string", value = "nil" } },
      },
    },
    raises = { NOT_PACKET },
    example = [[
local enet = require("module_enet")
print(enet.packet_create("Hello, world!"):data())  --> Hello, world!]],
  },
  {
    name = "packet_flags",
    method = "flags",
    group = "packets",
    class = "ENetPacket",
    summary = "The flags the packet was created with.",
    description = "Received packets (`event.packet`) return nil: ENet does not tell how they "
      .. "were sent.",
    args = { packet_arg() },
    returns = {
      { when = "a packet made by `packet_create`", values = { { name = "flags", type = "integer" } } },
      {
        when = "a received or destroyed packet",
        failure = true,
        values = { { name = "flags", type = "integer", value = "nil" } },
      },
    },
    raises = { NOT_PACKET },
    example = [[
local enet = require("module_enet")
print(enet.packet_create("x", 0):flags())  --> 0]],
  },

  -- Name resolution ----------------------------------------------------------------------------
  {
    name = "connect_token",
    group = "secure",
    summary = "Issues a netcode 1.02 connect token (2048 bytes) for a player: the backend's job.",
    description = "The token lets its holder connect to any of `servers` before `expire` "
      .. "seconds pass. Issue tokens in the game's backend, with a key the clients never see; a "
      .. "client that makes its own token needs the key, so that is for development only.",
    args = {
      { name = "spec", type = "ENetConnectTokenSpec", description = "What the token says." },
    },
    returns = object_returns("token", "string", "the token was made",
      "a server name does not resolve, or the OS random source failed"),
    raises = {
      "`spec` is not a table, has an unknown field, or a field of the wrong type or range "
        .. "(`private_key` not 32 bytes, no servers or more than 32, `user_data` over 256 bytes).",
    },
    example = [[
local enet = require("module_enet")
local token = assert(enet.connect_token({ private_key = ("k"):rep(32), protocol_id = 1,
  client_id = 42, servers = { "127.0.0.1:6789" }, user_data = "alice" }))
print(#token)  --> 2048]],
  },
  {
    name = "address_resolve",
    group = "resolver",
    issue = "3",
    summary = "Resolves a host name to all its addresses (blocking, bounded by the resolver timeout).",
    description = "IP literals and `\"localhost\"` (and names under `.localhost`) are answered "
      .. "without any lookup. The list is canonical, without duplicates, ordered by the "
      .. "`prefer` setting of `resolver_configure` (by default IPv4 first, and families this "
      .. "machine has no route to last). A port in `name` (`\"example.com:6789\"`) is carried "
      .. "into every address. Inside a game loop use `address_resolve_start`: a blocking lookup "
      .. "freezes a frame.",
    args = {
      {
        name = "name",
        type = "string|ENetAddress",
        description = "A host name or IP literal, optionally with `:port` or `%zone`; or an "
          .. "address table with `host`.",
      },
    },
    returns = object_returns(
      "addresses",
      "ENetAddress[]",
      "the name resolved (a non-empty list)",
      "the name does not resolve (`\"cannot resolve 'x': no such host\"`) or the lookup timed out"
    ),
    raises = {
      "`name` is not a string or address table, is malformed, or is an empty host name "
        .. "(`\"*\"`, `\"0.0.0.0\"` or a table without `host` give the IPv4 wildcard, "
        .. "as in host_create).",
    },
    example = [[
local enet = require("module_enet")
local addresses = assert(enet.address_resolve("localhost:6789"))
for _, address in ipairs(addresses) do
  print(address.host, address.port)  --> 127.0.0.1  6789, then ::1  6789
end]],
  },
  {
    name = "address_resolve_start",
    group = "resolver",
    issue = "3",
    class = "ENetResolveRequest",
    summary = "Starts resolving a host name in the background; poll the request with `:result()`.",
    description = "Lookups run on a pool of at most 4 worker threads per Lua state, each bounded "
      .. "by the resolver timeout; at most 64 lookups (blocking ones included) can be queued or "
      .. "running at once, and one more is refused at once. A queued lookup whose request was "
      .. "collected (or whose blocking call gave up) is skipped, not run, and stops counting. "
      .. "`tostring(request)` says `ENetResolveRequest(pending)`, `(done)` or `(failed)`.",
    args = {
      {
        name = "name",
        type = "string|ENetAddress",
        description = "As for `address_resolve`.",
      },
    },
    returns = object_returns("request", "ENetResolveRequest",
      "the lookup started (its own failures are reported by `request:result()`)",
      "64 lookups are already pending in this Lua state"),
    raises = {
      "`name` is not a string or address table, is malformed, or is an empty host name "
        .. "(`\"*\"`, `\"0.0.0.0\"` or a table without `host` give the IPv4 wildcard, "
        .. "as in host_create).",
    },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create())
local request = enet.address_resolve_start("localhost")
local addresses, err
for _ = 1, 500 do                 -- one check per frame; here a frame is host:service(10)
  addresses, err = request:result()
  if addresses or err then break end
  host:service(10)
end
assert(addresses, err)
print(addresses[1].host)  --> 127.0.0.1]],
  },
  {
    name = "request_result",
    class = "ENetResolveRequest",
    method = "result",
    group = "resolver",
    issue = "3",
    summary = "The outcome of an `address_resolve_start` lookup, or nil while it is running.",
    description = "Never blocks. Once there is an outcome, every later call returns it again.",
    args = { { name = "request", type = "ENetResolveRequest", description = "The request." } },
    returns = {
      { when = "still resolving", values = { { name = "addresses", type = "ENetAddress[]", value = "nil" } } },
      { when = "resolved (a non-empty list)", values = { { name = "addresses", type = "ENetAddress[]" } } },
      {
        when = "the name does not resolve or the lookup timed out",
        failure = true,
        values = {
          { name = "addresses", type = "ENetAddress[]", value = "nil" },
          { name = "message", type = "string" },
        },
      },
    },
    raises = { "`request` is not an ENetResolveRequest." },
    example = [[
local enet = require("module_enet")
local host = assert(enet.host_create())
local request = enet.address_resolve_start("127.0.0.1")
local addresses, err = request:result()  -- nil while the lookup runs
for _ = 1, 500 do
  if addresses or err then break end
  host:service(10)                       -- stands in for a frame of the game
  addresses, err = enet.request_result(request)
end
print(addresses and addresses[1].host or err)  --> 127.0.0.1]],
  },
  {
    name = "resolver_configure",
    group = "resolver",
    issue = "3",
    summary = "Sets the name servers, timeout and address-family preference for name lookups.",
    description = "For networks without a system resolver configuration and for tests against "
      .. "a DNS server on loopback. Replaces the settings of this Lua state (other Lua states "
      .. "are not affected): fields left out, or no table at all, go back to their defaults. "
      .. "Applies to later lookups, including those of `host_create` and `host_connect`.",
    args = {
      {
        name = "options",
        type = "ENetResolverOptions",
        optional = true,
        default = "nil",
        description = "The settings; nil restores every default.",
      },
    },
    returns = {
      { when = "the settings were applied", values = { { name = "ok", type = "boolean", value = "true" } } },
    },
    raises = {
      "`options` is not a table, or a field has the wrong type or value (a nameserver that is "
        .. "not an IP literal, a timeout below 1 ms, an unknown `prefer`).",
    },
    example = [[
local enet = require("module_enet")
assert(enet.resolver_configure({ nameservers = { "127.0.0.1:5353" }, timeout = 2000, prefer = "ipv4" }))
print(enet.address_resolve("localhost")[1].host)  --> 127.0.0.1 (no lookup needed)
enet.resolver_configure()  -- back to the system configuration]],
  },
}

local function constant(name, value, description, type)
  return { name = name, value = value, type = type or "integer", description = description }
end

local function state(name, description)
  return constant("PEER_STATE_" .. name, name:lower(), description, "string")
end

api.constants = {
  { group = "Event types (`event.type`)" },
  constant("EVENT_TYPE_NONE", 0, "No event (never in an event table; C ENet's value)."),
  constant("EVENT_TYPE_CONNECT", 1, "A connection was established (either side)."),
  constant("EVENT_TYPE_DISCONNECT", 2, "A connection ended; see `event.reason`."),
  constant("EVENT_TYPE_RECEIVE", 3, "A packet arrived: `event.packet`, `event.channelID`."),
  { group = "Packet flags (`packet_create`, `peer_send`)" },
  constant("PACKET_FLAG_RELIABLE", 1, "Delivered, in order, resent until acknowledged."),
  constant("PACKET_FLAG_UNSEQUENCED", 2, "Unreliable and not ordered (without RELIABLE)."),
  constant("PACKET_FLAG_NO_ALLOCATE", 4, "Accepted for C compatibility; no effect."),
  { group = "Peer states (`peer_state`)" },
  state("DISCONNECTED", "Not connected (or a stale handle)."),
  state("CONNECTING", "`host_connect` sent the request."),
  state("ACKNOWLEDGING_CONNECT", "Handshake in progress."),
  state("CONNECTION_PENDING", "Handshake in progress."),
  state("CONNECTION_SUCCEEDED", "Handshake done, event not yet delivered."),
  state("CONNECTED", "Connected: sends go out."),
  state("DISCONNECT_LATER", "`peer_disconnect_later` waits for queued packets."),
  state("DISCONNECTING", "Disconnect sent, waiting for acknowledgement."),
  state("ACKNOWLEDGING_DISCONNECT", "The remote asked to disconnect."),
  state("ZOMBIE", "Disconnected, event not yet delivered."),
  { group = "Version" },
  constant("VERSION", nil, "The module's version string (the crate version, e.g. `\"0.1.0\"`).", "string"),
}

-- Entry points documented in other files (`module`), and module-table keys documented elsewhere
-- (`name`: accepted as exports by the coverage check, not required).
api.external = {
  {
    module = "module_enet.compat",
    doc = "lua-enet.md",
    description = "The API of lua-enet (the binding LÖVE ships) on the same hosts and peers.",
  },
}

return api

//! ENetPeer: a handle on one connection. rusty_enet's `PeerID` is a bare slot index that the
//! next connection reuses, so each slot carries a generation and a handle is stale once the
//! generation it was made for has ended. The handle is a userdata of ours (src/object.rs);
//! `peer_send` and `peer_send_many` are raw functions, the rest are written on mlua.

use std::os::raw::c_int;
use std::time::Duration;

use mlua::{ffi, AnyUserData, Lua, Value};
use rusty_enet::{PeerID, PeerState};

use crate::address;
use crate::args::{self, raw as raw_args};
use crate::error::{raise, raw_type_name, type_error, Msg, Result};
use crate::host::{self, Shared, State};
use crate::object::{self, Class, LuaState, PacketHeader, PeerBlock};
use crate::packet::{self, check};
use crate::registry::Registry;
use crate::slot::{Phase, Slot};
use crate::socket::EnetSocket;

/// A peer argument of a function written on mlua: the connection it names.
pub struct Peer {
    /// None for a handle whose finalizer already ran (a finalizer elsewhere can still hold it).
    host: Option<Shared>,
    slot: usize,
    generation: u64,
}

type EnetPeer = rusty_enet::Peer<EnetSocket>;

/// Is a peer in a state where the remote side would notice a disconnect?
pub fn is_live(state: PeerState) -> bool {
    !matches!(state, PeerState::Disconnected | PeerState::Zombie)
}

pub fn state_name(state: PeerState) -> &'static str {
    match state {
        PeerState::Disconnected => "disconnected",
        PeerState::Connecting => "connecting",
        PeerState::AcknowledgingConnect => "acknowledging_connect",
        PeerState::ConnectionPending => "connection_pending",
        PeerState::ConnectionSucceeded => "connection_succeeded",
        PeerState::Connected => "connected",
        PeerState::DisconnectLater => "disconnect_later",
        PeerState::Disconnecting => "disconnecting",
        PeerState::AcknowledgingDisconnect => "acknowledging_disconnect",
        PeerState::Zombie => "zombie",
    }
}

pub const STATE_NAMES: [(&str, PeerState); 10] = [
    ("DISCONNECTED", PeerState::Disconnected),
    ("CONNECTING", PeerState::Connecting),
    ("ACKNOWLEDGING_CONNECT", PeerState::AcknowledgingConnect),
    ("CONNECTION_PENDING", PeerState::ConnectionPending),
    ("CONNECTION_SUCCEEDED", PeerState::ConnectionSucceeded),
    ("CONNECTED", PeerState::Connected),
    ("DISCONNECT_LATER", PeerState::DisconnectLater),
    ("DISCONNECTING", PeerState::Disconnecting),
    (
        "ACKNOWLEDGING_DISCONNECT",
        PeerState::AcknowledgingDisconnect,
    ),
    ("ZOMBIE", PeerState::Zombie),
];

const STALE: &str = "peer is not connected (stale handle: its connection or host has ended)";

/// Runs `f` on the live connection `generation` of `slot` (None once it ended), then brings
/// the slot in line with whatever `f` did to the ENet peer.
pub fn with_connection<R>(
    state: &mut State,
    slot: usize,
    generation: u64,
    f: impl FnOnce(&mut EnetPeer, &mut Slot) -> R,
) -> Option<R> {
    let s = state
        .slots
        .get_mut(slot)
        .filter(|s| s.is_current(generation) && s.phase() != Phase::Free)?;
    let peer = state.enet.as_mut()?.get_peer_mut(PeerID(slot))?;
    let r = f(peer, s);
    s.sync(peer.state());
    Some(r)
}

/// The remote address of a live connection.
fn connection_address(
    host: Option<&Shared>,
    slot: usize,
    generation: u64,
) -> Option<std::net::SocketAddr> {
    let guard = host?.try_borrow().ok()?;
    let s = guard.slots.get(slot)?;
    if !s.is_current(generation) || s.phase() == Phase::Free {
        return None;
    }
    guard.enet.as_ref()?.get_peer(PeerID(slot))?.address()
}

impl Peer {
    /// Runs `f` on the live connection this handle names (None when stale), then brings the
    /// slot in line with whatever `f` did to the ENet peer.
    fn with<R>(
        &self,
        func: &str,
        f: impl FnOnce(&mut EnetPeer, &mut Slot) -> R,
    ) -> Result<Option<R>> {
        let Some(host) = &self.host else {
            return Ok(None);
        };
        let mut guard = host.try_borrow_mut().map_err(|_| host::busy(func))?;
        Ok(with_connection(&mut guard, self.slot, self.generation, f))
    }

    /// A connection this handle's call just ended (reset, disconnect_now, a cancelled connect)
    /// tells netcode too, if it was secure.
    fn forget_if_ended(&self) {
        let Some(host) = &self.host else {
            return;
        };
        if let Ok(mut state) = host.try_borrow_mut() {
            if state
                .slots
                .get(self.slot)
                .is_some_and(|s| !s.is_current(self.generation))
            {
                state.secure_forget(self.slot);
            }
        }
    }

    /// The secure connection's client id and user data (server side), if it is one.
    fn secure_client<R>(&self, f: impl FnOnce(u64, &[u8]) -> R) -> Option<R> {
        let addr = self.address()?;
        let guard = self.host.as_ref()?.try_borrow().ok()?;
        let link = guard.enet.as_ref()?.socket().secure.as_ref()?;
        let (id, user_data) = link.client(addr)?;
        Some(f(id, user_data))
    }

    fn address(&self) -> Option<std::net::SocketAddr> {
        connection_address(self.host.as_ref(), self.slot, self.generation)
    }
}

/// The one userdata for the connection currently in `slot` (made on first use).
pub fn userdata(
    _: &Lua,
    host_ud: &AnyUserData,
    state: &Shared,
    slot: usize,
) -> mlua::Result<AnyUserData> {
    let generation = state
        .try_borrow()
        .map(|s| s.generation(slot))
        .unwrap_or_default();
    object::peer_userdata(host_ud, state, slot, generation)
}

/// The peer argument of a function written on mlua, or a misuse error naming `func`.
fn arg(value: &Value, func: &str, pos: usize) -> Result<Peer> {
    let Some(p) = object::block_of(value, Class::Peer)? else {
        return Err(type_error(func, pos, "ENetPeer", value));
    };
    // SAFETY: `value` holds the peer userdata alive for this call.
    let p = unsafe { &*p.cast::<PeerBlock>() };
    Ok(Peer {
        host: p.host.clone(),
        slot: p.slot,
        generation: p.generation,
    })
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.raw_method("peer_send", peer_send)?;
    reg.raw_method("peer_send_many", peer_send_many)?;
    reg.method("peer_disconnect", |_, (p, d): (Value, Value)| {
        disconnect(p, d, "peer_disconnect", |p, d| p.disconnect(d))
    })?;
    reg.method("peer_disconnect_now", |_, (p, d): (Value, Value)| {
        disconnect(p, d, "peer_disconnect_now", |p, d| p.disconnect_now(d))
    })?;
    reg.method("peer_disconnect_later", |_, (p, d): (Value, Value)| {
        disconnect(p, d, "peer_disconnect_later", |p, d| p.disconnect_later(d))
    })?;
    reg.method("peer_reset", peer_reset)?;
    reg.method("peer_ping", |_, p: Value| {
        simple(&arg(&p, "peer_ping", 1)?, "peer_ping", |p| p.ping())
    })?;
    reg.method("peer_ping_interval", peer_ping_interval)?;
    reg.method("peer_timeout", peer_timeout)?;
    reg.method("peer_throttle_configure", peer_throttle_configure)?;
    reg.method("peer_round_trip_time", peer_round_trip_time)?;
    reg.method("peer_state", peer_state)?;
    reg.method("peer_address", peer_address)?;
    reg.method("peer_index", peer_index)?;
    reg.method("peer_statistics", peer_statistics)?;
    reg.method("peer_client_id", peer_client_id)?;
    reg.method("peer_user_data", peer_user_data)?;
    Ok(())
}

type Status = (i64, Option<String>);

fn status(done: Option<std::result::Result<(), String>>) -> Status {
    match done {
        Some(Ok(())) => (0, None),
        Some(Err(message)) => (-1, Some(message)),
        None => (-1, Some(STALE.into())),
    }
}

/// What a send did, for the raw functions to hand back. The message is kept inline (no box):
/// it is pushed, and a push may raise, which must find nothing to free.
#[allow(clippy::large_enum_variant)]
pub enum Sent {
    Done,
    Failed(Msg),
    Stale,
    Busy,
}

/// Pushes `0` or `-1, message` (or raises for a busy host); returns the number of values.
///
/// # Safety
/// Allocates: see src/object.rs.
pub unsafe fn push_sent(l: LuaState, func: &str, sent: Sent) -> c_int {
    unsafe {
        match sent {
            Sent::Done => {
                ffi::lua_pushinteger(l, 0);
                1
            }
            Sent::Failed(m) => {
                ffi::lua_pushinteger(l, -1);
                m.push(l);
                2
            }
            Sent::Stale => {
                ffi::lua_pushinteger(l, -1);
                ffi::lua_pushlstring(l, STALE.as_ptr().cast(), STALE.len());
                2
            }
            Sent::Busy => raise(l, &Msg::busy(func)),
        }
    }
}

/// The peer block at `idx`, or the `bad argument` message.
///
/// # Safety
/// Inside a raw function (the peer metatable is an upvalue).
pub unsafe fn raw_arg(
    l: LuaState,
    idx: c_int,
    func: &str,
    pos: c_int,
) -> raw_args::Result<*const PeerBlock> {
    unsafe {
        object::arg::<PeerBlock>(l, idx, (Class::Peer, "ENetPeer"), func, pos)
            .map(|p| p.cast_const())
    }
}

/// Runs `f` on the connection a peer block names, with the host's `max_packet_size`.
fn on_connection(
    peer: &PeerBlock,
    f: impl FnOnce(&mut EnetPeer, &mut Slot, usize) -> std::result::Result<(), Msg>,
) -> Sent {
    let Some(host) = &peer.host else {
        return Sent::Stale;
    };
    let Ok(mut state) = host.try_borrow_mut() else {
        return Sent::Busy;
    };
    let limit = state
        .enet
        .as_ref()
        .map_or(packet::MAX_SIZE, |e| e.maximum_packet_size());
    match with_connection(&mut state, peer.slot, peer.generation, |p, slot| {
        f(p, slot, limit)
    }) {
        None => Sent::Stale,
        Some(Ok(())) => Sent::Done,
        Some(Err(m)) => Sent::Failed(m),
    }
}

/// Sends `bytes` with `flags` on the connection a peer block names (`peer_send`, compat's
/// `peer:send`).
pub fn send_bytes(peer: &PeerBlock, channel: u8, bytes: &[u8], flags: u32) -> Sent {
    on_connection(peer, |p, slot, limit| {
        send(p, slot, channel, bytes, flags, limit)
    })
}

/// `peer_send(peer, channelID, packet | string, flags?) -> 0 | -1, message`.
unsafe extern "C-unwind" fn peer_send(l: LuaState) -> c_int {
    const F: &str = "peer_send";
    // SAFETY: raw function. The peer block, the string and the packet block are arguments,
    // alive for the whole call; `rust` runs the send without any Lua call.
    unsafe {
        let peer = check!(l, raw_arg(l, 1, F, 1));
        let channel = check!(l, channel_arg(l, F)) as u8;
        // A Lua string is sent directly (no ENetPacket object): the common case made cheap.
        let (bytes, flags) = match raw_args::string(l, 3) {
            Some(bytes) => (bytes, check!(l, packet::raw_flags(l, 4, F, 4))),
            None => {
                let p = object::block(l, 3, Class::Packet).cast::<PacketHeader>();
                if p.is_null() {
                    let m = raw_args::type_error(l, 3, F, 3, "ENetPacket");
                    raise(l, &m)
                }
                if !(*p).live {
                    return push_sent(l, F, Sent::Failed(Msg::of("packet has been destroyed")));
                }
                (object::packet_bytes(p), packet::send_flags(&*p))
            }
        };
        let sent = object::rust_or_raise(l, F, || send_bytes(&*peer, channel, bytes, flags));
        push_sent(l, F, sent)
    }
}

/// The channel argument (2) of the send functions.
unsafe fn channel_arg(l: LuaState, func: &str) -> raw_args::Result<i64> {
    unsafe { raw_args::integer_in(l, 2, func, 2, "channelID", 0, host::MAX_CHANNELS - 1) }
}

/// `peer_send_many(peer, channelID, list, flags?) -> 0 | -1, message`: every string of a list,
/// in order, in one call: the per-call cost of `peer_send` paid once per list.
unsafe extern "C-unwind" fn peer_send_many(l: LuaState) -> c_int {
    const F: &str = "peer_send_many";
    // SAFETY: raw function. The list is argument 3 and nothing runs Lua code between the check
    // and the sends, so its strings are the ones checked and stay alive.
    unsafe {
        let peer = check!(l, raw_arg(l, 1, F, 1));
        let channel = check!(l, channel_arg(l, F)) as u8;
        if ffi::lua_type(l, 3) != ffi::LUA_TTABLE {
            let m = raw_args::type_error(l, 3, F, 3, "table");
            raise(l, &m)
        }
        let flags = check!(l, packet::raw_flags(l, 4, F, 4));
        let n = ffi::lua_rawlen(l, 3);
        // Indices stay within what every Lua's C API takes (no list that long fits in memory).
        let n = n.min(c_int::MAX as usize);
        // Every element is checked before anything is queued.
        for i in 1..=n {
            ffi::lua_rawgeti(l, 3, i as ffi::lua_Integer);
            if ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
                let got = raw_type_name(l, ffi::lua_gettop(l));
                let m = Msg::bad_argument(
                    F,
                    3,
                    format_args!("string expected at index {i}, got {got}"),
                );
                raise(l, &m)
            }
            ffi::lua_pop(l, 1);
        }
        let sent = object::rust_or_raise(l, F, || {
            on_connection(&*peer, |p, slot, limit| {
                for i in 1..=n {
                    // Raw reads of strings: neither raises nor allocates.
                    ffi::lua_rawgeti(l, 3, i as ffi::lua_Integer);
                    let bytes = raw_args::string(l, -1).unwrap_or_default();
                    let r = send(p, slot, channel, bytes, flags, limit);
                    ffi::lua_pop(l, 1);
                    if let Err(m) = r {
                        return Err(Msg::of(format_args!(
                            "{m} (at index {i}; {} of {n} sent)",
                            i - 1
                        )));
                    }
                }
                Ok(())
            })
        });
        push_sent(l, F, sent)
    }
}

fn send(
    peer: &mut EnetPeer,
    slot: &mut Slot,
    channel: u8,
    bytes: &[u8],
    flags: u32,
    max_packet_size: usize,
) -> std::result::Result<(), Msg> {
    let phase = slot.phase();
    let state = peer.state();
    let sendable = phase == Phase::Connecting || state == PeerState::Connected;
    if !sendable {
        return Err(Msg::of(format_args!(
            "peer is not connected (state {})",
            state_name(state)
        )));
    }
    if usize::from(channel) >= peer.channel_count() {
        return Err(Msg::of(format_args!(
            "channel {channel} out of range (peer has {} channels)",
            peer.channel_count()
        )));
    }
    check_size(bytes.len(), max_packet_size)?;
    let packet = packet::enet_packet(bytes, flags);
    if phase == Phase::Connecting {
        // C ENet refuses this; we queue, so the seed's client (send right after connect) works.
        slot.queue(channel, packet).map_err(Msg::of)
    } else {
        peer.send(channel, &packet).map_err(Msg::of)
    }
}

/// Refuses a packet over the host's `max_packet_size`, which rusty_enet would drop silently.
pub fn check_size(size: usize, max_packet_size: usize) -> std::result::Result<(), Msg> {
    if size > max_packet_size {
        return Err(Msg::of(format_args!(
            "packet too large ({size} bytes, the host's max_packet_size is {max_packet_size})"
        )));
    }
    Ok(())
}

/// `__gc`: the handle lets go of its host's state.
pub unsafe extern "C-unwind" fn gc(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's. Dropping the last reference closes the
    // host's socket: Rust only, and a panic there is dropped (a finalizer has nobody to tell).
    unsafe {
        let p = object::block(l, 1, Class::Peer).cast::<PeerBlock>();
        if !p.is_null() {
            let host = (*p).host.take();
            let _ = object::rust(move || drop(host));
        }
        0
    }
}

/// `__tostring`: `ENetPeer(127.0.0.1:51234)` or `ENetPeer(stale)`.
pub unsafe extern "C-unwind" fn tostring(l: LuaState) -> c_int {
    const F: &str = "__tostring";
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = check!(l, raw_arg(l, 1, F, 1));
        let m = object::rust_or_raise(l, F, || {
            match connection_address((*p).host.as_ref(), (*p).slot, (*p).generation) {
                Some(addr) => Msg::of(format_args!("ENetPeer({})", address::display(addr))),
                None => Msg::of("ENetPeer(stale)"),
            }
        });
        m.push(l);
        1
    }
}

/// The disconnect family: `act` on the ENet peer, then the slot follows (a connection that
/// ENet ended on the spot, such as one still connecting, is stale at once).
fn disconnect(peer: Value, data: Value, func: &str, act: fn(&mut EnetPeer, u32)) -> Result<Status> {
    let this = arg(&peer, func, 1)?;
    let data = args::opt_u32(&data, func, 2, "data")?;
    let done = this.with(func, |p, slot| {
        act(p, data);
        slot.local_disconnect(p.state());
        Ok(())
    })?;
    this.forget_if_ended();
    Ok(status(done))
}

fn peer_reset(_: &Lua, peer: Value) -> Result<Status> {
    disconnect(peer, Value::Nil, "peer_reset", |p, _| p.reset())
}

fn simple(this: &Peer, func: &str, act: impl FnOnce(&mut EnetPeer)) -> Result<Status> {
    Ok(status(this.with(func, |p, _| {
        act(p);
        Ok(())
    })?))
}

fn peer_ping_interval(_: &Lua, (peer, ms): (Value, Value)) -> Result<Status> {
    const F: &str = "peer_ping_interval";
    let this = arg(&peer, F, 1)?;
    let ms = args::opt_integer_in(&ms, F, 2, "interval", 0, 0..=i64::from(u32::MAX))? as u32;
    simple(&this, F, |p| p.set_ping_interval(ms))
}

/// Three optional u32 arguments (positions 2..4); nil takes the matching default.
fn three_u32(
    values: [&Value; 3],
    func: &str,
    names: [&str; 3],
    defaults: [u32; 3],
) -> Result<[u32; 3]> {
    let mut out = defaults;
    for (i, v) in values.iter().enumerate() {
        let n = args::opt_integer_in(
            v,
            func,
            i + 2,
            names[i],
            i64::from(defaults[i]),
            0..=i64::from(u32::MAX),
        )?;
        out[i] = u32::try_from(n).unwrap_or(defaults[i]);
    }
    Ok(out)
}

fn peer_timeout(_: &Lua, (peer, a, b, c): (Value, Value, Value, Value)) -> Result<Status> {
    const F: &str = "peer_timeout";
    let this = arg(&peer, F, 1)?;
    let [limit, min, max] = three_u32([&a, &b, &c], F, ["limit", "minimum", "maximum"], [0; 3])?;
    simple(&this, F, |p| p.set_timeout(limit, min, max))
}

fn peer_throttle_configure(
    _: &Lua,
    (peer, a, b, c): (Value, Value, Value, Value),
) -> Result<Status> {
    const F: &str = "peer_throttle_configure";
    let this = arg(&peer, F, 1)?;
    let [interval, acc, dec] = three_u32(
        [&a, &b, &c],
        F,
        ["interval", "acceleration", "deceleration"],
        // C ENet's ENET_PEER_PACKET_THROTTLE_{INTERVAL,ACCELERATION,DECELERATION}.
        [5000, 2, 2],
    )?;
    Ok(status(this.with(F, |p, slot| {
        if slot.phase() == Phase::Connecting {
            slot.defer_throttle([interval, acc, dec]);
        } else {
            p.set_throttle(interval, acc, dec);
        }
        Ok(())
    })?))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn peer_round_trip_time(_: &Lua, peer: Value) -> Result<(Option<i64>, Option<&'static str>)> {
    let this = arg(&peer, "peer_round_trip_time", 1)?;
    Ok(
        match this.with("peer_round_trip_time", |p, _| millis(p.round_trip_time()))? {
            Some(ms) => (Some(ms), None),
            None => (None, Some(STALE)),
        },
    )
}

fn peer_state(_: &Lua, peer: Value) -> Result<&'static str> {
    let this = arg(&peer, "peer_state", 1)?;
    Ok(this
        .with("peer_state", |p, _| state_name(p.state()))?
        .unwrap_or("disconnected"))
}

fn peer_address(lua: &Lua, peer: Value) -> Result<(Value, Option<&'static str>)> {
    let this = arg(&peer, "peer_address", 1)?;
    Ok(match this.address() {
        Some(a) => (Value::Table(address::to_table(lua, a)?), None),
        None => (Value::Nil, Some(STALE)),
    })
}

fn peer_index(_: &Lua, peer: Value) -> Result<(Option<usize>, Option<&'static str>)> {
    let this = arg(&peer, "peer_index", 1)?;
    Ok(match this.with("peer_index", |_, _| ())? {
        Some(()) => (Some(this.slot + 1), None),
        None => (None, Some(STALE)),
    })
}

fn peer_statistics(lua: &Lua, peer: Value) -> Result<(Value, Option<&'static str>)> {
    let this = arg(&peer, "peer_statistics", 1)?;
    let stats = this.with("peer_statistics", |p, _| {
        [
            ("incoming_data_total", i64::from(p.incoming_data_total())),
            ("outgoing_data_total", i64::from(p.outgoing_data_total())),
            ("packets_sent", i64::from(p.packets_sent())),
            ("packets_lost", i64::from(p.packets_lost())),
            ("packet_loss", i64::from(p.packet_loss())),
            ("packet_loss_variance", i64::from(p.packet_loss_variance())),
            ("round_trip_time", millis(p.round_trip_time())),
            (
                "round_trip_time_variance",
                millis(p.round_trip_time_variance()),
            ),
            ("mtu", i64::from(p.mtu())),
            ("channel_count", p.channel_count() as i64),
        ]
    })?;
    let Some(stats) = stats else {
        return Ok((Value::Nil, Some(STALE)));
    };
    let t = lua.create_table_with_capacity(0, stats.len())?;
    for (k, v) in stats {
        t.raw_set(k, v)?;
    }
    Ok((Value::Table(t), None))
}

/// The connect token's client id, on the server side of a secure connection; nil otherwise.
fn peer_client_id(lua: &Lua, peer: Value) -> Result<Value> {
    let this = arg(&peer, "peer_client_id", 1)?;
    match this.secure_client(|id, _| id) {
        Some(id) => Ok(crate::connect_token::u64_to_lua(lua, id)?),
        None => Ok(Value::Nil),
    }
}

/// The connect token's 256 bytes of user data, on the server side of a secure connection.
fn peer_user_data(lua: &Lua, peer: Value) -> Result<Value> {
    let this = arg(&peer, "peer_user_data", 1)?;
    match this.secure_client(|_, data| lua.create_string(data)) {
        Some(s) => Ok(Value::String(s?)),
        None => Ok(Value::Nil),
    }
}

//! ENetPeer: a handle on one connection. rusty_enet's `PeerID` is a bare slot index that the
//! next connection reuses, so each slot carries a generation and a handle is stale once the
//! generation it was made for has ended.

use std::time::Duration;

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, Value};
use rusty_enet::{PeerID, PeerState};

use crate::address;
use crate::args::{self, StackBytes, StackUserData};
use crate::error::{type_error, Result};
use crate::host::{self, Shared};
use crate::packet::{self, Packet};
use crate::registry::{class_methods, Registry};
use crate::slot::{Phase, Slot};
use crate::socket::EnetSocket;

pub struct Peer {
    host: Shared,
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

impl Peer {
    /// Runs `f` on the live connection this handle names (None when stale), then brings the
    /// slot in line with whatever `f` did to the ENet peer.
    fn with<R>(
        &self,
        func: &str,
        f: impl FnOnce(&mut EnetPeer, &mut Slot) -> R,
    ) -> Result<Option<R>> {
        let mut guard = self.host.try_borrow_mut().map_err(|_| host::busy(func))?;
        let state = &mut *guard;
        let Some(slot) = state
            .slots
            .get_mut(self.slot)
            .filter(|s| s.is_current(self.generation) && s.phase() != Phase::Free)
        else {
            return Ok(None);
        };
        let Some(peer) = state
            .enet
            .as_mut()
            .and_then(|e| e.get_peer_mut(PeerID(self.slot)))
        else {
            return Ok(None);
        };
        let r = f(peer, slot);
        slot.sync(peer.state());
        Ok(Some(r))
    }

    /// The host's `max_packet_size` option (ENet's default once the host is gone).
    fn max_packet_size(&self) -> usize {
        self.host
            .try_borrow()
            .ok()
            .and_then(|s| s.enet.as_ref().map(|e| e.maximum_packet_size()))
            .unwrap_or(packet::MAX_SIZE)
    }

    /// A connection this handle's call just ended (reset, disconnect_now, a cancelled connect)
    /// tells netcode too, if it was secure.
    fn forget_if_ended(&self) {
        if let Ok(mut state) = self.host.try_borrow_mut() {
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
        let guard = self.host.try_borrow().ok()?;
        let link = guard.enet.as_ref()?.socket().secure.as_ref()?;
        let (id, user_data) = link.client(addr)?;
        Some(f(id, user_data))
    }

    fn address(&self) -> Option<std::net::SocketAddr> {
        let guard = self.host.try_borrow().ok()?;
        let slot = guard.slots.get(self.slot)?;
        if !slot.is_current(self.generation) || slot.phase() == Phase::Free {
            return None;
        }
        guard.enet.as_ref()?.get_peer(PeerID(self.slot))?.address()
    }
}

impl UserData for Peer {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| class_methods(lua, "peer"));
        fields.add_meta_field("__name", "ENetPeer");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match this.address() {
                Some(addr) => format!("ENetPeer({})", address::display(addr)),
                None => "ENetPeer(stale)".to_string(),
            })
        });
    }
}

/// The one userdata for the connection currently in `slot` (made on first use).
pub fn userdata(
    lua: &Lua,
    host_ud: &AnyUserData,
    state: &Shared,
    slot: usize,
) -> mlua::Result<AnyUserData> {
    let generation = state
        .try_borrow()
        .map(|s| s.generation(slot))
        .unwrap_or_default();
    userdata_for(lua, host_ud, state, slot, generation)
}

/// The userdata for connection `generation` of `slot`: cached weakly on the host userdata
/// (`slot + 1` -> handle, `-(slot + 1)` -> its generation) so the connect, receive and
/// disconnect events of one connection share it.
pub fn userdata_for(
    lua: &Lua,
    host_ud: &AnyUserData,
    state: &Shared,
    slot: usize,
    generation: u64,
) -> mlua::Result<AnyUserData> {
    let cache: Table = host_ud.user_value()?;
    let (key, generation_key) = cache_keys(slot);
    if let Value::UserData(ud) = cache.raw_get::<Value>(key)? {
        if ud
            .borrow::<Peer>()
            .is_ok_and(|p| p.generation == generation)
        {
            return Ok(ud);
        }
    }
    let ud = lua.create_userdata(Peer {
        host: state.clone(),
        slot,
        generation,
    })?;
    cache.raw_set(key, &ud)?;
    // Lets event::fill find the handle with raw C API reads (weak values drop handles only).
    cache.raw_set(generation_key, generation)?;
    Ok(ud)
}

/// Where the host's peer cache keeps the handle of `slot` and the generation it belongs to.
pub fn cache_keys(slot: usize) -> (i64, i64) {
    let key = slot as i64 + 1;
    (key, -key)
}

fn arg(value: &Value, func: &str, pos: usize) -> Result<mlua::UserDataRef<Peer>> {
    Ok(args::userdata::<Peer>(value, func, pos, "ENetPeer")?.borrow::<Peer>()?)
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.method("peer_send", peer_send)?;
    reg.method("peer_send_many", peer_send_many)?;
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
        simple(&*arg(&p, "peer_ping", 1)?, "peer_ping", |p| p.ping())
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

/// The first two arguments of the send functions.
fn peer_and_channel(
    peer: StackUserData<Peer>,
    channel: &Value,
    func: &str,
) -> Result<(mlua::UserDataRef<Peer>, u8)> {
    let this = peer.get(func, 1, "ENetPeer")?;
    let channel = args::integer_in(channel, func, 2, "channelID", 0..=host::MAX_CHANNELS - 1)?;
    Ok((this, channel as u8))
}

fn peer_send(
    _: &Lua,
    (peer, channel, packet, flags): (StackUserData<Peer>, Value, StackBytes, Value),
) -> Result<Status> {
    const F: &str = "peer_send";
    let (this, channel) = peer_and_channel(peer, &channel, F)?;
    // A Lua string is sent directly (no ENetPacket object): the common case made cheap.
    let string =
        |bytes: &[u8]| packet::flags_arg(&flags, F, 4).map(|f| packet::enet_packet(bytes, f));
    // SAFETY: within this call.
    let packet = match unsafe { packet.with_bytes(string) } {
        Ok(made) => made?,
        Err(other) => match packet::arg(other, F, 3)?.borrow::<Packet>()?.enet() {
            Some(p) => p.clone(),
            None => return Ok((-1, Some("packet has been destroyed".into()))),
        },
    };
    let limit = this.max_packet_size();
    Ok(status(this.with(F, |p, slot| {
        send(p, slot, channel, packet, limit)
    })?))
}

/// Sends every string of a list, in order, in one call: the per-call cost of `peer_send` paid
/// once per list instead of once per message.
fn peer_send_many(
    lua: &Lua,
    (peer, channel, list, flags): (StackUserData<Peer>, Value, Value, Value),
) -> Result<Status> {
    const F: &str = "peer_send_many";
    let (this, channel) = peer_and_channel(peer, &channel, F)?;
    let Value::Table(list) = list else {
        return Err(type_error(F, 3, "table", &list));
    };
    let flags = packet::flags_arg(&flags, F, 4)?;
    let packets = packet::from_list(lua, &list, flags, F, 3)?;
    let limit = this.max_packet_size();
    Ok(status(this.with(F, |p, slot| {
        let total = packets.len();
        for (i, packet) in packets.into_iter().enumerate() {
            send(p, slot, channel, packet, limit).map_err(|message| {
                format!("{message} (at index {}; {i} of {total} sent)", i + 1)
            })?;
        }
        Ok(())
    })?))
}

fn send(
    peer: &mut EnetPeer,
    slot: &mut Slot,
    channel: u8,
    packet: rusty_enet::Packet,
    max_packet_size: usize,
) -> std::result::Result<(), String> {
    let phase = slot.phase();
    let state = peer.state();
    let sendable = phase == Phase::Connecting || state == PeerState::Connected;
    if !sendable {
        return Err(format!(
            "peer is not connected (state {})",
            state_name(state)
        ));
    }
    if usize::from(channel) >= peer.channel_count() {
        return Err(format!(
            "channel {channel} out of range (peer has {} channels)",
            peer.channel_count()
        ));
    }
    let size = packet.data().len();
    if size > max_packet_size {
        return Err(format!(
            "packet too large ({size} bytes, the host's max_packet_size is {max_packet_size})"
        ));
    }
    if phase == Phase::Connecting {
        // C ENet refuses this; we queue, so the seed's client (send right after connect) works.
        slot.queue(channel, packet)
    } else {
        peer.send(channel, &packet).map_err(|e| e.to_string())
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

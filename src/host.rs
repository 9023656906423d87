//! ENetHost: a rusty_enet host on our socket, shared with the peer handles that point into it.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, Value};
use rusty_enet::{EventNoRef, HostSettings, PeerID, PeerState};

use crate::address;
use crate::args;
use crate::error::{bad_argument, type_error, Result};
use crate::event::{self, Event, Kind, Payload};
use crate::options;
use crate::packet;
use crate::peer;
use crate::registry::{class_methods, Registry};
use crate::resolve;
use crate::secure::link::{End, Link};
use crate::secure::{SecureServer, ServerConfig, CONNECT_TOKEN_BYTES, MAX_ENET_MTU, SEND_INTERVAL};
use crate::slot::{Reason, Slot};
use crate::socket::EnetSocket;

pub const MAX_PEERS: i64 = 4095;
pub const MAX_CHANNELS: i64 = 255;
const DEFAULT_SERVICE_TIMEOUT_MS: u64 = 1000;
/// Timeout (limit, minimum, maximum in ms) of a half-open incoming connection: 5 s to
/// acknowledge our VERIFY_CONNECT (4 transmissions at ENet's back-off) instead of 30 s.
const HANDSHAKE_TIMEOUT: [u32; 3] = [32, 1000, 5000];

pub type EnetHost = rusty_enet::Host<EnetSocket>;

/// Everything a host owns. `enet` is None once the host is destroyed or collected.
pub struct State {
    pub enet: Option<EnetHost>,
    pub slots: Vec<Slot>,
    /// Events taken from rusty_enet that could not be handed to Lua (an allocation failed
    /// while building them): returned first by the next call, so none is ever lost.
    undelivered: VecDeque<Event>,
}

pub type Shared = Rc<RefCell<State>>;

/// The ENetHost userdata. Its user value is a weak-valued table slot -> peer userdata, so one
/// connection is always the same Lua object without the host keeping handles alive.
pub struct Host {
    pub state: Shared,
}

impl Drop for Host {
    fn drop(&mut self) {
        // A host that becomes garbage closes its socket; peer handles keep only the husk.
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.destroy();
        }
    }
}

impl State {
    /// Tells connected peers at once (they see a disconnect, not a timeout), closes the
    /// socket, and makes every handle stale.
    pub fn destroy(&mut self) {
        if let Some(mut enet) = self.enet.take() {
            let mut ended = Vec::new();
            for p in enet.peers_mut() {
                if peer::is_live(p.state()) {
                    p.disconnect_now(0);
                    ended.extend(p.address());
                }
            }
            for addr in ended {
                enet.socket_mut().secure_forget(addr);
            }
        }
        for slot in &mut self.slots {
            slot.end();
        }
        self.undelivered.clear();
    }

    fn service(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(event) = self.undelivered.pop_front() {
            return Some(event);
        }
        let deadline = Instant::now() + timeout;
        loop {
            let enet = self.enet.as_mut()?;
            enet.socket_mut().secure_tick();
            // A socket error is already counted by our socket; it never ends the wait.
            let event = match enet.service() {
                Ok(Some(event)) => Some(event.no_ref()),
                _ => None,
            };
            self.after_service(event.as_ref());
            if let Some(event) = event {
                return Some(self.own(event));
            }
            if let Some(event) = self.undelivered.pop_front() {
                return Some(event);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            let socket = self.enet.as_ref()?.socket();
            // netcode resends requests and keep-alives on its own clock, not ENet's.
            let wait = match socket.secure.as_ref().is_some_and(|l| l.is_active()) {
                true => (deadline - now).min(SEND_INTERVAL),
                false => deadline - now,
            };
            socket.wait_readable(wait);
        }
    }

    /// Waits like `service` for the first event, then takes whatever else is ready, up to `max`.
    fn service_batch(&mut self, timeout: Duration, max: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let Some(first) = self.service(timeout) else {
            return events;
        };
        events.push(first);
        while events.len() < max {
            match self.service(Duration::ZERO) {
                Some(event) => events.push(event),
                None => break,
            }
        }
        events
    }

    fn check_events(&mut self) -> Option<Event> {
        if let Some(event) = self.undelivered.pop_front() {
            return Some(event);
        }
        let event = self.enet.as_mut()?.check_events()?.no_ref();
        Some(self.own(event))
    }

    /// Turns a rusty_enet event into ours, moving the slot's state machine along.
    fn own(&mut self, event: EventNoRef) -> Event {
        match event {
            EventNoRef::Connect { peer, data } => {
                let slot = peer.0;
                self.connected(slot);
                Event::new(Kind::Connect, slot, self.generation(slot), data)
            }
            EventNoRef::Disconnect { peer, data } => {
                let slot = peer.0;
                self.secure_forget(slot);
                // The event belongs to the generation that is ending.
                let generation = self.generation(slot);
                let reason = self.slots.get_mut(slot).map(Slot::disconnect_event);
                let mut event = Event::new(Kind::Disconnect, slot, generation, data);
                event.reason = reason.map(|r| r.name());
                event
            }
            EventNoRef::Receive {
                peer,
                channel_id,
                packet,
            } => {
                let slot = peer.0;
                let mut event = Event::new(Kind::Receive, slot, self.generation(slot), 0);
                event.channel = channel_id;
                event.packet = Some(packet);
                event
            }
        }
    }

    /// What one `service()` pass may have changed beyond its event: remote DISCONNECTs that
    /// rusty_enet accepted, and half-open connections to cut short.
    fn after_service(&mut self, event: Option<&EventNoRef>) {
        let Some(enet) = self.enet.as_mut() else {
            return;
        };
        let ending = match event {
            Some(EventNoRef::Disconnect { peer, .. }) => Some(peer.0),
            _ => None,
        };
        let ended = match enet.socket_mut().secure.as_mut() {
            Some(link) => link.take_ended(),
            None => Vec::new(),
        };
        let disconnects = enet.socket_mut().take_disconnects();
        for (slot, from) in disconnects {
            let Some(p) = enet.get_peer(PeerID(slot)) else {
                continue;
            };
            if accepted_disconnect(p.state(), ending == Some(slot)) && p.address() == Some(from) {
                if let Some(s) = self.slots.get_mut(slot) {
                    s.remote_disconnect_seen();
                }
            }
        }
        for (addr, end) in ended {
            self.end_secure(addr, end);
        }
        self.shorten_handshakes();
    }

    /// netcode ended the secure connection to `addr` (timed out, disconnected, denied): its
    /// ENet peer goes too, with a disconnect event if Lua knew the connection.
    fn end_secure(&mut self, addr: SocketAddr, end: End) {
        let Some(enet) = self.enet.as_mut() else {
            return;
        };
        let found = enet
            .peers_mut()
            .find(|p| peer::is_live(p.state()) && p.address() == Some(addr))
            .map(|p| {
                p.reset();
                p.id().0
            });
        let Some(slot) = found else {
            return;
        };
        let Some(generation) = self.slots.get_mut(slot).and_then(Slot::end_outside) else {
            return;
        };
        let mut event = Event::new(Kind::Disconnect, slot, generation, 0);
        event.reason = Some(
            match end {
                End::Disconnect => Reason::Disconnect,
                End::Timeout => Reason::Timeout,
                End::Denied => Reason::Denied,
            }
            .name(),
        );
        self.undelivered.push_back(event);
    }

    /// ENet keeps a half-open incoming connection (CONNECT received, VERIFY_CONNECT not yet
    /// acknowledged) for the peer timeout maximum, 30 s: a flood of CONNECTs from spoofed or
    /// silent sources fills every free slot for that long and locks newcomers out. So whenever a
    /// CONNECT arrived, half-open peers get HANDSHAKE_TIMEOUT; `connected` restores ENet's
    /// defaults once the handshake completes.
    fn shorten_handshakes(&mut self) {
        let Some(enet) = self.enet.as_mut() else {
            return;
        };
        if !std::mem::take(&mut enet.socket_mut().connect_seen) {
            return;
        }
        let [limit, minimum, maximum] = HANDSHAKE_TIMEOUT;
        for p in enet.peers_mut() {
            if p.state() == PeerState::AcknowledgingConnect {
                p.set_timeout(limit, minimum, maximum);
            }
        }
    }

    /// A connection is up: incoming ones get ENet's timeouts back, and sends queued while an
    /// outgoing one was connecting go out in order.
    fn connected(&mut self, slot: usize) {
        let Some(s) = self.slots.get_mut(slot) else {
            return;
        };
        let up = s.connect_event();
        let Some(p) = self
            .enet
            .as_mut()
            .and_then(|e| e.get_peer_mut(PeerID(slot)))
        else {
            return;
        };
        if up.incoming {
            // Undo shorten_handshakes: 0 means ENet's default for each value.
            p.set_timeout(0, 0, 0);
        }
        if let Some([interval, acceleration, deceleration]) = up.throttle {
            p.set_throttle(interval, acceleration, deceleration);
        }
        for (channel, packet) in up.pending {
            // The channel was checked when queued; a failure here has nobody to report to.
            let _ = p.send(channel, &packet);
        }
    }

    /// ENet is done with the connection in `slot`: if it was secure, netcode's disconnect goes
    /// out too.
    pub fn secure_forget(&mut self, slot: usize) {
        let Some(enet) = self.enet.as_mut() else {
            return;
        };
        if enet.socket().secure.is_none() {
            return;
        }
        if let Some(addr) = enet.get_peer(PeerID(slot)).and_then(|p| p.address()) {
            enet.socket_mut().secure_forget(addr);
        }
    }

    /// Puts events back in front of the queue, in order: Lua never saw them.
    fn give_back(&mut self, events: impl DoubleEndedIterator<Item = Event>) {
        for event in events.rev() {
            self.undelivered.push_front(event);
        }
    }

    pub fn generation(&self, slot: usize) -> u64 {
        self.slots.get(slot).map_or(0, Slot::generation)
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.enet.as_ref()?.socket().local_addr()
    }
}

/// Did rusty_enet act on a DISCONNECT for a peer now in `state`? A spoofed one (wrong session,
/// wrong address) leaves the peer as it was; an accepted one moves it to acknowledging the
/// disconnect or to zombie, or ends it in the very pass that reports its event.
fn accepted_disconnect(state: PeerState, event_now: bool) -> bool {
    match state {
        PeerState::AcknowledgingDisconnect | PeerState::Zombie => true,
        PeerState::Disconnected => event_now,
        _ => false,
    }
}

impl UserData for Host {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| class_methods(lua, "host"));
        fields.add_meta_field("__name", "ENetHost");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(
                match this.state.try_borrow().ok().and_then(|s| s.local_addr()) {
                    Some(addr) => format!("ENetHost({})", address::display(addr)),
                    None => "ENetHost(destroyed)".to_string(),
                },
            )
        });
        #[cfg(any(feature = "lua54", feature = "lua55"))]
        methods.add_meta_method(MetaMethod::Close, |_, this, ()| {
            if let Ok(mut state) = this.state.try_borrow_mut() {
                state.destroy();
            }
            Ok(())
        });
    }
}

/// The host argument and its state, or a misuse error naming `func`.
pub fn arg<'a>(value: &'a Value, func: &str, pos: usize) -> Result<(&'a AnyUserData, Shared)> {
    let ud = args::userdata::<Host>(value, func, pos, "ENetHost")?;
    let state = ud.borrow::<Host>()?.state.clone();
    Ok((ud, state))
}

pub fn busy(func: &str) -> crate::error::Error {
    crate::error::Error::Misuse(format!(
        "'{func}' called while the host is busy (re-entrant call from a __gc?)"
    ))
}

/// Mutable access to a live host's state, or the failure message for a destroyed one.
pub fn live<'a>(
    state: &'a Shared,
    func: &str,
) -> Result<std::result::Result<std::cell::RefMut<'a, State>, &'static str>> {
    let guard = state.try_borrow_mut().map_err(|_| busy(func))?;
    Ok(if guard.enet.is_some() {
        Ok(guard)
    } else {
        Err("host has been destroyed")
    })
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.function("host_create", host_create)?;
    reg.method("host_destroy", host_destroy)?;
    reg.method("host_connect", host_connect)?;
    reg.event_method("host_service", "single", host_service)?;
    reg.event_method("host_service_batch", "batch", host_service_batch)?;
    reg.method("host_service_into", host_service_into)?;
    reg.event_method("host_check_events", "single", host_check_events)?;
    reg.method("host_flush", host_flush)?;
    reg.method("host_broadcast", host_broadcast)?;
    reg.method("host_address", host_address)?;
    reg.method("host_channel_limit", host_channel_limit)?;
    reg.method("host_bandwidth_limit", host_bandwidth_limit)?;
    reg.method("host_peers", host_peers)?;
    reg.method("host_statistics", host_statistics)?;
    reg.method("host_fd", host_fd)?;
    reg.method("host_compress", host_compress)?;
    Ok(())
}

type Failure = (Value, Option<String>);

fn fail<T: std::fmt::Display>(message: T) -> Failure {
    (Value::Nil, Some(message.to_string()))
}

fn host_create(
    lua: &Lua,
    (address, peers, channels, incoming, outgoing, options): (
        Value,
        Value,
        Value,
        Value,
        Value,
        Value,
    ),
) -> Result<Failure> {
    const F: &str = "host_create";
    let spec = address::spec_arg(&address, F, 1)?;
    let peer_limit = args::opt_integer_in(&peers, F, 2, "peerCount", 1, 1..=MAX_PEERS)? as usize;
    let channels = args::opt_integer_in(&channels, F, 3, "channelCount", 0, 0..=MAX_CHANNELS)?;
    let incoming = args::opt_u32(&incoming, F, 4, "incomingBandwidth")?;
    let outgoing = args::opt_u32(&outgoing, F, 5, "outgoingBandwidth")?;
    let options = options::parse(&options, F, 6)?;
    let bind_addr = match &spec {
        None => None,
        Some(spec) => match resolve::resolve_one(lua, spec, |_| true) {
            Ok(addr) => Some(addr),
            Err(message) => return Ok(fail(message)),
        },
    };
    let mut socket = match EnetSocket::bind(bind_addr) {
        Ok(s) => s,
        Err(e) => return Ok(fail(bind_error(e, bind_addr))),
    };
    let start = Instant::now();
    let mut settings = HostSettings {
        peer_limit,
        channel_limit: if channels == 0 {
            MAX_CHANNELS as usize
        } else {
            channels as usize
        },
        incoming_bandwidth_limit: (incoming != 0).then_some(incoming),
        outgoing_bandwidth_limit: (outgoing != 0).then_some(outgoing),
        // rusty_enet's default clock is wall time: a clock jump would disconnect everyone.
        time: Box::new(move || start.elapsed() + Duration::from_millis(1)),
        ..HostSettings::default()
    };
    options.configure(&mut settings, &mut socket);
    if let Some(secure) = &options.secure {
        match secure_server(lua, secure, &socket, peer_limit)? {
            Ok(link) => socket.secure = Some(link),
            Err(message) => return Ok(fail(message)),
        }
    }
    let mut enet = match EnetHost::new(socket, settings) {
        Ok(h) => h,
        Err(e) => return Ok(fail(format!("cannot create host: {e}"))),
    };
    if let Err(e) = options.apply(&mut enet) {
        return Ok(fail(format!("cannot create host: {e}")));
    }
    let state = State {
        enet: Some(enet),
        slots: (0..peer_limit).map(|_| Slot::default()).collect(),
        undelivered: VecDeque::new(),
    };
    let ud = lua.create_userdata(Host {
        state: Rc::new(RefCell::new(state)),
    })?;
    ud.set_user_value(weak_table(lua)?)?;
    Ok((Value::UserData(ud), None))
}

/// The netcode server of a host created with `options.secure`. Tokens must list its public
/// address (the bound one unless given).
fn secure_server(
    lua: &Lua,
    secure: &options::SecureOptions,
    socket: &EnetSocket,
    peers: usize,
) -> Result<std::result::Result<Box<Link>, String>> {
    let public = match address::spec_arg(&secure.public_address, "host_create", 6)? {
        Some(spec) => match resolve::resolve_one(lua, &spec, |_| true) {
            Ok(addr) => address::canonical(addr),
            Err(message) => return Ok(Err(message)),
        },
        None => match socket.local_addr() {
            Some(addr) => addr,
            None => return Ok(Err("cannot read the bound address".into())),
        },
    };
    let config = ServerConfig {
        private_key: secure.private_key,
        protocol_id: secure.protocol_id,
        addresses: vec![public],
        max_clients: peers,
    };
    Ok(match SecureServer::new(config) {
        Ok(server) => Ok(Box::new(Link::new(Some(server)))),
        Err(e) => Err(format!("cannot create host: {e}")),
    })
}

fn bind_error(e: std::io::Error, addr: Option<SocketAddr>) -> String {
    let what = addr.map_or_else(|| "an ephemeral port".to_string(), address::display);
    match e.kind() {
        std::io::ErrorKind::AddrInUse => format!("address already in use ({what})"),
        _ => format!("cannot bind {what}: {e}"),
    }
}

fn weak_table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let mt = lua.create_table()?;
    mt.raw_set("__mode", "v")?;
    t.set_metatable(Some(mt))?;
    Ok(t)
}

fn host_destroy(_: &Lua, host: Value) -> Result<()> {
    let (_, state) = arg(&host, "host_destroy", 1)?;
    state
        .try_borrow_mut()
        .map_err(|_| busy("host_destroy"))?
        .destroy();
    Ok(())
}

fn host_connect(
    lua: &Lua,
    (host, address, channels, data, token): (Value, Value, Value, Value, Value),
) -> Result<Failure> {
    const F: &str = "host_connect";
    let (ud, state) = arg(&host, F, 1)?;
    let Some(spec) = address::spec_arg(&address, F, 2)? else {
        return Err(bad_argument(
            F,
            2,
            "address table or string expected, got nil",
        ));
    };
    if spec.port == 0 {
        return Err(bad_argument(F, 2, "port must be between 1 and 65535"));
    }
    let channels = args::opt_integer_in(&channels, F, 3, "channelCount", 0, 0..=MAX_CHANNELS)?;
    let data = args::opt_u32(&data, F, 4, "data")?;
    let token = token_arg(&token, F, 5)?;
    let slot = {
        let mut guard = match live(&state, F)? {
            Ok(g) => g,
            Err(message) => return Ok(fail(message)),
        };
        match connect_slot(lua, &mut guard, &spec, channels, data, token.as_deref()) {
            Ok(slot) => slot,
            Err(message) => return Ok(fail(message)),
        }
    };
    match peer::userdata(lua, ud, &state, slot) {
        Ok(peer) => Ok((Value::UserData(peer), None)),
        Err(e) => {
            // No handle, no connection: a retry must not leave a stray one behind.
            cancel_connect(&state, slot);
            Err(e.into())
        }
    }
}

/// `host_connect`'s connect token: nil, or the 2048 bytes the backend issued.
fn token_arg(value: &Value, func: &str, pos: usize) -> Result<Option<Vec<u8>>> {
    match value {
        Value::Nil => Ok(None),
        Value::String(s) if s.as_bytes().len() == CONNECT_TOKEN_BYTES => {
            Ok(Some(s.as_bytes().to_vec()))
        }
        Value::String(s) => Err(bad_argument(
            func,
            pos,
            format!(
                "connect token must be {CONNECT_TOKEN_BYTES} bytes, got {}",
                s.as_bytes().len()
            ),
        )),
        other => Err(type_error(func, pos, "connect token string", other)),
    }
}

/// Starts a connection on a live host: the slot it took, or the failure message.
fn connect_slot(
    lua: &Lua,
    s: &mut State,
    spec: &address::Spec,
    channels: i64,
    data: u32,
    token: Option<&[u8]>,
) -> std::result::Result<usize, String> {
    let enet = s.enet.as_mut().ok_or("host has been destroyed")?;
    let target = address::canonical(resolve::resolve_one(lua, spec, |a| {
        enet.socket().can_reach(a)
    })?);
    check_target(enet.socket(), &target)?;
    let channels = if channels == 0 {
        enet.channel_limit()
    } else {
        channels as usize
    };
    let mtu = enet.mtu();
    match token {
        Some(token) => {
            let link = enet
                .socket_mut()
                .secure
                .get_or_insert_with(|| Box::new(Link::new(None)));
            link.connect(token, target)?;
            // The CONNECT carries the host's MTU: a secure datagram plus netcode's overhead
            // must fit 1280 bytes.
            let _ = enet.set_mtu(mtu.min(MAX_ENET_MTU as u16));
        }
        None if enet.socket().secure.as_ref().is_some_and(|l| l.is_server()) => {
            return Err(
                "a secure host connects only with a connect token (host_connect's 5th argument)"
                    .into(),
            );
        }
        None => {}
    }
    let connected = enet.connect(target, channels, data).map(|p| p.id().0);
    let _ = enet.set_mtu(mtu);
    let Ok(slot) = connected else {
        if let Some(link) = enet
            .socket_mut()
            .secure
            .as_mut()
            .filter(|_| token.is_some())
        {
            link.cancel(target);
        }
        return Err("no free peer slot (peerCount reached)".into());
    };
    if let Some(slot) = s.slots.get_mut(slot) {
        slot.connect_started();
    }
    Ok(slot)
}

fn cancel_connect(state: &Shared, slot: usize) {
    let Ok(mut guard) = state.try_borrow_mut() else {
        return;
    };
    let s = &mut *guard;
    s.secure_forget(slot);
    if let Some(p) = s.enet.as_mut().and_then(|e| e.get_peer_mut(PeerID(slot))) {
        p.reset();
    }
    if let Some(slot) = s.slots.get_mut(slot) {
        slot.end();
    }
}

fn check_target(socket: &EnetSocket, target: &SocketAddr) -> std::result::Result<(), String> {
    if !socket.can_reach(target) {
        return Err(format!(
            "cannot reach {} from this host's socket (address family)",
            address::display(*target)
        ));
    }
    if let SocketAddr::V6(v6) = target {
        if address::is_link_local(v6.ip()) && v6.scope_id() == 0 {
            return Err(format!(
                "link-local address {} needs a scope id (e.g. %eth0)",
                v6.ip()
            ));
        }
    }
    Ok(())
}

/// Out-of-band results of the event functions: `n` records written, or `-1, message`.
type Written = (i64, Option<&'static str>);

/// Writes the events `take` collects into `out` (see event::fill).
fn write_events(
    lua: &Lua,
    (ud, state): (&AnyUserData, Shared),
    out: &Table,
    func: &str,
    payload: Payload,
    take: impl FnOnce(&mut State) -> Vec<Event>,
) -> Result<Written> {
    let events = match with_live(&state, func, take)? {
        Ok(events) => events,
        Err(message) => return Ok((-1, Some(message))),
    };
    let n = events.len() as i64;
    // A frame with nothing to report (the common case of a `service(0)` per frame) costs no
    // Lua work at all.
    if n > 0 {
        if let Err(e) = event::fill(lua, ud, &state, &events, out, payload) {
            give_back(&state, events);
            return Err(e.into());
        }
    }
    Ok((n, None))
}

/// One event as `1, type, peer, channelID | data, packet | reason` (the table is built in
/// src/event.lua), or `0` / `-1, message`: no record table, so nothing for a re-entrant call
/// (from a finalizer) to share.
type Single = (i64, Value, Value, Value, Value);

fn single_event(
    lua: &Lua,
    (ud, state): (&AnyUserData, Shared),
    func: &str,
    take: impl FnOnce(&mut State) -> Option<Event>,
) -> Result<Single> {
    let event = match with_live(&state, func, take)? {
        Ok(event) => event,
        Err(message) => {
            let message = Value::String(lua.create_string(message)?);
            return Ok((-1, message, Value::Nil, Value::Nil, Value::Nil));
        }
    };
    let Some(e) = event else {
        return Ok((0, Value::Nil, Value::Nil, Value::Nil, Value::Nil));
    };
    let handed = peer::userdata_for(lua, ud, &state, e.slot, e.generation)
        .and_then(|peer| Ok((peer, event::values(lua, &e)?)));
    match handed {
        Ok((peer, (kind, x, y))) => Ok((1, kind, Value::UserData(peer), x, y)),
        Err(err) => {
            give_back(&state, std::iter::once(e));
            Err(err.into())
        }
    }
}

/// Events whose hand-over to Lua failed go back to the host (a destroyed one drops them).
fn give_back(
    state: &Shared,
    events: impl IntoIterator<Item = Event, IntoIter: DoubleEndedIterator>,
) {
    if let Ok(mut s) = state.try_borrow_mut() {
        if s.enet.is_some() {
            s.give_back(events.into_iter());
        }
    }
}

/// The Rust half of `host_service`.
fn host_service(lua: &Lua, (host, timeout): (Value, Value)) -> Result<Single> {
    const F: &str = "host_service";
    let host = arg(&host, F, 1)?;
    let timeout = args::opt_millis(&timeout, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)?;
    single_event(lua, host, F, |s| s.service(Duration::from_millis(timeout)))
}

fn host_check_events(lua: &Lua, host: Value) -> Result<Single> {
    const F: &str = "host_check_events";
    single_event(lua, arg(&host, F, 1)?, F, |s| s.check_events())
}

fn host_service_batch(
    lua: &Lua,
    (out, host, timeout, max, payload): (Table, Value, Value, Value, Value),
) -> Result<Written> {
    const F: &str = "host_service_batch";
    let host = arg(&host, F, 1)?;
    let timeout = args::opt_millis(&timeout, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)?;
    let max = args::opt_integer_in(&max, F, 3, "max", 256, 1..=65536)? as usize;
    let payload = match args::opt_boolean(&payload, F, 4)? {
        true => Payload::String,
        false => Payload::Packet,
    };
    write_events(lua, host, &out, F, payload, |s| {
        s.service_batch(Duration::from_millis(timeout), max)
    })
}

/// Events as flat records in the caller's table, payloads as strings: no table per event.
fn host_service_into(
    lua: &Lua,
    (host, timeout, out, max): (Value, Value, Value, Value),
) -> Result<Written> {
    const F: &str = "host_service_into";
    let host = arg(&host, F, 1)?;
    let timeout = args::opt_millis(&timeout, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)?;
    let Value::Table(out) = out else {
        return Err(type_error(F, 3, "table", &out));
    };
    let max = args::opt_integer_in(&max, F, 4, "max", 256, 1..=65536)? as usize;
    write_events(lua, host, &out, F, Payload::String, |s| {
        s.service_batch(Duration::from_millis(timeout), max)
    })
}

/// Runs `f` on a live host; a destroyed one gives `-1, message`.
fn with_live<R>(
    state: &Shared,
    func: &str,
    f: impl FnOnce(&mut State) -> R,
) -> Result<std::result::Result<R, &'static str>> {
    Ok(live(state, func)?.map(|mut s| f(&mut s)))
}

fn status(result: std::result::Result<(), String>) -> (i64, Option<String>) {
    match result {
        Ok(()) => (0, None),
        Err(message) => (-1, Some(message)),
    }
}

fn host_flush(_: &Lua, host: Value) -> Result<(i64, Option<String>)> {
    let (_, state) = arg(&host, "host_flush", 1)?;
    let r = with_live(&state, "host_flush", |s| {
        if let Some(e) = s.enet.as_mut() {
            e.flush();
        }
    })?;
    Ok(status(r.map_err(String::from)))
}

fn host_broadcast(
    _: &Lua,
    (host, channel, packet): (Value, Value, Value),
) -> Result<(i64, Option<String>)> {
    const F: &str = "host_broadcast";
    let (_, state) = arg(&host, F, 1)?;
    let channel = args::integer_in(&channel, F, 2, "channelID", 0..=MAX_CHANNELS - 1)? as u8;
    let packet = packet::arg(&packet, F, 3)?.borrow::<packet::Packet>()?;
    let Some(p) = packet.enet() else {
        return Ok((-1, Some("packet has been destroyed".into())));
    };
    let r = with_live(&state, F, |s| {
        if let Some(e) = s.enet.as_mut() {
            e.broadcast(channel, p);
        }
    })?;
    Ok(status(r.map_err(String::from)))
}

fn host_address(lua: &Lua, host: Value) -> Result<Failure> {
    let (_, state) = arg(&host, "host_address", 1)?;
    let addr = state
        .try_borrow()
        .map_err(|_| busy("host_address"))?
        .local_addr();
    Ok(match addr {
        Some(a) => (Value::Table(address::to_table(lua, a)?), None),
        None => fail("host has been destroyed"),
    })
}

fn host_channel_limit(
    _: &Lua,
    (host, limit): (Value, Value),
) -> Result<(Option<i64>, Option<String>)> {
    const F: &str = "host_channel_limit";
    let (_, state) = arg(&host, F, 1)?;
    let limit = args::opt_integer_in(&limit, F, 2, "channelLimit", -1, 0..=MAX_CHANNELS)?;
    let r = with_live(&state, F, |s| {
        let e = s.enet.as_mut()?;
        if limit >= 0 {
            let limit = if limit == 0 {
                MAX_CHANNELS as usize
            } else {
                limit as usize
            };
            e.set_channel_limit(limit).ok()?;
        }
        Some(e.channel_limit() as i64)
    })?;
    Ok(match r {
        Ok(Some(n)) => (Some(n), None),
        Ok(None) => (None, Some("cannot set channel limit".into())),
        Err(m) => (None, Some(m.into())),
    })
}

fn host_bandwidth_limit(
    lua: &Lua,
    (host, incoming, outgoing): (Value, Value, Value),
) -> Result<(Value, Value)> {
    const F: &str = "host_bandwidth_limit";
    let (_, state) = arg(&host, F, 1)?;
    let set = !incoming.is_nil() || !outgoing.is_nil();
    let incoming = args::opt_u32(&incoming, F, 2, "incomingBandwidth")?;
    let outgoing = args::opt_u32(&outgoing, F, 3, "outgoingBandwidth")?;
    let r = with_live(&state, F, |s| {
        let e = s.enet.as_mut()?;
        if set {
            e.set_bandwidth_limit(
                (incoming != 0).then_some(incoming),
                (outgoing != 0).then_some(outgoing),
            )
            .ok()?;
        }
        let (i, o) = e.bandwidth_limit();
        Some((i.unwrap_or(0), o.unwrap_or(0)))
    })?;
    Ok(match r {
        Ok(Some((i, o))) => (Value::Integer(i.into()), Value::Integer(o.into())),
        Ok(None) => (
            Value::Nil,
            Value::String(lua.create_string("cannot set bandwidth limit")?),
        ),
        Err(m) => (Value::Nil, Value::String(lua.create_string(m)?)),
    })
}

fn host_peers(lua: &Lua, host: Value) -> Result<Failure> {
    let (ud, state) = arg(&host, "host_peers", 1)?;
    let slots: Vec<usize> = match with_live(&state, "host_peers", |s| {
        s.enet
            .as_mut()
            .map(|e| e.connected_peers().map(|p| p.id().0).collect())
            .unwrap_or_default()
    })? {
        Ok(v) => v,
        Err(m) => return Ok(fail(m)),
    };
    let list = lua.create_table_with_capacity(slots.len(), 0)?;
    for slot in slots {
        list.raw_push(peer::userdata(lua, ud, &state, slot)?)?;
    }
    Ok((Value::Table(list), None))
}

fn host_statistics(lua: &Lua, host: Value) -> Result<Failure> {
    let (_, state) = arg(&host, "host_statistics", 1)?;
    let guard = state
        .try_borrow_mut()
        .map_err(|_| busy("host_statistics"))?;
    let Some(enet) = guard.enet.as_ref() else {
        return Ok(fail("host has been destroyed"));
    };
    let st = enet.socket().stats;
    let t = lua.create_table()?;
    t.raw_set("datagrams_received", st.datagrams_received)?;
    t.raw_set("datagrams_sent", st.datagrams_sent)?;
    t.raw_set("bytes_received", st.bytes_received)?;
    t.raw_set("bytes_sent", st.bytes_sent)?;
    t.raw_set("dropped_malformed", st.dropped_malformed)?;
    t.raw_set("dropped_oversized", st.dropped_oversized)?;
    t.raw_set("dropped_too_large", st.dropped_too_large)?;
    let insecure = enet.socket().secure.as_ref().map_or(0, |l| l.dropped());
    t.raw_set("dropped_insecure", insecure)?;
    t.raw_set("send_errors", st.send_errors)?;
    t.raw_set("receive_errors", st.receive_errors)?;
    Ok((Value::Table(t), None))
}

fn host_fd(_: &Lua, host: Value) -> Result<(Option<i64>, Option<String>)> {
    let (_, state) = arg(&host, "host_fd", 1)?;
    let guard = state.try_borrow().map_err(|_| busy("host_fd"))?;
    Ok(match guard.enet.as_ref() {
        Some(e) => (Some(e.socket().raw_fd()), None),
        None => (None, Some("host has been destroyed".into())),
    })
}

/// Switches ENet's range coder on or off; both ends of a connection must agree, as in C.
fn host_compress(_: &Lua, (host, mode): (Value, Value)) -> Result<(i64, Option<String>)> {
    const F: &str = "host_compress";
    let (_, state) = arg(&host, F, 1)?;
    let on = match &mode {
        Value::Nil => false,
        Value::String(s) if s.as_bytes().as_ref() == b"range_coder" => true,
        Value::String(s) => {
            let got = s.to_string_lossy();
            return Err(bad_argument(
                F,
                2,
                format!("\"range_coder\" or nil expected, got \"{got}\""),
            ));
        }
        other => return Err(type_error(F, 2, "\"range_coder\" or nil", other)),
    };
    let r = with_live(&state, F, |s| {
        if let Some(e) = s.enet.as_ref() {
            e.socket().filter.compression.set(on);
        }
    })?;
    Ok(status(r.map_err(String::from)))
}

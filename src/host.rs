//! ENetHost: a rusty_enet host on our socket, shared with the peer handles that point into it.
//! The host is a userdata of ours (src/object.rs); the event functions are raw functions, the
//! rest are written on mlua.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::os::raw::c_int;
use std::rc::Rc;
use std::time::{Duration, Instant};

use mlua::{ffi, AnyUserData, Lua, Value};
use rusty_enet::{EventNoRef, HostSettings, PeerID, PeerState};

use crate::address;
use crate::args::{self, raw as raw_args};
use crate::error::{bad_argument, raise, type_error, Msg, Result};
use crate::event::{self, Event, Kind, Outcome, Shape};
use crate::object::{self, Class, HostBlock, LuaState};
use crate::options;
use crate::packet::{self, check};
use crate::peer;
use crate::registry::Registry;
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
    /// Events taken from rusty_enet and not yet handed to Lua, oldest first. An event leaves
    /// only once every Lua object for it exists (src/event.rs): an allocation failure (or a
    /// finalizer error) while building them never costs an event.
    undelivered: VecDeque<Event>,
    /// How many events have left `undelivered`: a raw function that built Lua objects for the
    /// events at its front checks this did not move (a finalizer may have called the host)
    /// before it takes them.
    taken: u64,
}

pub type Shared = Rc<RefCell<State>>;

/// Where the events a raw function hands over come from.
#[derive(Clone, Copy)]
pub enum Fetch {
    /// Service the host, waiting up to this long for the first event.
    Service(Duration),
    /// Only events rusty_enet already has (`host_check_events`): no socket I/O.
    Queued,
}

impl Fetch {
    /// The same source without waiting.
    pub fn no_wait(self) -> Fetch {
        match self {
            Fetch::Service(_) => Fetch::Service(Duration::ZERO),
            Fetch::Queued => Fetch::Queued,
        }
    }
}

impl State {
    fn new(enet: EnetHost, peer_limit: usize) -> State {
        State {
            enet: Some(enet),
            slots: (0..peer_limit).map(|_| Slot::default()).collect(),
            undelivered: VecDeque::new(),
            taken: 0,
        }
    }

    /// The state of a host whose userdata was already finalized (reachable only from another
    /// finalizer): destroyed.
    fn ended() -> State {
        State {
            enet: None,
            slots: Vec::new(),
            undelivered: VecDeque::new(),
            taken: 0,
        }
    }

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
        self.taken = self.taken.wrapping_add(self.undelivered.len() as u64);
        self.undelivered.clear();
    }

    /// Services rusty_enet until it reports an event (queued) or `timeout` has passed.
    fn receive(&mut self, timeout: Duration) -> bool {
        // The clock is read only once a pass found nothing and there is a wait ahead: a poll
        // (timeout 0, the per-frame call) and an event rusty_enet already had read none.
        // clock_gettime costs ~25 ns on the development VM (docs/performance.md).
        let mut deadline = None;
        let queued = self.undelivered.len();
        loop {
            let Some(enet) = self.enet.as_mut() else {
                return false;
            };
            enet.socket_mut().secure_tick();
            // A socket error is already counted by our socket; it never ends the wait.
            let event = match enet.service() {
                Ok(Some(event)) => Some(event.no_ref()),
                _ => None,
            };
            self.after_service(event.as_ref());
            if let Some(event) = event {
                let event = self.own(event);
                self.undelivered.push_back(event);
                return true;
            }
            // Disconnects that netcode ended (secure mode) are queued by after_service.
            if self.undelivered.len() > queued {
                return true;
            }
            if timeout.is_zero() {
                return false;
            }
            let now = Instant::now();
            // Counted from the end of the first pass: later by that pass's few microseconds.
            let deadline = *deadline.get_or_insert(now + timeout);
            if now >= deadline {
                return false;
            }
            let Some(enet) = self.enet.as_ref() else {
                return false;
            };
            let socket = enet.socket();
            // netcode resends requests and keep-alives on its own clock, not ENet's.
            let wait = match socket.secure.as_ref().is_some_and(|l| l.is_active()) {
                true => (deadline - now).min(SEND_INTERVAL),
                false => deadline - now,
            };
            socket.wait_readable(wait);
        }
    }

    /// Queues an event rusty_enet already has, without socket I/O.
    fn receive_queued(&mut self) -> bool {
        let Some(event) = self
            .enet
            .as_mut()
            .and_then(|e| e.check_events())
            .map(|e| e.no_ref())
        else {
            return false;
        };
        let event = self.own(event);
        self.undelivered.push_back(event);
        true
    }

    /// Makes up to `max` events ready at the front of the queue: waits as `fetch` says for the
    /// first, then takes whatever else is ready without waiting. Returns how many are ready.
    pub fn ready(&mut self, fetch: Fetch, max: usize) -> usize {
        let more = |s: &mut State, first: bool| match fetch {
            Fetch::Service(t) => s.receive(if first { t } else { Duration::ZERO }),
            Fetch::Queued => s.receive_queued(),
        };
        if self.undelivered.is_empty() && !more(self, true) {
            return 0;
        }
        while self.undelivered.len() < max && more(self, false) {}
        self.undelivered.len().min(max)
    }

    /// The `i`th event not yet handed over.
    pub fn undelivered(&self, i: usize) -> Option<&Event> {
        self.undelivered.get(i)
    }

    /// How many events have been handed over (see the field).
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Hands the first `n` events over: Lua has them now.
    pub fn take(&mut self, n: usize) {
        let n = n.min(self.undelivered.len());
        // The usual call takes one event, and a Drain costs ~100 instructions more (callgrind).
        if n == 1 {
            self.undelivered.pop_front();
        } else {
            self.undelivered.drain(..n);
        }
        self.taken = self.taken.wrapping_add(n as u64);
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

/// The host argument of a function written on mlua and its state, or a misuse error naming
/// `func`.
pub fn arg<'a>(value: &'a Value, func: &str, pos: usize) -> Result<(&'a AnyUserData, Shared)> {
    match (value, object::block_of(value, Class::Host)?) {
        (Value::UserData(ud), Some(p)) => {
            // SAFETY: `value` holds the host userdata alive for this call.
            let state = unsafe { (*p.cast::<HostBlock>()).state.clone() };
            let state = state.unwrap_or_else(|| Rc::new(RefCell::new(State::ended())));
            Ok((ud, state))
        }
        _ => Err(type_error(func, pos, "ENetHost", value)),
    }
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
    reg.raw_method("host_service", host_service)?;
    reg.raw_method("host_service_batch", host_service_batch)?;
    reg.raw_method("host_service_into", host_service_into)?;
    reg.raw_method("host_check_events", host_check_events)?;
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
    let ud = object::new_host(lua, Rc::new(RefCell::new(State::new(enet, peer_limit))))?;
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

/// The host block at `idx`, or the `bad argument` message.
///
/// # Safety
/// Inside a raw function (the host metatable is an upvalue).
unsafe fn raw_arg(
    l: LuaState,
    idx: c_int,
    func: &str,
    pos: c_int,
) -> raw_args::Result<*const HostBlock> {
    unsafe {
        object::arg::<HostBlock>(l, idx, (Class::Host, "ENetHost"), func, pos)
            .map(|p| p.cast_const())
    }
}

const DESTROYED: &str = "host has been destroyed";

/// Pushes `-1, "host has been destroyed"`.
unsafe fn push_destroyed(l: LuaState) -> c_int {
    unsafe {
        ffi::lua_pushinteger(l, -1);
        ffi::lua_pushlstring(l, DESTROYED.as_ptr().cast(), DESTROYED.len());
    }
    2
}

/// Pushes the peer cache of the host at argument 1; returns its index.
unsafe fn push_cache(l: LuaState) -> c_int {
    unsafe {
        ffi::lua_getuservalue(l, 1);
        ffi::lua_gettop(l)
    }
}

/// `event::ready`, or what the raw function returns when nothing is: `0` pushed (no event) or
/// the destroyed host's `-1, message`.
///
/// # Safety
/// Inside a raw function.
unsafe fn ready(
    l: LuaState,
    func: &str,
    state: &Shared,
    fetch: Fetch,
    max: usize,
) -> std::result::Result<(usize, u64), c_int> {
    // SAFETY: as the caller's.
    unsafe {
        match event::ready(l, func, state, fetch, max) {
            Some((0, _)) => {
                ffi::lua_pushinteger(l, 0);
                Err(1)
            }
            Some(found) => Ok(found),
            None => Err(push_destroyed(l)),
        }
    }
}

/// `host_service` and `host_check_events`: `1, event`, `0` or `-1, message`.
unsafe fn single_event(l: LuaState, func: &str, host: *const HostBlock, fetch: Fetch) -> c_int {
    // SAFETY: the host is argument 1, alive for the call, and its state with it.
    unsafe {
        let Some(state) = (*host).state.as_ref() else {
            return push_destroyed(l);
        };
        let found = match ready(l, func, state, fetch, 1) {
            Ok(found) => found,
            Err(results) => return results,
        };
        let cache = push_cache(l);
        match event::hand_over(l, func, state, cache, fetch, 1, found, Shape::Table) {
            Outcome::Destroyed => push_destroyed(l),
            Outcome::Delivered(0) => {
                ffi::lua_pushinteger(l, 0);
                1
            }
            Outcome::Delivered(_) | Outcome::Fallback => {
                ffi::lua_pushinteger(l, 1);
                ffi::lua_insert(l, -2);
                2
            }
        }
    }
}

/// `host_service(host, timeout?) -> 1, event | 0 | -1, message`.
unsafe extern "C-unwind" fn host_service(l: LuaState) -> c_int {
    const F: &str = "host_service";
    // SAFETY: raw function (src/object.rs rules).
    unsafe {
        let host = check!(l, raw_arg(l, 1, F, 1));
        let timeout = check!(
            l,
            raw_args::opt_millis(l, 2, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)
        );
        single_event(l, F, host, Fetch::Service(Duration::from_millis(timeout)))
    }
}

/// `host_check_events(host) -> 1, event | 0 | -1, message`.
unsafe extern "C-unwind" fn host_check_events(l: LuaState) -> c_int {
    const F: &str = "host_check_events";
    // SAFETY: raw function (src/object.rs rules).
    unsafe {
        let host = check!(l, raw_arg(l, 1, F, 1));
        single_event(l, F, host, Fetch::Queued)
    }
}

/// The `max` argument of the batch functions.
unsafe fn max_arg(l: LuaState, idx: c_int, func: &str) -> raw_args::Result<usize> {
    let max = unsafe { raw_args::opt_integer_in(l, idx, func, idx, "max", 256, 1, 65536)? };
    Ok(max as usize)
}

/// `host_service_batch(host, timeout?, max?, payload?) -> n, events | -1, message`.
unsafe extern "C-unwind" fn host_service_batch(l: LuaState) -> c_int {
    const F: &str = "host_service_batch";
    // SAFETY: raw function (src/object.rs rules); the host is argument 1.
    unsafe {
        let host = check!(l, raw_arg(l, 1, F, 1));
        let timeout = check!(
            l,
            raw_args::opt_millis(l, 2, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)
        );
        let max = check!(l, max_arg(l, 3, F));
        let payload = check!(l, raw_args::opt_boolean(l, 4, F, 4));
        let Some(state) = (*host).state.as_ref() else {
            return push_destroyed(l);
        };
        let fetch = Fetch::Service(Duration::from_millis(timeout));
        let Some(found) = event::ready(l, F, state, fetch, max) else {
            return push_destroyed(l);
        };
        let cache = push_cache(l);
        match event::hand_over(
            l,
            F,
            state,
            cache,
            fetch,
            max,
            found,
            Shape::List { payload },
        ) {
            Outcome::Destroyed => push_destroyed(l),
            outcome => {
                ffi::lua_pushinteger(l, outcome.count() as ffi::lua_Integer);
                ffi::lua_insert(l, -2);
                2
            }
        }
    }
}

/// `host_service_into(host, timeout?, out, max?) -> n | -1, message`: events as flat records
/// in the caller's table, payloads as strings: no table per event.
unsafe extern "C-unwind" fn host_service_into(l: LuaState) -> c_int {
    const F: &str = "host_service_into";
    // SAFETY: raw function (src/object.rs rules); the host is argument 1, `out` argument 3.
    unsafe {
        let host = check!(l, raw_arg(l, 1, F, 1));
        let timeout = check!(
            l,
            raw_args::opt_millis(l, 2, F, 2, DEFAULT_SERVICE_TIMEOUT_MS)
        );
        if ffi::lua_type(l, 3) != ffi::LUA_TTABLE {
            let m = raw_args::type_error(l, 3, F, 3, "table");
            raise(l, &m)
        }
        let max = check!(l, max_arg(l, 4, F));
        let Some(state) = (*host).state.as_ref() else {
            return push_destroyed(l);
        };
        let fetch = Fetch::Service(Duration::from_millis(timeout));
        let found = match ready(l, F, state, fetch, max) {
            Ok(found) => found,
            Err(results) => return results,
        };
        let cache = push_cache(l);
        let shape = Shape::Records { out: 3 };
        match event::hand_over(l, F, state, cache, fetch, max, found, shape) {
            Outcome::Destroyed => push_destroyed(l),
            outcome => {
                ffi::lua_pushinteger(l, outcome.count() as ffi::lua_Integer);
                1
            }
        }
    }
}

/// `__gc`: a host that becomes garbage closes its socket; peer handles keep only the husk.
pub unsafe extern "C-unwind" fn gc(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe { finalize(l, Class::Host) }
}

/// Destroys the host whose block (metatable `mt`) is argument 1: the `__gc` of hosts and of
/// compat's host proxies.
///
/// # Safety
/// A raw function's body: `l` is the running state.
pub unsafe fn finalize(l: LuaState, class: Class) -> c_int {
    // SAFETY: Rust only inside `rust`; a panic there is dropped (a finalizer has nobody to
    // tell).
    unsafe {
        let p = object::block(l, 1, class).cast::<HostBlock>();
        if !p.is_null() {
            let state = (*p).state.take();
            let _ = object::rust(move || {
                if let Some(state) = &state {
                    if let Ok(mut s) = state.try_borrow_mut() {
                        s.destroy();
                    }
                }
            });
        }
        0
    }
}

/// `__close` (Lua 5.4+): the host is destroyed when its variable goes out of scope.
#[cfg(any(feature = "lua54", feature = "lua55"))]
pub unsafe extern "C-unwind" fn close(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = object::block(l, 1, Class::Host).cast::<HostBlock>();
        if !p.is_null() {
            if let Some(state) = (*p).state.as_ref() {
                let _ = object::rust(|| {
                    if let Ok(mut s) = state.try_borrow_mut() {
                        s.destroy();
                    }
                });
            }
        }
        0
    }
}

/// `__tostring`: `ENetHost(127.0.0.1:6789)` or `ENetHost(destroyed)`.
pub unsafe extern "C-unwind" fn tostring(l: LuaState) -> c_int {
    const F: &str = "__tostring";
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = check!(l, raw_arg(l, 1, F, 1));
        let m = object::rust_or_raise(l, F, || {
            let addr = (*p)
                .state
                .as_ref()
                .and_then(|s| s.try_borrow().ok().and_then(|s| s.local_addr()));
            match addr {
                Some(addr) => Msg::of(format_args!("ENetHost({})", address::display(addr))),
                None => Msg::of("ENetHost(destroyed)"),
            }
        });
        m.push(l);
        1
    }
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
    let Some(p) = packet::enet_arg(&packet, F, 3)? else {
        return Ok((-1, Some("packet has been destroyed".into())));
    };
    let r = with_live(&state, F, |s| {
        let Some(e) = s.enet.as_mut() else {
            return Ok(());
        };
        // rusty_enet (as C ENet) skips every peer quietly when the packet is too large.
        peer::check_size(p.data().len(), e.maximum_packet_size()).map_err(|m| m.to_string())?;
        e.broadcast(channel, &p);
        Ok(())
    })?;
    Ok(status(r.map_err(String::from).and_then(|r| r)))
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

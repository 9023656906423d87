//! Events: `{type=, peer=, channelID=, data=, packet= | payload=, reason=}`, lists of them, or
//! flat records of four values, built by [`hand_over`] for the raw event functions (host.rs,
//! compat.rs) straight on Lua's C API: a table pre-sized for its fields, keys held in upvalues,
//! the peer handle found with one raw lookup in the host's cache.
//!
//! Out of memory (or a finalizer error, on Lua 5.1-5.3) may strike at any allocation, so an
//! event stays in the host's queue until every Lua object for it exists; only then is it taken,
//! and nothing after that allocates. An allocation may also run a finalizer that calls the same
//! host and takes the events first: `hand_over` notices (the queue's `taken` count moved) and
//! starts over with whatever is at the front then.

use std::os::raw::c_int;
use std::ptr;

use mlua::ffi;

use crate::error::{raise, Msg};
use crate::host::{Fetch, Shared};
use crate::object::{
    self, rust_or_raise, upvalue, LuaState, PACKET_MT, PEER_MT, RECEIVED, S_CHANNEL_ID, S_DATA,
    S_DISCONNECT, S_PACKET, S_PAYLOAD, S_PEER, S_REASON, S_TIMEOUT, S_TYPE,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connect = 1,
    Disconnect = 2,
    Receive = 3,
}

/// An event detached from rusty_enet's borrow of the host.
pub struct Event {
    pub kind: Kind,
    pub slot: usize,
    /// The connection (slot generation) the event belongs to.
    pub generation: u64,
    pub channel: u8,
    pub data: u32,
    pub packet: Option<rusty_enet::Packet>,
    pub reason: Option<&'static str>,
}

impl Event {
    pub fn new(kind: Kind, slot: usize, generation: u64, data: u32) -> Event {
        Event {
            kind,
            slot,
            generation,
            channel: 0,
            data,
            packet: None,
            reason: None,
        }
    }

    /// The third value of the event's record: the channel of a receive event, else the data.
    pub fn channel_or_data(&self) -> i64 {
        match self.kind {
            Kind::Receive => i64::from(self.channel),
            _ => i64::from(self.data),
        }
    }
}

/// How [`hand_over`] hands events over. Indices are absolute stack indices.
#[derive(Clone, Copy)]
pub enum Shape {
    /// One event table, left on the stack (`host_service`, `host_check_events`).
    Table,
    /// A list of event tables, left on the stack (`host_service_batch`); receive events carry
    /// the bytes as `payload` strings instead of `packet` objects when `payload` is set.
    List { payload: bool },
    /// Event `i` as `out[4i-3..4i]`: type, peer, channelID or data, payload or reason
    /// (`host_service_into`).
    Records { out: c_int },
    /// lua-enet's receive event `{type = "receive", peer = proxy, data = bytes, channel = n}`
    /// when the peer handle has a proxy in the table at `proxies`; any other event as `Table`,
    /// for compat.lua to finish (`Outcome::Fallback`). `strings` is the upvalue index of
    /// compat's "receive", then "channel".
    Compat { proxies: c_int, strings: c_int },
}

pub enum Outcome {
    Destroyed,
    /// This many events were handed over (0: none before the timeout).
    Delivered(usize),
    /// One event, as a module event table for compat.lua to finish.
    Fallback,
}

impl Outcome {
    pub fn count(&self) -> usize {
        match self {
            Outcome::Destroyed => 0,
            Outcome::Delivered(n) => *n,
            Outcome::Fallback => 1,
        }
    }
}

/// Payloads up to this size are copied to the C stack while the event is looked at, and made
/// into a Lua string from there; larger ones go through a scratch userdata. A Lua string is
/// never made straight from the event's own buffer: Lua 5.1 and LuaJIT may run a collection
/// step (and a finalizer that takes the event) before copying.
const SMALL: usize = 2048;

/// More restarts than this means finalizers keep taking the events: report the host busy.
const RESTARTS: usize = 100;

/// What a look at the queue found.
enum Look<T> {
    Found(T),
    /// The events moved (taken by a finalizer, or the host destroyed): start over.
    Moved,
    /// The host is borrowed by a call further down the stack.
    Busy,
}

/// An event's values, copied out of the queue (nothing borrowed, nothing to drop).
#[derive(Clone, Copy)]
struct Summary {
    kind: Kind,
    slot: usize,
    generation: u64,
    channel_or_data: i64,
    reason: Option<&'static str>,
    len: usize,
}

/// Makes up to `max` events of a host ready (`State::ready`): how many, and the host's
/// `taken` count they go with; None for a destroyed host. Touches no Lua value, so a call that
/// finds nothing (the usual per-frame poll) costs no Lua work at all.
///
/// # Safety
/// Inside a raw function; raises (the host is busy, or a panic) with nothing to free.
pub unsafe fn ready(
    l: LuaState,
    func: &str,
    state: &Shared,
    fetch: Fetch,
    max: usize,
) -> Option<(usize, u64)> {
    let ready = unsafe {
        rust_or_raise(l, func, || {
            let Ok(mut s) = state.try_borrow_mut() else {
                return Look::Busy;
            };
            if s.enet.is_none() {
                return Look::Moved;
            }
            let n = s.ready(fetch, max);
            Look::Found((n, s.taken()))
        })
    };
    match ready {
        Look::Found(found) => Some(found),
        Look::Moved => None,
        Look::Busy => unsafe { raise(l, &Msg::busy(func)) },
    }
}

/// Hands the events [`ready`] found (`found`) over to Lua in `shape`; `cache` is the stack
/// index of the host's peer cache. The result (a table or a list) is left on top of the stack
/// but for `Records`. `fetch` and `max` are [`ready`]'s, for a restart.
///
/// # Safety
/// Inside a raw function with the standard upvalues; the host userdata must be on the stack
/// (so `state` outlives the call), and no Rust value with a destructor may be alive in the
/// caller: this allocates and may raise.
#[allow(clippy::too_many_arguments)]
pub unsafe fn hand_over(
    l: LuaState,
    func: &str,
    state: &Shared,
    cache: c_int,
    fetch: Fetch,
    max: usize,
    found: (usize, u64),
    shape: Shape,
) -> Outcome {
    unsafe {
        if ffi::lua_type(l, cache) != ffi::LUA_TTABLE {
            raise(l, &Msg::internal(func))
        }
        // A raw function may use LUA_MINSTACK (20) slots; building an event takes up to 8 more
        // than its caller's, which may have used some already.
        ffi::luaL_checkstack(l, 12, c"module_enet".as_ptr());
        ffi::lua_pushnil(l);
        let mut peers = Peers {
            cache,
            last: ffi::lua_gettop(l),
            connection: None,
        };
        let base = ffi::lua_gettop(l);
        let (mut n, mut epoch) = found;
        for _ in 0..RESTARTS {
            if n == 0 {
                if let Shape::List { .. } = shape {
                    ffi::lua_createtable(l, 0, 0);
                }
                return Outcome::Delivered(0);
            }
            let list = match shape {
                Shape::List { .. } => {
                    ffi::lua_createtable(l, n as c_int, 0);
                    ffi::lua_gettop(l)
                }
                _ => 0,
            };
            let mut fallback = false;
            let mut built = true;
            for i in 0..n {
                match build(l, func, state, epoch, i, shape, &mut peers) {
                    Look::Found(f) => fallback |= f,
                    Look::Moved => {
                        built = false;
                        break;
                    }
                    Look::Busy => raise(l, &Msg::busy(func)),
                }
                if list != 0 {
                    // Pre-sized array part: storing never allocates.
                    ffi::lua_rawseti(l, list, i as ffi::lua_Integer + 1);
                }
            }
            if built {
                // Every Lua object exists: take the events. Nothing below allocates.
                let taken = rust_or_raise(l, func, || {
                    let Ok(mut s) = state.try_borrow_mut() else {
                        return Look::Busy;
                    };
                    if s.taken() != epoch || s.enet.is_none() {
                        return Look::Moved;
                    }
                    s.take(n);
                    Look::Found(())
                });
                match taken {
                    Look::Found(()) => {
                        return if fallback {
                            Outcome::Fallback
                        } else {
                            Outcome::Delivered(n)
                        };
                    }
                    Look::Moved => {}
                    Look::Busy => raise(l, &Msg::busy(func)),
                }
            }
            // A finalizer took the events (or destroyed the host) while they were built: start
            // over with what is ready now, without waiting again.
            ffi::lua_settop(l, base);
            match ready(l, func, state, fetch.no_wait(), max) {
                Some(found) => (n, epoch) = found,
                None => return Outcome::Destroyed,
            }
        }
        raise(l, &Msg::busy(func))
    }
}

/// Finds the peer handles of a call's events: the host's cache, and the last handle found, kept
/// at stack index `last` (a burst of events usually comes from one connection).
struct Peers {
    cache: c_int,
    last: c_int,
    /// The slot and generation of the handle at `last`.
    connection: Option<(usize, u64)>,
}

impl Peers {
    /// Pushes the handle of connection `generation` of `slot` (see `object::push_peer`).
    ///
    /// # Safety
    /// As [`build`].
    unsafe fn push(&mut self, l: LuaState, state: &Shared, slot: usize, generation: u64) {
        unsafe {
            if self.connection == Some((slot, generation)) {
                ffi::lua_pushvalue(l, self.last);
                return;
            }
            object::push_peer(l, self.cache, upvalue(PEER_MT), state, slot, generation);
            ffi::lua_pushvalue(l, -1);
            ffi::lua_replace(l, self.last);
            self.connection = Some((slot, generation));
        }
    }
}

/// Builds the Lua value(s) of the `i`th ready event in `shape`: for `Table`, `List` and
/// `Compat` one table left on the stack, for `Records` four entries of `out`. Found(true) when
/// a `Compat` event fell back to a module event table.
///
/// # Safety
/// As [`hand_over`].
unsafe fn build(
    l: LuaState,
    func: &str,
    state: &Shared,
    epoch: u64,
    i: usize,
    shape: Shape,
    peers: &mut Peers,
) -> Look<bool> {
    let strings = !matches!(shape, Shape::Table | Shape::List { payload: false });
    // Uninitialised (no 2 KiB memset per event): `look` writes the first `len` bytes before
    // anything reads them, and only those are read.
    let mut buffer = std::mem::MaybeUninit::<[u8; SMALL]>::uninit();
    let small = buffer.as_mut_ptr().cast::<u8>();
    let e = match rust_or_raise(l, func, || look(state, epoch, i, strings.then_some(small))) {
        Look::Found(e) => e,
        Look::Moved => return Look::Moved,
        Look::Busy => return Look::Busy,
    };
    unsafe {
        match shape {
            Shape::Records { out } => {
                let k = 4 * i as ffi::lua_Integer;
                ffi::lua_pushinteger(l, e.kind as ffi::lua_Integer);
                ffi::lua_rawseti(l, out, k + 1);
                peers.push(l, state, e.slot, e.generation);
                ffi::lua_rawseti(l, out, k + 2);
                ffi::lua_pushinteger(l, e.channel_or_data);
                ffi::lua_rawseti(l, out, k + 3);
                match push_last(l, func, state, epoch, i, &e, small, true) {
                    Look::Found(()) => {}
                    other => return other.map(|()| false),
                }
                ffi::lua_rawseti(l, out, k + 4);
                Look::Found(false)
            }
            Shape::Compat { proxies, strings } if e.kind == Kind::Receive => {
                peers.push(l, state, e.slot, e.generation);
                let proxy_type = ffi::lua_rawget(l, proxies);
                let proxy = ffi::lua_gettop(l);
                if proxy_type != ffi::LUA_TUSERDATA {
                    ffi::lua_pop(l, 1);
                    return event_table(l, func, peers, state, epoch, i, &e, small, false)
                        .map(|()| true);
                }
                ffi::lua_createtable(l, 0, 4);
                let t = ffi::lua_gettop(l);
                ffi::lua_pushvalue(l, upvalue(S_TYPE));
                ffi::lua_pushvalue(l, upvalue(strings));
                ffi::lua_rawset(l, t);
                ffi::lua_pushvalue(l, upvalue(S_PEER));
                ffi::lua_pushvalue(l, proxy);
                ffi::lua_rawset(l, t);
                ffi::lua_pushvalue(l, upvalue(strings + 1));
                ffi::lua_pushinteger(l, e.channel_or_data);
                ffi::lua_rawset(l, t);
                ffi::lua_pushvalue(l, upvalue(S_DATA));
                match push_last(l, func, state, epoch, i, &e, small, true) {
                    Look::Found(()) => {}
                    other => return other.map(|()| false),
                }
                ffi::lua_rawset(l, t);
                ffi::lua_replace(l, proxy);
                Look::Found(false)
            }
            Shape::Compat { .. } => {
                event_table(l, func, peers, state, epoch, i, &e, small, false).map(|()| true)
            }
            Shape::Table => {
                event_table(l, func, peers, state, epoch, i, &e, small, false).map(|()| false)
            }
            Shape::List { payload } => {
                event_table(l, func, peers, state, epoch, i, &e, small, payload).map(|()| false)
            }
        }
    }
}

impl<T> Look<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Look<U> {
        match self {
            Look::Found(t) => Look::Found(f(t)),
            Look::Moved => Look::Moved,
            Look::Busy => Look::Busy,
        }
    }
}

/// Pushes `{type=, peer=, channelID=, data=, packet= | payload= | reason=}` for event `e`.
///
/// # Safety
/// As [`build`].
#[allow(clippy::too_many_arguments)]
unsafe fn event_table(
    l: LuaState,
    func: &str,
    peers: &mut Peers,
    state: &Shared,
    epoch: u64,
    i: usize,
    e: &Summary,
    small: *mut u8,
    payload: bool,
) -> Look<()> {
    unsafe {
        // Five fields at most: the hash part is sized for them, so setting them never allocates.
        ffi::lua_createtable(l, 0, 5);
        let t = ffi::lua_gettop(l);
        ffi::lua_pushvalue(l, upvalue(S_TYPE));
        ffi::lua_pushinteger(l, e.kind as ffi::lua_Integer);
        ffi::lua_rawset(l, t);
        ffi::lua_pushvalue(l, upvalue(S_PEER));
        peers.push(l, state, e.slot, e.generation);
        ffi::lua_rawset(l, t);
        let (channel, data) = match e.kind {
            Kind::Receive => (e.channel_or_data, 0),
            _ => (0, e.channel_or_data),
        };
        ffi::lua_pushvalue(l, upvalue(S_CHANNEL_ID));
        ffi::lua_pushinteger(l, channel);
        ffi::lua_rawset(l, t);
        ffi::lua_pushvalue(l, upvalue(S_DATA));
        ffi::lua_pushinteger(l, data);
        ffi::lua_rawset(l, t);
        let key = match e.kind {
            Kind::Receive if payload => S_PAYLOAD,
            Kind::Receive => S_PACKET,
            Kind::Disconnect => S_REASON,
            Kind::Connect => return Look::Found(()),
        };
        ffi::lua_pushvalue(l, upvalue(key));
        match push_last(l, func, state, epoch, i, e, small, payload) {
            Look::Found(()) => {}
            other => return other,
        }
        ffi::lua_rawset(l, t);
        Look::Found(())
    }
}

/// Pushes the last value of an event: the payload (a string if `as_string`, else a packet
/// object) of a receive event, the reason of a disconnect event, nil for a connect event.
///
/// # Safety
/// As [`build`]; for a string, `small` holds the payload when it is at most `SMALL` bytes.
#[allow(clippy::too_many_arguments)]
unsafe fn push_last(
    l: LuaState,
    func: &str,
    state: &Shared,
    epoch: u64,
    i: usize,
    e: &Summary,
    small: *mut u8,
    as_string: bool,
) -> Look<()> {
    unsafe {
        match e.kind {
            Kind::Connect => ffi::lua_pushnil(l),
            Kind::Disconnect => match e.reason {
                Some("disconnect") => ffi::lua_pushvalue(l, upvalue(S_DISCONNECT)),
                Some("timeout") => ffi::lua_pushvalue(l, upvalue(S_TIMEOUT)),
                Some(other) => {
                    ffi::lua_pushlstring(l, other.as_ptr().cast(), other.len());
                }
                None => ffi::lua_pushnil(l),
            },
            Kind::Receive if as_string && e.len <= SMALL => {
                ffi::lua_pushlstring(l, small.cast(), e.len);
            }
            Kind::Receive => {
                let dst = if as_string {
                    object::new_userdata(l, e.len, 0).cast::<u8>()
                } else {
                    object::new_packet(l, upvalue(PACKET_MT), e.len, RECEIVED)
                };
                match rust_or_raise(l, func, || copy_payload(state, epoch, i, dst, e.len)) {
                    Look::Found(()) => {}
                    other => return other,
                }
                if as_string {
                    // The scratch userdata is on the stack: alive while the string is made.
                    ffi::lua_pushlstring(l, dst.cast(), e.len);
                    ffi::lua_remove(l, -2);
                }
            }
        }
        Look::Found(())
    }
}

/// The `i`th ready event's values, if the queue is as `epoch` left it; its payload copied to
/// `small` when asked and short enough.
fn look(state: &Shared, epoch: u64, i: usize, small: Option<*mut u8>) -> Look<Summary> {
    let Ok(s) = state.try_borrow() else {
        return Look::Busy;
    };
    if s.taken() != epoch || s.enet.is_none() {
        return Look::Moved;
    }
    let Some(e) = s.undelivered(i) else {
        return Look::Moved;
    };
    let bytes = e.packet.as_ref().map_or(&[][..], |p| p.data());
    if let Some(small) = small {
        if bytes.len() <= SMALL {
            // SAFETY: `small` is a SMALL-byte buffer in the caller's frame.
            unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), small, bytes.len()) };
        }
    }
    Look::Found(Summary {
        kind: e.kind,
        slot: e.slot,
        generation: e.generation,
        channel_or_data: e.channel_or_data(),
        reason: e.reason,
        len: bytes.len(),
    })
}

/// Copies the `i`th ready event's payload (`len` bytes) to `dst`, if the queue is as `epoch`
/// left it.
fn copy_payload(state: &Shared, epoch: u64, i: usize, dst: *mut u8, len: usize) -> Look<()> {
    let Ok(s) = state.try_borrow() else {
        return Look::Busy;
    };
    if s.taken() != epoch || s.enet.is_none() {
        return Look::Moved;
    }
    match s.undelivered(i).and_then(|e| e.packet.as_ref()) {
        Some(p) if p.data().len() == len => {
            // SAFETY: `dst` is a fresh userdata block of at least `len` bytes, on the Lua stack.
            unsafe { ptr::copy_nonoverlapping(p.data().as_ptr(), dst, len) };
            Look::Found(())
        }
        _ => Look::Moved,
    }
}

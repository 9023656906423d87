//! Events: `{type=, peer=, channelID=, data=, packet= | payload=, reason=}`.
//!
//! Events leave Rust as flat records of four values: returned (`values`, one event) or written
//! into a Lua table (`fill`, batches); the tables themselves are built by the Lua wrappers in
//! src/event.lua, or not at all by `host_service_into`. Writing a record costs a few raw C API
//! calls; building the same table through mlua cost about 9 000 instructions per event
//! (bench/profile.sh).

use std::os::raw::c_int;

use mlua::{ffi, AnyUserData, Lua, Table, Value};

use crate::host::Shared;
use crate::packet::Packet;
use crate::peer;

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

/// The Lua wrappers that turn records into event tables (see `Registry::event_method`).
pub const WRAPPERS: &str = include_str!("event.lua");

/// What the last value of a receive record is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// An ENetPacket userdata (the seed API).
    Packet,
    /// The bytes as a Lua string.
    String,
}

/// The record of one event past its peer, as values: type, channelID (receive) or data, then
/// the packet (receive) or the reason (disconnect) or nil.
pub fn values(lua: &Lua, e: &Event) -> mlua::Result<(Value, Value, Value)> {
    let (kind, x) = (e.kind as i64, e.channel_or_data());
    let y = match (&e.packet, e.reason) {
        (Some(p), _) => Value::UserData(lua.create_userdata(Packet::received(p.clone()))?),
        (None, Some(reason)) => Value::String(lua.create_string(reason)?),
        (None, None) => Value::Nil,
    };
    Ok((Value::Integer(kind), Value::Integer(x), y))
}

/// Writes `events` into `out[1..4n]`: type, peer, channelID or data, packet / payload / reason.
pub fn fill(
    lua: &Lua,
    host_ud: &AnyUserData,
    state: &Shared,
    events: &[Event],
    out: &Table,
    payload: Payload,
) -> mlua::Result<()> {
    let cache: Table = host_ud.user_value()?;
    let mut missing = Vec::new();
    // SAFETY: the closure only uses the two tables exec_raw pushed (stack 1 and 2) and leaves
    // the stack as it found it; it captures references only, so a Lua memory error unwinding
    // through it leaks nothing.
    unsafe {
        lua.exec_raw::<()>((out, &cache), |l| {
            write_records(l, events, payload, &mut missing)
        })?;
    }
    // Peers without a live cached handle of the right connection get one the slow way.
    for i in missing {
        let e = &events[i];
        let peer = peer::userdata_for(lua, host_ud, state, e.slot, e.generation)?;
        out.raw_set(4 * i + 2, peer)?;
    }
    if payload == Payload::Packet {
        for (i, e) in events.iter().enumerate() {
            if let Some(p) = &e.packet {
                out.raw_set(4 * i + 4, lua.create_userdata(Packet::received(p.clone()))?)?;
            }
        }
    }
    Ok(())
}

/// Stack: 1 = out, 2 = the host's peer cache (`slot + 1` -> handle, `-(slot + 1)` -> the
/// generation that handle belongs to; see `peer::userdata_for`).
///
/// # Safety
/// `l` must be the state inside `exec_raw` with those two tables at 1 and 2.
unsafe fn write_records(
    l: *mut ffi::lua_State,
    events: &[Event],
    payload: Payload,
    missing: &mut Vec<usize>,
) {
    const OUT: c_int = 1;
    const CACHE: c_int = 2;
    unsafe {
        for (i, e) in events.iter().enumerate() {
            let k = 4 * i as ffi::lua_Integer;
            ffi::lua_pushinteger(l, e.kind as ffi::lua_Integer);
            ffi::lua_rawseti(l, OUT, k + 1);
            if !push_cached_peer(l, CACHE, e) {
                missing.push(i);
            }
            ffi::lua_rawseti(l, OUT, k + 2);
            ffi::lua_pushinteger(l, e.channel_or_data());
            ffi::lua_rawseti(l, OUT, k + 3);
            match (&e.packet, e.reason) {
                (Some(p), _) if payload == Payload::String => {
                    let bytes = p.data();
                    ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len());
                }
                (None, Some(reason)) => {
                    ffi::lua_pushlstring(l, reason.as_ptr().cast(), reason.len());
                }
                _ => ffi::lua_pushnil(l),
            }
            ffi::lua_rawseti(l, OUT, k + 4);
        }
    }
}

/// Pushes the cached handle of the event's connection, or nil (returning false) when there is
/// none: never cached, collected, or a handle of an earlier connection in the same slot.
unsafe fn push_cached_peer(l: *mut ffi::lua_State, cache: c_int, e: &Event) -> bool {
    let (key, generation_key) = peer::cache_keys(e.slot);
    unsafe {
        ffi::lua_rawgeti(l, cache, generation_key);
        let mut is_number: c_int = 0;
        let generation = ffi::lua_tointegerx(l, -1, &mut is_number);
        ffi::lua_pop(l, 1);
        if is_number != 0 && generation as u64 == e.generation {
            ffi::lua_rawgeti(l, cache, key);
            if ffi::lua_type(l, -1) == ffi::LUA_TUSERDATA {
                return true;
            }
            ffi::lua_pop(l, 1);
        }
        ffi::lua_pushnil(l);
    }
    false
}

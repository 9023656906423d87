//! `require("module_enet.compat")`: the API of lua-enet (the binding LÖVE ships) on this
//! module's hosts and peers, so LÖVE-style code switches with one line (docs/lua-enet.md).
//!
//! The mapping itself is Lua (`compat.lua`, compiled once per Lua state): every lua-enet call is
//! one call of the module's own functions plus argument reshaping. This file adds what the
//! module's Lua API does not expose: the proxy userdata (so `type(peer)` is `"userdata"` and a
//! collected host is destroyed, as in lua-enet), a handle for any peer slot
//! (`host:get_peer(i)`), the peer fields lua-enet reads (`connect_id`, `last_round_trip_time`,
//! `ping_interval`), the host clock (`service_time`) and the ENet version.
//!
//! The per-message methods, `host:service`, `host:check_events` and `peer:send`, are raw
//! functions (src/object.rs), so a game's loop never runs compat's Lua: the proxies are
//! userdata of ours that carry what those need. A host proxy holds the host's state, with a
//! user value `{peer cache, stash, proxies}` (the module host's peer cache and compat.lua's
//! tables of that host); a peer proxy holds a copy of its module handle (the same connection).

use std::mem::size_of;
use std::os::raw::c_int;
use std::ptr;
use std::time::Duration;

use mlua::{ffi, AnyUserData, Function, Lua, MultiValue, Table, Value};
use rusty_enet::PeerID;

use crate::error::{raise, Msg};
use crate::event::{self, Outcome, Shape};
use crate::host::{self, Fetch, Shared};
use crate::object::{self, upvalue, Class, HostBlock, LuaState, PeerBlock, UPVALUES};
use crate::packet::{self, check};
use crate::peer;

const SOURCE: &str = include_str!("compat.lua");

/// The finished module table, so a second `require` in the same state (after
/// `package.loaded` was cleared) shares the proxies' metatables instead of orphaning them.
const MODULE_KEY: &str = "module_enet.compat";

/// Builds (once per Lua state) the lua-enet compatible module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    if let Value::Table(done) = lua.named_registry_value::<Value>(MODULE_KEY)? {
        return Ok(done);
    }
    let core = match loaded_core(lua)? {
        Some(core) => core,
        None => crate::module(lua)?,
    };
    let host_mt = lua.create_table()?;
    let peer_mt = lua.create_table()?;
    let mut extra = MultiValue::new();
    extra.push_back(Value::Table(host_mt.clone()));
    extra.push_back(Value::Table(peer_mt.clone()));
    let chunk = lua
        .load(SOURCE)
        .set_name("=module_enet.compat")
        .into_function()?;
    let (exports, host_methods, peer_methods, peer_tostring, internals): (
        Table,
        Table,
        Table,
        Value,
        Table,
    ) = chunk.call((core, primitives(lua, &extra)?))?;
    // lua-enet's metatable names: default tostring and type errors read the same.
    host_mt.raw_set("__name", "enet_host")?;
    host_mt.raw_set("__index", &host_methods)?;
    host_mt.raw_set("__gc", object::function(lua, host_gc, extra.clone())?)?;
    peer_mt.raw_set("__name", "enet_peer")?;
    peer_mt.raw_set("__index", &peer_methods)?;
    peer_mt.raw_set("__tostring", peer_tostring)?;
    peer_mt.raw_set("__gc", object::function(lua, peer_gc, extra.clone())?)?;
    extra.push_back(Value::Table(internals.raw_get::<Table>("recs")?));
    extra.push_back(Value::Function(internals.raw_get::<Function>("to_event")?));
    extra.push_back(Value::Function(
        internals.raw_get::<Function>("from_stash")?,
    ));
    for s in STRINGS {
        extra.push_back(Value::String(lua.create_string(s)?));
    }
    host_methods.raw_set("service", object::function(lua, service, extra.clone())?)?;
    host_methods.raw_set(
        "check_events",
        object::function(lua, check_events, extra.clone())?,
    )?;
    peer_methods.raw_set("send", object::function(lua, send, extra)?)?;
    lua.set_named_registry_value(MODULE_KEY, &exports)?;
    Ok(exports)
}

/// `require("module_enet")`'s table if the script already loaded it: one set of module
/// functions per state.
fn loaded_core(lua: &Lua) -> mlua::Result<Option<Table>> {
    let Value::Table(package) = lua.globals().raw_get::<Value>("package")? else {
        return Ok(None);
    };
    let Value::Table(loaded) = package.raw_get::<Value>("loaded")? else {
        return Ok(None);
    };
    Ok(match loaded.raw_get::<Value>("module_enet")? {
        Value::Table(core) => Some(core),
        _ => None,
    })
}

/// The Rust half handed to `compat.lua`. Its callers pass only values it made itself, so a
/// wrong type is an internal error, never user input. `mts` are the proxies' metatables.
fn primitives(lua: &Lua, mts: &MultiValue) -> mlua::Result<Table> {
    let prim = lua.create_table()?;
    prim.raw_set("new_host", object::function(lua, new_host, mts.clone())?)?;
    prim.raw_set("new_peer", object::function(lua, new_peer, mts.clone())?)?;
    prim.raw_set("slot_peer", lua.create_function(slot_peer)?)?;
    prim.raw_set("peer_field", lua.create_function(peer_field)?)?;
    prim.raw_set("host_time", lua.create_function(host_time)?)?;
    let v = rusty_enet::Version::current();
    prim.raw_set(
        "linked_version",
        format!("{}.{}.{}", v.major, v.minor, v.patch),
    )?;
    Ok(prim)
}

/// The module's peer handle for slot `slot` (0-based) of a host, whatever its state:
/// lua-enet's `host:get_peer` hands out unused slots too.
fn slot_peer(lua: &Lua, (host, slot): (Value, usize)) -> mlua::Result<Value> {
    let (host, state) = host_arg(&host)?;
    let in_range = state.try_borrow().is_ok_and(|s| slot < s.slots.len());
    if !in_range {
        return Ok(Value::Nil);
    }
    Ok(Value::UserData(peer::userdata(lua, host, &state, slot)?))
}

/// A field of the ENet peer in slot `slot`: `connectID`, `lastRoundTripTime` or
/// `pingInterval`; nil when the host is gone. The caller has checked that its handle for this
/// slot is live.
fn peer_field(
    _: &Lua,
    (host, slot, name): (Value, usize, mlua::LuaString),
) -> mlua::Result<Option<i64>> {
    let (_, state) = host_arg(&host)?;
    let Ok(guard) = state.try_borrow() else {
        return Ok(None);
    };
    let Some(peer) = guard.enet.as_ref().and_then(|e| e.get_peer(PeerID(slot))) else {
        return Ok(None);
    };
    let name = name.to_str()?;
    Ok(match &*name {
        "pingInterval" => i64::try_from(peer.ping_interval().as_millis()).ok(),
        "connectID" => guard
            .enet
            .as_ref()
            .and_then(|e| e.socket().connect_id(slot))
            .map(i64::from),
        // rusty_enet keeps ENet's lastRoundTripTime (the lowest sample of the last throttle
        // interval) private; the smoothed round trip time is the closest it exposes
        // (docs/lua-enet.md).
        "lastRoundTripTime" => i64::try_from(peer.round_trip_time().as_millis()).ok(),
        _ => None,
    })
}

/// The host's clock in milliseconds (lua-enet's `service_time`), or nil once destroyed.
fn host_time(_: &Lua, host: Value) -> mlua::Result<Option<i64>> {
    let (_, state) = host_arg(&host)?;
    let Ok(guard) = state.try_borrow() else {
        return Ok(None);
    };
    Ok(guard
        .enet
        .as_ref()
        .and_then(|e| i64::try_from(e.now().as_millis()).ok())
        // ENet's clock is 32-bit milliseconds, and lua-enet hands it out as such.
        .map(|ms| ms & 0xffff_ffff))
}

/// A module host handed over by compat.lua (an internal error if it is anything else).
fn host_arg(value: &Value) -> mlua::Result<(&AnyUserData, Shared)> {
    host::arg(value, "compat", 1).map_err(|_| mlua::Error::runtime("compat: not a module host"))
}

// The raw functions' own upvalues, after the standard ones: the proxies' metatables (every
// one of them), then, for the methods, compat.lua's record table (proxy -> record), its
// `to_event` and `from_stash`, then STRINGS.
const HOST_PROXY_MT: c_int = UPVALUES + 1;
const PEER_PROXY_MT: c_int = UPVALUES + 2;
const RECS: c_int = UPVALUES + 3;
const TO_EVENT: c_int = UPVALUES + 4;
const FROM_STASH: c_int = UPVALUES + 5;
/// "receive" and "channel" come first, in this order, for `Shape::Compat`.
const STRINGS: [&str; 6] = [
    "receive",
    "channel",
    "kind",
    "reliable",
    "unreliable",
    "unsequenced",
];
const S_RECEIVE: c_int = UPVALUES + 6;
const S_KIND: c_int = UPVALUES + 8;
const S_RELIABLE: c_int = UPVALUES + 9;
const S_UNRELIABLE: c_int = UPVALUES + 10;
const S_UNSEQUENCED: c_int = UPVALUES + 11;
// The host proxy's user value: {peer cache, stash, proxies}.
const UV_CACHE: ffi::lua_Integer = 1;
const UV_STASH: ffi::lua_Integer = 2;
const UV_PROXIES: ffi::lua_Integer = 3;

/// `new_host(inner, proxies, stash)`: the proxy of a module host.
unsafe extern "C-unwind" fn new_host(l: LuaState) -> c_int {
    // SAFETY: raw function. Every allocation happens before the Rc is cloned into the block;
    // the block is valid (state None) from the moment it exists.
    unsafe {
        let inner = object::block(l, 1, Class::Host).cast::<HostBlock>();
        if inner.is_null() || ffi::lua_type(l, 2) != ffi::LUA_TTABLE {
            raise(l, &Msg::internal("new_host"))
        }
        let p = object::new_userdata(l, size_of::<HostBlock>(), 1).cast::<HostBlock>();
        ptr::write(
            p,
            HostBlock {
                tag: object::tag(p.cast(), Class::HostProxy),
                state: None,
            },
        );
        ffi::lua_pushvalue(l, upvalue(HOST_PROXY_MT));
        ffi::lua_setmetatable(l, -2);
        ffi::lua_createtable(l, 3, 0);
        ffi::lua_getuservalue(l, 1);
        ffi::lua_rawseti(l, -2, UV_CACHE);
        ffi::lua_pushvalue(l, 3);
        ffi::lua_rawseti(l, -2, UV_STASH);
        ffi::lua_pushvalue(l, 2);
        ffi::lua_rawseti(l, -2, UV_PROXIES);
        ffi::lua_setuservalue(l, -2);
        (*p).state = (*inner).state.clone();
        1
    }
}

/// `new_peer(inner)`: the proxy of a module peer handle (the same connection).
unsafe extern "C-unwind" fn new_peer(l: LuaState) -> c_int {
    // SAFETY: raw function. The allocation happens before the Rc is cloned into the block.
    unsafe {
        let inner = object::block(l, 1, Class::Peer).cast::<PeerBlock>();
        if inner.is_null() {
            raise(l, &Msg::internal("new_peer"))
        }
        let p = object::new_userdata(l, size_of::<PeerBlock>(), 0).cast::<PeerBlock>();
        ptr::write(
            p,
            PeerBlock {
                tag: object::tag(p.cast(), Class::PeerProxy),
                host: (*inner).host.clone(),
                slot: (*inner).slot,
                generation: (*inner).generation,
            },
        );
        ffi::lua_pushvalue(l, upvalue(PEER_PROXY_MT));
        ffi::lua_setmetatable(l, -2);
        1
    }
}

/// The host proxy's `__gc`: the host is destroyed when its proxy is collected, as in lua-enet,
/// even if the program still holds some of its peers.
unsafe extern "C-unwind" fn host_gc(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe { host::finalize(l, Class::HostProxy) }
}

/// The peer proxy's `__gc`: lets go of the host's state.
unsafe extern "C-unwind" fn peer_gc(l: LuaState) -> c_int {
    // SAFETY: raw function; Rust only inside `rust`, a panic there is dropped.
    unsafe {
        let p = object::block(l, 1, Class::PeerProxy).cast::<PeerBlock>();
        if !p.is_null() {
            let host: Option<Shared> = (*p).host.take();
            let _ = object::rust(move || drop(host));
        }
        0
    }
}

/// compat.lua's `typename`: a proxy's kind, else Lua's type name.
///
/// # Safety
/// Inside one of these raw functions; may allocate (error paths only).
unsafe fn typename(l: LuaState, idx: c_int) -> Msg {
    unsafe {
        ffi::lua_pushvalue(l, upvalue(RECS));
        ffi::lua_pushvalue(l, idx);
        ffi::lua_rawget(l, -2);
        let name = if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            ffi::lua_pushvalue(l, upvalue(S_KIND));
            ffi::lua_rawget(l, -2);
            let mut len = 0;
            let p = ffi::lua_tolstring(l, -1, &mut len);
            let kind = if p.is_null() {
                Msg::of("?")
            } else {
                Msg::of(String::from_utf8_lossy(std::slice::from_raw_parts(
                    p.cast::<u8>(),
                    len,
                )))
            };
            ffi::lua_pop(l, 1);
            kind
        } else {
            match ffi::lua_type(l, idx) {
                ffi::LUA_TNONE | ffi::LUA_TNIL => Msg::of("nil"),
                t => Msg::of(std::ffi::CStr::from_ptr(ffi::lua_typename(l, t)).to_string_lossy()),
            }
        };
        ffi::lua_pop(l, 2);
        name
    }
}

/// compat.lua's "bad self" error for method `func` (argument 1 is not a proxy of the kind).
///
/// # Safety
/// Inside one of the methods; raises.
unsafe fn bad_self(l: LuaState, func: &str, expected: &str) -> ! {
    unsafe {
        let got = typename(l, 1);
        let m = Msg::of(format_args!(
            "calling '{func}' on bad self ({expected} expected, got {got})"
        ));
        raise(l, &m)
    }
}

/// Pushes compat.lua's record of argument 1 (a proxy); returns its index.
unsafe fn push_record(l: LuaState) -> c_int {
    unsafe {
        ffi::lua_pushvalue(l, upvalue(RECS));
        ffi::lua_pushvalue(l, 1);
        ffi::lua_rawget(l, -2);
        ffi::lua_remove(l, -2);
        ffi::lua_gettop(l)
    }
}

/// compat.lua's `int`: luaL_checknumber (numeric strings too) and lua-enet's truncation.
unsafe fn int(
    l: LuaState,
    idx: c_int,
    pos: c_int,
    func: &str,
    default: Option<f64>,
) -> Result<f64, Msg> {
    unsafe {
        let t = ffi::lua_type(l, idx);
        if t <= ffi::LUA_TNIL {
            if let Some(d) = default {
                return Ok(d);
            }
        }
        let mut is_number = 0;
        let n = if t == ffi::LUA_TNUMBER || t == ffi::LUA_TSTRING {
            ffi::lua_tonumberx(l, idx, &mut is_number)
        } else {
            0.0
        };
        if is_number == 0 {
            let got = typename(l, idx);
            return Err(Msg::bad_argument(
                func,
                pos,
                format_args!("number expected, got {got}"),
            ));
        }
        if !n.is_finite() {
            return Err(Msg::bad_argument(
                func,
                pos,
                "number has no integer representation",
            ));
        }
        Ok(crate::args::trunc(n))
    }
}

/// `host:service(timeout?)` and `host:check_events()`: lua-enet's event table or nothing.
unsafe fn compat_event(l: LuaState, func: &'static str, failure: &str, wait: bool) -> c_int {
    // SAFETY: raw function (src/object.rs rules); the proxy is argument 1, so its state and
    // its user value outlive the call.
    unsafe {
        // Fixed argument slots: what this pushes must not look like an argument.
        ffi::lua_settop(l, 2);
        let p = object::block(l, 1, Class::HostProxy).cast::<HostBlock>();
        if p.is_null() {
            bad_self(l, func, "enet_host")
        }
        let Some(state) = (*p).state.as_ref() else {
            raise(l, &Msg::of("enet: host has been destroyed"))
        };
        // try_borrow and is_none cannot panic: no catch_unwind needed around them.
        if state.try_borrow().is_ok_and(|s| s.enet.is_none()) {
            raise(l, &Msg::of("enet: host has been destroyed"))
        }
        let fetch = if wait {
            let ms = check!(l, int(l, 2, 1, func, Some(0.0)));
            Fetch::Service(Duration::from_millis(
                ms.clamp(0.0, f64::from(u32::MAX)) as u64
            ))
        } else {
            Fetch::Queued
        };
        // The C API's getters return the type they pushed: no second lua_type call.
        let uv_type = ffi::lua_getuservalue(l, 1);
        let uv = ffi::lua_gettop(l);
        if uv_type != ffi::LUA_TTABLE {
            raise(l, &Msg::internal(func))
        }
        // Events peer:receive set aside come first (compat.lua hands them out).
        let stashed = ffi::lua_rawgeti(l, uv, UV_STASH) == ffi::LUA_TTABLE
            && ffi::lua_rawgeti(l, -1, 1) > ffi::LUA_TNIL;
        if stashed {
            ffi::lua_pushvalue(l, upvalue(FROM_STASH));
            push_record(l);
            ffi::lua_call(l, 1, 1);
            return 1;
        }
        let found = match event::ready(l, func, state, fetch, 1) {
            Some((0, _)) => return 0,
            Some(found) => found,
            None => raise(l, &Msg::of(failure)),
        };
        ffi::lua_settop(l, uv);
        ffi::lua_rawgeti(l, uv, UV_CACHE);
        let cache = ffi::lua_gettop(l);
        let proxies_type = ffi::lua_rawgeti(l, uv, UV_PROXIES);
        let proxies = ffi::lua_gettop(l);
        if proxies_type != ffi::LUA_TTABLE {
            raise(l, &Msg::internal(func))
        }
        let shape = Shape::Compat {
            proxies,
            strings: S_RECEIVE,
        };
        match event::hand_over(l, func, state, cache, fetch, 1, found, shape) {
            Outcome::Destroyed => raise(l, &Msg::of(failure)),
            Outcome::Delivered(0) => 0,
            Outcome::Delivered(_) => 1,
            Outcome::Fallback => {
                let ev = ffi::lua_gettop(l);
                ffi::lua_pushvalue(l, upvalue(TO_EVENT));
                push_record(l);
                ffi::lua_pushvalue(l, ev);
                ffi::lua_call(l, 2, 1);
                1
            }
        }
    }
}

unsafe extern "C-unwind" fn service(l: LuaState) -> c_int {
    unsafe { compat_event(l, "service", "Error during service", true) }
}

unsafe extern "C-unwind" fn check_events(l: LuaState) -> c_int {
    unsafe { compat_event(l, "check_events", "Error checking event", false) }
}

/// `peer:send(data, channel?, flag?) -> 0 | -1, message`, checked as lua-enet does.
unsafe extern "C-unwind" fn send(l: LuaState) -> c_int {
    const F: &str = "send";
    // SAFETY: raw function (src/object.rs rules); the proxy and the data string stay on the
    // stack for the whole call.
    unsafe {
        // Fixed argument slots: what this pushes must not look like an argument.
        ffi::lua_settop(l, 4);
        let peer = object::block(l, 1, Class::PeerProxy).cast::<PeerBlock>();
        if peer.is_null() {
            bad_self(l, F, "enet_peer")
        }
        // luaL_checklstring: a number becomes a string (in its own argument slot).
        let t = ffi::lua_type(l, 2);
        if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
            let got = typename(l, 2);
            let m = Msg::bad_argument(F, 1, format_args!("string expected, got {got}"));
            raise(l, &m)
        }
        let mut len = 0;
        let data = ffi::lua_tolstring(l, 2, &mut len);
        let flags = match ffi::lua_type(l, 4) {
            ffi::LUA_TNONE | ffi::LUA_TNIL => packet::FLAG_RELIABLE,
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
                if ffi::lua_rawequal(l, 4, upvalue(S_RELIABLE)) != 0 {
                    packet::FLAG_RELIABLE
                } else if ffi::lua_rawequal(l, 4, upvalue(S_UNRELIABLE)) != 0 {
                    0
                } else if ffi::lua_rawequal(l, 4, upvalue(S_UNSEQUENCED)) != 0 {
                    packet::FLAG_UNSEQUENCED
                } else {
                    // tostring(v): a copy, so a number argument stays a number.
                    ffi::lua_pushvalue(l, 4);
                    let mut n = 0;
                    let p = ffi::lua_tolstring(l, -1, &mut n);
                    let m = Msg::of(format_args!(
                        "Unknown packet flag: {}",
                        String::from_utf8_lossy(std::slice::from_raw_parts(p.cast::<u8>(), n))
                    ));
                    raise(l, &m)
                }
            }
            _ => {
                let got = typename(l, 4);
                let m = Msg::bad_argument(F, 3, format_args!("string expected, got {got}"));
                raise(l, &m)
            }
        };
        let channel = check!(l, int(l, 3, 2, F, Some(0.0)));
        if !(0.0..255.0).contains(&channel) {
            ffi::lua_pushinteger(l, -1);
            let m = Msg::of("channel out of range");
            m.push(l);
            return 2;
        }
        let bytes = if len == 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts(data.cast::<u8>(), len)
        };
        let sent = object::rust_or_raise(l, F, || {
            peer::send_bytes(&*peer, channel as u8, bytes, flags)
        });
        peer::push_sent(l, F, sent)
    }
}

//! `require("module_enet.compat")`: the API of lua-enet (the binding LÖVE ships) on this
//! module's hosts and peers, so LÖVE-style code switches with one line (docs/lua-enet.md).
//!
//! The mapping itself is Lua (`compat.lua`, compiled once per Lua state): every lua-enet call is
//! one call of the module's own functions plus argument reshaping, which Lua does without
//! crossing into C again, and the host's service loop is only reachable through those
//! functions anyway. This file adds what the module's Lua API does not expose: the proxy
//! userdata (so `type(peer)` is `"userdata"` and a collected host is destroyed, as in
//! lua-enet), a handle for any peer slot (`host:get_peer(i)`), the peer fields lua-enet
//! reads (`connect_id`, `last_round_trip_time`, `ping_interval`), the host clock
//! (`service_time`) and the ENet version.

use mlua::{AnyUserData, Lua, MetaMethod, Table, UserData, UserDataFields, Value};
use rusty_enet::PeerID;

use crate::host::{Host, Shared};

const SOURCE: &str = include_str!("compat.lua");

/// The finished module table, so a second `require` in the same state (after
/// `package.loaded` was cleared) shares the proxies' metatables instead of orphaning them.
const MODULE_KEY: &str = "module_enet.compat";
const HOST_METHODS: &str = "module_enet.compat.host.methods";
const PEER_METHODS: &str = "module_enet.compat.peer.methods";
const PEER_TOSTRING: &str = "module_enet.compat.peer.tostring";

/// lua-enet's host object. The Lua side keeps the rest of its state; this only ties the
/// lifetime: when Lua collects the proxy the host is destroyed, as lua-enet's `__gc` does,
/// even if the user still holds some of its peers.
struct CompatHost {
    state: Shared,
}

impl Drop for CompatHost {
    fn drop(&mut self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.destroy();
        }
    }
}

impl UserData for CompatHost {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            lua.named_registry_value::<Value>(HOST_METHODS)
        });
        // lua-enet's metatable name: default tostring and type errors read the same.
        fields.add_meta_field("__name", "enet_host");
    }
}

/// lua-enet's peer object: all its state lives on the Lua side.
struct CompatPeer;

impl UserData for CompatPeer {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| {
            lua.named_registry_value::<Value>(PEER_METHODS)
        });
        fields.add_meta_field_with(MetaMethod::ToString, |lua| {
            lua.named_registry_value::<Value>(PEER_TOSTRING)
        });
        fields.add_meta_field("__name", "enet_peer");
    }
}

/// Builds (once per Lua state) the lua-enet compatible module table.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    if let Value::Table(done) = lua.named_registry_value::<Value>(MODULE_KEY)? {
        return Ok(done);
    }
    let core = match loaded_core(lua)? {
        Some(core) => core,
        None => crate::module(lua)?,
    };
    let chunk = lua
        .load(SOURCE)
        .set_name("=module_enet.compat")
        .into_function()?;
    let (exports, host_methods, peer_methods, peer_tostring): (Table, Table, Table, Value) =
        chunk.call((core, primitives(lua)?))?;
    lua.set_named_registry_value(HOST_METHODS, host_methods)?;
    lua.set_named_registry_value(PEER_METHODS, peer_methods)?;
    lua.set_named_registry_value(PEER_TOSTRING, peer_tostring)?;
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
/// wrong type is an internal error, never user input.
fn primitives(lua: &Lua) -> mlua::Result<Table> {
    let prim = lua.create_table()?;
    prim.raw_set(
        "new_host",
        lua.create_function(|lua, inner: AnyUserData| {
            let state = inner.borrow::<Host>()?.state.clone();
            lua.create_userdata(CompatHost { state })
        })?,
    )?;
    prim.raw_set(
        "new_peer",
        lua.create_function(|lua, ()| lua.create_userdata(CompatPeer))?,
    )?;
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
fn slot_peer(lua: &Lua, (host, slot): (AnyUserData, usize)) -> mlua::Result<Value> {
    let state = host.borrow::<Host>()?.state.clone();
    let in_range = state.try_borrow().is_ok_and(|s| slot < s.slots.len());
    if !in_range {
        return Ok(Value::Nil);
    }
    Ok(Value::UserData(crate::peer::userdata(
        lua, &host, &state, slot,
    )?))
}

/// A field of the ENet peer in slot `slot`: `connectID`, `lastRoundTripTime` or
/// `pingInterval`; nil when the host is gone. The caller has checked that its handle for this
/// slot is live.
fn peer_field(
    _: &Lua,
    (host, slot, name): (AnyUserData, usize, mlua::LuaString),
) -> mlua::Result<Option<i64>> {
    let state = host.borrow::<Host>()?.state.clone();
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
fn host_time(_: &Lua, host: AnyUserData) -> mlua::Result<Option<i64>> {
    let state = host.borrow::<Host>()?.state.clone();
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

//! module-enet: ENet for Lua 5.1-5.5 and LuaJIT, on rusty_enet and mlua.
//!
//! `require("module_enet")` calls [`module`]; the functions and their contract are in
//! `docs/api.md`.

// Nothing that Lua input or the network controls may panic across the FFI boundary. Tests
// (tests/*.rs) are separate crates and may unwrap.
#![warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(not(any(
    feature = "lua51",
    feature = "lua52",
    feature = "lua53",
    feature = "lua54",
    feature = "lua55",
    feature = "luajit"
)))]
compile_error!("choose one Lua flavour feature: lua51, lua52, lua53, lua54, lua55 or luajit");

mod address;
// The release module's allocator on Linux (src/alloc.rs); tests and embedders keep their own.
// Public (hidden) for bench/rust/loop.rs, which measures rusty_enet with and without it.
#[cfg(target_os = "linux")]
#[cfg_attr(not(all(feature = "module", not(debug_assertions))), allow(dead_code))]
#[doc(hidden)]
pub mod alloc;
mod args;
mod compat;
mod compress;
mod connect_token;
mod error;
mod event;
mod host;
mod object;
mod options;
mod packet;
mod peer;
mod registry;
mod resolve;
#[doc(hidden)]
pub mod secure;
mod slot;
mod socket;
#[doc(hidden)]
pub mod wire;

use mlua::{Lua, Table};

use crate::registry::Registry;

/// Builds the module table for one Lua state. Nothing is shared between states.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let exports = lua.create_table()?;
    let mut reg = Registry::new(lua, exports.clone())?;
    setup_objects(lua, &reg)?;
    // Nothing needs global set-up; both exist so code written for C ENet runs unchanged.
    reg.function("initialize", |_, ()| Ok(0))?;
    reg.function("deinitialize", |_, ()| Ok(()))?;
    host::register(&mut reg)?;
    peer::register(&mut reg)?;
    packet::register(&mut reg)?;
    resolve::register(&mut reg)?;
    connect_token::register(&mut reg)?;
    set_constants(&exports)?;
    Ok(exports)
}

/// The class metatables of hosts, peers and packets (src/object.rs).
fn setup_objects(lua: &Lua, reg: &Registry) -> mlua::Result<()> {
    use object::Metamethods;
    let methods = |class| {
        reg.methods(class)
            .cloned()
            .ok_or_else(|| mlua::Error::runtime("module_enet: no method table"))
    };
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    let (host_close, packet_close) = (
        Some(host::close as mlua::ffi::lua_CFunction),
        Some(packet::close as mlua::ffi::lua_CFunction),
    );
    #[cfg(not(any(feature = "lua54", feature = "lua55")))]
    let (host_close, packet_close) = (None, None);
    object::setup(
        lua,
        [
            (
                "ENetHost",
                &methods("host")?,
                Metamethods {
                    gc: Some(host::gc),
                    tostring: host::tostring,
                    close: host_close,
                },
            ),
            (
                "ENetPeer",
                &methods("peer")?,
                Metamethods {
                    gc: Some(peer::gc),
                    tostring: peer::tostring,
                    close: None,
                },
            ),
            (
                "ENetPacket",
                &methods("packet")?,
                Metamethods {
                    gc: None,
                    tostring: packet::tostring,
                    close: packet_close,
                },
            ),
        ],
    )
}

fn set_constants(exports: &Table) -> mlua::Result<()> {
    let constants = [
        ("EVENT_TYPE_NONE", 0),
        ("EVENT_TYPE_CONNECT", event::Kind::Connect as i64),
        ("EVENT_TYPE_DISCONNECT", event::Kind::Disconnect as i64),
        ("EVENT_TYPE_RECEIVE", event::Kind::Receive as i64),
        ("PACKET_FLAG_RELIABLE", i64::from(packet::FLAG_RELIABLE)),
        (
            "PACKET_FLAG_UNSEQUENCED",
            i64::from(packet::FLAG_UNSEQUENCED),
        ),
        (
            "PACKET_FLAG_NO_ALLOCATE",
            i64::from(packet::FLAG_NO_ALLOCATE),
        ),
    ];
    for (name, value) in constants {
        exports.raw_set(name, value)?;
    }
    for (name, state) in peer::STATE_NAMES {
        exports.raw_set(format!("PEER_STATE_{name}"), peer::state_name(state))?;
    }
    exports.raw_set("VERSION", env!("CARGO_PKG_VERSION"))
}

// No `skip_memory_check`: with it mlua makes Lua allocations outside a protected call, and an
// allocation error (out of memory, or on Lua 5.1-5.3 an error from any `__gc` finalizer the
// allocation runs) would unwind through Rust frames that hold borrows: a host left "busy"
// forever, or an abort with a C++-built Lua (docs/reliability.md, "Injected faults").
#[cfg(feature = "module")]
#[mlua::lua_module(name = "module_enet")]
fn entry(lua: &Lua) -> mlua::Result<Table> {
    module(lua)
}

/// `require("module_enet.compat")`: lua-enet's API on the same hosts and peers
/// (docs/lua-enet.md).
pub fn compat_module(lua: &Lua) -> mlua::Result<Table> {
    compat::module(lua)
}

/// Lua's all-in-one C loader finds `luaopen_module_enet_compat` in module_enet's library for
/// `require("module_enet.compat")`.
#[cfg(feature = "module")]
#[mlua::lua_module(name = "module_enet_compat")]
fn compat_entry(lua: &Lua) -> mlua::Result<Table> {
    compat::module(lua)
}

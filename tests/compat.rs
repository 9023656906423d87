//! `require("module_enet.compat")` on the embedded Lua 5.4: the fields compat.rs reads out of
//! rusty_enet (connect id, last round trip time, ping interval, host clock) and the loading
//! rules. The lua-enet behaviour itself is covered by tests/spec/compat_*_spec.lua under every
//! interpreter.

use mlua::{Lua, Table};

fn lua_with_compat() -> Lua {
    let lua = Lua::new();
    let core = lua
        .create_function(|lua, ()| module_enet::module(lua))
        .unwrap();
    let compat = lua
        .create_function(|lua, ()| module_enet::compat_module(lua))
        .unwrap();
    lua.preload_module("module_enet", core).unwrap();
    lua.preload_module("module_enet.compat", compat).unwrap();
    lua
}

/// A connected pair in Lua globals: server, client, cpeer (client side), speer (server side).
const CONNECT: &str = r#"
enet = require("module_enet.compat")
server = assert(enet.host_create("127.0.0.1:*", 4, 2))
client = assert(enet.host_create(nil, 1, 2))
cpeer = client:connect(server:get_socket_address(), 2, 17)
local deadline, cdone = os.time() + 10, false
while not (speer and cdone) and os.time() <= deadline do
  for _, h in ipairs({ server, client }) do
    local ev = h:service(5)
    if ev and ev.type == "connect" then
      if h == server then speer, sdata = ev.peer, ev.data else cdone = true end
    end
  end
end
assert(speer and cdone, "no connection")
"#;

#[test]
fn connect_id_is_read_from_the_engine_and_shared_by_both_ends() {
    let lua = lua_with_compat();
    lua.load(CONNECT).exec().unwrap();
    let (client_id, server_id, data): (i64, i64, i64) = lua
        .load("return cpeer:connect_id(), speer:connect_id(), sdata")
        .eval()
        .unwrap();
    assert_ne!(client_id, 0);
    assert_eq!(client_id, server_id);
    assert_eq!(data, 17);
}

#[test]
fn peer_fields_without_accessors_have_enets_values() {
    let lua = lua_with_compat();
    lua.load(CONNECT).exec().unwrap();
    // ENet's initial values: the Debug-output reader must find the right fields.
    let (last_rtt, interval): (i64, i64) = lua
        .load("return cpeer:last_round_trip_time(), cpeer:ping_interval()")
        .eval()
        .unwrap();
    assert_eq!(last_rtt, 500);
    assert_eq!(interval, 500);
    let interval: i64 = lua.load("return cpeer:ping_interval(250)").eval().unwrap();
    assert_eq!(interval, 250);
}

#[test]
fn fields_of_an_ended_connection_are_a_reset_peers() {
    let lua = lua_with_compat();
    lua.load(CONNECT).exec().unwrap();
    let (id, rtt, interval, state): (i64, i64, i64, String) = lua
        .load(
            "cpeer:reset() return cpeer:connect_id(), cpeer:last_round_trip_time(), \
             cpeer:ping_interval(), cpeer:state()",
        )
        .eval()
        .unwrap();
    assert_eq!(
        (id, rtt, interval, state.as_str()),
        (0, 500, 500, "disconnected")
    );
}

#[test]
fn service_time_follows_the_host_clock() {
    let lua = lua_with_compat();
    let (before, after): (i64, i64) = lua
        .load(
            r#"
            local enet = require("module_enet.compat")
            local host = enet.host_create()
            local t1 = host:service_time()
            host:service(20)
            return t1, host:service_time()
            "#,
        )
        .eval()
        .unwrap();
    assert!(before >= 1, "clock starts at 1 ms: {before}");
    assert!(after >= before + 19, "{before} -> {after}");
}

#[test]
fn one_compat_table_per_state_beside_the_module() {
    let lua = lua_with_compat();
    let same: bool = lua
        .load(
            r#"
            local core = require("module_enet")
            local a = require("module_enet.compat")
            package.loaded["module_enet.compat"] = nil
            local b = require("module_enet.compat")
            return a == b and core ~= a and type(a.host_create) == "function"
            "#,
        )
        .eval()
        .unwrap();
    assert!(same);
    // A second, independent state gets its own.
    let other = lua_with_compat();
    let t: Table = other
        .load("return require('module_enet.compat')")
        .eval()
        .unwrap();
    assert!(t.contains_key("linked_version").unwrap());
}

#[test]
fn collected_host_proxy_destroys_the_host() {
    let lua = lua_with_compat();
    let rebound: bool = lua
        .load(
            r#"
            local enet = require("module_enet.compat")
            local address
            do
              local host = assert(enet.host_create("127.0.0.1:*"))
              address = host:get_socket_address()
              host = nil
            end
            collectgarbage("collect")
            collectgarbage("collect")
            local again = enet.host_create(address)
            if again then again:destroy() end
            return again ~= nil
            "#,
        )
        .eval()
        .unwrap();
    assert!(
        rebound,
        "the port stayed bound after the host proxy was collected"
    );
}

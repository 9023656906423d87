//! Shared set-up for the integration tests: a Lua 5.4 state with the module as global `enet`
//! and a few helpers written in Lua, so each test reads like the Lua code users write.
#![allow(dead_code)]

use mlua::Lua;

const PRELUDE: &str = r#"
-- Services every host until done() is true or max_ms of wall time pass; returns done().
function pump(hosts, done, max_ms, on_event)
  local deadline = now_ms() + (max_ms or 5000)
  while not done() do
    if now_ms() > deadline then return false end
    for _, h in ipairs(hosts) do
      local n, ev = h:service(2)
      if n > 0 and on_event then on_event(h, ev) end
    end
  end
  return true
end

-- A server (peerCount peers) and a client connected to it. Returns server, client,
-- client-side peer, server-side peer, and the events seen while connecting.
function connected_pair(peer_count, channels, data)
  local server = assert(enet.host_create({ host = "127.0.0.1", port = 0 }, peer_count or 4, channels or 4))
  local client = assert(enet.host_create(nil, 1, channels or 4))
  local cpeer = assert(client:connect({ host = "127.0.0.1", port = server:address().port }, channels or 4, data or 0))
  local speer, cconnected, sdata
  assert(pump({ server, client }, function() return speer and cconnected end, 5000, function(h, ev)
    if ev.type == enet.EVENT_TYPE_CONNECT then
      if h == server then speer, sdata = ev.peer, ev.data else cconnected = ev.peer end
    end
  end), "connection did not complete")
  assert(rawequal(cconnected, cpeer), "connect event peer differs from host_connect's")
  return server, client, cpeer, speer, sdata
end

-- Collects receive events on `host` until n arrived.
function receive(hosts, host, n, max_ms)
  local got = {}
  pump(hosts, function() return #got >= n end, max_ms or 5000, function(h, ev)
    if h == host and ev.type == enet.EVENT_TYPE_RECEIVE then
      got[#got + 1] = { data = ev.packet:data(), channel = ev.channelID, peer = ev.peer }
    end
  end)
  return got
end
"#;

pub fn lua() -> Lua {
    let lua = Lua::new();
    let start = std::time::Instant::now();
    let now_ms = lua
        .create_function(move |_, ()| Ok(start.elapsed().as_secs_f64() * 1000.0))
        .expect("now_ms");
    lua.globals().set("now_ms", now_ms).expect("set now_ms");
    let module = module_enet::module(&lua).expect("module loads");
    lua.globals().set("enet", module).expect("set global");
    lua.load(PRELUDE)
        .set_name("=prelude")
        .exec()
        .expect("prelude");
    lua
}

/// Runs a Lua chunk, panicking with Lua's message (and the test name) on error.
pub fn run(lua: &Lua, name: &str, chunk: &str) {
    if let Err(e) = lua.load(chunk).set_name(format!("={name}")).exec() {
        panic!("{name}: {e}");
    }
}

//! The module driven from Lua, in-process: two hosts on loopback doing what games do.

mod common;

use common::{lua, run};

#[test]
fn reliable_unreliable_and_unsequenced_on_several_channels() {
    let lua = lua();
    run(
        &lua,
        "kinds",
        r#"
        local server, client, cpeer, speer = connected_pair(4, 4)
        local flags = { enet.PACKET_FLAG_RELIABLE, 0, enet.PACKET_FLAG_UNSEQUENCED, enet.PACKET_FLAG_RELIABLE }
        for ch = 0, 3 do
          for i = 1, 5 do
            assert(cpeer:send(ch, enet.packet_create(ch .. ":" .. i, flags[ch + 1])) == 0)
          end
        end
        local got = receive({ server, client }, server, 20)
        assert(#got == 20, "got " .. #got)
        local last = {}
        for _, m in ipairs(got) do
          local ch, i = m.data:match("^(%d):(%d)$")
          assert(tonumber(ch) == m.channel, "channel mismatch")
          assert(rawequal(m.peer, speer), "receive peer differs from connect peer")
          if m.channel ~= 2 then -- sequenced channels keep order
            assert((last[m.channel] or 0) < tonumber(i), "out of order on " .. m.channel)
          end
          last[m.channel] = tonumber(i)
        end
    "#,
    );
}

#[test]
fn binary_empty_and_one_mebibyte_payloads() {
    let lua = lua();
    run(
        &lua,
        "payloads",
        r#"
        local server, client, cpeer = connected_pair()
        local big = {}
        for i = 1, 1024 * 1024 do big[i] = string.char((i * 7) % 256) end
        big = table.concat(big)
        local payloads = { "a\0b\0\0c", "", big, string.rep("\0", 100) }
        for _, p in ipairs(payloads) do assert(cpeer:send(0, enet.packet_create(p)) == 0) end
        local got = receive({ server, client }, server, #payloads, 20000)
        assert(#got == #payloads, "got " .. #got)
        for i, p in ipairs(payloads) do
          assert(got[i].data == p, "payload " .. i .. " differs (" .. #got[i].data .. " bytes)")
        end
    "#,
    );
}

#[test]
fn connect_and_disconnect_data_and_reasons_on_both_sides() {
    let lua = lua();
    run(
        &lua,
        "data",
        r#"
        local server, client, cpeer, speer, sdata = connected_pair(4, 2, 4294967295)
        assert(sdata == 4294967295, "connect data " .. tostring(sdata))
        assert(cpeer:disconnect(123456) == 0)
        local sev, cev
        pump({ server, client }, function() return sev and cev end, 5000, function(h, ev)
          if ev.type == enet.EVENT_TYPE_DISCONNECT then
            if h == server then sev = ev else cev = ev end
          end
        end)
        assert(sev and cev, "both sides see a disconnect")
        assert(sev.data == 123456, "disconnect data " .. tostring(sev.data))
        assert(rawequal(sev.peer, speer) and rawequal(cev.peer, cpeer))
        assert(sev.reason == "disconnect" and cev.reason == "disconnect")
        assert(cpeer:state() == "disconnected" and speer:state() == "disconnected")
        assert(cpeer:send(0, enet.packet_create("late")) < 0, "stale peer refuses sends")
    "#,
    );
}

#[test]
fn service_zero_polls_without_blocking() {
    let lua = lua();
    run(
        &lua,
        "poll",
        r#"
        local server, client, cpeer = connected_pair()
        local t0 = now_ms()
        for _ = 1, 100 do assert(server:service(0) == 0) end
        assert(now_ms() - t0 < 100, "100 polls took " .. (now_ms() - t0) .. " ms")
        cpeer:send(1, enet.packet_create("x"))
        client:flush()
        local seen
        for _ = 1, 100000 do
          local n, ev = server:service(0)
          if n > 0 and ev.type == enet.EVENT_TYPE_RECEIVE then seen = ev break end
        end
        assert(seen and seen.packet:data() == "x" and seen.channelID == 1)
    "#,
    );
}

#[test]
fn service_timeout_is_honoured_when_idle() {
    let lua = lua();
    run(
        &lua,
        "idle",
        r#"
        local h = enet.host_create({ host = "127.0.0.1", port = 0 })
        local t0 = now_ms()
        assert(h:service(60) == 0)
        local dt = now_ms() - t0
        assert(dt >= 59 and dt < 200, "service(60) took " .. dt .. " ms")
    "#,
    );
}

#[test]
fn service_wakes_within_milliseconds_of_a_datagram() {
    // The server sleeps in service(3000); a client in another thread (its own Lua state)
    // connects at a recorded instant. The server must return the connect event at once.
    let lua = lua();
    run(
        &lua,
        "setup",
        r#"server = enet.host_create({ host = "127.0.0.1", port = 0 }) port = server:address().port"#,
    );
    let port: u16 = lua.globals().get("port").expect("port");
    let started = std::time::Instant::now();
    let client = std::thread::spawn(move || {
        let lua = common::lua();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let sent_at = started.elapsed();
        run(
            &lua,
            "client",
            &format!(
                r#"
            local c = enet.host_create(nil, 1)
            c:connect("127.0.0.1:{port}")
            c:flush()
            pump({{ c }}, function() return false end, 1000)
        "#
            ),
        );
        sent_at
    });
    run(&lua, "wait", "n, ev = server:service(3000)");
    let woke_at = started.elapsed();
    let sent_at = client.join().expect("client thread");
    let n: i64 = lua.globals().get("n").expect("n");
    assert_eq!(n, 1, "service returned an event");
    let latency = woke_at.saturating_sub(sent_at);
    assert!(
        latency.as_millis() < 50,
        "woke {latency:?} after the datagram was sent"
    );
}

#[test]
fn sends_before_the_connection_completes_are_delivered_in_order() {
    let lua = lua();
    run(
        &lua,
        "queued",
        r#"
        local server = enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2)
        local client = enet.host_create(nil, 1, 2)
        local peer = client:connect({ host = "127.0.0.1", port = server:address().port }, 2)
        assert(peer:state() == "connecting")
        for i = 1, 10 do assert(peer:send(0, enet.packet_create(tostring(i))) == 0) end
        local got = receive({ server, client }, server, 10)
        assert(#got == 10)
        for i = 1, 10 do assert(got[i].data == tostring(i)) end
    "#,
    );
}

#[test]
fn one_packet_to_many_peers_and_destroy_after_send() {
    let lua = lua();
    run(
        &lua,
        "fanout",
        r#"
        local server = enet.host_create({ host = "127.0.0.1", port = 0 }, 8, 1)
        local port = server:address().port
        local clients, connected = {}, 0
        for i = 1, 3 do
          clients[i] = enet.host_create(nil, 1, 1)
          clients[i]:connect("127.0.0.1:" .. port, 1)
        end
        local all = { server, clients[1], clients[2], clients[3] }
        local speers = {}
        pump(all, function() return #speers == 3 end, 5000, function(h, ev)
          if h == server and ev.type == enet.EVENT_TYPE_CONNECT then speers[#speers + 1] = ev.peer end
        end)
        assert(#speers == 3)
        local packet = enet.packet_create("to all")
        for _, p in ipairs(speers) do assert(p:send(0, packet) == 0) end
        packet:destroy()
        packet:destroy()
        assert(packet:data() == nil)
        collectgarbage()
        local n = 0
        pump(all, function() return n == 3 end, 5000, function(h, ev)
          if h ~= server and ev.type == enet.EVENT_TYPE_RECEIVE then
            assert(ev.packet:data() == "to all")
            n = n + 1
          end
        end)
        assert(n == 3, "delivered to " .. n)
        assert(server:broadcast(0, enet.packet_create("bc")) == 0)
        n = 0
        pump(all, function() return n == 3 end, 5000, function(h, ev)
          if h ~= server and ev.type == enet.EVENT_TYPE_RECEIVE then n = n + 1 end
        end)
        assert(n == 3, "broadcast reached " .. n)
    "#,
    );
}

#[test]
fn misuse_raises_plain_string_errors_naming_function_and_argument() {
    let lua = lua();
    run(
        &lua,
        "misuse",
        r#"
        local function err(f, ...)
          local ok, e = pcall(f, ...)
          assert(not ok, "expected an error")
          assert(type(e) == "string", "error is a " .. type(e))
          return e
        end
        assert(err(enet.host_service, nil) == "bad argument #1 to 'host_service' (ENetHost expected, got nil)")
        local p = enet.packet_create("x")
        assert(err(enet.host_service, p):find("ENetHost expected, got ENetPacket", 1, true))
        assert(err(enet.packet_create, 5):find("bad argument #1 to 'packet_create' (string expected, got number)", 1, true))
        assert(err(enet.packet_create, "x", 64):find("unknown packet flags", 1, true))
        assert(err(enet.host_create, nil, 0):find("peerCount must be between 1 and 4095", 1, true))
        assert(err(enet.host_create, nil, 1, 256):find("channelCount", 1, true))
        local h = enet.host_create()
        assert(err(h.service, 10):find("bad argument #1 to 'host_service'", 1, true))
        assert(err(enet.host_service, h, 0/0):find("bad argument #2", 1, true))
        assert(err(enet.host_connect, h, { host = "127.0.0.1" }):find("port", 1, true))
        assert(err(enet.peer_send, h, 0, p):find("ENetPeer expected, got ENetHost", 1, true))
        -- the position is the caller's line, like the standard library
        local ok, e = pcall(function() enet.host_service(nil) end)
        assert(e:match("^misuse:%d+: bad argument"), e)
    "#,
    );
}

#[test]
fn runtime_failures_return_nil_and_message() {
    let lua = lua();
    run(
        &lua,
        "failures",
        r#"
        local a = enet.host_create({ host = "127.0.0.1", port = 0 })
        local b, msg = enet.host_create({ host = "127.0.0.1", port = a:address().port })
        assert(b == nil and msg:find("address already in use", 1, true), msg)
        local c, m2 = enet.host_create({ host = "no-such-host.invalid", port = 0 })
        assert(c == nil and type(m2) == "string")
        local full = enet.host_create(nil, 1)
        assert(full:connect("127.0.0.1:9"))
        local p, m3 = full:connect("127.0.0.1:9")
        assert(p == nil and m3:find("no free peer slot", 1, true), m3)
        a:destroy()
        a:destroy()
        local n, m4 = a:service(0)
        assert(n == -1 and m4:find("destroyed", 1, true))
        local q, m5 = a:connect("127.0.0.1:9")
        assert(q == nil and m5:find("destroyed", 1, true))
        assert(tostring(a) == "ENetHost(destroyed)")
    "#,
    );
}

#[test]
fn host_destroy_tells_connected_peers_and_makes_handles_stale() {
    let lua = lua();
    run(
        &lua,
        "destroy",
        r#"
        local server, client, cpeer, speer = connected_pair()
        server:destroy()
        local ev
        pump({ client }, function() return ev end, 3000, function(_, e)
          if e.type == enet.EVENT_TYPE_DISCONNECT then ev = e end
        end)
        assert(ev and rawequal(ev.peer, cpeer) and ev.reason == "disconnect", "client told at once")
        assert(speer:state() == "disconnected")
        local r, m = speer:send(0, enet.packet_create("x"))
        assert(r < 0 and type(m) == "string")
        assert(tostring(speer) == "ENetPeer(stale)")
    "#,
    );
}

#[test]
fn stale_handle_never_acts_on_a_reused_slot() {
    let lua = lua();
    run(
        &lua,
        "stale",
        r#"
        local server = enet.host_create({ host = "127.0.0.1", port = 0 }, 1, 1)
        local port = server:address().port
        local first
        for round = 1, 2 do
          local client = enet.host_create(nil, 1, 1)
          local cpeer = client:connect("127.0.0.1:" .. port, 1)
          local speer
          pump({ server, client }, function() return speer end, 5000, function(h, ev)
            if h == server and ev.type == enet.EVENT_TYPE_CONNECT then speer = ev.peer end
          end)
          assert(speer, "round " .. round .. " connected")
          if round == 1 then
            first = speer
            cpeer:disconnect_now()
            server:service(50)
            speer:reset()
          else
            assert(not rawequal(first, speer), "a new connection gets a new handle")
            assert(speer:index() == 1 and first:index() == nil)
            assert(first:send(0, enet.packet_create("wrong")) < 0)
            assert(first:disconnect() < 0)
            assert(speer:state() == "connected")
          end
          client:destroy()
        end
    "#,
    );
}

#[test]
fn peers_are_table_keys_and_addresses_are_real() {
    let lua = lua();
    run(
        &lua,
        "keys",
        r#"
        local server, client, cpeer, speer = connected_pair()
        local clients = { [speer] = "alice" }
        cpeer:send(0, enet.packet_create("hi"))
        local got = receive({ server, client }, server, 1)
        assert(clients[got[1].peer] == "alice")
        local a = speer:address()
        assert(a.host == "127.0.0.1" and a.port == client:address().port, a.host .. ":" .. a.port)
        assert(tostring(speer) == "ENetPeer(127.0.0.1:" .. a.port .. ")")
        local hp = server:peers()
        assert(#hp == 1 and rawequal(hp[1], speer))
        assert(type(server:fd()) == "number")
        assert(server:statistics().datagrams_received > 0)
        assert(speer:statistics().packets_sent >= 0)
        assert(type(speer:round_trip_time()) == "number")
    "#,
    );
}

#[test]
fn garbage_collection_between_every_step() {
    let lua = lua();
    run(
        &lua,
        "gc",
        r#"
        collectgarbage()
        local server = enet.host_create({ host = "127.0.0.1", port = 0 }, 2, 2) collectgarbage()
        local client = enet.host_create(nil, 1, 2) collectgarbage()
        client:connect("127.0.0.1:" .. server:address().port, 2) collectgarbage()
        local seen = 0
        pump({ server, client }, function() return seen >= 2 end, 5000, function(h, ev)
          collectgarbage()
          if ev.type == enet.EVENT_TYPE_CONNECT then
            seen = seen + 1
            ev.peer:send(0, enet.packet_create("x")) collectgarbage()
          end
        end)
        assert(seen == 2)
        local n = 0
        pump({ server, client }, function() return n >= 2 end, 5000, function(_, ev)
          collectgarbage()
          if ev.type == enet.EVENT_TYPE_RECEIVE then n = n + 1 end
        end)
        assert(n == 2)
        client = nil collectgarbage() collectgarbage()
        server = nil collectgarbage() collectgarbage()
    "#,
    );
}

#[test]
fn service_batch_returns_every_ready_event_in_order() {
    let lua = lua();
    run(
        &lua,
        "batch",
        r#"
        local server, client, cpeer = connected_pair(2, 1)
        for i = 1, 50 do cpeer:send(0, tostring(i)) end
        client:flush()
        local got = {}
        local deadline = now_ms() + 5000
        while #got < 50 and now_ms() < deadline do
          local n, events = server:service_batch(100, 64)
          assert(n == #events)
          for _, ev in ipairs(events) do
            assert(ev.type == enet.EVENT_TYPE_RECEIVE)
            got[#got + 1] = ev.packet:data()
          end
        end
        assert(#got == 50, "got " .. #got)
        for i = 1, 50 do assert(got[i] == tostring(i)) end
        local n, events = server:service_batch(0)
        assert(n == 0 and #events == 0)
        server:destroy()
        assert(server:service_batch(0) == -1)
    "#,
    );
}

#[test]
fn service_batch_can_deliver_payload_strings() {
    let lua = lua();
    run(
        &lua,
        "payload",
        r#"
        local server, client, cpeer, speer = connected_pair(2, 2)
        cpeer:send(1, "a\0b")
        cpeer:send(0, "")
        local got = {}
        local deadline = now_ms() + 5000
        while #got < 2 and now_ms() < deadline do
          client:service(0)
          local _, events = server:service_batch(10, 16, true)
          for _, ev in ipairs(events) do
            assert(ev.type == enet.EVENT_TYPE_RECEIVE and ev.packet == nil)
            assert(rawequal(ev.peer, speer))
            got[#got + 1] = ev
          end
        end
        assert(#got == 2)
        assert(got[1].payload == "a\0b" and got[1].channelID == 1)
        assert(got[2].payload == "" and got[2].channelID == 0)
        assert(not pcall(server.service_batch, server, 0, 1, "yes"))
    "#,
    );
}

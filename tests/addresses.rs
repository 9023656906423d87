//! Addresses from Lua: literals and scope ids, IPv6 and dual stack, and hostnames resolved by a
//! real DNS server on loopback (in-process, port 0) that the module is pointed at with
//! `resolver_configure`. No test here lets the module near the system's nameservers.

mod common;

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use common::{lua, run};
use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};

/// A DNS server answering from a fixed zone on 127.0.0.1, port 0:
/// `v4.test` A 127.0.0.1, `v6.test` AAAA ::1, `both.test` both, `nodata.test` exists with no
/// address, anything else NXDOMAIN. A silent one reads queries and never answers.
struct DnsServer {
    addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    fn start(silent: bool) -> DnsServer {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        // Bounds how long Drop waits for the thread to notice `stop`.
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (queries.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while !s.load(Ordering::Relaxed) {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                q.fetch_add(1, Ordering::Relaxed);
                if silent {
                    continue;
                }
                if let Some(reply) = answer(&buf[..len]) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        DnsServer {
            addr,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::Relaxed)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.message_type = MessageType::Response;
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = true;
    let q = request.queries.first()?.clone();
    let name = q.name().to_ascii().to_ascii_lowercase();
    let name = name.trim_end_matches('.');
    let v4 = matches!(name, "v4.test" | "both.test");
    let v6 = matches!(name, "v6.test" | "both.test");
    let known = v4 || v6 || name == "nodata.test";
    if !known {
        reply.metadata.response_code = ResponseCode::NXDomain;
    }
    match q.query_type() {
        RecordType::A if v4 => {
            reply.add_answer(Record::from_rdata(
                q.name().clone(),
                60,
                RData::A(A(Ipv4Addr::LOCALHOST)),
            ));
        }
        RecordType::AAAA if v6 => {
            reply.add_answer(Record::from_rdata(
                q.name().clone(),
                60,
                RData::AAAA(AAAA(Ipv6Addr::LOCALHOST)),
            ));
        }
        _ => {}
    }
    reply.add_query(q);
    reply.to_vec().ok()
}

/// A Lua state whose resolver uses `server` only, with `timeout` ms.
fn lua_with_dns(server: &DnsServer, timeout: u32) -> mlua::Lua {
    let lua = lua();
    run(
        &lua,
        "configure",
        &format!(
            r#"assert(enet.resolver_configure{{ nameservers = {{ "{}" }}, timeout = {timeout} }})"#,
            server.addr
        ),
    );
    lua
}

#[test]
fn dns_a_aaaa_and_both_records_resolve_with_preference() {
    let dns = DnsServer::start(false);
    let lua = lua_with_dns(&dns, 3000);
    run(
        &lua,
        "records",
        &format!(
            r#"
        local list = assert(enet.address_resolve("v4.test"))
        assert(#list == 1 and list[1].host == "127.0.0.1" and list[1].port == 0)
        assert(list[1].sin6_scope_id == nil, "no scope id on IPv4")
        list = assert(enet.address_resolve("v6.test:6789"))
        assert(#list == 1 and list[1].host == "::1" and list[1].port == 6789)
        assert(list[1].sin6_scope_id == 0)
        list = assert(enet.address_resolve({{ host = "both.test", port = 7 }}))
        assert(#list == 2 and list[1].host == "127.0.0.1" and list[2].host == "::1", list[1].host)
        assert(enet.resolver_configure{{ nameservers = {{ "{addr}" }}, prefer = "ipv6" }})
        list = assert(enet.address_resolve("both.test."))
        assert(#list == 2 and list[1].host == "::1" and list[2].host == "127.0.0.1")
        assert(enet.resolver_configure{{ nameservers = {{ "{addr}" }}, prefer = "ipv4" }})
        list = assert(enet.address_resolve("BOTH.test"))
        assert(list[1].host == "127.0.0.1")
        "#,
            addr = dns.addr
        ),
    );
    assert!(dns.queries() >= 4, "queries reached the test server");
}

#[test]
fn hosts_connect_and_bind_by_name() {
    let dns = DnsServer::start(false);
    let lua = lua_with_dns(&dns, 3000);
    run(
        &lua,
        "connect by name",
        r#"
        -- "::" is dual-stack: IPv4 and IPv6 clients reach it by name.
        local server = assert(enet.host_create("[::]:0", 8, 1))
        local port = server:address().port
        local want = { ["v4.test"] = "127.0.0.1", ["v6.test"] = "::1", ["both.test"] = "127.0.0.1" }
        for name, ip in pairs(want) do
          local client = assert(enet.host_create(nil, 1, 1))
          local peer = assert(client:connect(name .. ":" .. port, 1))
          local up = false
          assert(pump({ server, client }, function() return up end, 5000, function(h, ev)
            if h == client and ev.type == enet.EVENT_TYPE_CONNECT then up = true end
          end), "no connection to " .. name)
          assert(peer:address().host == ip, name .. " -> " .. peer:address().host)
          client:destroy()
        end
        local bound = assert(enet.host_create({ host = "v6.test", port = 0 }))
        assert(bound:address().host == "::1")
        bound = assert(enet.host_create("v4.test:0"))
        assert(bound:address().host == "127.0.0.1")
        "#,
    );
}

#[test]
fn unknown_names_fail_cleanly_and_fast() {
    let dns = DnsServer::start(false);
    let lua = lua_with_dns(&dns, 3000);
    run(
        &lua,
        "nxdomain",
        r#"
        local t0 = now_ms()
        local list, err = enet.address_resolve("missing.test")
        assert(list == nil and err:find("missing.test", 1, true) and err:find("no such host"), err)
        list, err = enet.address_resolve("nodata.test")
        assert(list == nil and err:find("no addresses"), err)
        local client = assert(enet.host_create(nil, 1, 1))
        local peer, cerr = client:connect("missing.test:1234")
        assert(peer == nil and cerr:find("no such host"), cerr)
        local h, herr = enet.host_create("missing.test:0")
        assert(h == nil and herr:find("no such host"), herr)
        -- An answer, not the 3 s timeout, ends each lookup.
        assert(now_ms() - t0 < 2000, "took " .. (now_ms() - t0) .. " ms")
        "#,
    );
}

#[test]
fn silent_server_times_out_within_the_configured_time() {
    let dns = DnsServer::start(true);
    let lua = lua_with_dns(&dns, 300);
    run(
        &lua,
        "timeout",
        r#"
        local t0 = now_ms()
        local list, err = enet.address_resolve("v4.test")
        local took = now_ms() - t0
        assert(list == nil and err:find("timed out after 300 ms"), err)
        assert(took >= 250 and took < 1500, "took " .. took .. " ms")
        local client = assert(enet.host_create(nil, 1, 1))
        t0 = now_ms()
        local peer, cerr = client:connect("v4.test:1234")
        took = now_ms() - t0
        assert(peer == nil and cerr:find("timed out"), cerr)
        assert(took < 1500, "connect took " .. took .. " ms")
        "#,
    );
    assert!(dns.queries() >= 2, "the silent server saw the queries");
}

#[test]
fn localhost_and_literals_never_touch_the_network() {
    let dns = DnsServer::start(true);
    let lua = lua_with_dns(&dns, 2000);
    run(
        &lua,
        "localhost",
        r#"
        local t0 = now_ms()
        local list = assert(enet.address_resolve("localhost:5"))
        assert(#list == 2 and list[1].host == "127.0.0.1" and list[2].host == "::1" and list[1].port == 5)
        assert(#assert(enet.address_resolve("LOCALHOST.")) == 2)
        assert(#assert(enet.address_resolve("game.localhost")) == 2)
        assert(assert(enet.address_resolve("::ffff:127.0.0.1"))[1].host == "127.0.0.1")
        local server = assert(enet.host_create("localhost:0"))
        assert(server:address().host == "127.0.0.1")
        local req = enet.address_resolve_start("localhost")
        assert(#assert(req:result()) == 2, "localhost is answered at once")
        assert(now_ms() - t0 < 500, "took " .. (now_ms() - t0) .. " ms")
        "#,
    );
    assert_eq!(dns.queries(), 0, "no query for localhost or literals");
}

#[test]
fn resolve_start_answers_without_blocking() {
    let dns = DnsServer::start(false);
    let silent = DnsServer::start(true);
    let lua = lua_with_dns(&dns, 2000);
    run(
        &lua,
        "async",
        &format!(
            r#"
        local idle = assert(enet.host_create(nil, 1, 1)) -- its service() is our bounded wait
        local function wait(req, max_ms)
          local deadline = now_ms() + max_ms
          while now_ms() < deadline do
            local list, err = req:result()
            if list or err then return list, err end
            idle:service(5)
          end
          error("request still pending after " .. max_ms .. " ms")
        end
        local req = enet.address_resolve_start("both.test:99")
        assert(tostring(req):match("^ENetResolveRequest%("), tostring(req))
        local list = assert(wait(req, 3000))
        assert(#list == 2 and list[1].host == "127.0.0.1" and list[1].port == 99)
        -- The answer stays: later calls return it again, in both call forms.
        assert(enet.request_result(req)[2].host == "::1")
        local _, err = wait(enet.address_resolve_start("missing.test"), 3000)
        assert(err:find("no such host"), err)

        assert(enet.resolver_configure{{ nameservers = {{ "{silent}" }}, timeout = 300 }})
        req = enet.address_resolve_start("v4.test")
        local first, ferr = req:result()
        assert(first == nil and ferr == nil, "pending is nil without a message")
        assert(tostring(req) == "ENetResolveRequest(pending)")
        local t0 = now_ms()
        list, err = wait(req, 3000)
        assert(list == nil and err:find("timed out"), err)
        assert(now_ms() - t0 < 1500)
        -- Requests dropped while pending are collected without harm.
        for _ = 1, 20 do enet.address_resolve_start("v6.test") end
        collectgarbage("collect")
        collectgarbage("collect")
        assert(enet.address_resolve_start("localhost"):result())
        "#,
            silent = silent.addr
        ),
    );
}

#[test]
fn resolver_settings_belong_to_one_lua_state() {
    let dns = DnsServer::start(false);
    let silent = DnsServer::start(true);
    let good = lua_with_dns(&dns, 3000);
    let bad = lua_with_dns(&silent, 200);
    run(
        &bad,
        "bad",
        r#"assert(not enet.address_resolve("v4.test"))"#,
    );
    run(&good, "good", r#"assert(enet.address_resolve("v4.test"))"#);
    run(
        &bad,
        "bad again",
        r#"assert(not enet.address_resolve("v4.test"))"#,
    );
}

#[test]
fn resolver_configure_rejects_misuse() {
    let lua = lua();
    run(
        &lua,
        "misuse",
        r#"
        local function err(...)
          local ok, e = pcall(enet.resolver_configure, ...)
          assert(not ok, "expected an error")
          assert(type(e) == "string" and e:find("resolver_configure"), tostring(e))
          return e
        end
        assert(err({ prefer = "ipv5" }):find("prefer"))
        assert(err({ nameservers = { "dns.example" } }):find("IP address"))
        assert(err({ nameservers = "127.0.0.1" }):find("nameservers"))
        assert(err({ timeout = -1 }):find("timeout"))
        assert(err({ timeout = 0 }):find("timeout"))
        assert(err(42):find("table expected"))
        assert(enet.resolver_configure{ nameservers = { "127.0.0.1", "[::1]:5353" }, timeout = 1500 })
        assert(enet.resolver_configure())
        local ok, e = pcall(enet.address_resolve, 42)
        assert(not ok and e:find("address_resolve"), e)
        ok, e = pcall(enet.request_result, {})
        assert(not ok and e:find("ENetResolveRequest expected"), e)
        ok, e = pcall(enet.address_resolve, "")
        assert(not ok and e:find("empty host name"), e)
        ok, e = pcall(enet.address_resolve_start)
        assert(not ok and e:find("address_resolve_start"), e)
        "#,
    );
}

#[test]
fn literals_scope_ids_and_wildcards() {
    let lua = lua();
    run(
        &lua,
        "literals",
        r#"
        local function one(name)
          local list, err = enet.address_resolve(name)
          assert(list, err)
          assert(#list == 1, name)
          return list[1]
        end
        local a = one("fe80::1%lo")
        assert(a.host == "fe80::1" and a.sin6_scope_id == 1, a.sin6_scope_id)
        a = one("[fe80::1%1]:9")
        assert(a.host == "fe80::1" and a.sin6_scope_id == 1 and a.port == 9)
        a = one({ host = "fe80::2", port = 3, sin6_scope_id = 7 })
        assert(a.sin6_scope_id == 7 and a.port == 3)
        -- A scope id means nothing off link-local: dropped, so addresses compare equal.
        a = one({ host = "::1", sin6_scope_id = 7 })
        assert(a.sin6_scope_id == 0)
        a = one("192.0.2.7:80")
        assert(a.host == "192.0.2.7" and a.port == 80 and a.sin6_scope_id == nil)
        assert(one("*:5").host == "0.0.0.0")
        assert(one("0.0.0.0").host == "0.0.0.0")
        assert(one("::").host == "::")
        local list, err = enet.address_resolve("fe80::1%no-such-if0")
        assert(list == nil and err:find("no%-such%-if0"), err)
        list, err = enet.address_resolve("10.0.0.1%2")
        assert(list == nil and err:find("only valid on IPv6"), err)

        local any4 = assert(enet.host_create("*:0"))
        assert(any4:address().host == "0.0.0.0")
        local any6 = assert(enet.host_create({ host = "::", port = 0 }))
        assert(any6:address().host == "::" and any6:address().sin6_scope_id == 0)
        local v4only = assert(enet.host_create("127.0.0.1:0"))
        local peer, e = v4only:connect("[::1]:5")
        assert(peer == nil and e:find("cannot reach"), e)
        local client = assert(enet.host_create())
        peer, e = client:connect("[fe80::1]:5")
        assert(peer == nil and e:find("scope id"), e)
        "#,
    );
}

#[test]
fn connect_over_ipv6_loopback() {
    let lua = lua();
    run(
        &lua,
        "::1",
        r#"
        local server = assert(enet.host_create("[::1]:0", 2, 1))
        local sa = server:address()
        assert(sa.host == "::1" and sa.sin6_scope_id == 0)
        local client = assert(enet.host_create(nil, 1, 1))
        local peer = assert(client:connect({ host = "::1", port = sa.port }, 1))
        local speer
        local got
        assert(pump({ server, client }, function() return got end, 5000, function(h, ev)
          if h == server and ev.type == enet.EVENT_TYPE_CONNECT then
            speer = ev.peer
            assert(speer:send(0, enet.packet_create("over v6")) == 0)
          elseif h == client and ev.type == enet.EVENT_TYPE_RECEIVE then
            got = ev.packet:data()
          end
        end), "no data over ::1")
        assert(got == "over v6")
        local pa = speer:address()
        assert(pa.host == "::1" and pa.sin6_scope_id == 0 and pa.port == client:address().port)
        assert(peer:address().host == "::1")
        "#,
    );
}

#[test]
fn dual_stack_server_takes_ipv4_and_ipv6_clients_at_once() {
    let lua = lua();
    run(
        &lua,
        "dual stack",
        r#"
        local server = assert(enet.host_create({ host = "::", port = 0 }, 4, 1))
        local port = server:address().port
        local c4 = assert(enet.host_create("0.0.0.0:0", 1, 1)) -- an IPv4-only socket
        local c6 = assert(enet.host_create("[::1]:0", 1, 1))   -- an IPv6 socket
        local p4 = assert(c4:connect("127.0.0.1:" .. port, 1))
        local p6 = assert(c6:connect("[::1]:" .. port, 1))
        local seen, up4, up6 = {}, false, false
        assert(pump({ server, c4, c6 }, function() return #seen == 2 and up4 and up6 end, 5000,
          function(h, ev)
            if ev.type ~= enet.EVENT_TYPE_CONNECT then return end
            if h == server then seen[#seen + 1] = ev.peer:address()
            elseif h == c4 then up4 = true
            else up6 = true end
          end), "both clients connect")
        table.sort(seen, function(a, b) return a.host < b.host end)
        -- The IPv4 client shows as IPv4, never as ::ffff:127.0.0.1.
        assert(seen[1].host == "127.0.0.1" and seen[1].sin6_scope_id == nil, seen[1].host)
        assert(seen[1].port == c4:address().port)
        assert(seen[2].host == "::1" and seen[2].port == c6:address().port, seen[2].host)
        assert(p4:state() == "connected" and p6:state() == "connected")
        "#,
    );
}

/// Link-local with a scope id between two network namespaces joined by a veth pair. Needs root
/// and `ip` (iproute2); skipped with a message otherwise, except under CI=true where it must run.
#[cfg(target_os = "linux")]
#[test]
fn link_local_with_scope_id_between_network_namespaces() {
    use std::process::Command;

    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let ip = Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !ip {
        let why = if root {
            "no `ip` (iproute2)"
        } else {
            "not root"
        };
        assert!(!ci, "link-local netns test cannot run under CI: {why}");
        println!("SKIPPED link_local_with_scope_id_between_network_namespaces: {why}");
        return;
    }

    struct Namespaces(Vec<String>);
    impl Drop for Namespaces {
        fn drop(&mut self) {
            for ns in &self.0 {
                let _ = Command::new("ip").args(["netns", "del", ns]).status();
            }
        }
    }
    let ns_a = format!("menet-ra-{}", std::process::id());
    let ns_b = format!("menet-rb-{}", std::process::id());
    let _cleanup = Namespaces(vec![ns_a.clone(), ns_b.clone()]);
    let sh = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(&["netns", "add", &ns_a]);
    sh(&["netns", "add", &ns_b]);
    sh(&[
        "link", "add", "name", "enA", "netns", &ns_a, "type", "veth", "peer", "name", "enB",
        "netns", &ns_b,
    ]);
    for (ns, dev, addr) in [(&ns_a, "enA", "fe80::a/64"), (&ns_b, "enB", "fe80::b/64")] {
        sh(&["-n", ns, "link", "set", "lo", "up"]);
        sh(&["-n", ns, "-6", "addr", "add", addr, "dev", dev, "nodad"]);
        sh(&["-n", ns, "link", "set", dev, "up"]);
    }

    // One thread, one Lua state: a socket stays in the namespace it was created in, so the
    // thread enters A to create the server, then B for the client (and for B's `%enB`).
    let (a, b) = (ns_a.clone(), ns_b.clone());
    let result = std::thread::spawn(move || {
        let lua = lua();
        let enter = lua
            .create_function(|_, name: String| {
                let file = std::fs::File::open(format!("/var/run/netns/{name}"))
                    .map_err(mlua::Error::external)?;
                use std::os::fd::AsRawFd;
                // SAFETY: a valid namespace fd; only this (our own) thread changes namespace.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                if rc != 0 {
                    return Err(mlua::Error::external(std::io::Error::last_os_error()));
                }
                Ok(())
            })
            .unwrap();
        lua.globals().set("enter_netns", enter).unwrap();
        lua.globals().set("NS_A", a).unwrap();
        lua.globals().set("NS_B", b).unwrap();
        lua.load(
            r#"
            enter_netns(NS_A)
            local server = assert(enet.host_create("[fe80::a%enA]:0", 2, 1))
            local sa = server:address()
            assert(sa.host == "fe80::a" and sa.sin6_scope_id > 0, "server bound with its scope")
            local scope_a = sa.sin6_scope_id
            enter_netns(NS_B)
            local client = assert(enet.host_create(nil, 1, 1))
            -- Without a scope id a link-local target is refused, not left to time out.
            local nope, err = client:connect("[fe80::a]:" .. sa.port)
            assert(nope == nil and err:find("scope id"), err)
            local peer = assert(client:connect("[fe80::a%enB]:" .. sa.port, 1))
            local scope_b = peer:address().sin6_scope_id
            assert(scope_b > 0)
            local speer, reply
            assert(pump({ server, client }, function() return reply end, 8000, function(h, ev)
              if h == server and ev.type == enet.EVENT_TYPE_CONNECT then
                speer = ev.peer
                local pa = speer:address()
                speer:send(0, enet.packet_create(pa.host .. "%" .. pa.sin6_scope_id))
              elseif h == client and ev.type == enet.EVENT_TYPE_RECEIVE then
                reply = ev.packet:data()
              end
            end), "no link-local connection between the namespaces")
            -- The server sees the client's link-local address with A's interface as scope.
            assert(reply == "fe80::b%" .. scope_a, reply)
            local pa = peer:address()
            assert(pa.host == "fe80::a" and pa.sin6_scope_id == scope_b)
            client:destroy()
            server:destroy()
            "#,
        )
        .set_name("=link-local")
        .exec()
        .map_err(|e| e.to_string())
    })
    .join()
    .unwrap();
    if let Err(e) = result {
        panic!("link-local: {e}");
    }
}

//! Arbitrary datagrams into module_enet's netcode 1.02 layer (src/secure.rs), and arbitrary
//! bytes into its token and packet readers. The layer is compiled in from its source files (as
//! datagram.rs does with wire.rs) and runs sans-IO: no sockets, the clock advanced by the input.
//!
//! Input: one mode byte, then records `[control][time][len lo][len hi][len bytes]`.
//! - mode % 5: 0 the readers alone (each record through the public token, private token,
//!   request and header readers); 1 a fresh server; 2 a server with an established client
//!   (records come from that client); 3 a client waiting for its challenge; 4 a connected
//!   client (records come from its server).
//! - control bit 7: seal the record as an authentic packet instead of sending it raw: type
//!   `control >> 4 & 7`, sequence `control & 7` (bit 3: counted down from `u64::MAX`), with
//!   the key of the direction, so the checks after decryption are reached too. At a server,
//!   types 0 and 3 instead send what a genuine client there would: its connection request, its
//!   latest response to the server's challenge (the server's answers reach that client).
//! - control bit 6 (modes 1-2): send from a stranger's address.
//! - time: milliseconds x 40 to advance the clock first (timeouts, keep-alives, expiry).
//!
//! Invariants checked besides "no panic": a server never answers with more bytes than the
//! datagram it answers; only an established client's datagrams are delivered; every drop is
//! counted once.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

// The harness uses part of the layer's API.
#[allow(dead_code, unused_imports)]
#[path = "../../src/secure.rs"]
mod secure;

use secure::packet;
use secure::token::{PrivateToken, PublicToken};
use secure::{Incoming, Now, SecureClient, SecureServer, ServerConfig};

const KEY: [u8; 32] = [7; 32];
const C2S: [u8; 32] = [1; 32];
const S2C: [u8; 32] = [2; 32];
const PROTOCOL: u64 = 0x0102_0304_0506_0708;
const UNIX: u64 = 1_800_000_000;
const SERVER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9000);
const CLIENT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9001);
const STRANGER: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 7)),
    4242,
);

/// A connect token with fixed keys and nonce, so runs are reproducible (made once).
fn token() -> &'static [u8] {
    static TOKEN: OnceLock<Vec<u8>> = OnceLock::new();
    TOKEN.get_or_init(make_token)
}

fn make_token() -> Vec<u8> {
    let private = PrivateToken {
        client_id: 99,
        timeout_seconds: 5,
        servers: vec![SERVER],
        client_to_server_key: C2S,
        server_to_client_key: S2C,
        user_data: [3; 256],
    };
    let expire = UNIX + 30;
    let nonce = [5; 24];
    let Some(sealed) = private.seal(&KEY, PROTOCOL, expire, &nonce) else {
        std::process::abort()
    };
    PublicToken {
        protocol_id: PROTOCOL,
        create: UNIX,
        expire,
        nonce,
        private: sealed,
        timeout_seconds: 5,
        servers: vec![SERVER],
        client_to_server_key: C2S,
        server_to_client_key: S2C,
    }
    .write()
    .to_vec()
}

/// The genuine client's connection request.
fn request() -> Vec<u8> {
    match PublicToken::read(token()) {
        Ok(t) => packet::write_request(&t),
        Err(_) => std::process::abort(),
    }
}

fn now(ms: u64) -> Now {
    Now {
        time: Duration::from_millis(ms),
        unix: UNIX + ms / 1000,
    }
}

enum Target {
    Readers,
    /// The server, and the genuine client at CLIENT with the last datagram it produced.
    Server(SecureServer, SecureClient, Option<Vec<u8>>),
    Client(SecureClient),
}

fn server() -> SecureServer {
    let config = ServerConfig {
        private_key: KEY,
        protocol_id: PROTOCOL,
        addresses: vec![SERVER],
        max_clients: 2,
    };
    match SecureServer::new(config) {
        Ok(s) => s,
        Err(_) => std::process::abort(),
    }
}

/// The target for `mode`, the handshake run in memory as far as the mode needs.
fn set_up(mode: u8) -> Option<Target> {
    if mode == 0 {
        return Some(Target::Readers);
    }
    let mut s = server();
    let mut c = SecureClient::new(now(0), token(), SERVER).ok()?;
    if mode == 1 {
        return Some(Target::Server(s, c, None));
    }
    let request = c.tick(now(0)).pop()?;
    if mode == 3 {
        return Some(Target::Client(c));
    }
    let Incoming::Send(challenge) = s.receive(now(0), CLIENT, &request) else {
        return None;
    };
    let Incoming::Send(response) = c.receive(now(0), SERVER, challenge.first()?) else {
        return None;
    };
    let Incoming::Send(keep_alive) = s.receive(now(0), CLIENT, response.first()?) else {
        return None;
    };
    c.receive(now(0), SERVER, keep_alive.first()?);
    Some(if mode == 2 {
        Target::Server(s, c, None)
    } else {
        Target::Client(c)
    })
}

fn read_everything(bytes: &[u8]) {
    let _ = PublicToken::read(bytes);
    let _ = PrivateToken::read_plain(bytes);
    let _ = packet::read_request(bytes, PROTOCOL, UNIX);
    for reads in [packet::SERVER_READS, packet::CLIENT_READS] {
        if let Ok(header) = packet::read_header(bytes, reads) {
            let _ = packet::open(bytes, &header, &C2S, PROTOCOL, None);
        }
    }
}

/// Delivers to the server; returns its replies.
fn to_server(s: &mut SecureServer, at: Now, from: SocketAddr, datagram: &[u8]) -> Vec<Vec<u8>> {
    let dropped = s.counters().dropped_total();
    match s.receive(at, from, datagram) {
        Incoming::Send(replies) => {
            if replies.iter().any(|r| r.len() > datagram.len()) {
                panic!(
                    "amplification: a reply larger than the {}-byte request",
                    datagram.len()
                );
            }
            return replies;
        }
        Incoming::Deliver(_) => {
            if s.client_id(from).is_none() {
                panic!("delivered a datagram from an address with no established client");
            }
        }
        Incoming::Dropped(_) => {
            if s.counters().dropped_total() != dropped + 1 {
                panic!("a drop was not counted once");
            }
        }
        Incoming::Consumed => {}
    }
    Vec::new()
}

/// What a server sends the genuine client: fed to it; its answer kept for a later record.
fn to_genuine(c: &mut SecureClient, at: Now, replies: Vec<Vec<u8>>, last: &mut Option<Vec<u8>>) {
    for r in replies {
        if let Incoming::Send(mut out) = c.receive(at, SERVER, &r) {
            if let Some(d) = out.pop() {
                *last = Some(d);
            }
        }
    }
}

fn to_client(c: &mut SecureClient, at: Now, datagram: &[u8]) {
    let dropped = c.counters().dropped_total();
    if let Incoming::Dropped(_) = c.receive(at, SERVER, datagram) {
        if c.counters().dropped_total() != dropped + 1 {
            panic!("a drop was not counted once");
        }
    }
}

fn sealed(control: u8, body: &[u8], key: &[u8; 32]) -> Option<Vec<u8>> {
    let kind = (control >> 4) & 7;
    let sequence = match control & 8 {
        0 => u64::from(control & 7),
        _ => u64::MAX - u64::from(control & 7),
    };
    packet::seal(kind, sequence, body, key, PROTOCOL)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, mut rest)) = input.split_first() else {
        return;
    };
    let Some(mut target) = set_up(mode % 5) else {
        return;
    };
    let mut ms = 0u64;
    while rest.len() >= 4 {
        let (control, time) = (rest[0], rest[1]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]])).min(rest.len() - 4);
        let record = &rest[4..4 + len];
        rest = &rest[4 + len..];
        ms += u64::from(time) * 40;
        let at = now(ms);
        match &mut target {
            Target::Readers => read_everything(record),
            Target::Server(s, c, last) => {
                let from = if control & 0x40 != 0 {
                    STRANGER
                } else {
                    CLIENT
                };
                let datagram = match (control & 0x80, (control >> 4) & 7) {
                    (0, _) => Some(record.to_vec()),
                    (_, packet::REQUEST) => Some(request()),
                    (_, packet::RESPONSE) => last.clone(),
                    _ => sealed(control, record, &C2S),
                };
                if let Some(d) = datagram {
                    let replies = to_server(s, at, from, &d);
                    if from == CLIENT {
                        to_genuine(c, at, replies, last);
                    }
                }
                let _ = s.send(at, CLIENT, record);
                let _ = s.tick(at);
                while s.poll_event().is_some() {}
            }
            Target::Client(c) => {
                let datagram = match control & 0x80 {
                    0 => Some(record.to_vec()),
                    _ => sealed(control, record, &S2C),
                };
                if let Some(d) = datagram {
                    to_client(c, at, &d);
                }
                let _ = c.send(at, record);
                let _ = c.tick(at);
            }
        }
    }
    // Whatever state the input left, time keeps working: timeouts and keep-alives.
    for step in 1..=3 {
        let at = now(ms + step * 4000);
        match &mut target {
            Target::Readers => {}
            Target::Server(s, _, _) => {
                let _ = s.tick(at);
                let _ = s.disconnect(at, CLIENT);
            }
            Target::Client(c) => {
                let _ = c.tick(at);
                let _ = c.disconnect(at);
            }
        }
    }
});

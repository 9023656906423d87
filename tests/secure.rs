//! Secure mode (src/secure.rs, netcode 1.02): the AEAD vectors through our wrapper, every packet
//! type, tampering, replay, refused tokens, amplification, and real peers: the netcode-official
//! and netcode-rs crates over UDP on 127.0.0.1 (ephemeral ports, bounded loops).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use module_enet::secure::crypto;
use module_enet::secure::packet::{self, MAX_PAYLOAD_BYTES};
use module_enet::secure::replay::Replay;
use module_enet::secure::token::{PrivateToken, PublicToken, PRIVATE_TOKEN_BYTES};
use module_enet::secure::{
    generate_connect_token, ClientEnd, ClientState, DropReason, EndReason, Incoming, Now,
    SecureClient, SecureServer, ServerConfig, ServerEvent, TokenError, TokenSpec,
    CONNECT_TOKEN_BYTES, MAX_ENET_MTU, OVERHEAD,
};

const KEY: [u8; 32] = [0x42; 32];
const PROTOCOL: u64 = 0x1122_3344_5566_7788;
/// A fixed wall clock for the in-memory tests (tokens are made "now" at this time).
const UNIX: u64 = 1_800_000_000;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn at(ms: u64) -> Now {
    Now {
        time: Duration::from_millis(ms),
        unix: UNIX + ms / 1000,
    }
}

// --- AEAD vectors through our wrapper ---------------------------------------------------------

const SUNSCREEN: &[u8] = b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

fn vector_key() -> [u8; 32] {
    std::array::from_fn(|i| 0x80 + i as u8)
}

#[test]
fn rfc8439_section_2_8_2_aead_vector() {
    let nonce: [u8; 12] = hex("07000000 4041424344454647").try_into().unwrap();
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let mut buffer = SUNSCREEN.to_vec();
    let tag = crypto::seal(&vector_key(), &nonce, &aad, &mut buffer).unwrap();
    assert_eq!(
        buffer,
        hex(
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6
             3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36
             92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc
             3ff4def08e4b7a9de576d26586cec64b6116"
        )
    );
    assert_eq!(tag.to_vec(), hex("1ae10b594f09e26a7e902ecbd0600691"));
    assert!(crypto::open(&vector_key(), &nonce, &aad, &mut buffer, &tag));
    assert_eq!(buffer, SUNSCREEN);
    let mut bad = tag;
    bad[0] ^= 1;
    assert!(!crypto::open(
        &vector_key(),
        &nonce,
        &aad,
        &mut buffer.clone(),
        &bad
    ));
}

#[test]
fn xchacha_draft_a3_aead_vector() {
    let nonce: [u8; 24] = std::array::from_fn(|i| 0x40 + i as u8);
    let aad = hex("50515253c0c1c2c3c4c5c6c7");
    let mut buffer = SUNSCREEN.to_vec();
    let tag = crypto::seal_x(&vector_key(), &nonce, &aad, &mut buffer).unwrap();
    assert_eq!(
        buffer,
        hex(
            "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb
             731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452
             2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9
             21f9664c97637da9768812f615c68b13b52e"
        )
    );
    assert_eq!(tag.to_vec(), hex("c0875924c1c7987947deafd8780acf49"));
    assert!(crypto::open_x(
        &vector_key(),
        &nonce,
        &aad,
        &mut buffer,
        &tag
    ));
    assert_eq!(buffer, SUNSCREEN);
    assert!(!crypto::open_x(
        &vector_key(),
        &nonce,
        &[],
        &mut buffer.clone(),
        &tag
    ));
}

#[test]
fn nonce_is_four_zero_bytes_then_the_sequence_little_endian() {
    assert_eq!(
        crypto::sequence_nonce(0x0102_0304_0506_0708),
        [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]
    );
}

// --- Tokens -------------------------------------------------------------------------------------

fn spec<'a>(servers: &'a [SocketAddr], client_id: u64, user_data: &'a [u8]) -> TokenSpec<'a> {
    TokenSpec {
        private_key: &KEY,
        protocol_id: PROTOCOL,
        client_id,
        servers,
        expire_seconds: 30,
        timeout_seconds: 5,
        user_data,
    }
}

fn token(servers: &[SocketAddr], client_id: u64) -> [u8; CONNECT_TOKEN_BYTES] {
    generate_connect_token(&spec(servers, client_id, b"hello"), UNIX).unwrap()
}

#[test]
fn connect_token_round_trips_public_and_private_parts() {
    let servers = [addr("127.0.0.1:40000"), addr("[2001:db8::1:2]:40001")];
    let bytes = generate_connect_token(&spec(&servers, 77, b"user"), UNIX).unwrap();
    assert_eq!(bytes.len(), 2048);
    assert_eq!(&bytes[..13], b"NETCODE 1.02\0");
    let public = PublicToken::read(&bytes).unwrap();
    assert_eq!(public.protocol_id, PROTOCOL);
    assert_eq!((public.create, public.expire), (UNIX, UNIX + 30));
    assert_eq!(public.timeout_seconds, 5);
    assert_eq!(public.servers, servers);
    assert_eq!(public.write(), bytes);
    let private = PrivateToken::open(
        &public.private,
        &KEY,
        PROTOCOL,
        public.expire,
        &public.nonce,
    )
    .unwrap();
    assert_eq!(private.client_id, 77);
    assert_eq!(private.servers, servers);
    assert_eq!(&private.user_data[..4], b"user");
    assert!(private.user_data[4..].iter().all(|&b| b == 0));
    assert_eq!(private.client_to_server_key, public.client_to_server_key);
    assert_eq!(private.server_to_client_key, public.server_to_client_key);
    // The reference's layout: after the 1024 private bytes, timeout, count, then each address;
    // IPv6 as eight little-endian 16-bit groups.
    let at = 13 + 8 + 8 + 8 + 24 + 1024;
    assert_eq!(&bytes[at..at + 8], &[5, 0, 0, 0, 2, 0, 0, 0]);
    assert_eq!(&bytes[at + 8..at + 15], &[1, 127, 0, 0, 1, 0x40, 0x9c]);
    assert_eq!(bytes[at + 15], 2);
    assert_eq!(&bytes[at + 16..at + 20], &[0x01, 0x20, 0xb8, 0x0d]);
    // Expire, protocol id and version are associated data: any change fails to decrypt.
    for (protocol, expire) in [(PROTOCOL ^ 1, public.expire), (PROTOCOL, public.expire + 1)] {
        let r = PrivateToken::open(&public.private, &KEY, protocol, expire, &public.nonce);
        assert_eq!(r, Err(DropReason::TokenUndecryptable));
    }
}

#[test]
fn connect_token_generation_checks_its_arguments() {
    let one = [addr("127.0.0.1:1")];
    let many: Vec<SocketAddr> = (1..=33)
        .map(|p| SocketAddr::new([127, 0, 0, 1].into(), p))
        .collect();
    assert!(generate_connect_token(&spec(&[], 1, b""), UNIX).is_err());
    assert!(generate_connect_token(&spec(&many, 1, b""), UNIX).is_err());
    assert!(generate_connect_token(&spec(&many[..32], 1, b""), UNIX).is_ok());
    assert!(generate_connect_token(&spec(&one, 1, &[0; 257]), UNIX).is_err());
    assert!(generate_connect_token(&spec(&one, 1, &[9; 256]), UNIX).is_ok());
}

#[test]
fn client_refuses_bad_expired_and_unlisted_tokens() {
    let server = addr("127.0.0.1:40000");
    let good = token(&[server], 1);
    assert!(SecureClient::new(at(0), &good, server).is_ok());
    let expired = Now {
        time: Duration::ZERO,
        unix: UNIX + 30,
    };
    assert_eq!(
        SecureClient::new(expired, &good, server).err(),
        Some(TokenError::Expired)
    );
    assert_eq!(
        SecureClient::new(at(0), &good, addr("127.0.0.1:40001")).err(),
        Some(TokenError::ServerNotListed)
    );
    assert!(SecureClient::new(at(0), &good[..2047], server).is_err());
    let mut version = good;
    version[7] = b'X';
    assert!(SecureClient::new(at(0), &version, server).is_err());
    let mut count = good;
    count[13 + 8 + 8 + 8 + 24 + 1024 + 4] = 33;
    assert!(SecureClient::new(at(0), &count, server).is_err());
    let mut kind = good;
    kind[13 + 8 + 8 + 8 + 24 + 1024 + 8] = 3;
    assert!(SecureClient::new(at(0), &kind, server).is_err());
}

// --- In-memory handshake harness ----------------------------------------------------------------

const SERVER: &str = "10.0.0.1:40000";
const CLIENT: &str = "10.0.0.2:50000";

fn server(max_clients: usize) -> SecureServer {
    SecureServer::new(ServerConfig {
        private_key: KEY,
        protocol_id: PROTOCOL,
        addresses: vec![addr(SERVER)],
        max_clients,
    })
    .unwrap()
}

/// Every datagram the server answered, with the size of what it answered: for the
/// amplification check.
#[derive(Default)]
struct Wire {
    replies: Vec<(usize, usize)>,
}

impl Wire {
    fn deliver(&mut self, s: &mut SecureServer, now: Now, from: SocketAddr, d: &[u8]) -> Incoming {
        let incoming = s.receive(now, from, d);
        if let Incoming::Send(replies) = &incoming {
            for r in replies {
                self.replies.push((d.len(), r.len()));
            }
        }
        incoming
    }

    fn assert_no_amplification(&self) {
        assert!(!self.replies.is_empty());
        for (request, reply) in &self.replies {
            assert!(
                reply <= request,
                "a {reply}-byte reply to a {request}-byte datagram"
            );
        }
    }
}

/// Runs the handshake between `c` (at CLIENT) and `s`, in memory, returning the datagrams of
/// each type it saw: request, challenge, response, keep-alive.
fn handshake(
    s: &mut SecureServer,
    c: &mut SecureClient,
    wire: &mut Wire,
    from: SocketAddr,
) -> Vec<Vec<u8>> {
    let mut seen = Vec::new();
    for step in 0..50 {
        let now = at(step * 20);
        for d in c.tick(now) {
            seen.push(d.clone());
            if let Incoming::Send(replies) = wire.deliver(s, now, from, &d) {
                for r in replies {
                    seen.push(r.clone());
                    if let Incoming::Send(answers) = c.receive(now, addr(SERVER), &r) {
                        for a in answers {
                            seen.push(a.clone());
                            if let Incoming::Send(rs) = wire.deliver(s, now, from, &a) {
                                for r in rs {
                                    seen.push(r.clone());
                                    c.receive(now, addr(SERVER), &r);
                                }
                            }
                        }
                    }
                }
            }
        }
        if c.state() != ClientState::Connecting {
            break;
        }
    }
    seen
}

fn connected(max_clients: usize, client_id: u64) -> (SecureServer, SecureClient, Wire) {
    let mut s = server(max_clients);
    let mut c = SecureClient::new(at(0), &token(&[addr(SERVER)], client_id), addr(SERVER)).unwrap();
    let mut wire = Wire::default();
    handshake(&mut s, &mut c, &mut wire, addr(CLIENT));
    assert_eq!(c.state(), ClientState::Connected);
    (s, c, wire)
}

fn kind(d: &[u8]) -> u8 {
    d[0] & 0x0f
}

#[test]
fn handshake_and_every_packet_type_round_trip() {
    let mut s = server(4);
    let mut c = SecureClient::new(at(0), &token(&[addr(SERVER)], 9), addr(SERVER)).unwrap();
    let mut wire = Wire::default();
    let seen = handshake(&mut s, &mut c, &mut wire, addr(CLIENT));
    let kinds: Vec<u8> = seen.iter().map(|d| kind(d)).collect();
    assert_eq!(
        kinds,
        [
            packet::REQUEST,
            packet::CHALLENGE,
            packet::RESPONSE,
            packet::KEEP_ALIVE
        ]
    );
    assert_eq!(seen[0].len(), 1078);
    // Challenge: global sequence 1 << 63 (8 bytes), 308-byte body. Keep-alive: sequence 0.
    assert_eq!(seen[1][0], 0x80 | packet::CHALLENGE);
    assert_eq!(seen[1].len(), 1 + 8 + 308 + 16);
    assert_eq!(&seen[1][1..9], &(1u64 << 63).to_le_bytes());
    assert_eq!(seen[2].len(), 1 + 1 + 308 + 16);
    assert_eq!(seen[3], seen[3].clone());
    assert_eq!(seen[3].len(), 1 + 1 + 8 + 16);
    assert_eq!(c.state(), ClientState::Connected);
    assert_eq!((c.client_index(), c.max_clients()), (0, 4));
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Connected {
            address: addr(CLIENT),
            client_id: 9,
            client_index: 0
        })
    );
    assert_eq!(s.client_id(addr(CLIENT)), Some(9));
    assert_eq!(&s.user_data(addr(CLIENT)).unwrap()[..5], b"hello");

    // Payload both ways. Until the client confirms, the server prefixes a keep-alive.
    let out = s.send(at(1000), addr(CLIENT), b"enet to client").unwrap();
    let datagrams: Vec<&[u8]> = out.datagrams().collect();
    assert_eq!(datagrams.len(), 2);
    assert_eq!(kind(datagrams[0]), packet::KEEP_ALIVE);
    assert_eq!(
        c.receive(at(1000), addr(SERVER), datagrams[0]),
        Incoming::Consumed
    );
    assert_eq!(
        c.receive(at(1000), addr(SERVER), datagrams[1]),
        Incoming::Deliver(b"enet to client".to_vec())
    );
    let up = c.send(at(1000), b"enet to server").unwrap();
    assert_eq!(up.len(), b"enet to server".len() + 1 + 1 + 16);
    assert_eq!(
        s.receive(at(1000), addr(CLIENT), &up),
        Incoming::Deliver(b"enet to server".to_vec())
    );
    let out = s.send(at(1000), addr(CLIENT), b"confirmed").unwrap();
    assert!(out.keep_alive.is_none());

    // Largest payload: MAX_ENET_MTU plus overhead fits 1280.
    let big = vec![7u8; MAX_ENET_MTU];
    let sealed = c.send(at(1000), &big).unwrap();
    assert!(sealed.len() <= MAX_ENET_MTU + OVERHEAD && sealed.len() <= 1280);
    assert_eq!(
        s.receive(at(1000), addr(CLIENT), &sealed),
        Incoming::Deliver(big)
    );
    assert!(c
        .send(at(1000), &vec![0u8; MAX_PAYLOAD_BYTES + 1])
        .is_none());
    assert!(c.send(at(1000), &[]).is_none());

    // Keep-alives at 10 Hz when idle, both ways.
    let keep_alives = s.tick(at(1200));
    assert_eq!(keep_alives.len(), 1);
    assert_eq!(
        c.receive(at(1200), addr(SERVER), &keep_alives[0].1),
        Incoming::Consumed
    );
    let up = c.tick(at(1200));
    assert_eq!(up.len(), 1);
    assert_eq!(kind(&up[0]), packet::KEEP_ALIVE);
    assert_eq!(
        s.receive(at(1200), addr(CLIENT), &up[0]),
        Incoming::Consumed
    );
    assert!(
        c.tick(at(1250)).is_empty(),
        "no second keep-alive within 100 ms"
    );

    // The server ends the connection: ten disconnect packets; the first one ends the client.
    let bye = s.disconnect(at(1300), addr(CLIENT));
    assert_eq!(bye.len(), 10);
    assert!(bye
        .iter()
        .all(|d| kind(d) == packet::DISCONNECT && d.len() == 1 + 1 + 16));
    assert_eq!(
        c.receive(at(1300), addr(SERVER), &bye[0]),
        Incoming::Consumed
    );
    assert_eq!(c.state(), ClientState::Ended(ClientEnd::Disconnected));
    assert_eq!(s.connected_count(), 0);
    assert!(s.send(at(1300), addr(CLIENT), b"x").is_none());
    wire.assert_no_amplification();
}

#[test]
fn client_disconnect_ends_the_server_side() {
    let (mut s, mut c, _) = connected(4, 3);
    s.poll_event();
    let bye = c.disconnect(at(2000));
    assert_eq!(bye.len(), 10);
    assert_eq!(c.state(), ClientState::Ended(ClientEnd::Closed));
    assert_eq!(
        s.receive(at(2000), addr(CLIENT), &bye[0]),
        Incoming::Consumed
    );
    assert_eq!(
        s.poll_event(),
        Some(ServerEvent::Ended {
            address: addr(CLIENT),
            client_id: 3,
            reason: EndReason::Disconnected
        })
    );
    // The rest are from an address with no connection now.
    assert_eq!(
        s.receive(at(2000), addr(CLIENT), &bye[1]),
        Incoming::Dropped(DropReason::UnknownAddress)
    );
    assert!(c.send(at(2000), b"late").is_none());
}

#[test]
fn full_server_denies_and_the_client_sees_denied() {
    let (mut s, _c, mut wire) = connected(1, 1);
    let mut second = SecureClient::new(at(0), &token(&[addr(SERVER)], 2), addr(SERVER)).unwrap();
    let request = second.tick(at(100)).remove(0);
    let Incoming::Send(replies) = wire.deliver(&mut s, at(100), addr("10.0.0.3:1"), &request)
    else {
        panic!("a full server answers a valid request with a denial");
    };
    assert_eq!(kind(&replies[0]), packet::DENIED);
    assert_eq!(replies[0].len(), 1 + 8 + 16);
    assert_eq!(
        second.receive(at(100), addr(SERVER), &replies[0]),
        Incoming::Consumed
    );
    assert_eq!(second.state(), ClientState::Ended(ClientEnd::Denied));
    assert_eq!(s.counters().denied, 1);
    assert_eq!(s.pending_count(), 0);
    wire.assert_no_amplification();
}

#[test]
fn timeouts_on_both_sides() {
    let (mut s, mut c, _) = connected(4, 5);
    s.poll_event();
    // Token timeout 5 s. Nothing arrives: the server drops the client, the client times out.
    s.tick(at(4000));
    assert_eq!(s.connected_count(), 1);
    s.tick(at(6000));
    assert_eq!(s.connected_count(), 0);
    assert!(matches!(
        s.poll_event(),
        Some(ServerEvent::Ended {
            reason: EndReason::TimedOut,
            ..
        })
    ));
    c.tick(at(5000));
    assert_eq!(c.state(), ClientState::Connected);
    c.tick(at(6000));
    assert_eq!(c.state(), ClientState::Ended(ClientEnd::TimedOut));

    // A server that never answers: the request times out after the token's timeout.
    let mut lonely = SecureClient::new(at(0), &token(&[addr(SERVER)], 6), addr(SERVER)).unwrap();
    let mut requests = 0;
    for ms in (0..=6000).step_by(10) {
        requests += lonely.tick(at(ms)).len();
    }
    assert_eq!(
        lonely.state(),
        ClientState::Ended(ClientEnd::RequestTimedOut)
    );
    // 10 Hz: about 50 requests in 5 s.
    assert!((45..=55).contains(&requests), "{requests} requests");

    // A token whose lifetime is shorter than its timeout expires while connecting.
    let servers = [addr(SERVER)];
    let short = TokenSpec {
        expire_seconds: 2,
        ..spec(&servers, 7, b"")
    };
    let t = generate_connect_token(&short, UNIX).unwrap();
    let mut c = SecureClient::new(at(0), &t, addr(SERVER)).unwrap();
    c.tick(at(1999));
    assert_eq!(c.state(), ClientState::Connecting);
    c.tick(at(2000));
    assert_eq!(c.state(), ClientState::Ended(ClientEnd::TokenExpired));
}

#[test]
fn client_keeps_enet_datagrams_while_connecting_and_sends_them_on_connect() {
    let mut s = server(4);
    let mut c = SecureClient::new(at(0), &token(&[addr(SERVER)], 8), addr(SERVER)).unwrap();
    for i in 0..20u8 {
        assert!(c.send(at(0), &[i; 3]).is_none());
    }
    let request = c.tick(at(0)).remove(0);
    let Incoming::Send(challenge) = s.receive(at(0), addr(CLIENT), &request) else {
        panic!()
    };
    let Incoming::Send(response) = c.receive(at(0), addr(SERVER), &challenge[0]) else {
        panic!()
    };
    let Incoming::Send(keep_alive) = s.receive(at(0), addr(CLIENT), &response[0]) else {
        panic!()
    };
    let Incoming::Send(flushed) = c.receive(at(0), addr(SERVER), &keep_alive[0]) else {
        panic!("the completing keep-alive releases the kept datagrams");
    };
    assert_eq!(flushed.len(), module_enet::secure::QUEUED_WHILE_CONNECTING);
    for (i, d) in flushed.iter().enumerate() {
        assert_eq!(
            s.receive(at(0), addr(CLIENT), d),
            Incoming::Deliver(vec![i as u8; 3])
        );
    }
}

// --- Tampering ----------------------------------------------------------------------------------

/// Flips every byte of `d` in turn (two patterns) and hands it to `deliver`, which must drop
/// it; returns how many were tried.
fn flip_every_byte(d: &[u8], mut deliver: impl FnMut(&[u8]) -> Incoming) -> u64 {
    let mut tried = 0;
    for i in 0..d.len() {
        for mask in [0x01u8, 0xff] {
            let mut bad = d.to_vec();
            bad[i] ^= mask;
            let incoming = deliver(&bad);
            assert!(
                matches!(incoming, Incoming::Dropped(_)),
                "byte {i} ^ {mask:#x} of a {}-byte type-{} datagram was not dropped: {incoming:?}",
                d.len(),
                kind(d)
            );
            tried += 1;
        }
    }
    tried
}

#[test]
fn every_flipped_byte_is_dropped_and_counted() {
    // Collect one datagram of every type from a real exchange.
    let mut s = server(4);
    let bytes = token(&[addr(SERVER)], 11);
    let keys = PublicToken::read(&bytes).unwrap();
    let mut c = SecureClient::new(at(0), &bytes, addr(SERVER)).unwrap();
    let request = c.tick(at(0)).remove(0);
    let Incoming::Send(challenge) = s.receive(at(0), addr(CLIENT), &request) else {
        panic!()
    };
    let challenge = challenge[0].clone();

    // Request, at a fresh server: nothing may be created by a tampered one.
    let mut fresh = server(4);
    let tried = flip_every_byte(&request, |bad| fresh.receive(at(0), addr(CLIENT), bad));
    assert_eq!(fresh.counters().dropped_total(), tried);
    assert_eq!((fresh.pending_count(), fresh.counters().challenges), (0, 0));
    assert!(matches!(
        fresh.receive(at(0), addr(CLIENT), &request),
        Incoming::Send(_)
    ));

    // Challenge, at the client waiting for it.
    let before = c.counters().dropped_total();
    let tried = flip_every_byte(&challenge, |bad| c.receive(at(0), addr(SERVER), bad));
    assert_eq!(c.counters().dropped_total() - before, tried);
    assert_eq!(c.state(), ClientState::Connecting);
    let Incoming::Send(response) = c.receive(at(0), addr(SERVER), &challenge) else {
        panic!()
    };
    let response = response[0].clone();

    // Response, at the server holding the pending handshake.
    let before = s.counters().dropped_total();
    let tried = flip_every_byte(&response, |bad| s.receive(at(0), addr(CLIENT), bad));
    assert_eq!(s.counters().dropped_total() - before, tried);
    assert_eq!(s.connected_count(), 0);
    let Incoming::Send(keep_alive) = s.receive(at(0), addr(CLIENT), &response) else {
        panic!()
    };
    let keep_alive = keep_alive[0].clone();

    // Keep-alive, at the client.
    let tried = flip_every_byte(&keep_alive, |bad| c.receive(at(0), addr(SERVER), bad));
    assert!(tried > 0);
    assert_eq!(c.state(), ClientState::Connecting);
    assert_eq!(
        c.receive(at(0), addr(SERVER), &keep_alive),
        Incoming::Consumed
    );

    // Payload and keep-alive both ways, and disconnect, at a connected receiver.
    let down = s
        .send(at(0), addr(CLIENT), b"payload down")
        .unwrap()
        .payload;
    let up = c.send(at(0), b"payload up").unwrap();
    let up_keep_alive = c.tick(at(500)).remove(0);
    // A disconnect from the client that does not end it here (sealed with its key).
    let bye_up = packet::seal(
        packet::DISCONNECT,
        1 << 40,
        &[],
        &keys.client_to_server_key,
        PROTOCOL,
    )
    .unwrap();
    for d in [&up, &up_keep_alive, &bye_up] {
        let before = s.counters().dropped_total();
        let tried = flip_every_byte(d, |bad| s.receive(at(600), addr(CLIENT), bad));
        assert_eq!(s.counters().dropped_total() - before, tried);
    }
    assert_eq!(
        s.connected_count(),
        1,
        "no tampered disconnect ended the connection"
    );
    let before = c.counters().dropped_total();
    let tried = flip_every_byte(&down, |bad| c.receive(at(600), addr(SERVER), bad));
    assert_eq!(c.counters().dropped_total() - before, tried);
    // The originals are still good: nothing tampered advanced a replay window.
    assert_eq!(
        c.receive(at(600), addr(SERVER), &down),
        Incoming::Deliver(b"payload down".to_vec())
    );
    assert_eq!(
        s.receive(at(600), addr(CLIENT), &up),
        Incoming::Deliver(b"payload up".to_vec())
    );

    // Denied, at a client of a full server.
    let (mut full, _c1, _) = connected(1, 12);
    let mut other = SecureClient::new(at(0), &token(&[addr(SERVER)], 13), addr(SERVER)).unwrap();
    let request = other.tick(at(0)).remove(0);
    let Incoming::Send(denied) = full.receive(at(0), addr("10.0.0.9:9"), &request) else {
        panic!()
    };
    flip_every_byte(&denied[0], |bad| other.receive(at(0), addr(SERVER), bad));
    assert_eq!(other.state(), ClientState::Connecting);
}

// --- Replay ------------------------------------------------------------------------------------

#[test]
fn replay_window_edges() {
    let mut r = Replay::default();
    assert!(!r.already_received(0));
    r.advance(0);
    assert!(r.already_received(0));
    r.advance(300);
    assert!(
        r.already_received(44),
        "exactly 256 behind the most recent is too old"
    );
    assert!(!r.already_received(45), "255 behind, never received");
    r.advance(45);
    assert!(r.already_received(45));
    assert!(!r.already_received(301));

    // The top of the sequence space: no overflow, and u64::MAX itself only once.
    let mut r = Replay::default();
    r.advance(u64::MAX - 300);
    for s in [u64::MAX - 255, u64::MAX - 1, u64::MAX] {
        assert!(!r.already_received(s), "{s}");
        r.advance(s);
        assert!(r.already_received(s), "{s} twice");
    }
    assert!(r.already_received(u64::MAX - 256));
    assert!(!r.already_received(u64::MAX - 254));
}

fn connected_with_keys(client_id: u64) -> (SecureServer, SecureClient, PublicToken) {
    let bytes = token(&[addr(SERVER)], client_id);
    let public = PublicToken::read(&bytes).unwrap();
    let mut s = server(4);
    let mut c = SecureClient::new(at(0), &bytes, addr(SERVER)).unwrap();
    handshake(&mut s, &mut c, &mut Wire::default(), addr(CLIENT));
    assert_eq!(c.state(), ClientState::Connected);
    (s, c, public)
}

#[test]
fn replayed_and_stale_packets_are_dropped() {
    let (mut s, mut c, _) = connected_with_keys(21);
    let first = c.send(at(0), b"one").unwrap();
    assert_eq!(
        s.receive(at(0), addr(CLIENT), &first),
        Incoming::Deliver(b"one".to_vec())
    );
    assert_eq!(
        s.receive(at(0), addr(CLIENT), &first),
        Incoming::Dropped(DropReason::Replayed)
    );
    // 300 more sent, delivered in reverse: each once, until they fall out of the window.
    let later: Vec<Vec<u8>> = (0..300u32)
        .map(|i| c.send(at(0), &i.to_le_bytes()).unwrap())
        .collect();
    let newest = later.len() - 1;
    assert!(matches!(
        s.receive(at(0), addr(CLIENT), &later[newest]),
        Incoming::Deliver(_)
    ));
    let mut delivered = 1;
    for d in later[..newest].iter().rev() {
        if let Incoming::Deliver(_) = s.receive(at(0), addr(CLIENT), d) {
            delivered += 1;
        }
    }
    assert_eq!(delivered, 256, "the newest and the 255 before it");
    assert_eq!(s.counters().dropped(DropReason::Replayed), 1 + 300 - 256);
    for d in &later {
        assert!(matches!(
            s.receive(at(0), addr(CLIENT), d),
            Incoming::Dropped(DropReason::Replayed)
        ));
    }
}

#[test]
fn sequences_at_the_top_of_the_u64_space() {
    let (mut s, _c, public) = connected_with_keys(22);
    let key = public.client_to_server_key;
    for sequence in [u64::MAX - 2, u64::MAX - 1, u64::MAX] {
        let d = packet::seal(packet::PAYLOAD, sequence, b"top", &key, PROTOCOL).unwrap();
        assert_eq!(d[0] >> 4, 8);
        assert_eq!(
            s.receive(at(0), addr(CLIENT), &d),
            Incoming::Deliver(b"top".to_vec())
        );
        assert_eq!(
            s.receive(at(0), addr(CLIENT), &d),
            Incoming::Dropped(DropReason::Replayed)
        );
    }
    // Sequence lengths: high zero bytes are left out, at least one byte is written.
    for (sequence, bytes) in [
        (0u64, 1),
        (0xff, 1),
        (0x100, 2),
        (1 << 56, 8),
        (u64::MAX, 8),
    ] {
        assert_eq!(packet::sequence_bytes(sequence), bytes, "{sequence:#x}");
        let d = packet::seal(packet::KEEP_ALIVE, sequence, &[0; 8], &key, PROTOCOL).unwrap();
        let h = packet::read_header(&d, packet::SERVER_READS).unwrap();
        assert_eq!((h.kind, h.sequence), (packet::KEEP_ALIVE, sequence));
    }
}

// --- Refused tokens -----------------------------------------------------------------------------

/// The request a client with this token sends (built directly, so expired tokens can be sent).
fn request_of(bytes: &[u8]) -> Vec<u8> {
    packet::write_request(&PublicToken::read(bytes).unwrap())
}

fn assert_refused(s: &mut SecureServer, now: Now, from: &str, request: &[u8], reason: DropReason) {
    let pending = s.pending_count();
    let connected = s.connected_count();
    let challenges = s.counters().challenges;
    assert_eq!(
        s.receive(now, addr(from), request),
        Incoming::Dropped(reason)
    );
    assert_eq!(
        s.pending_count(),
        pending,
        "no handshake state for a refused request"
    );
    assert_eq!(s.connected_count(), connected);
    assert_eq!(s.counters().challenges, challenges);
    assert!(s.poll_event().is_none());
}

#[test]
fn invalid_tokens_are_refused_without_state() {
    let servers = [addr(SERVER)];
    let mut s = server(4);
    // Expired: expire <= now.
    let old = generate_connect_token(&spec(&servers, 1, b""), UNIX - 30).unwrap();
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &request_of(&old),
        DropReason::Expired,
    );
    // Wrong protocol id.
    let other = TokenSpec {
        protocol_id: PROTOCOL + 1,
        ..spec(&servers, 1, b"")
    };
    let t = generate_connect_token(&other, UNIX).unwrap();
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &request_of(&t),
        DropReason::ProtocolId,
    );
    // Wrong key.
    let wrong_key = [0x43; 32];
    let t = generate_connect_token(
        &TokenSpec {
            private_key: &wrong_key,
            ..spec(&servers, 1, b"")
        },
        UNIX,
    )
    .unwrap();
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &request_of(&t),
        DropReason::TokenUndecryptable,
    );
    // This server's address not listed.
    let t = token(&[addr("10.0.0.1:40001")], 1);
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &request_of(&t),
        DropReason::AddressNotListed,
    );
    // Wrong size, version.
    let good = request_of(&token(&servers, 1));
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &good[..1077],
        DropReason::RequestSize,
    );
    let mut version = good.clone();
    version[5] = b'x';
    assert_refused(&mut s, at(0), CLIENT, &version, DropReason::Version);
    // Plain ENet traffic and garbage.
    assert_refused(&mut s, at(0), CLIENT, &[], DropReason::TooSmall);
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &[0x80, 0, 1, 2],
        DropReason::TooSmall,
    );
    assert_refused(
        &mut s,
        at(0),
        CLIENT,
        &[0x15; 40],
        DropReason::UnknownAddress,
    );
    assert_refused(&mut s, at(0), CLIENT, &[0x07; 40], DropReason::BadPrefix);
    assert_refused(&mut s, at(0), CLIENT, &[0x94; 40], DropReason::BadPrefix);
    assert_refused(&mut s, at(0), CLIENT, &[0x04; 40], DropReason::BadPrefix);
    assert_refused(&mut s, at(0), CLIENT, &[0x12; 40], DropReason::NotAccepted);
}

#[test]
fn a_token_works_from_one_address_and_one_client_id_at_a_time() {
    let mut s = server(4);
    let bytes = token(&[addr(SERVER)], 31);
    let request = request_of(&bytes);
    assert!(matches!(
        s.receive(at(0), addr(CLIENT), &request),
        Incoming::Send(_)
    ));
    // The same token from another address.
    assert_refused(
        &mut s,
        at(0),
        "10.0.0.66:1",
        &request,
        DropReason::TokenReused,
    );
    // The same address again is fine (retransmits): a fresh challenge.
    assert!(matches!(
        s.receive(at(100), addr(CLIENT), &request),
        Incoming::Send(_)
    ));

    // Client id 41 connected; another token with id 41 from elsewhere is refused.
    let (mut s, _c, _) = connected(4, 41);
    while s.poll_event().is_some() {}
    let twin = request_of(&token(&[addr(SERVER)], 41));
    assert_refused(
        &mut s,
        at(10),
        "10.0.0.77:1",
        &twin,
        DropReason::ClientIdInUse,
    );
    // And a new token from the connected client's own address.
    let again = request_of(&token(&[addr(SERVER)], 42));
    assert_refused(&mut s, at(10), CLIENT, &again, DropReason::AddressInUse);
}

#[test]
fn pending_handshakes_are_bounded_by_the_slot_count() {
    let mut s = server(2);
    let mut challenged = 0;
    for i in 0..20u16 {
        let request = request_of(&token(&[addr(SERVER)], 100 + u64::from(i)));
        let from = SocketAddr::new([10, 1, 0, 1].into(), 1000 + i);
        match s.receive(at(0), from, &request) {
            Incoming::Send(_) => challenged += 1,
            Incoming::Dropped(DropReason::MappingsFull) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(challenged, 8, "4 pending handshakes per slot");
    assert_eq!(s.pending_count(), 8);
    // Once they expire (token timeout 5 s), room again.
    let request = request_of(&token(&[addr(SERVER)], 999));
    assert!(matches!(
        s.receive(at(6000), addr("10.2.0.1:1"), &request),
        Incoming::Send(_)
    ));
}

// --- Real peers over UDP ------------------------------------------------------------------------

const WAIT: Duration = Duration::from_millis(2);
const DEADLINE: Duration = Duration::from_secs(10);

fn udp() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(WAIT)).unwrap();
    socket
}

/// Our server on a UDP socket: serves until `done` says so or the deadline passes.
struct OurServer {
    socket: UdpSocket,
    server: SecureServer,
    origin: Instant,
    wire: Wire,
    received: Vec<Vec<u8>>,
}

impl OurServer {
    fn new() -> Self {
        let socket = udp();
        let server = SecureServer::new(ServerConfig {
            private_key: KEY,
            protocol_id: PROTOCOL,
            addresses: vec![socket.local_addr().unwrap()],
            max_clients: 8,
        })
        .unwrap();
        OurServer {
            socket,
            server,
            origin: Instant::now(),
            wire: Wire::default(),
            received: Vec::new(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    /// One pass: everything waiting on the socket, then the tick.
    fn pump(&mut self) {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = self.socket.recv_from(&mut buf) {
            let now = Now::system(self.origin);
            match self.wire.deliver(&mut self.server, now, from, &buf[..n]) {
                Incoming::Deliver(d) => self.received.push(d),
                Incoming::Send(replies) => {
                    for r in replies {
                        self.socket.send_to(&r, from).unwrap();
                    }
                }
                _ => {}
            }
            self.socket
                .set_read_timeout(Some(Duration::from_micros(1)))
                .ok();
        }
        self.socket.set_read_timeout(Some(WAIT)).unwrap();
        for (to, d) in self.server.tick(Now::system(self.origin)) {
            self.socket.send_to(&d, to).unwrap();
        }
    }

    fn send(&mut self, to: SocketAddr, data: &[u8]) {
        let out = self
            .server
            .send(Now::system(self.origin), to, data)
            .unwrap();
        for d in out.datagrams() {
            self.socket.send_to(d, to).unwrap();
        }
    }

    /// The connected client's address (after a Connected event).
    fn connected_client(&mut self) -> Option<(SocketAddr, u64)> {
        while let Some(e) = self.server.poll_event() {
            if let ServerEvent::Connected {
                address, client_id, ..
            } = e
            {
                return Some((address, client_id));
            }
        }
        None
    }
}

/// Runs `step` until it returns true or DEADLINE passes (each step waits at most a few ms on
/// a socket); panics with `what` on timeout.
fn until(what: &str, mut step: impl FnMut() -> bool) {
    let start = Instant::now();
    while !step() {
        assert!(start.elapsed() < DEADLINE, "timed out: {what}");
    }
}

#[test]
fn netcode_official_client_and_token_with_our_server() {
    let mut ours = OurServer::new();
    let user_data = [0x5a; netcode_official::USER_DATA_BYTES];
    let token = netcode_official::generate_connect_token(
        &[ours.addr()],
        &[ours.addr()],
        30,
        5,
        0xfeed_0001,
        PROTOCOL,
        &KEY,
        &user_data,
    )
    .unwrap();
    let origin = Instant::now();
    let mut client = netcode_official::Client::new(addr("127.0.0.1:0"), 0.0).unwrap();
    client.connect(&token).unwrap();
    let mut peer = None;
    until("netcode-official client connects to our server", || {
        client.update(origin.elapsed().as_secs_f64());
        ours.pump();
        peer = peer.or(ours.connected_client());
        client.state() == netcode_official::ClientState::Connected && peer.is_some()
    });
    let (peer, client_id) = peer.unwrap();
    assert_eq!(client_id, 0xfeed_0001);
    assert_eq!(ours.server.user_data(peer).unwrap(), &user_data);
    exchange_payloads(&mut ours, peer, &mut Official(client, origin));
    ours.wire.assert_no_amplification();
    assert_eq!(ours.server.counters().dropped_total(), 0);
}

#[test]
fn netcode_rs_client_and_token_with_our_server() {
    let mut ours = OurServer::new();
    let user_data = [0xa5; netcode_rs::USER_DATA_BYTES];
    let token = netcode_rs::ConnectToken::build(ours.addr(), PROTOCOL, 0xfeed_0002, KEY)
        .user_data(user_data)
        .timeout_seconds(5)
        .generate()
        .unwrap()
        .try_into_bytes()
        .unwrap();
    let origin = Instant::now();
    let mut client = netcode_rs::Client::new(&token).unwrap();
    client.connect();
    let mut peer = None;
    until("netcode-rs client connects to our server", || {
        client.try_update(origin.elapsed().as_secs_f64()).unwrap();
        ours.pump();
        peer = peer.or(ours.connected_client());
        client.is_connected() && peer.is_some()
    });
    let (peer, client_id) = peer.unwrap();
    assert_eq!(client_id, 0xfeed_0002);
    assert_eq!(ours.server.user_data(peer).unwrap(), &user_data);
    exchange_payloads(&mut ours, peer, &mut Rs(client, origin));
    ours.wire.assert_no_amplification();
    assert_eq!(ours.server.counters().dropped_total(), 0);
}

/// A connected client of another implementation.
trait TheirClient {
    fn send(&mut self, data: &[u8]);
    /// Updates the client and returns the payloads it received.
    fn receive(&mut self) -> Vec<Vec<u8>>;
}

struct Official(netcode_official::Client, Instant);

impl TheirClient for Official {
    fn send(&mut self, data: &[u8]) {
        self.0.send_packet(data).unwrap();
    }

    fn receive(&mut self) -> Vec<Vec<u8>> {
        self.0.update(self.1.elapsed().as_secs_f64());
        std::iter::from_fn(|| self.0.receive_packet().map(|(d, _)| d)).collect()
    }
}

struct Rs(netcode_rs::Client<netcode_rs::NetcodeSocket>, Instant);

impl TheirClient for Rs {
    fn send(&mut self, data: &[u8]) {
        self.0.send(data).unwrap();
    }

    fn receive(&mut self) -> Vec<Vec<u8>> {
        self.0.try_update(self.1.elapsed().as_secs_f64()).unwrap();
        std::iter::from_fn(|| self.0.recv()).collect()
    }
}

/// Ten payloads each way between our server and their client.
fn exchange_payloads(ours: &mut OurServer, peer: SocketAddr, theirs: &mut dyn TheirClient) {
    let messages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 64 + usize::from(i)]).collect();
    for m in &messages {
        theirs.send(m);
        ours.send(peer, m);
    }
    let mut got = Vec::new();
    until("payloads both ways", || {
        got.extend(theirs.receive());
        ours.pump();
        got.len() >= messages.len() && ours.received.len() >= messages.len()
    });
    assert_eq!(got, messages, "their client received our server's payloads");
    assert_eq!(
        ours.received, messages,
        "our server received their client's payloads"
    );
}

/// Our client on a UDP socket.
struct OurClient {
    socket: UdpSocket,
    client: SecureClient,
    origin: Instant,
    received: Vec<Vec<u8>>,
}

impl OurClient {
    fn new(token: &[u8], server: SocketAddr) -> Self {
        let origin = Instant::now();
        OurClient {
            socket: udp(),
            client: SecureClient::new(Now::system(origin), token, server).unwrap(),
            origin,
            received: Vec::new(),
        }
    }

    fn pump(&mut self) {
        let server = self.client.server();
        for d in self.client.tick(Now::system(self.origin)) {
            self.socket.send_to(&d, server).unwrap();
        }
        let mut buf = [0u8; 2048];
        if let Ok((n, from)) = self.socket.recv_from(&mut buf) {
            match self
                .client
                .receive(Now::system(self.origin), from, &buf[..n])
            {
                Incoming::Deliver(d) => self.received.push(d),
                Incoming::Send(out) => {
                    for d in out {
                        self.socket.send_to(&d, server).unwrap();
                    }
                }
                _ => {}
            }
        }
    }

    fn send(&mut self, data: &[u8]) {
        let d = self.client.send(Now::system(self.origin), data).unwrap();
        self.socket.send_to(&d, self.client.server()).unwrap();
    }
}

fn our_token(server: SocketAddr, client_id: u64, user_data: &[u8]) -> [u8; CONNECT_TOKEN_BYTES] {
    let servers = [server];
    let spec = TokenSpec {
        servers: &servers,
        ..spec(&[], client_id, user_data)
    };
    generate_connect_token(&spec, module_enet::secure::unix_now()).unwrap()
}

#[test]
fn our_client_and_token_with_netcode_official_server() {
    let origin = Instant::now();
    let mut server =
        netcode_official::Server::new(addr("127.0.0.1:0"), PROTOCOL, &KEY, 0.0).unwrap();
    server.start(4).unwrap();
    let token = our_token(server.address(), 0xbeef_0001, b"from module-enet");
    let mut ours = OurClient::new(&token, server.address());
    until("our client connects to the netcode-official server", || {
        server.update(origin.elapsed().as_secs_f64());
        ours.pump();
        ours.client.state() == ClientState::Connected && server.client_connected(0)
    });
    assert_eq!(server.client_id(0), 0xbeef_0001);
    assert_eq!(
        &server.client_user_data(0).unwrap()[..16],
        b"from module-enet"
    );
    let messages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 64 + usize::from(i)]).collect();
    for m in &messages {
        ours.send(m);
        server.send_packet(0, m).unwrap();
    }
    let mut got = Vec::new();
    until("payloads both ways", || {
        server.update(origin.elapsed().as_secs_f64());
        got.extend(std::iter::from_fn(|| {
            server.receive_packet(0).map(|(d, _)| d)
        }));
        ours.pump();
        got.len() >= messages.len() && ours.received.len() >= messages.len()
    });
    assert_eq!(got, messages);
    assert_eq!(ours.received, messages);
    assert_eq!(ours.client.counters().dropped_total(), 0);
}

#[test]
fn our_client_and_token_with_netcode_rs_server() {
    let origin = Instant::now();
    let mut server = netcode_rs::Server::new("127.0.0.1:0", PROTOCOL, KEY).unwrap();
    let token = our_token(server.addr(), 0xbeef_0002, b"");
    let mut ours = OurClient::new(&token, server.addr());
    until("our client connects to the netcode-rs server", || {
        server.try_update(origin.elapsed().as_secs_f64()).unwrap();
        ours.pump();
        ours.client.state() == ClientState::Connected && server.num_connected_clients() == 1
    });
    let messages: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 64 + usize::from(i)]).collect();
    for m in &messages {
        ours.send(m);
    }
    let mut got = Vec::new();
    let mut index = None;
    until("our payloads reach the netcode-rs server", || {
        server.try_update(origin.elapsed().as_secs_f64()).unwrap();
        while let Some((d, i)) = server.recv() {
            got.push(d);
            index = Some(i);
        }
        ours.pump();
        got.len() >= messages.len()
    });
    assert_eq!(got, messages);
    let index = index.unwrap();
    assert_eq!(server.client_id(index), Some(0xbeef_0002));
    for m in &messages {
        server.send(m, index).unwrap();
    }
    until("its payloads reach our client", || {
        server.try_update(origin.elapsed().as_secs_f64()).unwrap();
        ours.pump();
        ours.received.len() >= messages.len()
    });
    assert_eq!(ours.received, messages);
    assert_eq!(ours.client.counters().dropped_total(), 0);
}

/// netcode-rs 1.4.0 writes IPv6 token addresses as 16 network-order bytes, where the reference
/// (and netcode-official, and we) write eight little-endian groups: IPv6 tokens do not
/// interoperate with it. IPv4 ones (all the tests above) do.
#[test]
fn ipv6_token_addresses_follow_the_reference_not_netcode_rs() {
    let v6 = addr("[2001:db8::1]:40000");
    let official =
        netcode_official::generate_connect_token(&[v6], &[v6], 30, 5, 1, PROTOCOL, &KEY, &[0; 256])
            .unwrap();
    assert_eq!(PublicToken::read(&official).unwrap().servers, [v6]);
    let rs = netcode_rs::ConnectToken::build(v6, PROTOCOL, 1, KEY)
        .generate()
        .unwrap()
        .try_into_bytes()
        .unwrap();
    assert_eq!(
        PublicToken::read(&rs).unwrap().servers,
        [addr("[120:b80d::100]:40000")]
    );
}

// --- Lua: connect_token{...} --------------------------------------------------------------------

#[test]
fn lua_connect_token_makes_a_token_our_server_accepts() {
    let lua = common::lua();
    let key: String = KEY.iter().map(|&b| b as char).collect();
    lua.globals()
        .set("KEY", lua.create_string(KEY).unwrap())
        .unwrap();
    assert_eq!(key.len(), 32);
    let token: mlua::LuaString = lua
        .load(
            r#"return enet.connect_token{ private_key = KEY, protocol_id = "1122334455667788",
                 client_id = 2^53, servers = { "10.0.0.1:40000", { host = "::1", port = 5 } },
                 timeout = -1, user_data = "lua" }"#,
        )
        .eval()
        .unwrap();
    let bytes = token.as_bytes().to_vec();
    assert_eq!(bytes.len(), 2048);
    let public = PublicToken::read(&bytes).unwrap();
    assert_eq!(public.protocol_id, PROTOCOL);
    assert_eq!(public.timeout_seconds, -1);
    assert_eq!(public.expire - public.create, 30);
    assert_eq!(public.servers, [addr(SERVER), addr("[::1]:5")]);
    let now = Now {
        time: Duration::ZERO,
        unix: public.create,
    };
    let mut s = server(2);
    let mut c = SecureClient::new(now, &bytes, addr(SERVER)).unwrap();
    let request = c.tick(now).remove(0);
    assert!(matches!(
        s.receive(now, addr(CLIENT), &request),
        Incoming::Send(_)
    ));
    let private = PrivateToken::open(
        &<[u8; PRIVATE_TOKEN_BYTES]>::try_from(&request[54..]).unwrap(),
        &KEY,
        PROTOCOL,
        public.expire,
        &public.nonce,
    )
    .unwrap();
    assert_eq!(private.client_id, 1 << 53);
    assert_eq!(&private.user_data[..3], b"lua");

    // The whole u64 range as hex strings.
    let token: mlua::LuaString = lua
        .load(
            r#"return enet.connect_token{ private_key = KEY, protocol_id = "FFFFFFFFFFFFFFFF",
                 client_id = "8000000000000001", servers = { "10.0.0.1:40000" } }"#,
        )
        .eval()
        .unwrap();
    let public = PublicToken::read(&token.as_bytes()).unwrap();
    assert_eq!(public.protocol_id, u64::MAX);
    assert_eq!(public.timeout_seconds, 10);
    let private = PrivateToken::open(
        &public.private,
        &KEY,
        u64::MAX,
        public.expire,
        &public.nonce,
    )
    .unwrap();
    assert_eq!(private.client_id, 0x8000_0000_0000_0001);
}

#[test]
fn lua_connect_token_argument_errors() {
    let lua = common::lua();
    lua.globals()
        .set("KEY", lua.create_string(KEY).unwrap())
        .unwrap();
    let cases = [
        ("nil", "table expected, got nil"),
        ("{}", "field 'private_key' must be a 32-byte string, got nil"),
        ("{ private_key = 'short' }", "must be a 32-byte string, got 5 bytes"),
        ("{ private_key = KEY }", "field 'protocol_id' must be a non-negative integer"),
        ("{ private_key = KEY, protocol_id = -1 }", "got -1"),
        ("{ private_key = KEY, protocol_id = 0.5 }", "field 'protocol_id'"),
        ("{ private_key = KEY, protocol_id = 2^60 + 0.0 }", "field 'protocol_id'"),
        ("{ private_key = KEY, protocol_id = '123' }", "got '123'"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 'xyzxyzxyzxyzxyzx' }", "field 'client_id'"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1 }", "field 'servers'"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = {} }", "1 to 32 addresses, got 0"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = { 5 } }", "item 1 must be an address"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = { '127.0.0.1' } }", "item 1 needs a host and a port"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = { '1.2.3.4:5' }, timeout = 0 }", "field 'timeout' must be -1"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = { '1.2.3.4:5' }, expire = 0 }", "field 'expire'"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, servers = { '1.2.3.4:5' }, user_data = ('x'):rep(257) }", "at most 256 bytes, got 257"),
        ("{ private_key = KEY, protocol_id = 1, client_id = 1, server = { '1.2.3.4:5' } }", "unknown field 'server'"),
    ];
    for (args, expected) in cases {
        let chunk = format!("return enet.connect_token({args})");
        let err = match lua.load(&chunk).exec() {
            Err(e) => e.to_string(),
            Ok(()) => panic!("{args}: no error"),
        };
        assert!(
            err.contains("bad argument #1 to 'connect_token'") && err.contains(expected),
            "{args}: {err}"
        );
    }
    let many: Vec<String> = (1..=33).map(|p| format!("'1.2.3.4:{p}'")).collect();
    let chunk = format!(
        "return enet.connect_token{{ private_key = KEY, protocol_id = 1, client_id = 1, servers = {{ {} }} }}",
        many.join(", ")
    );
    let err = lua.load(&chunk).exec().unwrap_err().to_string();
    assert!(err.contains("got 33"), "{err}");
}

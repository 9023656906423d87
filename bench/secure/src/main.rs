//! CPU cost of secure mode per 64-byte ENet datagram, through the real layer (src/secure.rs):
//! a connected server and client in memory, then `send` (build and encrypt a payload packet)
//! and `receive` (check, replay window, authenticate and decrypt) timed separately, and
//! ChaCha20-Poly1305 seal and open alone. Thread CPU time, best of five runs.

#[allow(dead_code, unused_imports)]
#[path = "../../../src/secure.rs"]
mod secure;

use std::net::SocketAddr;
use std::time::Duration;

use secure::{
    crypto, generate_connect_token, Incoming, Now, SecureClient, SecureServer, ServerConfig,
    TokenSpec,
};

const ROUNDS: u32 = 100_000;

fn thread_cpu_ns() -> u128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `ts` is.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u128 * 1_000_000_000 + ts.tv_nsec as u128
}

/// Nanoseconds of CPU per call, best of five runs of ROUNDS calls.
fn cost(mut f: impl FnMut(u32)) -> f64 {
    (0..5)
        .map(|_| {
            let start = thread_cpu_ns();
            for i in 0..ROUNDS {
                f(i);
            }
            (thread_cpu_ns() - start) as f64 / f64::from(ROUNDS)
        })
        .fold(f64::INFINITY, f64::min)
}

fn connected(server: SocketAddr, client: SocketAddr, now: Now) -> (SecureServer, SecureClient) {
    let key = [0x42; 32];
    let servers = [server];
    let spec = TokenSpec {
        private_key: &key,
        protocol_id: 1,
        client_id: 1,
        servers: &servers,
        expire_seconds: 30,
        timeout_seconds: 5,
        user_data: b"",
    };
    let token = generate_connect_token(&spec, now.unix).expect("token");
    let config = ServerConfig {
        private_key: key,
        protocol_id: 1,
        addresses: vec![server],
        max_clients: 4,
    };
    let mut s = SecureServer::new(config).expect("server");
    let mut c = SecureClient::new(now, &token, server).expect("client");
    let mut to_client = c.tick(now);
    for _ in 0..3 {
        let mut to_server = Vec::new();
        for d in to_client.drain(..) {
            if let Incoming::Send(out) = s.receive(now, client, &d) {
                to_server.extend(out);
            }
        }
        for d in to_server {
            if let Incoming::Send(out) = c.receive(now, server, &d) {
                to_client.extend(out);
            }
        }
    }
    assert_eq!(c.state(), secure::ClientState::Connected);
    (s, c)
}

fn main() {
    let server: SocketAddr = "10.0.0.1:7777".parse().expect("address");
    let client: SocketAddr = "10.0.0.2:50000".parse().expect("address");
    let now = Now {
        time: Duration::ZERO,
        unix: secure::unix_now(),
    };
    let (mut s, mut c) = connected(server, client, now);
    let datagram = [0x33u8; 64];
    // The client confirms, so the server stops prefixing keep-alives.
    let up = c.send(now, &datagram).expect("send");
    s.receive(now, client, &up);

    let send = cost(|_| {
        std::hint::black_box(s.send(now, client, &datagram));
    });
    let packets: Vec<Vec<u8>> = (0..5 * ROUNDS)
        .filter_map(|_| s.send(now, client, &datagram).map(|o| o.payload))
        .collect();
    let mut next = packets.iter();
    let receive = cost(|_| {
        let p = next.next().map_or(&[][..], Vec::as_slice);
        let delivered = c.receive(now, server, p);
        assert!(matches!(delivered, Incoming::Deliver(_)));
    });
    let key = [1u8; 32];
    let mut buffer = datagram;
    let seal = cost(|i| {
        let nonce = crypto::sequence_nonce(u64::from(i));
        std::hint::black_box(crypto::seal(&key, &nonce, &[0; 22], &mut buffer));
    });
    let nonce = crypto::sequence_nonce(0);
    let mut sealed = datagram;
    let tag = crypto::seal(&key, &nonce, &[0; 22], &mut sealed).expect("seal");
    let open = cost(|_| {
        let mut copy = sealed;
        assert!(crypto::open(&key, &nonce, &[0; 22], &mut copy, &tag));
    });
    println!("secure: 64 B datagram, send (encrypt into a payload packet): {send:.0} ns CPU");
    println!("secure: 64 B datagram, receive (authenticate, decrypt):      {receive:.0} ns CPU");
    println!("secure: ChaCha20-Poly1305 seal of 64 B alone:                {seal:.0} ns CPU");
    println!("secure: ChaCha20-Poly1305 open of 64 B alone:                {open:.0} ns CPU");
}

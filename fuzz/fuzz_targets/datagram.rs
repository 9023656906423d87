//! Arbitrary datagrams into an ENet host, the way module_enet's socket hands them over: every
//! datagram goes through the module's `wire::Filter` first (which decompresses compressed ones)
//! and only accepted ones reach rusty_enet. The hosts are configured like the module's (its
//! switchable range coder from `src/compress.rs`, a monotonic clock) and run over rusty_enet's
//! in-memory `ReadWrite` socket, so one input costs microseconds and is fully deterministic
//! (the clock is advanced by the input).
//!
//! Input: one mode byte, then records `[control][len lo][len hi][len bytes]`.
//! - mode & 3: 0 a fresh server nobody is connected to; 1 a server with an established
//!   client (datagrams come from that client's address); 2 a client that is still
//!   connecting (datagrams come from the server it dials); 3 a client with an established
//!   connection (datagrams come from its server).
//! - mode & 4: both hosts have the range coder on (`compress = "range_coder"`); mode & 8: both
//!   check CRC32 (`checksum = "crc32"`).
//! - control bit 7: send from a stranger's address instead; bit 6: replace the header's peer
//!   id and session bits with the ones a legitimate datagram on this connection carries, so
//!   the commands behind it reach the connected peer; bits 0-5: milliseconds x 16 to advance
//!   the clock before delivering.
#![no_main]

use std::cell::Cell;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use wire::Verdict;

// The module's own filter and compressor, compiled in from their source files rather than
// through the crate: module_enet pulls in mlua, tokio and a resolver, and building those with
// the sanitizer flags made the CI pass take minutes longer for code the harness never calls.
#[allow(dead_code)]
#[path = "../../src/wire.rs"]
mod wire;
#[allow(dead_code)]
#[path = "../../src/compress.rs"]
mod compress;
use rusty_enet::{Event, Host, HostSettings, Packet, ReadWrite, MTU_MAX};

type Socket = ReadWrite<SocketAddr, Infallible>;
type EnetHost = Host<Socket>;

const SERVER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9000);
const CLIENT: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9001);
const STRANGER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7)), 4242);
const SERVICE_CALLS: usize = 4;

/// A host and the filter our socket would put in front of it.
struct Node {
    host: EnetHost,
    filter: wire::Filter,
}

#[derive(Clone, Copy)]
struct Options {
    compress: bool,
    crc32: bool,
}

fn node(clock: &Rc<Cell<Duration>>, peers: usize, options: Options) -> Node {
    let clock = clock.clone();
    let switch: compress::Switch = Rc::new(Cell::new(options.compress));
    let settings = HostSettings {
        peer_limit: peers,
        channel_limit: 4,
        time: Box::new(move || clock.get()),
        seed: Some(7),
        compressor: Some(Box::new(compress::SwitchedRangeCoder::new(switch.clone()))),
        checksum: if options.crc32 {
            Some(Box::new(rusty_enet::crc32))
        } else {
            None
        },
        ..HostSettings::default()
    };
    let host = match Host::new(Socket::new(), settings) {
        Ok(h) => h,
        // ReadWrite's init cannot fail; a host we cannot build is nothing to fuzz.
        Err(_) => std::process::abort(),
    };
    let filter = wire::Filter::new(options.crc32, wire::DEFAULT_MAX_PACKET_SIZE, switch);
    Node { host, filter }
}

/// Hands `data` to `to` as if it came from `from_addr`, the way our socket does: larger than
/// MTU_MAX is dropped (the socket sees it truncated), the rest goes through the filter, which
/// may decompress it.
fn deliver(to: &mut Node, from_addr: SocketAddr, data: &[u8]) {
    let mut buffer = [0u8; MTU_MAX];
    let Some(dest) = buffer.get_mut(..data.len()) else {
        return;
    };
    dest.copy_from_slice(data);
    if let Verdict::Accept { len, .. } = to.filter.inspect(&mut buffer, data.len()) {
        to.host.socket_mut().write(from_addr, buffer[..len].to_vec());
    }
}

/// Runs `service` a few times and drops whatever comes out; returns true on a connect event.
fn service(host: &mut EnetHost) -> bool {
    let mut connected = false;
    for _ in 0..SERVICE_CALLS {
        match host.service() {
            Ok(Some(Event::Connect { .. })) => connected = true,
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    connected
}

/// Moves everything `from` wants to send into `to`, as if it came from `from_addr`, through
/// the same inspection our socket does. Returns the header (peer id and session bits) of the
/// last datagram moved.
fn pump(from: &mut EnetHost, from_addr: SocketAddr, to: &mut Node) -> Option<u16> {
    let mut header = None;
    while let Some((_, data)) = from.socket_mut().read() {
        if data.len() >= 2 {
            header = Some(u16::from_be_bytes([data[0], data[1]]) & 0x3fff);
        }
        deliver(to, from_addr, &data);
    }
    header
}

fn drain(host: &mut EnetHost) {
    while host.socket_mut().read().is_some() {}
}

fn advance(clock: &Cell<Duration>, ms: u64) {
    clock.set(clock.get() + Duration::from_millis(ms));
}

/// The host under attack, where its datagrams seem to come from, and the header a legitimate
/// datagram from there carries. The other host is kept alive so the connection stays real.
struct Target {
    victim: Node,
    _other: Option<Node>,
    source: SocketAddr,
    header: u16,
}

fn set_up(mode: u8, options: Options, clock: &Rc<Cell<Duration>>) -> Option<Target> {
    let mut server = node(clock, 4, options);
    if mode == 0 {
        return Some(Target {
            victim: server,
            _other: None,
            source: CLIENT,
            header: 0x0fff,
        });
    }
    let mut client = node(clock, 1, options);
    client.host.connect(SERVER, 4, 42).ok()?;
    if mode == 2 {
        // Let the server answer once to learn the header of its verify-connect, then throw the
        // answer away: the client stays in the connecting state.
        service(&mut client.host);
        pump(&mut client.host, CLIENT, &mut server);
        service(&mut server.host);
        let mut header = 0x0fff;
        while let Some((_, data)) = server.host.socket_mut().read() {
            if data.len() >= 2 {
                header = u16::from_be_bytes([data[0], data[1]]) & 0x3fff;
            }
        }
        return Some(Target {
            victim: client,
            _other: Some(server),
            source: SERVER,
            header,
        });
    }
    let (mut server_up, mut client_up) = (false, false);
    for _ in 0..16 {
        client_up |= service(&mut client.host);
        pump(&mut client.host, CLIENT, &mut server);
        server_up |= service(&mut server.host);
        pump(&mut server.host, SERVER, &mut client);
        advance(clock, 5);
        if server_up && client_up {
            break;
        }
    }
    if !(server_up && client_up) {
        return None;
    }
    // One reliable packet each way to learn the headers, delivered so the connection is clean.
    let packet = Packet::reliable(&b"hello"[..]);
    client.host.connected_peers_mut().next()?.send(0, &packet).ok()?;
    server.host.connected_peers_mut().next()?.send(0, &packet).ok()?;
    service(&mut client.host);
    let to_server = pump(&mut client.host, CLIENT, &mut server)?;
    service(&mut server.host);
    let to_client = pump(&mut server.host, SERVER, &mut client)?;
    service(&mut client.host);
    drain(&mut client.host);
    Some(if mode == 1 {
        Target {
            victim: server,
            _other: Some(client),
            source: CLIENT,
            header: to_server,
        }
    } else {
        Target {
            victim: client,
            _other: Some(server),
            source: SERVER,
            header: to_client,
        }
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, mut rest)) = input.split_first() else {
        return;
    };
    let clock = Rc::new(Cell::new(Duration::from_millis(1)));
    let options = Options {
        compress: mode & 4 != 0,
        crc32: mode & 8 != 0,
    };
    let Some(mut target) = set_up(mode & 3, options, &clock) else {
        return;
    };
    while rest.len() >= 3 {
        let control = rest[0];
        let len = usize::from(u16::from_le_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let mut datagram = rest[3..3 + len].to_vec();
        rest = &rest[3 + len..];
        if control & 0x40 != 0 && datagram.len() >= 2 {
            let flags = u16::from_be_bytes([datagram[0], datagram[1]]) & 0xc000;
            datagram[..2].copy_from_slice(&(flags | target.header).to_be_bytes());
        }
        advance(&clock, u64::from(control & 0x3f) * 16);
        let source = if control & 0x80 != 0 {
            STRANGER
        } else {
            target.source
        };
        deliver(&mut target.victim, source, &datagram);
        service(&mut target.victim.host);
        drain(&mut target.victim.host);
    }
    // Whatever state the input left, the host must keep running: timers, retransmits, timeouts.
    for _ in 0..4 {
        advance(&clock, 1000);
        service(&mut target.victim.host);
        drain(&mut target.victim.host);
    }
});

//! The protocol alone: bench/lua/loop.lua's loop written straight against rusty_enet (std's
//! `UdpSocket`, the system allocator, no Lua, none of the module's code), the twin of
//! `enet_bench loop`. `bench/profile.sh` (PARTS=floor) counts its instructions per message under
//! callgrind beside C ENet's: what the protocol library the module is built on costs by itself,
//! the part of the module's cost no binding work can remove.
//! `pool=1` puts the release module's allocator (src/alloc.rs) in front of the system's, as the
//! module does on Linux.
//!   cargo bench --bench rusty_enet_loop -- n=20000 size=64 batch=64 [pool=1]
use std::alloc::{GlobalAlloc, Layout, System};
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rusty_enet::{Event, Host, HostSettings, Packet};

/// The system allocator, or the module's cache once `pool=1` is seen. Switching while blocks are
/// live is sound: every block of the cache is the system's own (`malloc`), see src/alloc.rs.
struct Switch;

static POOLED: AtomicBool = AtomicBool::new(false);
#[cfg(target_os = "linux")]
static POOL: module_enet::alloc::Pool = module_enet::alloc::Pool::new();

// SAFETY: forwards to allocators that both hand out and take back `malloc` blocks.
unsafe impl GlobalAlloc for Switch {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if POOLED.load(Ordering::Relaxed) {
            return unsafe { POOL.alloc(layout) };
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        #[cfg(target_os = "linux")]
        if POOLED.load(Ordering::Relaxed) {
            return unsafe { POOL.dealloc(p, layout) };
        }
        unsafe { System.dealloc(p, layout) }
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        #[cfg(target_os = "linux")]
        if POOLED.load(Ordering::Relaxed) {
            return unsafe { POOL.realloc(p, layout, size) };
        }
        unsafe { System.realloc(p, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Switch = Switch;

/// `name=value` from the command line, or `default`.
fn opt(name: &str, default: usize) -> usize {
    let prefix = format!("{name}=");
    std::env::args()
        .skip(1)
        .find_map(|a| a.strip_prefix(&prefix).and_then(|v| v.parse().ok()))
        .unwrap_or(default)
}

fn host(peers: usize) -> Host<UdpSocket> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let settings = HostSettings {
        peer_limit: peers,
        channel_limit: 2,
        ..HostSettings::default()
    };
    Host::new(socket, settings).expect("host")
}

fn main() {
    let (n, size, batch) = (opt("n", 20000), opt("size", 64), opt("batch", 64));
    POOLED.store(opt("pool", 0) == 1, Ordering::Relaxed);
    let payload = vec![b'l'; size];
    let mut server = host(8);
    let mut client = host(1);
    let address = server.socket().local_addr().expect("server address");
    let peer = client.connect(address, 2, 0).expect("connect").id();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut connected = false;
    while !connected && Instant::now() < deadline {
        let _ = server.service();
        connected = matches!(client.service(), Ok(Some(Event::Connect { .. })));
    }
    let (mut sent, mut received, mut bytes, mut calls) = (0, 0, 0, 0);
    while received < n && Instant::now() < deadline {
        let k = batch.min(n - sent);
        for _ in 0..k {
            let packet = Packet::reliable(payload.as_slice());
            client.peer_mut(peer).send(0, &packet).expect("send");
        }
        sent += k;
        while let Ok(Some(_)) = client.service() {}
        loop {
            calls += 1;
            match server.service() {
                Ok(Some(Event::Receive { packet, .. })) => {
                    bytes += packet.data().len();
                    received += 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
    }
    println!("RESULT received={received} bytes={bytes} server_service_calls={calls}");
    std::process::exit(if received == n { 0 } else { 1 });
}

//! Our UDP socket for rusty_enet, and the OS wait that lets `host_service` sleep.
//!
//! The stock `impl Socket for UdpSocket` turns any send error (one unreachable peer) into a
//! `service()` error that stalls the whole host, parses truncated datagrams, leaves buffers at
//! the OS default and, on Windows, fails on ICMP-triggered `WSAECONNRESET`. This one counts those
//! cases and carries on, as C ENet does. A secure host's datagrams pass through its
//! `secure::link::Link` both ways (netcode 1.02 under ENet, docs/secure.md).

use std::io::{self, ErrorKind};
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use rusty_enet::{PacketReceived, SocketOptions, MTU_MAX};
use socket2::{Domain, MaybeUninitSlice, Protocol, SockAddr, Socket, Type};

use crate::address::canonical;
use crate::secure::link::{Link, Outbound, Route};
use crate::wire::{self, Verdict};

const BUFFER_SIZE: usize = 256 * 1024;
/// DISCONNECT commands remembered within one service pass (rusty_enet reads at most 256
/// datagrams a pass); a bound, not a working size.
const MAX_DISCONNECTS: usize = 1024;
/// ENet's highest peer index + 1.
const MAX_SLOTS: usize = 4096;

/// Counters for what the socket saw and dropped.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub datagrams_received: u64,
    pub datagrams_sent: u64,
    pub bytes_received: u64,
    pub bytes_sent: u64,
    pub dropped_malformed: u64,
    pub dropped_oversized: u64,
    /// Packets over the host's `max_packet_size` (each arrival of a resent one counts).
    pub dropped_too_large: u64,
    pub send_errors: u64,
    pub receive_errors: u64,
}

pub struct EnetSocket {
    socket: Socket,
    /// An AF_INET6 socket: IPv4 targets go out as v4-mapped (works only when dual-stack).
    ipv6: bool,
    dual_stack: bool,
    pub stats: Stats,
    /// DISCONNECT commands received since the host last looked: (slot addressed, source).
    /// The host keeps only those rusty_enet acted on (see `State::after_service`).
    disconnects: Vec<(usize, SocketAddr)>,
    /// The connectID of each slot's connection, from the handshake commands we sent.
    connect_ids: Vec<u32>,
    /// A CONNECT command arrived since the host last looked (see `State::shorten_handshakes`).
    pub connect_seen: bool,
    /// Checksum, compression and packet-size settings the datagram filter needs.
    pub filter: wire::Filter,
    /// netcode under ENet, on a secure server or a host with secure connections.
    pub secure: Option<Box<Link>>,
}

impl EnetSocket {
    /// Binds for rusty_enet. `None` is a client: dual-stack on an ephemeral port where the OS
    /// allows it, IPv4 otherwise. `0.0.0.0` is IPv4 only; `::` is dual-stack.
    pub fn bind(addr: Option<SocketAddr>) -> io::Result<EnetSocket> {
        match addr {
            None => Self::bind_v6(SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0), true)
                .or_else(|_| Self::bind_v4(SocketAddr::new(Ipv4Addr::UNSPECIFIED.into(), 0))),
            Some(a @ SocketAddr::V4(_)) => Self::bind_v4(a),
            Some(a @ SocketAddr::V6(v6)) => Self::bind_v6(a, v6.ip().is_unspecified()),
        }
    }

    fn bind_v4(addr: SocketAddr) -> io::Result<EnetSocket> {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        socket.bind(&addr.into())?;
        Ok(Self::wrap(socket, false, false))
    }

    fn bind_v6(addr: SocketAddr, want_dual_stack: bool) -> io::Result<EnetSocket> {
        let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
        let dual_stack = want_dual_stack && socket.set_only_v6(false).is_ok();
        socket.bind(&addr.into())?;
        Ok(Self::wrap(socket, true, dual_stack))
    }

    fn wrap(socket: Socket, ipv6: bool, dual_stack: bool) -> EnetSocket {
        EnetSocket {
            socket,
            ipv6,
            dual_stack,
            stats: Stats::default(),
            connect_seen: false,
            disconnects: Vec::new(),
            connect_ids: Vec::new(),
            filter: wire::Filter::default(),
            secure: None,
        }
    }

    /// The bound address, canonical (a dual-stack `::` stays `::`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.socket.local_addr().ok()?.as_socket().map(canonical)
    }

    /// Can this socket send to `addr`?
    pub fn can_reach(&self, addr: &SocketAddr) -> bool {
        match addr {
            SocketAddr::V4(_) => !self.ipv6 || self.dual_stack,
            SocketAddr::V6(_) => self.ipv6,
        }
    }

    /// The DISCONNECT commands received since the last call.
    pub fn take_disconnects(&mut self) -> Vec<(usize, SocketAddr)> {
        if self.disconnects.is_empty() {
            return Vec::new();
        }
        std::mem::take(&mut self.disconnects)
    }

    /// The connectID ENet chose for the connection in `slot` (lua-enet's `connect_id`).
    pub fn connect_id(&self, slot: usize) -> Option<u32> {
        self.connect_ids.get(slot).copied()
    }

    fn note_connect_id(&mut self, slot: usize, id: u32) {
        if slot >= MAX_SLOTS {
            return;
        }
        if self.connect_ids.len() <= slot {
            self.connect_ids.resize(slot + 1, 0);
        }
        self.connect_ids[slot] = id;
    }

    /// One datagram to the OS. A send error (an unreachable destination) is counted, not
    /// returned: it must not stall every other peer; ENet's retransmission and timeout deal
    /// with that peer alone.
    fn transmit(&mut self, address: SocketAddr, data: &[u8]) -> usize {
        let target = self.target(address);
        match self.socket.send_to(data, &SockAddr::from(target)) {
            Ok(n) => {
                self.stats.datagrams_sent += 1;
                self.stats.bytes_sent += n as u64;
                n
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(_) => {
                self.stats.send_errors += 1;
                data.len()
            }
        }
    }

    /// netcode's timers (requests, keep-alives, timeouts), run once per service pass.
    pub fn secure_tick(&mut self) {
        let Some(link) = self.secure.as_mut() else {
            return;
        };
        for (to, d) in link.tick() {
            self.transmit(to, &d);
        }
    }

    /// ENet is done with the connection to `addr`: netcode's disconnect goes out.
    pub fn secure_forget(&mut self, addr: SocketAddr) {
        let Some(link) = self.secure.as_mut() else {
            return;
        };
        for (to, d) in link.forget(addr) {
            self.transmit(to, &d);
        }
    }

    fn target(&self, addr: SocketAddr) -> SocketAddr {
        match addr {
            SocketAddr::V4(v4) if self.ipv6 => {
                SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port())
            }
            other => other,
        }
    }

    /// Sleeps until the socket is readable or `timeout` passes (level-triggered, EINTR-safe).
    pub fn wait_readable(&self, timeout: Duration) {
        wait_readable(&self.socket, timeout);
    }

    /// The OS descriptor, for external event loops.
    pub fn raw_fd(&self) -> i64 {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            i64::from(self.socket.as_raw_fd())
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::AsRawSocket;
            self.socket.as_raw_socket() as i64
        }
    }
}

impl rusty_enet::Socket for EnetSocket {
    type Address = SocketAddr;
    type Error = io::Error;

    fn init(&mut self, _options: SocketOptions) -> io::Result<()> {
        self.socket.set_nonblocking(true)?;
        if !self.ipv6 {
            self.socket.set_broadcast(true)?;
        }
        // Best effort: a smaller OS maximum is not an error.
        let _ = self.socket.set_recv_buffer_size(BUFFER_SIZE);
        let _ = self.socket.set_send_buffer_size(BUFFER_SIZE);
        disable_connection_reset(&self.socket);
        Ok(())
    }

    fn send(&mut self, address: SocketAddr, buffer: &[u8]) -> io::Result<usize> {
        let checksum = self.filter.checksum;
        wire::sent_connect_ids(buffer, checksum, |slot, id| self.note_connect_id(slot, id));
        if let Some(link) = self.secure.as_mut() {
            if let Outbound::Secure(datagrams) = link.send(address, buffer) {
                for d in datagrams {
                    self.transmit(address, &d);
                }
                return Ok(buffer.len());
            }
        }
        Ok(self.transmit(address, buffer))
    }

    fn receive(
        &mut self,
        buffer: &mut [u8; MTU_MAX],
    ) -> io::Result<Option<(SocketAddr, PacketReceived)>> {
        loop {
            let (len, truncated, from) = match recv(&self.socket, buffer) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(None),
                Err(e) if skippable(&e) => continue,
                Err(_) => {
                    self.stats.receive_errors += 1;
                    return Ok(None);
                }
            };
            self.stats.datagrams_received += 1;
            self.stats.bytes_received += len as u64;
            if truncated {
                self.stats.dropped_oversized += 1;
                continue;
            }
            let Some(from) = from else {
                self.stats.dropped_malformed += 1;
                continue;
            };
            let mut len = len;
            if let Some(link) = self.secure.as_mut() {
                let from = canonical(from);
                match link.receive(from, &buffer[..len]) {
                    Route::Plain => {}
                    Route::Deliver(plain) => {
                        // netcode's payload is smaller than the datagram that carried it.
                        let Some(dest) = buffer.get_mut(..plain.len()) else {
                            continue;
                        };
                        dest.copy_from_slice(&plain);
                        len = plain.len();
                    }
                    Route::Reply(replies) => {
                        for d in replies {
                            self.transmit(from, &d);
                        }
                        continue;
                    }
                    Route::Done => continue,
                }
            }
            match self.filter.inspect(buffer, len) {
                Verdict::Malformed => self.stats.dropped_malformed += 1,
                Verdict::Accept {
                    len,
                    connect,
                    disconnect,
                    too_large,
                } => {
                    // rusty_enet drops the packet itself; counting is all that is left to do.
                    self.stats.dropped_too_large += u64::from(too_large);
                    let from = canonical(from);
                    self.connect_seen |= connect;
                    if let Some(slot) = disconnect {
                        if self.disconnects.len() < MAX_DISCONNECTS {
                            self.disconnects.push((slot, from));
                        }
                    }
                    return Ok(Some((from, PacketReceived::Complete(len))));
                }
            }
        }
    }
}

fn recv(
    socket: &Socket,
    buffer: &mut [u8; MTU_MAX],
) -> io::Result<(usize, bool, Option<SocketAddr>)> {
    // SAFETY: u8 and MaybeUninit<u8> have the same layout, and the kernel only writes bytes.
    let uninit: &mut [MaybeUninit<u8>] =
        unsafe { &mut *(buffer.as_mut_slice() as *mut [u8] as *mut [MaybeUninit<u8>]) };
    let mut bufs = [MaybeUninitSlice::new(uninit)];
    let (len, flags, from) = socket.recv_from_vectored(&mut bufs)?;
    Ok((len, flags.is_truncated(), from.as_socket()))
}

/// Errors that say something about an earlier datagram to someone else, not about this socket.
fn skippable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionRefused | ErrorKind::Interrupted
    )
}

#[cfg(unix)]
fn wait_readable(socket: &Socket, timeout: Duration) {
    use std::os::fd::AsRawFd;
    let mut pfd = libc::pollfd {
        fd: socket.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // Round up so a 0.4 ms remainder does not become a busy 0 ms poll.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: one valid pollfd for the duration of the call. EINTR just returns early; the
    // caller loops on its own deadline.
    unsafe { libc::poll(&mut pfd, 1, ms) };
}

#[cfg(windows)]
fn wait_readable(socket: &Socket, timeout: Duration) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{WSAPoll, POLLRDNORM, SOCKET, WSAPOLLFD};
    let mut pfd = WSAPOLLFD {
        fd: socket.as_raw_socket() as SOCKET,
        events: POLLRDNORM,
        revents: 0,
    };
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: one valid WSAPOLLFD for the duration of the call.
    unsafe { WSAPoll(&mut pfd, 1, ms) };
}

/// Windows reports an ICMP port-unreachable for an earlier send as `WSAECONNRESET` on the next
/// receive; C ENet ignores it, and so do we, by turning that behaviour off.
#[cfg(windows)]
fn disable_connection_reset(socket: &Socket) {
    use std::os::windows::io::AsRawSocket;
    use windows_sys::Win32::Networking::WinSock::{WSAIoctl, SIO_UDP_CONNRESET, SOCKET};
    let mut off: u32 = 0;
    let mut returned: u32 = 0;
    // SAFETY: documented ioctl with a 4-byte BOOL input and no output buffer.
    unsafe {
        WSAIoctl(
            socket.as_raw_socket() as SOCKET,
            SIO_UDP_CONNRESET,
            (&mut off as *mut u32).cast(),
            4,
            std::ptr::null_mut(),
            0,
            &mut returned,
            std::ptr::null_mut(),
            None,
        )
    };
}

#[cfg(not(windows))]
fn disable_connection_reset(_socket: &Socket) {}

/// `if_nametoindex`: `"eth0"` -> 2.
pub fn interface_index(name: &str) -> Option<u32> {
    let c_name = std::ffi::CString::new(name).ok()?;
    #[cfg(unix)]
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    #[cfg(windows)]
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe {
        windows_sys::Win32::NetworkManagement::IpHelper::if_nametoindex(c_name.as_ptr().cast())
    };
    (index != 0).then_some(index)
}

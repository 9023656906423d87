//! The secure layer of one host's socket: its [`SecureServer`] (a host created with
//! `options.secure`) and a [`SecureClient`] per secure outgoing connection. The socket hands it
//! every datagram in both directions; the host asks it which connections netcode has ended.
//!
//! Routing: a datagram from the address of one of our secure clients goes to that client; on a
//! secure server everything else goes to the server, so nothing unauthenticated reaches ENet;
//! on any other host it is plain ENet.

use std::net::SocketAddr;
use std::time::Instant;

use super::{
    token_address, ClientEnd, ClientState, EndReason, Incoming, Now, SecureClient, SecureServer,
    ServerEvent,
};

/// How a netcode connection ended, as the disconnect event's reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The other side sent netcode's disconnect.
    Disconnect,
    /// Nothing authentic for the token's timeout (or the server ignored the request).
    Timeout,
    /// The server is full.
    Denied,
}

/// What to do with a received datagram.
pub enum Route {
    /// Not ours: plain ENet.
    Plain,
    /// Decrypted ENet datagram.
    Deliver(Vec<u8>),
    /// Send these back to the sender; nothing for ENet.
    Reply(Vec<Vec<u8>>),
    /// Handled or dropped (counted).
    Done,
}

/// What to do with a datagram ENet sends.
pub enum Outbound {
    Plain,
    /// These instead (possibly none: kept while connecting, or nobody to send to).
    Secure(Vec<Vec<u8>>),
}

pub struct Link {
    origin: Instant,
    server: Option<SecureServer>,
    clients: Vec<SecureClient>,
    /// Connections netcode ended since the host last asked.
    ended: Vec<(SocketAddr, End)>,
    /// Dropped datagrams of clients already forgotten.
    dropped_before: u64,
}

impl Link {
    pub fn new(server: Option<SecureServer>) -> Link {
        Link {
            origin: Instant::now(),
            server,
            clients: Vec::new(),
            ended: Vec::new(),
            dropped_before: 0,
        }
    }

    fn now(&self) -> Now {
        Now::system(self.origin)
    }

    pub fn is_server(&self) -> bool {
        self.server.is_some()
    }

    /// Anything that needs ticking (a server, or a client connection).
    pub fn is_active(&self) -> bool {
        self.server.is_some() || !self.clients.is_empty()
    }

    /// A new secure outgoing connection to `server`, with the backend's token. Replaces one
    /// to the same address (ENet gives an address at most one connection from a host).
    pub fn connect(&mut self, token: &[u8], server: SocketAddr) -> Result<(), String> {
        let client = SecureClient::new(self.now(), token, server).map_err(|e| e.to_string())?;
        self.forget_client(server);
        self.clients.push(client);
        Ok(())
    }

    fn client_index(&self, addr: SocketAddr) -> Option<usize> {
        let addr = token_address(addr);
        self.clients.iter().position(|c| c.server() == addr)
    }

    pub fn receive(&mut self, from: SocketAddr, data: &[u8]) -> Route {
        let now = self.now();
        let incoming = match self.client_index(from) {
            Some(i) => self.clients[i].receive(now, from, data),
            None => match self.server.as_mut() {
                Some(server) => server.receive(now, from, data),
                None => return Route::Plain,
            },
        };
        match incoming {
            Incoming::Deliver(plain) => Route::Deliver(plain),
            Incoming::Send(replies) => Route::Reply(replies),
            Incoming::Consumed | Incoming::Dropped(_) => Route::Done,
        }
    }

    pub fn send(&mut self, to: SocketAddr, datagram: &[u8]) -> Outbound {
        let now = self.now();
        if let Some(i) = self.client_index(to) {
            return Outbound::Secure(self.clients[i].send(now, datagram).into_iter().collect());
        }
        match self.server.as_mut() {
            Some(server) => Outbound::Secure(match server.send(now, to, datagram) {
                Some(out) => out.datagrams().map(<[u8]>::to_vec).collect(),
                None => Vec::new(),
            }),
            None => Outbound::Plain,
        }
    }

    /// Requests, responses, keep-alives and timeouts: what to send now, to whom. Ended
    /// connections are noted for [`Link::take_ended`].
    pub fn tick(&mut self) -> Vec<(SocketAddr, Vec<u8>)> {
        let now = self.now();
        let mut out = Vec::new();
        if let Some(server) = self.server.as_mut() {
            out.extend(server.tick(now));
            while let Some(event) = server.poll_event() {
                if let ServerEvent::Ended {
                    address, reason, ..
                } = event
                {
                    let end = match reason {
                        EndReason::TimedOut => End::Timeout,
                        EndReason::Disconnected => End::Disconnect,
                    };
                    self.ended.push((address, end));
                }
            }
        }
        let mut i = 0;
        while let Some(client) = self.clients.get_mut(i) {
            let server = client.server();
            out.extend(client.tick(now).into_iter().map(|d| (server, d)));
            if let ClientState::Ended(end) = client.state() {
                let end = match end {
                    ClientEnd::Denied => End::Denied,
                    ClientEnd::Disconnected | ClientEnd::Closed => End::Disconnect,
                    ClientEnd::TokenExpired
                    | ClientEnd::RequestTimedOut
                    | ClientEnd::ResponseTimedOut
                    | ClientEnd::TimedOut => End::Timeout,
                };
                self.ended.push((server, end));
                self.dropped_before += client.counters().dropped_total();
                self.clients.swap_remove(i);
                continue;
            }
            i += 1;
        }
        out
    }

    /// Connections netcode ended (their ENet peers are to be ended too).
    pub fn take_ended(&mut self) -> Vec<(SocketAddr, End)> {
        std::mem::take(&mut self.ended)
    }

    /// ENet is done with the connection to `addr`: netcode's disconnect packets, to send now.
    pub fn forget(&mut self, addr: SocketAddr) -> Vec<(SocketAddr, Vec<u8>)> {
        let now = self.now();
        if let Some(i) = self.client_index(addr) {
            let mut client = self.clients.swap_remove(i);
            self.dropped_before += client.counters().dropped_total();
            let server = client.server();
            return client
                .disconnect(now)
                .into_iter()
                .map(|d| (server, d))
                .collect();
        }
        match self.server.as_mut() {
            Some(server) if server.client_id(addr).is_some() => server
                .disconnect(now, addr)
                .into_iter()
                .map(|d| (addr, d))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Drops the client connection to `addr` without a word (it never got going).
    pub fn cancel(&mut self, addr: SocketAddr) {
        self.forget_client(addr);
    }

    fn forget_client(&mut self, addr: SocketAddr) {
        if let Some(i) = self.client_index(addr) {
            let client = self.clients.swap_remove(i);
            self.dropped_before += client.counters().dropped_total();
        }
    }

    /// `client_id` and `user_data` of the established client at `addr` (server side).
    pub fn client(&self, addr: SocketAddr) -> Option<(u64, &[u8])> {
        let server = self.server.as_ref()?;
        Some((server.client_id(addr)?, &server.user_data(addr)?[..]))
    }

    /// Datagrams netcode refused (tampered, replayed, unauthenticated, plain ENet...).
    pub fn dropped(&self) -> u64 {
        let server = self
            .server
            .as_ref()
            .map_or(0, |s| s.counters().dropped_total());
        let clients: u64 = self
            .clients
            .iter()
            .map(|c| c.counters().dropped_total())
            .sum();
        self.dropped_before + server + clients
    }
}

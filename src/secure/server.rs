//! The server side of netcode 1.02, sans-IO: connection requests checked in the standard's
//! order, challenge / response, established clients with their keys, sequence numbers, replay
//! windows and timeouts. See the module docs of `secure` for how a socket layer drives it.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use super::crypto::{self, Key, RandomError, MAC_BYTES};
use super::packet::{self, CHALLENGE, DENIED, DISCONNECT, KEEP_ALIVE, PAYLOAD, RESPONSE};
use super::replay::Replay;
use super::token::{ChallengeToken, PrivateToken, UserData, PRIVATE_TOKEN_BYTES};
use super::{
    token_address, Checked, Counters, DropReason, Incoming, Now, DISCONNECT_PACKETS, SEND_INTERVAL,
};

/// Pending handshakes (encryption mappings) allowed per client slot, as in the reference.
const PENDING_PER_SLOT: usize = 4;
/// Remembered connect tokens per client slot, as in the reference.
const TOKENS_PER_SLOT: usize = 8;
/// The server's own sequence for packets sent before a client has a slot (challenge, denied)
/// starts in the top half of the sequence space: they share the token's server-to-client key
/// with the client's own packets, whose sequence starts at 0 (IMPLEMENTERS.md, section 3).
const GLOBAL_SEQUENCE_START: u64 = 1 << 63;
/// How often expired pending handshakes are swept out.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The key shared with the backend that issues connect tokens.
    pub private_key: Key,
    pub protocol_id: u64,
    /// This server's public addresses: a token must list one of them.
    pub addresses: Vec<SocketAddr>,
    /// Client slots (the ENet host's peer count); also bounds the handshake state.
    pub max_clients: usize,
}

/// Why an established client went away without the server asking.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Nothing authentic from it for the token's timeout.
    TimedOut,
    /// It sent a disconnect packet.
    Disconnected,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerEvent {
    /// A client completed the handshake; its ENet traffic follows.
    Connected {
        address: SocketAddr,
        client_id: u64,
        client_index: usize,
    },
    /// An established client is gone; datagrams from its address are dropped from now on.
    Ended {
        address: SocketAddr,
        client_id: u64,
        reason: EndReason,
    },
}

/// What [`SecureServer::send`] produced for one ENet datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    /// Sent first while the client has not yet confirmed its connection (netcode prefixes every
    /// payload with a keep-alive until then, so a lost handshake keep-alive cannot stall it).
    pub keep_alive: Option<Vec<u8>>,
    pub payload: Vec<u8>,
}

impl Outgoing {
    /// The datagrams to send, in order.
    pub fn datagrams(&self) -> impl Iterator<Item = &[u8]> {
        self.keep_alive
            .as_deref()
            .into_iter()
            .chain(std::iter::once(self.payload.as_slice()))
    }
}

/// A handshake in progress: the keys of the token an address presented.
struct Pending {
    send_key: Key,
    receive_key: Key,
    timeout_seconds: i32,
    /// Inactivity limit (positive token timeouts only, as in the reference).
    idle_limit: Option<Duration>,
    /// The whole handshake must finish by then (non-negative token timeouts).
    deadline: Option<Duration>,
    last_access: Duration,
}

impl Pending {
    fn expired(&self, now: Duration) -> bool {
        self.idle_limit
            .is_some_and(|limit| self.last_access.saturating_add(limit) < now)
            || self.deadline.is_some_and(|deadline| deadline < now)
    }
}

/// An established client.
struct Client {
    index: usize,
    client_id: u64,
    user_data: UserData,
    send_key: Key,
    receive_key: Key,
    timeout: Option<Duration>,
    sequence: u64,
    last_send: Duration,
    last_receive: Duration,
    /// Set once the client sent a keep-alive or payload: it knows it is connected.
    confirmed: bool,
    replay: Replay,
}

impl Client {
    fn seal(&mut self, kind: u8, body: &[u8], protocol_id: u64, now: Duration) -> Option<Vec<u8>> {
        let out = packet::seal(kind, self.sequence, body, &self.send_key, protocol_id)?;
        self.sequence = self.sequence.wrapping_add(1);
        self.last_send = now;
        Some(out)
    }
}

/// Tokens already used, by their tag, and from which address: a token works from one address
/// only. Oldest forgotten first, as the reference does.
struct TokenHistory {
    order: Vec<[u8; MAC_BYTES]>,
    next: usize,
    capacity: usize,
    seen: HashMap<[u8; MAC_BYTES], SocketAddr>,
}

impl TokenHistory {
    fn new(capacity: usize) -> Self {
        TokenHistory {
            order: Vec::new(),
            next: 0,
            capacity,
            seen: HashMap::new(),
        }
    }

    /// False if the token was used from another address; otherwise remembers it.
    fn admit(&mut self, mac: [u8; MAC_BYTES], from: SocketAddr) -> bool {
        if let Some(first) = self.seen.get(&mac) {
            return *first == from;
        }
        if self.order.len() < self.capacity {
            self.order.push(mac);
        } else if let Some(slot) = self.order.get_mut(self.next) {
            let oldest = std::mem::replace(slot, mac);
            self.seen.remove(&oldest);
        }
        self.next = (self.next + 1) % self.capacity.max(1);
        self.seen.insert(mac, from);
        true
    }
}

pub struct SecureServer {
    private_key: Key,
    protocol_id: u64,
    addresses: Vec<SocketAddr>,
    max_clients: usize,
    challenge_key: Key,
    challenge_sequence: u64,
    global_sequence: u64,
    clients: HashMap<SocketAddr, Client>,
    client_ids: HashMap<u64, SocketAddr>,
    slots: Vec<bool>,
    pending: HashMap<SocketAddr, Pending>,
    pending_limit: usize,
    next_sweep: Duration,
    history: TokenHistory,
    events: VecDeque<ServerEvent>,
    counters: Counters,
}

impl SecureServer {
    /// A started server: a fresh random challenge key, challenge sequence 0, global sequence
    /// 1 << 63. Fails only if the OS random source does.
    pub fn new(config: ServerConfig) -> Result<SecureServer, RandomError> {
        let max_clients = config.max_clients.max(1);
        Ok(SecureServer {
            private_key: config.private_key,
            protocol_id: config.protocol_id,
            addresses: config.addresses.into_iter().map(token_address).collect(),
            max_clients,
            challenge_key: crypto::random_key()?,
            challenge_sequence: 0,
            global_sequence: GLOBAL_SEQUENCE_START,
            clients: HashMap::new(),
            client_ids: HashMap::new(),
            slots: vec![false; max_clients],
            pending: HashMap::new(),
            pending_limit: PENDING_PER_SLOT * max_clients,
            next_sweep: Duration::ZERO,
            history: TokenHistory::new(TOKENS_PER_SLOT * max_clients),
            events: VecDeque::new(),
            counters: Counters::default(),
        })
    }

    /// One received datagram: see [`Incoming`].
    pub fn receive(&mut self, now: Now, from: SocketAddr, data: &[u8]) -> Incoming {
        let outcome = match data.first() {
            None => Err(DropReason::TooSmall),
            Some(&packet::REQUEST) => self.on_request(now, from, data),
            Some(_) => self.on_encrypted(now, from, data),
        };
        outcome.unwrap_or_else(|reason| self.counters.count(reason))
    }

    /// Encrypts one ENet datagram for the established client at `to`; None if there is none
    /// (or the datagram is empty or over [`packet::MAX_PAYLOAD_BYTES`]).
    pub fn send(&mut self, now: Now, to: SocketAddr, datagram: &[u8]) -> Option<Outgoing> {
        if datagram.is_empty() || datagram.len() > packet::MAX_PAYLOAD_BYTES {
            return None;
        }
        let max = self.max_clients as u32;
        let client = self.clients.get_mut(&to)?;
        let keep_alive = match client.confirmed {
            true => None,
            false => {
                let body = packet::keep_alive_body(client.index as u32, max);
                Some(client.seal(KEEP_ALIVE, &body, self.protocol_id, now.time)?)
            }
        };
        let payload = client.seal(PAYLOAD, datagram, self.protocol_id, now.time)?;
        Some(Outgoing {
            keep_alive,
            payload,
        })
    }

    /// Keep-alives to clients nothing was sent to for [`SEND_INTERVAL`], and timeouts (each an
    /// [`ServerEvent::Ended`]). Call it at least every few tens of milliseconds.
    pub fn tick(&mut self, now: Now) -> Vec<(SocketAddr, Vec<u8>)> {
        let mut out = Vec::new();
        let mut timed_out = Vec::new();
        let max = self.max_clients as u32;
        for (addr, client) in &mut self.clients {
            if client
                .timeout
                .is_some_and(|t| client.last_receive.saturating_add(t) <= now.time)
            {
                timed_out.push(*addr);
            } else if client.last_send.saturating_add(SEND_INTERVAL) <= now.time {
                let body = packet::keep_alive_body(client.index as u32, max);
                if let Some(d) = client.seal(KEEP_ALIVE, &body, self.protocol_id, now.time) {
                    out.push((*addr, d));
                }
            }
        }
        for addr in timed_out {
            self.end(addr, EndReason::TimedOut);
        }
        self.sweep_pending(now.time);
        out
    }

    /// Ends the connection with the client at `addr` (no event): the redundant disconnect
    /// packets to send it. Also forgets a handshake in progress from there.
    pub fn disconnect(&mut self, now: Now, addr: SocketAddr) -> Vec<Vec<u8>> {
        self.pending.remove(&addr);
        let Some(mut client) = self.remove(addr) else {
            return Vec::new();
        };
        (0..DISCONNECT_PACKETS)
            .filter_map(|_| client.seal(DISCONNECT, &[], self.protocol_id, now.time))
            .collect()
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    pub fn client_id(&self, addr: SocketAddr) -> Option<u64> {
        self.clients.get(&addr).map(|c| c.client_id)
    }

    pub fn user_data(&self, addr: SocketAddr) -> Option<&UserData> {
        self.clients.get(&addr).map(|c| &c.user_data)
    }

    pub fn client_index(&self, addr: SocketAddr) -> Option<usize> {
        self.clients.get(&addr).map(|c| c.index)
    }

    pub fn connected_count(&self) -> usize {
        self.clients.len()
    }

    /// Handshakes in progress (bounded by 4 x max_clients).
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The standard's steps for a connection request, in its order.
    fn on_request(&mut self, now: Now, from: SocketAddr, data: &[u8]) -> Checked<Incoming> {
        let request = packet::read_request(data, self.protocol_id, now.unix)?;
        let token = PrivateToken::open(
            &request.token,
            &self.private_key,
            self.protocol_id,
            request.expire,
            &request.nonce,
        )?;
        let listed = token.servers.iter().any(|s| self.addresses.contains(s));
        if !listed {
            return Err(DropReason::AddressNotListed);
        }
        if self.clients.contains_key(&from) {
            return Err(DropReason::AddressInUse);
        }
        if self.client_ids.contains_key(&token.client_id) {
            return Err(DropReason::ClientIdInUse);
        }
        let mut mac = [0u8; MAC_BYTES];
        mac.copy_from_slice(&request.token[PRIVATE_TOKEN_BYTES - MAC_BYTES..]);
        if !self.history.admit(mac, from) {
            return Err(DropReason::TokenReused);
        }
        if self.clients.len() >= self.max_clients {
            return self.deny(&token.server_to_client_key);
        }
        self.add_pending(now.time, from, &token)?;
        self.challenge(&token)
    }

    fn challenge(&mut self, token: &PrivateToken) -> Checked<Incoming> {
        let challenge = ChallengeToken {
            client_id: token.client_id,
            user_data: token.user_data,
        };
        let sequence = self.challenge_sequence;
        let sealed = challenge
            .seal(sequence, &self.challenge_key)
            .ok_or(DropReason::ChallengeUndecryptable)?;
        self.challenge_sequence = sequence.wrapping_add(1);
        let body = packet::challenge_body(sequence, &sealed);
        let reply = self.global_packet(CHALLENGE, &body, &token.server_to_client_key)?;
        self.counters.challenges += 1;
        Ok(Incoming::Send(vec![reply]))
    }

    fn deny(&mut self, key: &Key) -> Checked<Incoming> {
        let reply = self.global_packet(DENIED, &[], key)?;
        self.counters.denied += 1;
        Ok(Incoming::Send(vec![reply]))
    }

    /// A challenge or denial under the token's key and the server's own sequence. (Sealing
    /// fails only for messages over 256 GiB; the reason given then is never seen.)
    fn global_packet(&mut self, kind: u8, body: &[u8], key: &Key) -> Checked<Vec<u8>> {
        let sequence = self.global_sequence;
        self.global_sequence = sequence.wrapping_add(1);
        packet::seal(kind, sequence, body, key, self.protocol_id).ok_or(DropReason::BadSize)
    }

    /// The encryption mapping for `from`: packets from it decrypt with the token's
    /// client-to-server key until the handshake completes or the mapping expires.
    fn add_pending(
        &mut self,
        now: Duration,
        from: SocketAddr,
        token: &PrivateToken,
    ) -> Checked<()> {
        let timeout = token.timeout_seconds;
        let entry = Pending {
            send_key: token.server_to_client_key,
            receive_key: token.client_to_server_key,
            timeout_seconds: timeout,
            idle_limit: (timeout > 0).then(|| Duration::from_secs(timeout as u64)),
            deadline: (timeout >= 0)
                .then(|| now.saturating_add(Duration::from_secs(timeout as u64))),
            last_access: now,
        };
        let live_here = self.pending.get(&from).is_some_and(|p| !p.expired(now));
        if !live_here && self.pending.len() >= self.pending_limit {
            self.pending.retain(|_, p| !p.expired(now));
            if self.pending.len() >= self.pending_limit {
                return Err(DropReason::MappingsFull);
            }
        }
        self.pending.insert(from, entry);
        Ok(())
    }

    fn sweep_pending(&mut self, now: Duration) {
        if now >= self.next_sweep {
            self.pending.retain(|_, p| !p.expired(now));
            self.next_sweep = now.saturating_add(SWEEP_INTERVAL);
        }
    }

    fn on_encrypted(&mut self, now: Now, from: SocketAddr, data: &[u8]) -> Checked<Incoming> {
        let header = packet::read_header(data, packet::SERVER_READS)?;
        if let Some(client) = self.clients.get_mut(&from) {
            let replay = Some(&mut client.replay);
            let body = packet::open(data, &header, &client.receive_key, self.protocol_id, replay)?;
            return self.on_client_packet(now, from, header.kind, body);
        }
        let Some(pending) = self.pending.get_mut(&from) else {
            return Err(DropReason::UnknownAddress);
        };
        if pending.expired(now.time) {
            self.pending.remove(&from);
            return Err(DropReason::UnknownAddress);
        }
        let body = packet::open(data, &header, &pending.receive_key, self.protocol_id, None)?;
        pending.last_access = now.time;
        match header.kind {
            RESPONSE => self.on_response(now, from, &body),
            // Keep-alive, payload and disconnect mean nothing before a client has a slot.
            _ => Err(DropReason::Unexpected),
        }
    }

    fn on_client_packet(
        &mut self,
        now: Now,
        from: SocketAddr,
        kind: u8,
        body: Vec<u8>,
    ) -> Checked<Incoming> {
        let client = self
            .clients
            .get_mut(&from)
            .ok_or(DropReason::UnknownAddress)?;
        match kind {
            KEEP_ALIVE | PAYLOAD => {
                client.last_receive = now.time;
                client.confirmed = true;
                Ok(match kind {
                    PAYLOAD => Incoming::Deliver(body),
                    _ => Incoming::Consumed,
                })
            }
            DISCONNECT => {
                self.end(from, EndReason::Disconnected);
                Ok(Incoming::Consumed)
            }
            // A response from an address that is already connected (step 2 of the response
            // checks).
            _ => Err(DropReason::AddressInUse),
        }
    }

    /// The standard's steps for a connection response, in its order (the packet itself already
    /// decrypted with the pending mapping's key).
    fn on_response(&mut self, now: Now, from: SocketAddr, body: &[u8]) -> Checked<Incoming> {
        let (sequence, sealed) = packet::read_challenge_body(body).ok_or(DropReason::BadSize)?;
        let challenge = ChallengeToken::open(&sealed, sequence, &self.challenge_key)
            .ok_or(DropReason::ChallengeUndecryptable)?;
        if self.client_ids.contains_key(&challenge.client_id) {
            return Err(DropReason::ClientIdInUse);
        }
        if self.clients.len() >= self.max_clients {
            let key = self.pending.get(&from).map(|p| p.send_key);
            return self.deny(&key.ok_or(DropReason::UnknownAddress)?);
        }
        let pending = self
            .pending
            .remove(&from)
            .ok_or(DropReason::UnknownAddress)?;
        let index = self
            .slots
            .iter()
            .position(|used| !used)
            .ok_or(DropReason::MappingsFull)?;
        let mut client = Client {
            index,
            client_id: challenge.client_id,
            user_data: challenge.user_data,
            send_key: pending.send_key,
            receive_key: pending.receive_key,
            timeout: (pending.timeout_seconds > 0)
                .then(|| Duration::from_secs(pending.timeout_seconds as u64)),
            sequence: 0,
            last_send: now.time,
            last_receive: now.time,
            confirmed: false,
            replay: Replay::default(),
        };
        let body = packet::keep_alive_body(index as u32, self.max_clients as u32);
        let keep_alive = client
            .seal(KEEP_ALIVE, &body, self.protocol_id, now.time)
            .ok_or(DropReason::BadSize)?;
        if let Some(used) = self.slots.get_mut(index) {
            *used = true;
        }
        self.client_ids.insert(client.client_id, from);
        self.events.push_back(ServerEvent::Connected {
            address: from,
            client_id: client.client_id,
            client_index: index,
        });
        self.clients.insert(from, client);
        Ok(Incoming::Send(vec![keep_alive]))
    }

    fn end(&mut self, addr: SocketAddr, reason: EndReason) {
        if let Some(client) = self.remove(addr) {
            self.events.push_back(ServerEvent::Ended {
                address: addr,
                client_id: client.client_id,
                reason,
            });
        }
    }

    fn remove(&mut self, addr: SocketAddr) -> Option<Client> {
        let client = self.clients.remove(&addr)?;
        self.client_ids.remove(&client.client_id);
        if let Some(used) = self.slots.get_mut(client.index) {
            *used = false;
        }
        Some(client)
    }
}

//! The client side of netcode 1.02 for one outgoing connection, sans-IO: connection requests
//! and challenge responses at 10 Hz, the state machine of the standard, then payload packets.

use std::net::SocketAddr;
use std::time::Duration;

use super::packet::{self, CHALLENGE, DENIED, DISCONNECT, KEEP_ALIVE, PAYLOAD, RESPONSE};
use super::replay::Replay;
use super::token::{PublicToken, TokenError, CHALLENGE_TOKEN_BYTES};
use super::{
    token_address, Checked, Counters, DropReason, Incoming, Now, DISCONNECT_PACKETS, SEND_INTERVAL,
};

/// ENet datagrams kept while the handshake runs (rusty_enet's CONNECT and its retransmits),
/// sent the moment it completes rather than at ENet's next retransmit.
pub const QUEUED_WHILE_CONNECTING: usize = 8;

/// How a client connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientEnd {
    /// The token expired before the handshake completed (its expire - create seconds).
    TokenExpired,
    /// No challenge or denial within the token's timeout: the server ignored the request
    /// (invalid token, wrong key or protocol, address not listed, ...) or is unreachable.
    RequestTimedOut,
    /// No keep-alive or denial within the token's timeout after the challenge.
    ResponseTimedOut,
    /// Connected, then nothing from the server for the token's timeout.
    TimedOut,
    /// The server is full.
    Denied,
    /// The server sent a disconnect.
    Disconnected,
    /// We ended it ([`SecureClient::disconnect`]).
    Closed,
}

/// The public view of a client's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// Handshake in progress (sending requests, then responses).
    Connecting,
    Connected,
    Ended(ClientEnd),
}

/// Where the handshake is, with what each phase needs.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Phase {
    SendingRequest,
    SendingResponse {
        sequence: u64,
        token: Box<[u8; CHALLENGE_TOKEN_BYTES]>,
    },
    Connected,
    Ended(ClientEnd),
}

pub struct SecureClient {
    token: PublicToken,
    server: SocketAddr,
    phase: Phase,
    request: Vec<u8>,
    sequence: u64,
    replay: Replay,
    connect_start: Duration,
    last_send: Option<Duration>,
    last_receive: Duration,
    client_index: u32,
    max_clients: u32,
    queued: Vec<Vec<u8>>,
    counters: Counters,
}

impl SecureClient {
    /// A client that will connect to `server` with `token` (2048 bytes, as the backend issued
    /// it). Fails on a malformed token, one already expired on this machine's clock, or one
    /// that does not list `server`.
    pub fn new(now: Now, token: &[u8], server: SocketAddr) -> Result<SecureClient, TokenError> {
        let token = PublicToken::read(token)?;
        if token.expire <= now.unix {
            return Err(TokenError::Expired);
        }
        let server = token_address(server);
        if !token.servers.contains(&server) {
            return Err(TokenError::ServerNotListed);
        }
        Ok(SecureClient {
            request: packet::write_request(&token),
            token,
            server,
            phase: Phase::SendingRequest,
            sequence: 0,
            replay: Replay::default(),
            connect_start: now.time,
            last_send: None,
            last_receive: now.time,
            client_index: 0,
            max_clients: 0,
            queued: Vec::new(),
            counters: Counters::default(),
        })
    }

    pub fn state(&self) -> ClientState {
        match self.phase {
            Phase::SendingRequest | Phase::SendingResponse { .. } => ClientState::Connecting,
            Phase::Connected => ClientState::Connected,
            Phase::Ended(end) => ClientState::Ended(end),
        }
    }

    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// The slot and slot count the server announced (0 before connecting).
    pub fn client_index(&self) -> u32 {
        self.client_index
    }

    pub fn max_clients(&self) -> u32 {
        self.max_clients
    }

    /// The token's timeout in seconds (negative: none).
    pub fn timeout_seconds(&self) -> i32 {
        self.token.timeout_seconds
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Timeouts, then what is due at 10 Hz: a request, a response, or a keep-alive when
    /// nothing else went out for [`SEND_INTERVAL`].
    pub fn tick(&mut self, now: Now) -> Vec<Vec<u8>> {
        if let Some(end) = self.expiry(now) {
            self.phase = Phase::Ended(end);
            return Vec::new();
        }
        if self
            .last_send
            .is_some_and(|t| now.time <= t.saturating_add(SEND_INTERVAL))
        {
            return Vec::new();
        }
        let due = match self.phase.clone() {
            Phase::SendingRequest => {
                self.last_send = Some(now.time);
                Some(self.request.clone())
            }
            Phase::SendingResponse { sequence, token } => self.response(now, sequence, &token),
            Phase::Connected => {
                let body = packet::keep_alive_body(0, 0);
                self.seal(KEEP_ALIVE, &body, now)
            }
            Phase::Ended(_) => None,
        };
        due.into_iter().collect()
    }

    /// One datagram from `from` (anything not from the server is dropped).
    pub fn receive(&mut self, now: Now, from: SocketAddr, data: &[u8]) -> Incoming {
        self.on_datagram(now, from, data)
            .unwrap_or_else(|reason| self.counters.count(reason))
    }

    /// Encrypts one ENet datagram once connected. While connecting it is kept (up to
    /// [`QUEUED_WHILE_CONNECTING`]) and goes out with the completing receive; None then, and
    /// after the end, and for an empty or oversized datagram.
    pub fn send(&mut self, now: Now, datagram: &[u8]) -> Option<Vec<u8>> {
        if datagram.is_empty() || datagram.len() > packet::MAX_PAYLOAD_BYTES {
            return None;
        }
        match self.phase {
            Phase::Connected => self.seal(PAYLOAD, datagram, now),
            Phase::SendingRequest | Phase::SendingResponse { .. } => {
                if self.queued.len() < QUEUED_WHILE_CONNECTING {
                    self.queued.push(datagram.to_vec());
                }
                None
            }
            Phase::Ended(_) => None,
        }
    }

    /// Ends the connection: the redundant disconnect packets to send if it was established.
    pub fn disconnect(&mut self, now: Now) -> Vec<Vec<u8>> {
        let was = std::mem::replace(&mut self.phase, Phase::Ended(ClientEnd::Closed));
        match was {
            Phase::Connected => (0..DISCONNECT_PACKETS)
                .filter_map(|_| self.seal(DISCONNECT, &[], now))
                .collect(),
            Phase::Ended(end) => {
                self.phase = Phase::Ended(end);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// The token's lifetime while connecting, then the token's timeout in each phase.
    fn expiry(&self, now: Now) -> Option<ClientEnd> {
        let connecting = matches!(
            self.phase,
            Phase::SendingRequest | Phase::SendingResponse { .. }
        );
        let lifetime = Duration::from_secs(self.token.expire.saturating_sub(self.token.create));
        if connecting && now.time.saturating_sub(self.connect_start) >= lifetime {
            return Some(ClientEnd::TokenExpired);
        }
        let timeout = self.token.timeout_seconds;
        let silent = timeout > 0
            && self
                .last_receive
                .saturating_add(Duration::from_secs(timeout as u64))
                < now.time;
        match self.phase {
            Phase::SendingRequest if silent => Some(ClientEnd::RequestTimedOut),
            Phase::SendingResponse { .. } if silent => Some(ClientEnd::ResponseTimedOut),
            Phase::Connected if silent => Some(ClientEnd::TimedOut),
            _ => None,
        }
    }

    fn on_datagram(&mut self, now: Now, from: SocketAddr, data: &[u8]) -> Checked<Incoming> {
        if token_address(from) != self.server {
            return Err(DropReason::UnknownAddress);
        }
        let header = packet::read_header(data, packet::CLIENT_READS)?;
        let key = self.token.server_to_client_key;
        let protocol_id = self.token.protocol_id;
        let body = packet::open(data, &header, &key, protocol_id, Some(&mut self.replay))?;
        match (header.kind, self.phase.clone()) {
            (DENIED, Phase::SendingRequest | Phase::SendingResponse { .. }) => {
                self.last_receive = now.time;
                self.phase = Phase::Ended(ClientEnd::Denied);
                Ok(Incoming::Consumed)
            }
            (CHALLENGE, Phase::SendingRequest) => self.on_challenge(now, &body),
            (KEEP_ALIVE, Phase::SendingResponse { .. }) => Ok(self.on_connected(now, &body)),
            (KEEP_ALIVE, Phase::Connected) => {
                self.last_receive = now.time;
                Ok(Incoming::Consumed)
            }
            (PAYLOAD, Phase::Connected) => {
                self.last_receive = now.time;
                Ok(Incoming::Deliver(body))
            }
            (DISCONNECT, Phase::Connected) => {
                self.last_receive = now.time;
                self.phase = Phase::Ended(ClientEnd::Disconnected);
                Ok(Incoming::Consumed)
            }
            _ => Err(DropReason::Unexpected),
        }
    }

    /// Stores the challenge and answers it at once (one response per challenge accepted; the
    /// 10 Hz resends come from `tick`).
    fn on_challenge(&mut self, now: Now, body: &[u8]) -> Checked<Incoming> {
        let (sequence, token) = packet::read_challenge_body(body).ok_or(DropReason::BadSize)?;
        self.last_receive = now.time;
        self.phase = Phase::SendingResponse {
            sequence,
            token: Box::new(token),
        };
        Ok(match self.response(now, sequence, &token) {
            Some(d) => Incoming::Send(vec![d]),
            None => Incoming::Consumed,
        })
    }

    fn on_connected(&mut self, now: Now, body: &[u8]) -> Incoming {
        if let Some((index, max)) = packet::read_keep_alive_body(body) {
            self.client_index = index;
            self.max_clients = max;
        }
        self.last_receive = now.time;
        self.phase = Phase::Connected;
        let queued = std::mem::take(&mut self.queued);
        let out: Vec<Vec<u8>> = queued
            .iter()
            .filter_map(|d| self.seal(PAYLOAD, d, now))
            .collect();
        match out.is_empty() {
            true => Incoming::Consumed,
            false => Incoming::Send(out),
        }
    }

    fn response(
        &mut self,
        now: Now,
        sequence: u64,
        token: &[u8; CHALLENGE_TOKEN_BYTES],
    ) -> Option<Vec<u8>> {
        let body = packet::challenge_body(sequence, token);
        self.seal(RESPONSE, &body, now)
    }

    fn seal(&mut self, kind: u8, body: &[u8], now: Now) -> Option<Vec<u8>> {
        let key = self.token.client_to_server_key;
        let out = packet::seal(kind, self.sequence, body, &key, self.token.protocol_id)?;
        self.sequence = self.sequence.wrapping_add(1);
        self.last_send = Some(now.time);
        Some(out)
    }
}

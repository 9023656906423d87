//! Secure mode: netcode 1.02 (mas-bandwidth/netcode, STANDARD.md) as a sans-IO layer under ENet.
//!
//! Nothing here touches a socket or a clock. The socket layer hands every datagram it receives
//! to a [`SecureServer`] or a [`SecureClient`] and sends whatever they give back; rusty_enet
//! only ever sees what comes out as [`Incoming::Deliver`]. The wire is byte-for-byte netcode
//! 1.02: connect tokens (XChaCha20-Poly1305), request / denied / challenge / response /
//! keep-alive / payload / disconnect packets (ChaCha20-Poly1305, nonce = four zero bytes and the
//! little-endian sequence number), a 256-entry replay window. Each ENet datagram travels as one
//! payload packet. The threat model and the operational side are in docs/secure.md.
//!
//! # Time
//! Every call takes a [`Now`]: `time`, a monotonic duration since any fixed origin (send rates
//! and timeouts), and `unix`, wall-clock seconds (token expiry, which the backend stamped in
//! Unix time). [`Now::system`] builds one from an `Instant` origin.
//!
//! # Server
//! ```text
//! let mut server = SecureServer::new(ServerConfig { private_key, protocol_id,
//!                                                   addresses: vec![public], max_clients })?;
//! // every received datagram:
//! match server.receive(now, from, &datagram) {
//!     Incoming::Deliver(enet_datagram) => /* to rusty_enet, as from `from` */,
//!     Incoming::Send(datagrams) => /* each back to `from` */,
//!     Incoming::Consumed => {}                       // a keep-alive, a disconnect, ...
//!     Incoming::Dropped(reason) => {}                // already counted in server.counters()
//! }
//! // every datagram rusty_enet sends:
//! match server.send(now, to, &enet_datagram) {
//!     Some(out) => for d in out.datagrams() { /* send d to `to` */ },
//!     None => {} // `to` is not an established secure client: nothing goes out
//! }
//! // regularly (each service pass): keep-alives and timeouts
//! for (to, d) in server.tick(now) { /* send */ }
//! while let Some(event) = server.poll_event() { /* Connected / Ended */ }
//! // when ENet is done with a peer (after its own disconnect went out):
//! for d in server.disconnect(now, addr) { /* send */ }
//! ```
//! `client_id(addr)`, `user_data(addr)` and `client_index(addr)` describe an established
//! client. Nothing unauthenticated ever reaches `Deliver`: a spoofed or replayed datagram, a
//! request with a bad token, plain ENet traffic, all end as `Dropped` and are counted by reason
//! ([`Counters`]). State is bounded by `max_clients`: at most `4 * max_clients` pending
//! encryption mappings and `8 * max_clients` remembered tokens.
//!
//! # Client
//! ```text
//! let mut client = SecureClient::new(now, &token_bytes, server_addr)?; // bad / expired token
//! for d in client.tick(now) { /* send to server_addr */ }   // requests, responses, keep-alives
//! match client.receive(now, from, &datagram) { /* as above */ }
//! client.send(now, &enet_datagram) // Some(datagram) once connected; None while connecting
//!                                  // (kept, at most QUEUED_WHILE_CONNECTING, and sent by the
//!                                  // receive that completes the handshake) or after the end
//! client.state()                   // Connecting / Connected / Ended(ClientEnd)
//! client.disconnect(now)           // redundant disconnect packets, then Ended(Closed)
//! ```
//! A client tries only the server it is given (which the token must list), not the token's
//! other servers: an ENet peer has one address.
//!
//! # Size
//! A payload packet adds at most [`OVERHEAD`] bytes to an ENet datagram, and netcode carries at
//! most [`MAX_PAYLOAD_BYTES`]: a secure host's ENet MTU must be at most [`MAX_ENET_MTU`], so a
//! datagram plus overhead fits 1280 bytes (the IPv6 minimum).

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[path = "secure/client.rs"]
mod client;
#[path = "secure/crypto.rs"]
pub mod crypto;
#[path = "secure/link.rs"]
pub mod link;
#[path = "secure/packet.rs"]
pub mod packet;
#[path = "secure/replay.rs"]
pub mod replay;
#[path = "secure/server.rs"]
mod server;
#[path = "secure/token.rs"]
pub mod token;

pub use client::{ClientEnd, ClientState, SecureClient, QUEUED_WHILE_CONNECTING};
pub use crypto::{Key, KEY_BYTES, MAC_BYTES};
pub use packet::{MAX_PAYLOAD_BYTES, OVERHEAD};
pub use server::{EndReason, Outgoing, SecureServer, ServerConfig, ServerEvent};
pub use token::{generate_connect_token, TokenError, TokenSpec, CONNECT_TOKEN_BYTES};

/// The largest ENet MTU a secure host may use: netcode's payload limit, and with [`OVERHEAD`]
/// it stays within the IPv6 minimum MTU of 1280.
pub const MAX_ENET_MTU: usize = MAX_PAYLOAD_BYTES;
const _: () = assert!(MAX_ENET_MTU + OVERHEAD <= 1280);

/// netcode's send rate for requests, responses and keep-alives (10 Hz).
pub const SEND_INTERVAL: Duration = Duration::from_millis(100);
/// How many disconnect packets a side sends when it closes a connection.
pub const DISCONNECT_PACKETS: usize = 10;

/// The two clocks every call needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    /// Monotonic time since a fixed origin: send rates and timeouts.
    pub time: Duration,
    /// Wall-clock Unix seconds: connect token expiry.
    pub unix: u64,
}

impl Now {
    /// Both clocks read now, `time` measured from `origin`.
    pub fn system(origin: Instant) -> Now {
        Now {
            time: origin.elapsed(),
            unix: unix_now(),
        }
    }
}

/// Wall-clock Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What to do with one received datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A decrypted ENet datagram from an established peer: hand it to rusty_enet.
    Deliver(Vec<u8>),
    /// Datagrams to send back to the sender (a server's handshake answer, each no larger than
    /// the datagram that caused it; a client's response to a challenge, or the ENet datagrams
    /// it kept while connecting).
    Send(Vec<Vec<u8>>),
    /// Authentic and handled; nothing to deliver or send.
    Consumed,
    /// Ignored, as netcode ignores it; counted under this reason.
    Dropped(DropReason),
}

/// Why a datagram was ignored. Every reason has its own counter in [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Shorter than any valid packet (18 bytes; a request must be exactly 1078).
    TooSmall,
    /// Packet type 7 or more, or a sequence length outside 1..=8.
    BadPrefix,
    /// A packet type this side never accepts (a challenge at a server, a request at a client).
    NotAccepted,
    /// A connection request that is not exactly 1078 bytes.
    RequestSize,
    /// A request whose version info is not "NETCODE 1.02".
    Version,
    /// A request for another protocol id.
    ProtocolId,
    /// A request whose connect token has expired.
    Expired,
    /// A private connect token that does not decrypt (tampered, wrong key, wrong protocol).
    TokenUndecryptable,
    /// A private connect token that decrypts but does not parse.
    TokenMalformed,
    /// A token that does not list this server's address.
    AddressNotListed,
    /// A handshake packet from an address that already has a connected client.
    AddressInUse,
    /// A token or challenge for a client id that is already connected.
    ClientIdInUse,
    /// A token already used from another address.
    TokenReused,
    /// No room for another pending connection (4 x max_clients).
    MappingsFull,
    /// An encrypted packet from an address with no connection or pending handshake.
    UnknownAddress,
    /// Already received, or older than the replay window.
    Replayed,
    /// Fails ChaCha20-Poly1305 authentication.
    Undecryptable,
    /// Decrypts, but its size is wrong for its type.
    BadSize,
    /// A challenge token that does not decrypt with this server's challenge key.
    ChallengeUndecryptable,
    /// Authentic, but not expected in the current state (a challenge once connected, a payload
    /// before, anything after the end).
    Unexpected,
}

impl DropReason {
    pub const ALL: [DropReason; 20] = [
        DropReason::TooSmall,
        DropReason::BadPrefix,
        DropReason::NotAccepted,
        DropReason::RequestSize,
        DropReason::Version,
        DropReason::ProtocolId,
        DropReason::Expired,
        DropReason::TokenUndecryptable,
        DropReason::TokenMalformed,
        DropReason::AddressNotListed,
        DropReason::AddressInUse,
        DropReason::ClientIdInUse,
        DropReason::TokenReused,
        DropReason::MappingsFull,
        DropReason::UnknownAddress,
        DropReason::Replayed,
        DropReason::Undecryptable,
        DropReason::BadSize,
        DropReason::ChallengeUndecryptable,
        DropReason::Unexpected,
    ];

    /// A stable snake_case name, for statistics tables.
    pub fn name(self) -> &'static str {
        match self {
            DropReason::TooSmall => "too_small",
            DropReason::BadPrefix => "bad_prefix",
            DropReason::NotAccepted => "not_accepted",
            DropReason::RequestSize => "request_size",
            DropReason::Version => "version",
            DropReason::ProtocolId => "protocol_id",
            DropReason::Expired => "expired",
            DropReason::TokenUndecryptable => "token_undecryptable",
            DropReason::TokenMalformed => "token_malformed",
            DropReason::AddressNotListed => "address_not_listed",
            DropReason::AddressInUse => "address_in_use",
            DropReason::ClientIdInUse => "client_id_in_use",
            DropReason::TokenReused => "token_reused",
            DropReason::MappingsFull => "mappings_full",
            DropReason::UnknownAddress => "unknown_address",
            DropReason::Replayed => "replayed",
            DropReason::Undecryptable => "undecryptable",
            DropReason::BadSize => "bad_size",
            DropReason::ChallengeUndecryptable => "challenge_undecryptable",
            DropReason::Unexpected => "unexpected",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Dropped datagrams by reason, plus what a server answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    dropped: [u64; DropReason::ALL.len()],
    /// Connection denied packets sent (server full).
    pub denied: u64,
    /// Connection challenge packets sent.
    pub challenges: u64,
}

impl Counters {
    pub fn dropped(&self, reason: DropReason) -> u64 {
        self.dropped[reason.index()]
    }

    pub fn dropped_total(&self) -> u64 {
        self.dropped.iter().sum()
    }

    /// Counts a dropped datagram; the `Incoming` that says so.
    fn count(&mut self, reason: DropReason) -> Incoming {
        self.dropped[reason.index()] += 1;
        Incoming::Dropped(reason)
    }
}

/// A result whose error is a reason to drop the datagram.
type Checked<T> = Result<T, DropReason>;

/// The address form tokens carry: IP and port, nothing else (no scope id, no flowinfo), and an
/// IPv4-mapped IPv6 address as the IPv4 address it is.
pub fn token_address(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => addr,
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => SocketAddr::new((*v6.ip()).into(), v6.port()),
        },
    }
}

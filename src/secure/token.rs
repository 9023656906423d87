//! netcode 1.02 tokens: the connect token a backend issues (2048 bytes, with its private part
//! encrypted under the key the backend shares with the servers) and the challenge token a
//! server hands out during the handshake. All integers little-endian; IPv6 addresses as eight
//! little-endian 16-bit groups, as the reference writes them.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use super::crypto::{self, Key, Tag, KEY_BYTES, MAC_BYTES, XNONCE_BYTES};
use super::{token_address, Checked, DropReason};

pub const VERSION_INFO: [u8; 13] = *b"NETCODE 1.02\0";
pub const CONNECT_TOKEN_BYTES: usize = 2048;
pub const PRIVATE_TOKEN_BYTES: usize = 1024;
pub const CHALLENGE_TOKEN_BYTES: usize = 300;
pub const USER_DATA_BYTES: usize = 256;
pub const MAX_SERVERS: usize = 32;

const ADDRESS_IPV4: u8 = 1;
const ADDRESS_IPV6: u8 = 2;

pub type UserData = [u8; USER_DATA_BYTES];

/// Little-endian writes into a fixed buffer that is known to be large enough.
struct Writer<'a> {
    buffer: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, bytes: &[u8]) {
        if let Some(out) = self.buffer.get_mut(self.at..self.at + bytes.len()) {
            out.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }

    fn address(&mut self, addr: SocketAddr) {
        match token_address(addr) {
            SocketAddr::V4(v4) => {
                self.bytes(&[ADDRESS_IPV4]);
                self.bytes(&v4.ip().octets());
            }
            SocketAddr::V6(v6) => {
                self.bytes(&[ADDRESS_IPV6]);
                for group in v6.ip().segments() {
                    self.bytes(&group.to_le_bytes());
                }
            }
        }
        self.bytes(&addr.port().to_le_bytes());
    }
}

/// Little-endian reads from untrusted bytes: None past the end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes }
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|b| b[0])
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn address(&mut self) -> Option<SocketAddr> {
        let ip = match self.u8()? {
            ADDRESS_IPV4 => Ipv4Addr::from(self.array::<4>()?).into(),
            ADDRESS_IPV6 => {
                let mut groups = [0u16; 8];
                for g in &mut groups {
                    *g = self.u16()?;
                }
                Ipv6Addr::from(groups).into()
            }
            _ => return None,
        };
        Some(SocketAddr::new(ip, self.u16()?))
    }

    /// `[count u32][address]*`, count in 1..=32.
    fn servers(&mut self) -> Option<Vec<SocketAddr>> {
        let count = self.u32()? as usize;
        if !(1..=MAX_SERVERS).contains(&count) {
            return None;
        }
        (0..count).map(|_| self.address()).collect()
    }
}

fn write_servers(w: &mut Writer, servers: &[SocketAddr]) {
    w.bytes(&(servers.len() as u32).to_le_bytes());
    for addr in servers {
        w.address(*addr);
    }
}

/// The encrypted part of a connect token, as the server reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrivateToken {
    pub client_id: u64,
    /// Seconds without a packet before the connection is dropped; negative: never.
    pub timeout_seconds: i32,
    /// The servers this token may connect to (a server must find its own address here).
    pub servers: Vec<SocketAddr>,
    pub client_to_server_key: Key,
    pub server_to_client_key: Key,
    pub user_data: UserData,
}

/// Associated data of the private token: version info, protocol id, expire timestamp.
fn private_aad(protocol_id: u64, expire: u64) -> [u8; 29] {
    let mut aad = [0u8; 29];
    aad[..13].copy_from_slice(&VERSION_INFO);
    aad[13..21].copy_from_slice(&protocol_id.to_le_bytes());
    aad[21..].copy_from_slice(&expire.to_le_bytes());
    aad
}

impl PrivateToken {
    fn write_plain(&self) -> [u8; PRIVATE_TOKEN_BYTES] {
        let mut buffer = [0u8; PRIVATE_TOKEN_BYTES];
        let mut w = Writer {
            buffer: &mut buffer,
            at: 0,
        };
        w.bytes(&self.client_id.to_le_bytes());
        w.bytes(&self.timeout_seconds.to_le_bytes());
        write_servers(&mut w, &self.servers);
        w.bytes(&self.client_to_server_key);
        w.bytes(&self.server_to_client_key);
        w.bytes(&self.user_data);
        buffer
    }

    /// Parses decrypted private token bytes.
    pub(crate) fn read_plain(bytes: &[u8]) -> Option<PrivateToken> {
        let mut r = Reader::new(bytes);
        Some(PrivateToken {
            client_id: r.u64()?,
            timeout_seconds: r.u32()? as i32,
            servers: r.servers()?,
            client_to_server_key: r.array()?,
            server_to_client_key: r.array()?,
            user_data: r.array()?,
        })
    }

    /// The 1024 bytes a connect token carries: 1008 encrypted bytes and their tag.
    pub fn seal(
        &self,
        key: &Key,
        protocol_id: u64,
        expire: u64,
        nonce: &[u8; XNONCE_BYTES],
    ) -> Option<[u8; PRIVATE_TOKEN_BYTES]> {
        let mut buffer = self.write_plain();
        let (text, tag) = buffer.split_at_mut(PRIVATE_TOKEN_BYTES - MAC_BYTES);
        let sealed = crypto::seal_x(key, nonce, &private_aad(protocol_id, expire), text)?;
        tag.copy_from_slice(&sealed);
        Some(buffer)
    }

    /// Decrypts and parses the private part of a connect token.
    pub fn open(
        sealed: &[u8; PRIVATE_TOKEN_BYTES],
        key: &Key,
        protocol_id: u64,
        expire: u64,
        nonce: &[u8; XNONCE_BYTES],
    ) -> Checked<PrivateToken> {
        let mut buffer = *sealed;
        let (text, tag) = buffer.split_at_mut(PRIVATE_TOKEN_BYTES - MAC_BYTES);
        let tag: Tag = (&*tag)
            .try_into()
            .map_err(|_| DropReason::TokenUndecryptable)?;
        let aad = private_aad(protocol_id, expire);
        if !crypto::open_x(key, nonce, &aad, text, &tag) {
            return Err(DropReason::TokenUndecryptable);
        }
        PrivateToken::read_plain(text).ok_or(DropReason::TokenMalformed)
    }
}

/// A whole connect token, as the client holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicToken {
    pub protocol_id: u64,
    pub create: u64,
    pub expire: u64,
    pub nonce: [u8; XNONCE_BYTES],
    pub private: [u8; PRIVATE_TOKEN_BYTES],
    pub timeout_seconds: i32,
    pub servers: Vec<SocketAddr>,
    pub client_to_server_key: Key,
    pub server_to_client_key: Key,
}

impl PublicToken {
    pub fn write(&self) -> [u8; CONNECT_TOKEN_BYTES] {
        let mut buffer = [0u8; CONNECT_TOKEN_BYTES];
        let mut w = Writer {
            buffer: &mut buffer,
            at: 0,
        };
        w.bytes(&VERSION_INFO);
        w.bytes(&self.protocol_id.to_le_bytes());
        w.bytes(&self.create.to_le_bytes());
        w.bytes(&self.expire.to_le_bytes());
        w.bytes(&self.nonce);
        w.bytes(&self.private);
        w.bytes(&self.timeout_seconds.to_le_bytes());
        write_servers(&mut w, &self.servers);
        w.bytes(&self.client_to_server_key);
        w.bytes(&self.server_to_client_key);
        buffer
    }

    /// Parses a connect token, with the client-side checks of the standard: exactly 2048
    /// bytes, the version, create <= expire, 1..=32 servers of type 1 or 2.
    pub fn read(bytes: &[u8]) -> Result<PublicToken, TokenError> {
        if bytes.len() != CONNECT_TOKEN_BYTES {
            return Err(TokenError::Invalid("a connect token is 2048 bytes"));
        }
        let mut r = Reader::new(bytes);
        let malformed = TokenError::Invalid("malformed connect token");
        if r.array::<13>() != Some(VERSION_INFO) {
            return Err(TokenError::Invalid("not a netcode 1.02 connect token"));
        }
        let protocol_id = r.u64().ok_or(malformed.clone())?;
        let create = r.u64().ok_or(malformed.clone())?;
        let expire = r.u64().ok_or(malformed.clone())?;
        if create > expire {
            return Err(TokenError::Invalid(
                "connect token created after it expires",
            ));
        }
        let token = (|| {
            Some(PublicToken {
                protocol_id,
                create,
                expire,
                nonce: r.array()?,
                private: r.array()?,
                timeout_seconds: r.u32()? as i32,
                servers: r.servers()?,
                client_to_server_key: r.array()?,
                server_to_client_key: r.array()?,
            })
        })();
        token.ok_or(malformed)
    }
}

/// What a server seals into a challenge: the client id and user data from the connect token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChallengeToken {
    pub client_id: u64,
    pub user_data: UserData,
}

impl ChallengeToken {
    /// 284 encrypted bytes and their tag, under the server's per-start key, no associated data.
    pub fn seal(&self, sequence: u64, key: &Key) -> Option<[u8; CHALLENGE_TOKEN_BYTES]> {
        let mut buffer = [0u8; CHALLENGE_TOKEN_BYTES];
        buffer[..8].copy_from_slice(&self.client_id.to_le_bytes());
        buffer[8..8 + USER_DATA_BYTES].copy_from_slice(&self.user_data);
        let (text, tag) = buffer.split_at_mut(CHALLENGE_TOKEN_BYTES - MAC_BYTES);
        let sealed = crypto::seal(key, &crypto::sequence_nonce(sequence), &[], text)?;
        tag.copy_from_slice(&sealed);
        Some(buffer)
    }

    pub fn open(sealed: &[u8; CHALLENGE_TOKEN_BYTES], sequence: u64, key: &Key) -> Option<Self> {
        let mut buffer = *sealed;
        let (text, tag) = buffer.split_at_mut(CHALLENGE_TOKEN_BYTES - MAC_BYTES);
        let tag: Tag = (&*tag).try_into().ok()?;
        if !crypto::open(key, &crypto::sequence_nonce(sequence), &[], text, &tag) {
            return None;
        }
        let mut r = Reader::new(text);
        Some(ChallengeToken {
            client_id: r.u64()?,
            user_data: r.array()?,
        })
    }
}

/// Why a connect token cannot be made or used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The arguments or the token bytes are wrong; the text says how.
    Invalid(&'static str),
    /// The token's expire timestamp has passed on this machine's clock.
    Expired,
    /// The address to connect to is not among the token's servers.
    ServerNotListed,
    /// The operating system's random source failed.
    Random,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Invalid(what) => f.write_str(what),
            TokenError::Expired => f.write_str("connect token has expired"),
            TokenError::ServerNotListed => {
                f.write_str("the address is not one of the connect token's servers")
            }
            TokenError::Random => f.write_str("the operating system's random source failed"),
        }
    }
}

impl std::error::Error for TokenError {}

/// Everything a connect token says. `servers` go both into the public part (where the client
/// connects) and the private part (what the servers check their own address against).
#[derive(Clone, Debug)]
pub struct TokenSpec<'a> {
    pub private_key: &'a Key,
    pub protocol_id: u64,
    pub client_id: u64,
    pub servers: &'a [SocketAddr],
    /// Seconds from now until the token expires.
    pub expire_seconds: u64,
    /// Seconds without a packet before a connection is dropped; -1: never (development only).
    pub timeout_seconds: i32,
    /// At most 256 bytes, zero-padded.
    pub user_data: &'a [u8],
}

/// A 2048-byte public connect token, created at `now_unix`, with fresh random keys and nonce.
pub fn generate_connect_token(
    spec: &TokenSpec,
    now_unix: u64,
) -> Result<[u8; CONNECT_TOKEN_BYTES], TokenError> {
    if !(1..=MAX_SERVERS).contains(&spec.servers.len()) {
        return Err(TokenError::Invalid("a connect token lists 1 to 32 servers"));
    }
    if spec.user_data.len() > USER_DATA_BYTES {
        return Err(TokenError::Invalid("user data is at most 256 bytes"));
    }
    let mut user_data = [0u8; USER_DATA_BYTES];
    user_data[..spec.user_data.len()].copy_from_slice(spec.user_data);
    let servers: Vec<SocketAddr> = spec.servers.iter().map(|a| token_address(*a)).collect();
    let mut keys = [0u8; 2 * KEY_BYTES];
    let mut nonce = [0u8; XNONCE_BYTES];
    crypto::random_fill(&mut keys).map_err(|_| TokenError::Random)?;
    crypto::random_fill(&mut nonce).map_err(|_| TokenError::Random)?;
    let (c2s, s2c) = keys.split_at(KEY_BYTES);
    let private = PrivateToken {
        client_id: spec.client_id,
        timeout_seconds: spec.timeout_seconds,
        servers: servers.clone(),
        client_to_server_key: c2s.try_into().map_err(|_| TokenError::Random)?,
        server_to_client_key: s2c.try_into().map_err(|_| TokenError::Random)?,
        user_data,
    };
    let expire = now_unix.saturating_add(spec.expire_seconds);
    let sealed = private
        .seal(spec.private_key, spec.protocol_id, expire, &nonce)
        .ok_or(TokenError::Invalid("cannot encrypt the connect token"))?;
    let token = PublicToken {
        protocol_id: spec.protocol_id,
        create: now_unix,
        expire,
        nonce,
        private: sealed,
        timeout_seconds: spec.timeout_seconds,
        servers,
        client_to_server_key: private.client_to_server_key,
        server_to_client_key: private.server_to_client_key,
    };
    Ok(token.write())
}

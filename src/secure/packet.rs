//! netcode 1.02 packets: the plain connection request, and the encrypted ones
//! `[prefix: kind | sequence length << 4][sequence, 1-8 bytes LE][body][16-byte tag]`, whose
//! body is ChaCha20-Poly1305 under the direction's key, the sequence-number nonce, and the
//! associated data version info + protocol id + prefix byte.

use super::crypto::{self, Key, MAC_BYTES, XNONCE_BYTES};
use super::replay::Replay;
use super::token::{PublicToken, CHALLENGE_TOKEN_BYTES, PRIVATE_TOKEN_BYTES, VERSION_INFO};
use super::{Checked, DropReason};

pub const REQUEST: u8 = 0;
pub const DENIED: u8 = 1;
pub const CHALLENGE: u8 = 2;
pub const RESPONSE: u8 = 3;
pub const KEEP_ALIVE: u8 = 4;
pub const PAYLOAD: u8 = 5;
pub const DISCONNECT: u8 = 6;
const KINDS: u8 = 7;

/// Packet types a server reads, and a client reads, as bit masks (`1 << kind`).
pub const SERVER_READS: u8 =
    1 << REQUEST | 1 << RESPONSE | 1 << KEEP_ALIVE | 1 << PAYLOAD | 1 << DISCONNECT;
pub const CLIENT_READS: u8 =
    1 << DENIED | 1 << CHALLENGE | 1 << KEEP_ALIVE | 1 << PAYLOAD | 1 << DISCONNECT;

/// A connection request is exactly this long.
pub const REQUEST_BYTES: usize =
    1 + VERSION_INFO.len() + 8 + 8 + XNONCE_BYTES + PRIVATE_TOKEN_BYTES;
/// No encrypted packet is shorter (prefix, one sequence byte, tag).
pub const MIN_ENCRYPTED_BYTES: usize = 1 + 1 + MAC_BYTES;
/// The most a payload packet carries.
pub const MAX_PAYLOAD_BYTES: usize = 1200;
/// The most a payload packet adds to its payload: prefix, 8 sequence bytes, tag.
pub const OVERHEAD: usize = 1 + 8 + MAC_BYTES;
/// Challenge and response bodies: the challenge sequence and the sealed challenge token.
pub const CHALLENGE_BODY_BYTES: usize = 8 + CHALLENGE_TOKEN_BYTES;
/// Keep-alive body: client index and max clients.
pub const KEEP_ALIVE_BODY_BYTES: usize = 8;

/// Bytes needed for `sequence` with its high zero bytes left out (at least one).
pub fn sequence_bytes(sequence: u64) -> usize {
    (8 - sequence.leading_zeros() as usize / 8).max(1)
}

fn associated_data(protocol_id: u64, prefix: u8) -> [u8; 22] {
    let mut aad = [0u8; 22];
    aad[..13].copy_from_slice(&VERSION_INFO);
    aad[13..21].copy_from_slice(&protocol_id.to_le_bytes());
    aad[21] = prefix;
    aad
}

/// An encrypted packet of `kind` carrying `body`. None only if the AEAD refuses (never for
/// netcode's sizes).
pub fn seal(kind: u8, sequence: u64, body: &[u8], key: &Key, protocol_id: u64) -> Option<Vec<u8>> {
    let n = sequence_bytes(sequence);
    let prefix = kind | (n as u8) << 4;
    let mut out = Vec::with_capacity(1 + n + body.len() + MAC_BYTES);
    out.push(prefix);
    out.extend_from_slice(&sequence.to_le_bytes()[..n]);
    let start = out.len();
    out.extend_from_slice(body);
    let nonce = crypto::sequence_nonce(sequence);
    let tag = crypto::seal(
        key,
        &nonce,
        &associated_data(protocol_id, prefix),
        &mut out[start..],
    )?;
    out.extend_from_slice(&tag);
    Some(out)
}

/// What can be read from an encrypted packet before decrypting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub kind: u8,
    pub sequence: u64,
    prefix: u8,
    body_start: usize,
}

/// The checks before decryption, in the standard's order: size, type, whether this side reads
/// the type, sequence length, size for that length.
pub fn read_header(data: &[u8], reads: u8) -> Checked<Header> {
    let (&prefix, rest) = data.split_first().ok_or(DropReason::TooSmall)?;
    if data.len() < MIN_ENCRYPTED_BYTES {
        return Err(DropReason::TooSmall);
    }
    let kind = prefix & 0x0f;
    // A request is the plain packet whose prefix byte is 0 as a whole; type 0 with a sequence
    // length is nothing.
    if prefix == REQUEST {
        return Err(DropReason::NotAccepted);
    }
    if kind >= KINDS || kind == REQUEST {
        return Err(DropReason::BadPrefix);
    }
    if reads & (1 << kind) == 0 {
        return Err(DropReason::NotAccepted);
    }
    let n = usize::from(prefix >> 4);
    if !(1..=8).contains(&n) {
        return Err(DropReason::BadPrefix);
    }
    if data.len() < 1 + n + MAC_BYTES {
        return Err(DropReason::TooSmall);
    }
    let mut sequence = [0u8; 8];
    sequence[..n].copy_from_slice(rest.get(..n).ok_or(DropReason::TooSmall)?);
    Ok(Header {
        kind,
        sequence: u64::from_le_bytes(sequence),
        prefix,
        body_start: 1 + n,
    })
}

/// Replay check, decryption, window advance, body size check: the standard's order. Keep-alive,
/// payload and disconnect packets are replay-protected when `replay` is given.
pub fn open(
    data: &[u8],
    header: &Header,
    key: &Key,
    protocol_id: u64,
    mut replay: Option<&mut Replay>,
) -> Checked<Vec<u8>> {
    let protected = header.kind >= KEEP_ALIVE;
    if protected
        && replay
            .as_ref()
            .is_some_and(|r| r.already_received(header.sequence))
    {
        return Err(DropReason::Replayed);
    }
    let sealed = data.get(header.body_start..).ok_or(DropReason::TooSmall)?;
    let (body, tag) = sealed
        .split_last_chunk::<MAC_BYTES>()
        .ok_or(DropReason::TooSmall)?;
    let mut plain = body.to_vec();
    let nonce = crypto::sequence_nonce(header.sequence);
    let aad = associated_data(protocol_id, header.prefix);
    if !crypto::open(key, &nonce, &aad, &mut plain, tag) {
        return Err(DropReason::Undecryptable);
    }
    if protected {
        if let Some(r) = replay.as_mut() {
            r.advance(header.sequence);
        }
    }
    if body_size_ok(header.kind, plain.len()) {
        Ok(plain)
    } else {
        Err(DropReason::BadSize)
    }
}

fn body_size_ok(kind: u8, len: usize) -> bool {
    match kind {
        DENIED | DISCONNECT => len == 0,
        CHALLENGE | RESPONSE => len == CHALLENGE_BODY_BYTES,
        KEEP_ALIVE => len == KEEP_ALIVE_BODY_BYTES,
        PAYLOAD => (1..=MAX_PAYLOAD_BYTES).contains(&len),
        _ => false,
    }
}

/// The connection request for a connect token (1078 bytes).
pub fn write_request(token: &PublicToken) -> Vec<u8> {
    let mut out = Vec::with_capacity(REQUEST_BYTES);
    out.push(REQUEST);
    out.extend_from_slice(&VERSION_INFO);
    out.extend_from_slice(&token.protocol_id.to_le_bytes());
    out.extend_from_slice(&token.expire.to_le_bytes());
    out.extend_from_slice(&token.nonce);
    out.extend_from_slice(&token.private);
    out
}

/// The parts of a connection request the server needs to decrypt its token.
pub struct Request {
    pub expire: u64,
    pub nonce: [u8; XNONCE_BYTES],
    pub token: [u8; PRIVATE_TOKEN_BYTES],
}

/// The request checks before decryption, in the standard's order: size, version, protocol id,
/// expiry (`expire <= now` is expired).
pub fn read_request(data: &[u8], protocol_id: u64, now_unix: u64) -> Checked<Request> {
    if data.len() != REQUEST_BYTES {
        return Err(DropReason::RequestSize);
    }
    let mut r = super::token::Reader::new(data.get(1..).ok_or(DropReason::RequestSize)?);
    if r.array::<13>() != Some(VERSION_INFO) {
        return Err(DropReason::Version);
    }
    if r.u64() != Some(protocol_id) {
        return Err(DropReason::ProtocolId);
    }
    let expire = r.u64().ok_or(DropReason::RequestSize)?;
    if expire <= now_unix {
        return Err(DropReason::Expired);
    }
    Ok(Request {
        expire,
        nonce: r.array().ok_or(DropReason::RequestSize)?,
        token: r.array().ok_or(DropReason::RequestSize)?,
    })
}

/// Challenge or response body: the challenge sequence and the sealed challenge token.
pub fn challenge_body(
    sequence: u64,
    token: &[u8; CHALLENGE_TOKEN_BYTES],
) -> [u8; CHALLENGE_BODY_BYTES] {
    let mut body = [0u8; CHALLENGE_BODY_BYTES];
    body[..8].copy_from_slice(&sequence.to_le_bytes());
    body[8..].copy_from_slice(token);
    body
}

pub fn read_challenge_body(body: &[u8]) -> Option<(u64, [u8; CHALLENGE_TOKEN_BYTES])> {
    let mut r = super::token::Reader::new(body);
    Some((r.u64()?, r.array()?))
}

pub fn keep_alive_body(client_index: u32, max_clients: u32) -> [u8; KEEP_ALIVE_BODY_BYTES] {
    let mut body = [0u8; KEEP_ALIVE_BODY_BYTES];
    body[..4].copy_from_slice(&client_index.to_le_bytes());
    body[4..].copy_from_slice(&max_clients.to_le_bytes());
    body
}

pub fn read_keep_alive_body(body: &[u8]) -> Option<(u32, u32)> {
    let mut r = super::token::Reader::new(body);
    Some((r.u32()?, r.u32()?))
}

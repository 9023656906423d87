//! The two AEADs netcode 1.02 uses, exactly as libsodium's `crypto_aead_chacha20poly1305_ietf_*`
//! and `crypto_aead_xchacha20poly1305_ietf_*` (RustCrypto's `chacha20poly1305`), with the tag
//! kept apart from the ciphertext as netcode lays it out, and key generation from the OS.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, XChaCha20Poly1305};

pub const KEY_BYTES: usize = 32;
pub const MAC_BYTES: usize = 16;
pub const NONCE_BYTES: usize = 12;
pub const XNONCE_BYTES: usize = 24;

pub type Key = [u8; KEY_BYTES];
pub type Tag = [u8; MAC_BYTES];

/// netcode's 96-bit nonce for a sequence number: four zero bytes, then the sequence
/// little-endian (STANDARD.md; IMPLEMENTERS.md calls the other order the likeliest mistake).
pub fn sequence_nonce(sequence: u64) -> [u8; NONCE_BYTES] {
    let mut nonce = [0u8; NONCE_BYTES];
    nonce[4..].copy_from_slice(&sequence.to_le_bytes());
    nonce
}

/// ChaCha20-Poly1305 (IETF): encrypts `buffer` in place and returns the tag. None only for
/// messages over 256 GiB, which netcode never makes.
pub fn seal(key: &Key, nonce: &[u8; NONCE_BYTES], aad: &[u8], buffer: &mut [u8]) -> Option<Tag> {
    let cipher = ChaCha20Poly1305::new(&(*key).into());
    let tag = cipher
        .encrypt_inout_detached(&(*nonce).into(), aad, buffer.into())
        .ok()?;
    Some(tag.into())
}

/// Authenticates and decrypts `buffer` in place; false (and `buffer` unspecified) if the tag,
/// key, nonce or associated data do not match.
pub fn open(
    key: &Key,
    nonce: &[u8; NONCE_BYTES],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &Tag,
) -> bool {
    let cipher = ChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt_inout_detached(&(*nonce).into(), aad, buffer.into(), &(*tag).into())
        .is_ok()
}

/// XChaCha20-Poly1305 (IETF): as [`seal`] with a 192-bit nonce.
pub fn seal_x(key: &Key, nonce: &[u8; XNONCE_BYTES], aad: &[u8], buffer: &mut [u8]) -> Option<Tag> {
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    let tag = cipher
        .encrypt_inout_detached(&(*nonce).into(), aad, buffer.into())
        .ok()?;
    Some(tag.into())
}

/// XChaCha20-Poly1305 (IETF): as [`open`] with a 192-bit nonce.
pub fn open_x(
    key: &Key,
    nonce: &[u8; XNONCE_BYTES],
    aad: &[u8],
    buffer: &mut [u8],
    tag: &Tag,
) -> bool {
    let cipher = XChaCha20Poly1305::new(&(*key).into());
    cipher
        .decrypt_inout_detached(&(*nonce).into(), aad, buffer.into(), &(*tag).into())
        .is_ok()
}

/// The operating system's random source failed (getrandom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomError;

impl std::fmt::Display for RandomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the operating system's random number generator failed")
    }
}

impl std::error::Error for RandomError {}

/// Fills `buffer` from the operating system's random source.
pub fn random_fill(buffer: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buffer).map_err(|_| RandomError)
}

/// A fresh random key.
pub fn random_key() -> Result<Key, RandomError> {
    let mut key = [0u8; KEY_BYTES];
    random_fill(&mut key)?;
    Ok(key)
}

//! netcode's replay protection: a window of the last 256 sequence numbers per direction.
//!
//! Checked before decryption (cheap rejection), advanced only after authentication succeeded,
//! so forged sequence numbers cannot move the window. The "too old" test is written
//! subtraction-side: the reference's `sequence + 256 <= most_recent` wraps near `u64::MAX`
//! (IMPLEMENTERS.md, section 1). Slots keep an explicit "used" bit instead of the reference's
//! `u64::MAX` sentinel, so sequence `u64::MAX` itself is not accepted twice.

pub const WINDOW: u64 = 256;
const SLOTS: usize = WINDOW as usize;

#[derive(Clone, Debug)]
pub struct Replay {
    most_recent: u64,
    received: [u64; SLOTS],
    used: [u64; SLOTS / 64],
}

impl Default for Replay {
    fn default() -> Self {
        Replay {
            most_recent: 0,
            received: [0; SLOTS],
            used: [0; SLOTS / 64],
        }
    }
}

impl Replay {
    /// True if `sequence` must be ignored: older than the window or already received.
    pub fn already_received(&self, sequence: u64) -> bool {
        if self.most_recent >= WINDOW && sequence <= self.most_recent - WINDOW {
            return true;
        }
        let slot = Self::slot(sequence);
        self.is_used(slot) && self.received[slot] >= sequence
    }

    /// Records an authenticated `sequence`.
    pub fn advance(&mut self, sequence: u64) {
        if sequence > self.most_recent {
            self.most_recent = sequence;
        }
        let slot = Self::slot(sequence);
        self.received[slot] = sequence;
        self.used[slot / 64] |= 1 << (slot % 64);
    }

    fn slot(sequence: u64) -> usize {
        (sequence % WINDOW) as usize
    }

    fn is_used(&self, slot: usize) -> bool {
        self.used[slot / 64] & (1 << (slot % 64)) != 0
    }
}

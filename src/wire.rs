//! A look at ENet datagrams before rusty_enet parses them.
//!
//! rusty_enet 0.4.1 has defects we cannot patch (see `docs/reliability.md`); the cheap way to
//! neutralise them is to refuse the datagrams that trigger them. The same walk tells us whether
//! a datagram carries a DISCONNECT command, which is how a disconnect event learns its reason,
//! a CONNECT command, which is when half-open connections get their short handshake timeout,
//! or a packet larger than the host accepts, which is counted.
//!
//! A compressed datagram is decompressed here so that its commands can be inspected too; the
//! result replaces it in the receive buffer (see `compress.rs` for the other half).

use std::cell::Cell;
use std::rc::Rc;

use rusty_enet::{Compressor, RangeCoder, MTU_MAX};

const HEADER_FLAG_COMPRESSED: u16 = 1 << 14;
const HEADER_FLAG_SENT_TIME: u16 = 1 << 15;
/// The header's peer id without its flag and session bits.
const HEADER_PEER_MASK: u16 = 0x0fff;
/// The peer id of a datagram that is not (yet) addressed to a peer.
const NO_PEER: u16 = 0x0fff;
const COMMAND_MASK: u8 = 0x0f;
/// ENet's default (and rusty_enet's) largest packet: 32 MiB.
pub const DEFAULT_MAX_PACKET_SIZE: usize = 32 * 1024 * 1024;

const CONNECT: u8 = 2;
const VERIFY_CONNECT: u8 = 3;
const DISCONNECT: u8 = 4;
/// Offsets inside CONNECT and VERIFY_CONNECT: the sender's own peer index, and the
/// connection's ID (copied raw from the sender's memory by ENet: native byte order).
const OUTGOING_PEER_ID_AT: usize = 4;
const CONNECT_ID_AT: usize = 40;
const SEND_FRAGMENT: u8 = 8;
const SEND_UNRELIABLE_FRAGMENT: u8 = 12;

/// What a datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the first `len` bytes to rusty_enet; `connect` says it carries a CONNECT command,
    /// `disconnect` the peer slot (of this host) that a DISCONNECT command in it is addressed
    /// to; `too_large` that a packet in it is larger than the host's `max_packet_size` (ENet
    /// drops that command and the rest of the datagram).
    Accept {
        len: usize,
        connect: bool,
        disconnect: Option<usize>,
        too_large: bool,
    },
    /// Too short, shaped to reach a known rusty_enet defect, or compressed when the host has
    /// compression off (C ENet without a compressor drops those too).
    Malformed,
}

/// A host's settings as far as its datagrams are concerned.
pub struct Filter {
    /// ENet's CRC32 is on: every header carries 4 more bytes.
    pub checksum: bool,
    pub max_packet_size: usize,
    /// Shared with the host's compressor (`compress::Switch`).
    pub compression: Rc<Cell<bool>>,
    /// Made on the first compressed datagram: a range coder and its output buffer.
    decoder: Option<Box<(RangeCoder, [u8; MTU_MAX])>>,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter::new(false, DEFAULT_MAX_PACKET_SIZE, Rc::new(Cell::new(false)))
    }
}

impl Filter {
    pub fn new(checksum: bool, max_packet_size: usize, compression: Rc<Cell<bool>>) -> Filter {
        Filter {
            checksum,
            max_packet_size,
            compression,
            decoder: None,
        }
    }

    /// Classifies the datagram in `buffer[..len]`; a compressed one that is accepted is
    /// replaced by its decompressed form (header and COMPRESSED flag kept), whose length the
    /// verdict gives.
    pub fn inspect(&mut self, buffer: &mut [u8; MTU_MAX], len: usize) -> Verdict {
        let Some(data) = buffer.get(..len) else {
            return Verdict::Malformed;
        };
        let Some((compressed, header)) = header(data, self.checksum) else {
            return Verdict::Malformed;
        };
        let slot = addressed_slot(data);
        if !compressed {
            return walk(&data[header..], header, slot, self.max_packet_size);
        }
        if !self.compression.get() {
            return Verdict::Malformed;
        }
        let (coder, plain) = &mut **self
            .decoder
            .get_or_insert_with(|| Box::new((RangeCoder::new(), [0; MTU_MAX])));
        // ENet's own bound: the decompressed datagram, header included, fits in MTU_MAX.
        let room = MTU_MAX - header;
        let n = coder.decompress(&data[header..], &mut plain[..room]);
        if n == 0 || n > room {
            return Verdict::Malformed;
        }
        let verdict = walk(&plain[..n], header, slot, self.max_packet_size);
        if verdict != Verdict::Malformed {
            buffer[header..header + n].copy_from_slice(&plain[..n]);
        }
        verdict
    }
}

/// Classifies one datagram for a host with neither checksum nor compression and ENet's
/// default packet size limit.
pub fn inspect(data: &[u8]) -> Verdict {
    match header(data, false) {
        Some((false, header)) => walk(
            &data[header..],
            header,
            addressed_slot(data),
            DEFAULT_MAX_PACKET_SIZE,
        ),
        _ => Verdict::Malformed,
    }
}

/// The peer slot a datagram's header names, if any.
fn addressed_slot(data: &[u8]) -> Option<usize> {
    let slot = u16_at(data, 0)? & HEADER_PEER_MASK;
    (slot != NO_PEER).then_some(usize::from(slot))
}

/// Calls `f(slot, connect_id)` for each CONNECT / VERIFY_CONNECT in an uncompressed datagram
/// this host is sending (`checksum`: the header carries ENet's CRC32): rusty_enet has no
/// accessor for a peer's connectID, and these two commands carry it beside the sender's own
/// peer index. Compressed datagrams never carry them (see `compress.rs`).
pub fn sent_connect_ids(data: &[u8], checksum: bool, mut f: impl FnMut(usize, u32)) {
    let Some((false, header)) = header(data, checksum) else {
        return;
    };
    let commands = &data[header..];
    let mut at = 0;
    while let Some((command, size, payload)) = command_at(commands, at) {
        if command == CONNECT || command == VERIFY_CONNECT {
            let id = commands
                .get(at + CONNECT_ID_AT..at + CONNECT_ID_AT + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok());
            if let (Some(slot), Some(id)) = (u16_at(commands, at + OUTGOING_PEER_ID_AT), id) {
                f(usize::from(slot & HEADER_PEER_MASK), u32::from_ne_bytes(id));
            }
        }
        at += size + payload;
    }
}

/// Does a datagram about to be compressed carry a CONNECT or VERIFY_CONNECT? `buffers` are
/// ENet's: each command in one buffer, followed by a buffer of its payload when it has one.
pub fn carries_handshake(buffers: &[&[u8]]) -> bool {
    let mut i = 0;
    while let Some(buffer) = buffers.get(i) {
        let Some((command, _, payload)) = command_at(buffer, 0) else {
            return false;
        };
        if command == CONNECT || command == VERIFY_CONNECT {
            return true;
        }
        i += if payload > 0 { 2 } else { 1 };
    }
    false
}

/// The command at `at`: its number, fixed size and payload length; None when it does not
/// parse (ENet stops there too).
fn command_at(commands: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    if at + 4 > commands.len() {
        return None;
    }
    let command = commands[at] & COMMAND_MASK;
    let (size, length_at) = command_layout(command)?;
    let payload = match length_at {
        Some(offset) => usize::from(u16_at(commands, at + offset)?),
        None => 0,
    };
    Some((command, size, payload))
}

/// Whether the datagram is compressed, and the length of its header; None when it is shorter
/// than its header. Defect B1: a compressed datagram shorter than its header underflows a
/// length inside rusty_enet (an abort in debug builds, an out-of-bounds read in release).
fn header(data: &[u8], checksum: bool) -> Option<(bool, usize)> {
    let peer_id = u16_at(data, 0)?;
    let mut len = if peer_id & HEADER_FLAG_SENT_TIME != 0 {
        4
    } else {
        2
    };
    if checksum {
        len += 4;
    }
    (data.len() >= len).then_some((peer_id & HEADER_FLAG_COMPRESSED != 0, len))
}

/// Fixed size of each command (command header included) and the offset of its payload length.
fn command_layout(command: u8) -> Option<(usize, Option<usize>)> {
    Some(match command {
        1 => (8, None),      // acknowledge
        2 => (48, None),     // connect
        3 => (44, None),     // verify connect
        4 => (8, None),      // disconnect
        5 => (4, None),      // ping
        6 => (6, Some(4)),   // send reliable
        7 => (8, Some(6)),   // send unreliable
        8 => (24, Some(6)),  // send fragment
        9 => (8, Some(6)),   // send unsequenced
        10 => (12, None),    // bandwidth limit
        11 => (16, None),    // throttle configure
        12 => (24, Some(6)), // send unreliable fragment
        _ => return None,
    })
}

/// Offset of a fragment command's total packet length.
const FRAGMENT_TOTAL_LENGTH_AT: usize = 16;

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

/// Walks the commands after a `header`-byte header. Commands after the first one that does not
/// parse, or that carries a packet over `max_packet_size`, are left to rusty_enet, which stops
/// at the same point.
fn walk(commands: &[u8], header: usize, slot: Option<usize>, max_packet_size: usize) -> Verdict {
    let (mut connect, mut disconnect, mut too_large) = (false, None, false);
    let mut at = 0;
    while at + 4 <= commands.len() {
        let command = commands[at] & COMMAND_MASK;
        let Some((size, length_at)) = command_layout(command) else {
            break;
        };
        match command {
            CONNECT => connect = true,
            DISCONNECT => disconnect = slot,
            // Defect B3 (unvalidated unreliable-fragment starts let a peer make the host allocate
            // 128 KiB per command) and B2 (their leaked budget): we never send this command, and
            // refusing it closes both.
            SEND_UNRELIABLE_FRAGMENT => return Verdict::Malformed,
            _ => {}
        }
        let payload = match length_at {
            Some(offset) => match u16_at(commands, at + offset) {
                Some(len) => usize::from(len),
                None => break,
            },
            None => 0,
        };
        let packet = if command == SEND_FRAGMENT {
            u32_at(commands, at + FRAGMENT_TOTAL_LENGTH_AT).map_or(0, |n| n as usize)
        } else {
            payload
        };
        if payload > max_packet_size || packet > max_packet_size {
            too_large = true;
            break;
        }
        at += size + payload;
    }
    Verdict::Accept {
        len: header + commands.len(),
        connect,
        disconnect,
        too_large,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(len: usize, connect: bool, disconnect: Option<usize>) -> Verdict {
        Verdict::Accept {
            len,
            connect,
            disconnect,
            too_large: false,
        }
    }

    fn filter(checksum: bool, compression: bool) -> Filter {
        Filter::new(
            checksum,
            DEFAULT_MAX_PACKET_SIZE,
            Rc::new(Cell::new(compression)),
        )
    }

    fn buffer(data: &[u8]) -> Box<[u8; MTU_MAX]> {
        let mut b = Box::new([0u8; MTU_MAX]);
        b[..data.len()].copy_from_slice(data);
        b
    }

    /// Compresses `commands` behind `header` as ENet does (header bytes are not compressed).
    fn compressed(header: &[u8], commands: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; MTU_MAX];
        let n = RangeCoder::new().compress(&[commands], commands.len(), &mut out);
        assert!(n > 0);
        let mut d = header.to_vec();
        d.extend_from_slice(&out[..n]);
        d
    }

    #[test]
    fn short_and_compressed_datagrams_are_malformed() {
        assert_eq!(inspect(&[]), Verdict::Malformed);
        assert_eq!(inspect(&[0]), Verdict::Malformed);
        assert_eq!(inspect(&[0xff, 0xff]), Verdict::Malformed);
        assert_eq!(inspect(&[0xc0, 0x00, 0, 0, 0]), Verdict::Malformed);
    }

    #[test]
    fn b1_short_compressed_datagrams_are_malformed_with_compression_on() {
        // Shorter than the header they announce: 2 or 4 bytes, plus 4 with a checksum.
        for (checksum, data) in [
            (false, &[0xffu8, 0xff][..]),
            (false, &[0xc0, 0x00, 0x00]),
            (true, &[0x7f, 0xff, 1, 2, 3]),
            (true, &[0xc0, 0x00, 0, 0, 1, 2, 3]),
        ] {
            let mut f = filter(checksum, true);
            assert_eq!(
                f.inspect(&mut buffer(data), data.len()),
                Verdict::Malformed,
                "{data:02x?}"
            );
        }
        // Exactly a header: nothing to decompress.
        let mut f = filter(false, true);
        assert_eq!(f.inspect(&mut buffer(&[0x40, 0]), 2), Verdict::Malformed);
    }

    #[test]
    fn compressed_datagrams_are_decompressed_in_place_only_when_on() {
        let mut commands = vec![0x86, 0, 0, 1, 0, 200]; // reliable, 200 bytes
        commands.extend_from_slice(&[b'a'; 200]);
        commands.extend_from_slice(&[0x84, 0xff, 0, 2, 0, 0, 0, 7]); // disconnect
        let d = compressed(&[0x40, 0x01], &commands);
        assert!(d.len() < commands.len() / 2);
        let mut off = filter(false, false);
        assert_eq!(off.inspect(&mut buffer(&d), d.len()), Verdict::Malformed);
        let mut on = filter(false, true);
        let mut b = buffer(&d);
        assert_eq!(
            on.inspect(&mut b, d.len()),
            accept(2 + commands.len(), false, Some(1))
        );
        assert_eq!(&b[..2], &[0x40, 0x01]);
        assert_eq!(&b[2..2 + commands.len()], &commands[..]);
        // With a checksum the 4 bytes after the peer id stay as they are.
        let d = compressed(&[0x40, 0x01, 9, 8, 7, 6], &commands);
        let mut on = filter(true, true);
        let mut b = buffer(&d);
        assert_eq!(
            on.inspect(&mut b, d.len()),
            accept(6 + commands.len(), false, Some(1))
        );
        assert_eq!(&b[..6], &[0x40, 0x01, 9, 8, 7, 6]);
    }

    #[test]
    fn compressed_unreliable_fragments_are_refused() {
        let mut commands = vec![0x0c, 0, 0, 0, 0, 1, 0, 0];
        commands.extend_from_slice(&[0; 16]);
        let d = compressed(&[0x40, 0x01], &commands);
        let mut on = filter(false, true);
        assert_eq!(on.inspect(&mut buffer(&d), d.len()), Verdict::Malformed);
    }

    #[test]
    fn random_compressed_bodies_never_panic() {
        // A fixed xorshift stream: the range decoder must stay in bounds on any input.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut f = filter(false, true);
        let mut accepted = 0;
        for round in 0..5_000 {
            let len = 2 + round % 300;
            let mut d = vec![0x40, 0x01];
            for _ in 2..len {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                d.push(x as u8);
            }
            if f.inspect(&mut buffer(&d), d.len()) != Verdict::Malformed {
                accepted += 1;
            }
        }
        assert!(accepted > 0);
    }

    #[test]
    fn packets_over_the_limit_are_flagged() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x86, 0, 0, 1, 0, 4, 4, 4, 4, 4]); // reliable, 4 bytes
        let mut f = Filter::new(false, 3, Rc::default());
        let Verdict::Accept { too_large, .. } = f.inspect(&mut buffer(&d), d.len()) else {
            panic!("malformed");
        };
        assert!(too_large);
        // A fragment whose declared total is over the limit, though the fragment is small.
        let mut d = vec![0x00, 0x01, 0x88, 0, 0, 1, 0, 1, 0, 4];
        d.extend_from_slice(&[0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
        d.extend_from_slice(&[1, 2, 3, 4]);
        f.max_packet_size = 255;
        let Verdict::Accept { too_large, .. } = f.inspect(&mut buffer(&d), d.len()) else {
            panic!("malformed");
        };
        assert!(too_large);
        f.max_packet_size = 256;
        assert_eq!(
            f.inspect(&mut buffer(&d), d.len()),
            accept(d.len(), false, None)
        );
    }

    #[test]
    fn finds_disconnect_after_an_acknowledge() {
        let mut d = vec![0x80, 0x01, 0x12, 0x34];
        d.extend_from_slice(&[0x81, 0, 0, 1, 0, 1, 0, 2]); // acknowledge
        d.extend_from_slice(&[0x84, 0xff, 0, 2, 0, 0, 0, 7]); // disconnect
        assert_eq!(inspect(&d), accept(d.len(), false, Some(1)));
    }

    #[test]
    fn payload_lengths_are_skipped() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x86, 0, 0, 1, 0, 4, 4, 4, 4, 4]); // reliable, 4 bytes: 0x04...
        d.extend_from_slice(&[0x05, 0, 0, 2]); // ping
        assert_eq!(inspect(&d), accept(d.len(), false, None));
    }

    #[test]
    fn finds_connect() {
        let mut d = vec![0x8f, 0xff, 0x12, 0x34];
        d.extend_from_slice(&[0x82, 0xff, 0, 1]); // connect: 48 bytes in all
        d.extend_from_slice(&[0; 44]);
        assert_eq!(inspect(&d), accept(d.len(), true, None));
    }

    #[test]
    fn disconnect_without_a_peer_id_names_no_slot() {
        let mut d = vec![0x8f, 0xff, 0x12, 0x34];
        d.extend_from_slice(&[0x84, 0xff, 0, 2, 0, 0, 0, 7]);
        assert_eq!(inspect(&d), accept(d.len(), false, None));
    }

    fn verify_connect(slot: u16, id: u32) -> Vec<u8> {
        let mut verify = vec![0x83, 0xff, 0, 1];
        verify.extend_from_slice(&slot.to_be_bytes());
        verify.resize(44, 0);
        verify[40..44].copy_from_slice(&id.to_ne_bytes());
        verify
    }

    #[test]
    fn connect_ids_of_sent_handshakes() {
        let mut d = vec![0x00, 0x05];
        d.extend_from_slice(&[0x81, 0, 0, 1, 0, 1, 0, 2]); // acknowledge
        d.extend_from_slice(&verify_connect(9, 0xdead_beef));
        let mut seen = Vec::new();
        sent_connect_ids(&d, false, |slot, id| seen.push((slot, id)));
        assert_eq!(seen, vec![(9, 0xdead_beef)]);
        // The same behind a checksum.
        let mut c = vec![0x00, 0x05, 1, 2, 3, 4];
        c.extend_from_slice(&d[2..]);
        seen.clear();
        sent_connect_ids(&c, true, |slot, id| seen.push((slot, id)));
        assert_eq!(seen, vec![(9, 0xdead_beef)]);
    }

    #[test]
    fn handshakes_are_found_in_enets_send_buffers() {
        let ack = [0x81u8, 0, 0, 1, 0, 1, 0, 2];
        let reliable = [0x86u8, 0, 0, 1, 0, 44];
        // A payload that looks like a VERIFY_CONNECT must not count: it follows its command.
        let payload = verify_connect(1, 1);
        assert!(!carries_handshake(&[&ack, &reliable, &payload]));
        let verify = verify_connect(3, 7);
        assert!(carries_handshake(&[&ack, &verify]));
        assert!(carries_handshake(&[&reliable, &payload, &verify]));
    }

    #[test]
    fn unreliable_fragments_are_refused() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x0c, 0, 0, 0, 0, 1, 0, 0]);
        d.extend_from_slice(&[0; 16]);
        assert_eq!(inspect(&d), Verdict::Malformed);
    }
}

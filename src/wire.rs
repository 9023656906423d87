//! A read-only look at ENet datagrams before rusty_enet parses them.
//!
//! rusty_enet 0.4.1 has defects we cannot patch (see `docs/reliability.md`); the cheap way to
//! neutralise them is to refuse the datagrams that trigger them. The same walk tells us whether
//! a datagram carries a DISCONNECT command, which is how a disconnect event learns its reason,
//! or a CONNECT command, which is when half-open connections get their short handshake timeout.

const HEADER_FLAG_COMPRESSED: u16 = 1 << 14;
const HEADER_FLAG_SENT_TIME: u16 = 1 << 15;
/// The header's peer id without its flag and session bits.
const HEADER_PEER_MASK: u16 = 0x0fff;
/// The peer id of a datagram that is not (yet) addressed to a peer.
const NO_PEER: u16 = 0x0fff;
const COMMAND_MASK: u8 = 0x0f;

const CONNECT: u8 = 2;
const VERIFY_CONNECT: u8 = 3;
const DISCONNECT: u8 = 4;
/// Offsets inside CONNECT and VERIFY_CONNECT: the sender's own peer index, and the
/// connection's ID (copied raw from the sender's memory by ENet: native byte order).
const OUTGOING_PEER_ID_AT: usize = 4;
const CONNECT_ID_AT: usize = 40;
const SEND_UNRELIABLE_FRAGMENT: u8 = 12;

/// What a datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to rusty_enet; `connect` says it carries a CONNECT command, `disconnect` the
    /// peer slot (of this host) that a DISCONNECT command in it is addressed to.
    Accept {
        connect: bool,
        disconnect: Option<usize>,
    },
    /// Too short, or shaped to reach a known rusty_enet defect.
    Malformed,
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

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// The commands of an uncompressed datagram: (command number, offset of the command).
/// Stops at the first command that does not parse, as rusty_enet does.
fn commands(data: &[u8], at: usize) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut at = at;
    std::iter::from_fn(move || {
        if at + 4 > data.len() {
            return None;
        }
        let command = data[at] & COMMAND_MASK;
        let (size, length_at) = command_layout(command)?;
        let payload = match length_at {
            Some(offset) => usize::from(u16_at(data, at + offset)?),
            None => 0,
        };
        let here = at;
        at += size + payload;
        Some((command, here))
    })
}

/// The header: (peer id with flags, length). None when too short.
fn header(data: &[u8]) -> Option<(u16, usize)> {
    let peer_id = u16_at(data, 0)?;
    let len = if peer_id & HEADER_FLAG_SENT_TIME != 0 {
        4
    } else {
        2
    };
    (data.len() >= len).then_some((peer_id, len))
}

/// Classifies one datagram.
pub fn inspect(data: &[u8]) -> Verdict {
    let Some((peer_id, at)) = header(data) else {
        return Verdict::Malformed;
    };
    if peer_id & HEADER_FLAG_COMPRESSED != 0 {
        // Defect B1: a short compressed datagram underflows a length inside rusty_enet. We never
        // install a compressor, so a compressed datagram cannot be meant for us at all.
        return Verdict::Malformed;
    }
    let slot = peer_id & HEADER_PEER_MASK;
    let (mut connect, mut disconnect) = (false, None);
    for (command, _) in commands(data, at) {
        match command {
            CONNECT => connect = true,
            DISCONNECT if slot != NO_PEER => disconnect = Some(usize::from(slot)),
            // Defect B3 (unvalidated unreliable-fragment starts let a peer make the host allocate
            // 128 KiB per command) and B2 (their leaked budget): we never send this command, and
            // refusing it closes both.
            SEND_UNRELIABLE_FRAGMENT => return Verdict::Malformed,
            _ => {}
        }
    }
    Verdict::Accept {
        connect,
        disconnect,
    }
}

/// Calls `f(slot, connect_id)` for each CONNECT / VERIFY_CONNECT in a datagram this host is
/// sending: rusty_enet has no accessor for a peer's connectID, and these two commands carry
/// it beside the sender's own peer index.
pub fn sent_connect_ids(data: &[u8], mut f: impl FnMut(usize, u32)) {
    let Some((peer_id, at)) = header(data) else {
        return;
    };
    if peer_id & HEADER_FLAG_COMPRESSED != 0 {
        return;
    }
    for (command, here) in commands(data, at) {
        if command != CONNECT && command != VERIFY_CONNECT {
            continue;
        }
        let id = data
            .get(here + CONNECT_ID_AT..here + CONNECT_ID_AT + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok());
        if let (Some(slot), Some(id)) = (u16_at(data, here + OUTGOING_PEER_ID_AT), id) {
            f(usize::from(slot & HEADER_PEER_MASK), u32::from_ne_bytes(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_compressed_datagrams_are_malformed() {
        assert_eq!(inspect(&[]), Verdict::Malformed);
        assert_eq!(inspect(&[0]), Verdict::Malformed);
        assert_eq!(inspect(&[0xff, 0xff]), Verdict::Malformed);
        assert_eq!(inspect(&[0xc0, 0x00, 0, 0, 0]), Verdict::Malformed);
    }

    #[test]
    fn finds_disconnect_after_an_acknowledge() {
        let mut d = vec![0x80, 0x01, 0x12, 0x34];
        d.extend_from_slice(&[0x81, 0, 0, 1, 0, 1, 0, 2]); // acknowledge
        d.extend_from_slice(&[0x84, 0xff, 0, 2, 0, 0, 0, 7]); // disconnect
        assert_eq!(
            inspect(&d),
            Verdict::Accept {
                connect: false,
                disconnect: Some(1)
            }
        );
    }

    #[test]
    fn payload_lengths_are_skipped() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x86, 0, 0, 1, 0, 4, 4, 4, 4, 4]); // reliable, 4 bytes: 0x04...
        d.extend_from_slice(&[0x05, 0, 0, 2]); // ping
        assert_eq!(
            inspect(&d),
            Verdict::Accept {
                connect: false,
                disconnect: None
            }
        );
    }

    #[test]
    fn finds_connect() {
        let mut d = vec![0x8f, 0xff, 0x12, 0x34];
        d.extend_from_slice(&[0x82, 0xff, 0, 1]); // connect: 48 bytes in all
        d.extend_from_slice(&[0; 44]);
        assert_eq!(
            inspect(&d),
            Verdict::Accept {
                connect: true,
                disconnect: None
            }
        );
    }

    #[test]
    fn disconnect_without_a_peer_id_names_no_slot() {
        let mut d = vec![0x8f, 0xff, 0x12, 0x34];
        d.extend_from_slice(&[0x84, 0xff, 0, 2, 0, 0, 0, 7]);
        assert_eq!(
            inspect(&d),
            Verdict::Accept {
                connect: false,
                disconnect: None
            }
        );
    }

    #[test]
    fn connect_ids_of_sent_handshakes() {
        let mut d = vec![0x00, 0x05];
        d.extend_from_slice(&[0x81, 0, 0, 1, 0, 1, 0, 2]); // acknowledge
        let mut verify = vec![0x83, 0xff, 0, 1, 0, 9]; // verify connect from our slot 9
        verify.resize(44, 0);
        verify[40..44].copy_from_slice(&0xdead_beef_u32.to_ne_bytes());
        d.extend_from_slice(&verify);
        let mut seen = Vec::new();
        sent_connect_ids(&d, |slot, id| seen.push((slot, id)));
        assert_eq!(seen, vec![(9, 0xdead_beef)]);
    }

    #[test]
    fn unreliable_fragments_are_refused() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x0c, 0, 0, 0, 0, 1, 0, 0]);
        d.extend_from_slice(&[0; 16]);
        assert_eq!(inspect(&d), Verdict::Malformed);
    }
}

//! A read-only look at ENet datagrams before rusty_enet parses them.
//!
//! rusty_enet 0.4.1 has defects we cannot patch (see `docs/reliability.md`); the cheap way to
//! neutralise them is to refuse the datagrams that trigger them. The same walk tells us whether
//! a datagram carries a DISCONNECT command, which is how a disconnect event learns its reason,
//! or a CONNECT command, which is when half-open connections get their short handshake timeout.

const HEADER_FLAG_COMPRESSED: u16 = 1 << 14;
const HEADER_FLAG_SENT_TIME: u16 = 1 << 15;
const COMMAND_MASK: u8 = 0x0f;

const CONNECT: u8 = 2;
const DISCONNECT: u8 = 4;
const SEND_UNRELIABLE_FRAGMENT: u8 = 12;

/// What a datagram turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to rusty_enet; `connect` / `disconnect` say it carries a CONNECT / DISCONNECT
    /// command.
    Accept { connect: bool, disconnect: bool },
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

/// Classifies one datagram. Commands after the first one that does not parse are left to
/// rusty_enet, which stops at the same point.
pub fn inspect(data: &[u8]) -> Verdict {
    let Some(peer_id) = u16_at(data, 0) else {
        return Verdict::Malformed;
    };
    let mut at = if peer_id & HEADER_FLAG_SENT_TIME != 0 {
        4
    } else {
        2
    };
    if data.len() < at {
        return Verdict::Malformed;
    }
    if peer_id & HEADER_FLAG_COMPRESSED != 0 {
        // Defect B1: a short compressed datagram underflows a length inside rusty_enet. We never
        // install a compressor, so a compressed datagram cannot be meant for us at all.
        return Verdict::Malformed;
    }
    let (mut connect, mut disconnect) = (false, false);
    while at + 4 <= data.len() {
        let command = data[at] & COMMAND_MASK;
        let Some((size, length_at)) = command_layout(command) else {
            break;
        };
        match command {
            CONNECT => connect = true,
            DISCONNECT => disconnect = true,
            // Defect B3 (unvalidated unreliable-fragment starts let a peer make the host allocate
            // 128 KiB per command) and B2 (their leaked budget): we never send this command, and
            // refusing it closes both.
            SEND_UNRELIABLE_FRAGMENT => return Verdict::Malformed,
            _ => {}
        }
        let payload = match length_at {
            Some(offset) => match u16_at(data, at + offset) {
                Some(len) => usize::from(len),
                None => break,
            },
            None => 0,
        };
        at += size + payload;
    }
    Verdict::Accept {
        connect,
        disconnect,
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
                disconnect: true
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
                disconnect: false
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
                disconnect: false
            }
        );
    }

    #[test]
    fn unreliable_fragments_are_refused() {
        let mut d = vec![0x00, 0x01];
        d.extend_from_slice(&[0x0c, 0, 0, 0, 0, 1, 0, 0]);
        d.extend_from_slice(&[0; 16]);
        assert_eq!(inspect(&d), Verdict::Malformed);
    }
}

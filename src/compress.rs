//! ENet's range coder behind an on/off switch, so `host_compress` can change compression at any
//! time as `enet_host_compress` does in C. rusty_enet takes a compressor only when a host is
//! created, so every host gets this one and the switch decides.
//!
//! Receiving is split in two: our socket's filter (`wire::Filter`) decompresses each compressed
//! datagram itself, because it must inspect the commands inside (the defect filters, disconnect
//! reasons, the packet-size counter) before rusty_enet sees them, and hands rusty_enet the
//! decompressed bytes with the COMPRESSED flag still set (ENet's CRC32 covers the header as
//! sent). What reaches `decompress` here is therefore already plain: it is copied, so each
//! datagram is decoded once.

use std::cell::Cell;
use std::rc::Rc;

use rusty_enet::{Compressor, RangeCoder};

/// Shared by a host's compressor and its socket's filter: the range coder is on.
pub type Switch = Rc<Cell<bool>>;

pub struct SwitchedRangeCoder {
    on: Switch,
    coder: RangeCoder,
}

impl SwitchedRangeCoder {
    pub fn new(on: Switch) -> SwitchedRangeCoder {
        SwitchedRangeCoder {
            on,
            coder: RangeCoder::new(),
        }
    }
}

impl Compressor for SwitchedRangeCoder {
    /// 0 ("did not compress") while off: ENet then sends the datagram as it is. Handshake
    /// datagrams always go out as they are, so the socket can read their connectID
    /// (`wire::sent_connect_ids`); a receiver accepts either form.
    fn compress(&mut self, in_buffers: &[&[u8]], in_limit: usize, out: &mut [u8]) -> usize {
        if !self.on.get() || crate::wire::carries_handshake(in_buffers) {
            return 0;
        }
        self.coder.compress(in_buffers, in_limit, out)
    }

    /// The filter's output, copied (see the module comment). 0 makes ENet drop the datagram,
    /// which is what a C ENet host without a compressor does with a compressed one.
    fn decompress(&mut self, in_data: &[u8], out: &mut [u8]) -> usize {
        if !self.on.get() {
            return 0;
        }
        match out.get_mut(..in_data.len()) {
            Some(dest) => {
                dest.copy_from_slice(in_data);
                in_data.len()
            }
            None => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compresses_only_while_on_and_copies_what_the_filter_decoded() {
        let on: Switch = Rc::new(Cell::new(false));
        let mut c = SwitchedRangeCoder::new(on.clone());
        let data = vec![7u8; 600];
        let mut out = vec![0u8; 600];
        assert_eq!(c.compress(&[&data], data.len(), &mut out), 0);
        assert_eq!(c.decompress(&data[..10], &mut out), 0);
        on.set(true);
        let n = c.compress(&[&data], data.len(), &mut out);
        assert!(
            n > 0 && n < 100,
            "range coder made {n} bytes of 600 equal ones"
        );
        let mut back = vec![0u8; 4096];
        assert_eq!(RangeCoder::new().decompress(&out[..n], &mut back), 600);
        assert_eq!(&back[..600], &data[..]);
        assert_eq!(c.decompress(&data[..10], &mut out), 10);
        assert_eq!(c.decompress(&data, &mut out[..5]), 0);
    }
}

//! The life of the connection in one peer slot of a host, as Lua sees it.
//!
//! rusty_enet's `PeerID` is a bare slot index that the next connection reuses, and ENet ends
//! some connections without any event (a disconnect or reset while still connecting, a
//! `disconnect_now`, `host_destroy`). So each slot carries a [`Phase`] and a generation: a
//! handle names one generation, and the generation ends exactly when its connection ends,
//! event or not. Every transition is a method here; the host calls [`Slot::sync`] after each
//! call into rusty_enet that can change the peer's state, so the two never disagree for
//! longer than one call.

use rusty_enet::PeerState;

/// Sends accepted while a connection is still being set up; past this `peer_send` fails.
pub const MAX_PENDING: usize = 1024;

/// Where the connection in a slot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// No connection that Lua knows of. ENet may be half-way through an incoming handshake
    /// in this slot; Lua hears of it with the connect event.
    #[default]
    Free,
    /// `host_connect` made it and the connect event has not come yet: sends are queued.
    Connecting,
    /// The connect event was delivered (either direction).
    Connected,
    /// `peer_disconnect` or `peer_disconnect_later` was called; ENet will report the end.
    Disconnecting,
}

/// How a connection ended, for the disconnect event's `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Disconnect,
    Timeout,
    /// A secure server refused the connection: it is full.
    Denied,
}

impl Reason {
    pub fn name(self) -> &'static str {
        match self {
            Reason::Disconnect => "disconnect",
            Reason::Timeout => "timeout",
            Reason::Denied => "denied",
        }
    }
}

/// Our bookkeeping for one peer slot.
#[derive(Default)]
pub struct Slot {
    phase: Phase,
    /// Counts ended connections: a handle made for generation g is stale once it moved on.
    generation: u64,
    /// Sends made while connecting, flushed in order by the connect event.
    pending: Vec<(u8, rusty_enet::Packet)>,
    /// Throttle settings made while connecting, applied on the connect event: the handshake
    /// checks the server's reply against the values sent, so changing them mid-way fails it.
    pending_throttle: Option<[u32; 3]>,
    /// rusty_enet accepted a DISCONNECT command from the remote side for this connection.
    remote_disconnect: bool,
}

/// What the connect event of a slot turned out to be.
pub struct Established {
    /// A connection from elsewhere (its handshake timeout must be restored).
    pub incoming: bool,
    pub pending: Vec<(u8, rusty_enet::Packet)>,
    pub throttle: Option<[u32; 3]>,
}

impl Slot {
    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Does a handle of `generation` still name this slot's connection?
    pub fn is_current(&self, generation: u64) -> bool {
        self.generation == generation
    }

    /// The connection ended (event, cancel, reset, host destroyed): every handle of it goes
    /// stale and anything queued for it is dropped.
    pub fn end(&mut self) {
        if self.phase != Phase::Free {
            self.finish();
        }
    }

    fn finish(&mut self) {
        self.generation += 1;
        self.phase = Phase::Free;
        self.pending = Vec::new();
        self.pending_throttle = None;
        self.remote_disconnect = false;
    }

    /// Ended from outside ENet (netcode ended the secure connection under it): the generation
    /// the disconnect event belongs to, or None when Lua knows no connection here.
    pub fn end_outside(&mut self) -> Option<u64> {
        if self.phase == Phase::Free {
            return None;
        }
        let generation = self.generation;
        self.finish();
        Some(generation)
    }

    /// `host_connect` took this slot (ENet only hands out slots whose peer is disconnected).
    pub fn connect_started(&mut self) {
        self.end();
        self.phase = Phase::Connecting;
    }

    /// The connect event: the end of our own handshake or a new incoming connection.
    pub fn connect_event(&mut self) -> Established {
        let incoming = self.phase != Phase::Connecting;
        if incoming {
            // A live phase here would mean a missed end; never let the newcomer inherit it.
            self.end();
        }
        self.phase = Phase::Connected;
        Established {
            incoming,
            pending: std::mem::take(&mut self.pending),
            throttle: self.pending_throttle.take(),
        }
    }

    /// The disconnect event: the reason, then the slot is free. The generation ends even
    /// for a connection Lua never saw connect (ENet reports an incoming one that timed out
    /// between its handshake and its connect event): that event's handle must not name the
    /// next connection.
    pub fn disconnect_event(&mut self) -> Reason {
        let reason = if self.phase == Phase::Disconnecting || self.remote_disconnect {
            Reason::Disconnect
        } else {
            Reason::Timeout
        };
        self.finish();
        reason
    }

    /// `peer_disconnect` / `peer_disconnect_later` / `peer_disconnect_now` / `peer_reset` was
    /// called; `state` is the ENet peer's state afterwards.
    pub fn local_disconnect(&mut self, state: PeerState) {
        if self.phase != Phase::Free {
            self.phase = Phase::Disconnecting;
        }
        self.sync(state);
    }

    /// rusty_enet accepted a DISCONNECT from the remote side (its state moved on because of it).
    pub fn remote_disconnect_seen(&mut self) {
        if self.phase != Phase::Free {
            self.remote_disconnect = true;
        }
    }

    /// Follows ENet after a call that may have reset the peer without an event.
    pub fn sync(&mut self, state: PeerState) {
        if state == PeerState::Disconnected {
            self.end();
        }
    }

    /// A send while connecting: queued, up to [`MAX_PENDING`].
    pub fn queue(&mut self, channel: u8, packet: rusty_enet::Packet) -> Result<(), String> {
        if self.pending.len() >= MAX_PENDING {
            return Err(format!(
                "send queue full ({MAX_PENDING} packets while connecting)"
            ));
        }
        self.pending.push((channel, packet));
        Ok(())
    }

    /// Throttle settings while connecting are kept for the connect event.
    pub fn defer_throttle(&mut self, values: [u32; 3]) {
        self.pending_throttle = Some(values);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet() -> rusty_enet::Packet {
        rusty_enet::Packet::reliable(&b"x"[..])
    }

    #[test]
    fn cancelled_connect_ends_the_generation_and_drops_the_queue() {
        let mut s = Slot::default();
        s.connect_started();
        let g = s.generation();
        s.queue(0, packet()).unwrap();
        s.local_disconnect(PeerState::Disconnected);
        assert_eq!(s.phase(), Phase::Free);
        assert!(!s.is_current(g));
        // The next connection into the slot is a newcomer with nothing queued.
        let e = s.connect_event();
        assert!(e.incoming);
        assert!(e.pending.is_empty());
        assert!(!s.is_current(g));
    }

    #[test]
    fn own_handshake_keeps_the_generation_and_flushes_the_queue() {
        let mut s = Slot::default();
        s.connect_started();
        let g = s.generation();
        s.queue(1, packet()).unwrap();
        s.defer_throttle([1, 2, 3]);
        let e = s.connect_event();
        assert!(!e.incoming);
        assert_eq!(e.pending.len(), 1);
        assert_eq!(e.throttle, Some([1, 2, 3]));
        assert!(s.is_current(g));
        assert_eq!(s.phase(), Phase::Connected);
    }

    #[test]
    fn graceful_disconnect_waits_for_the_event() {
        let mut s = Slot::default();
        s.connect_event();
        let g = s.generation();
        s.local_disconnect(PeerState::Disconnecting);
        assert_eq!(s.phase(), Phase::Disconnecting);
        assert!(s.is_current(g));
        assert_eq!(s.disconnect_event(), Reason::Disconnect);
        assert!(!s.is_current(g));
    }

    #[test]
    fn reasons_follow_what_ended_the_connection() {
        let mut s = Slot::default();
        s.connect_event();
        assert_eq!(s.disconnect_event(), Reason::Timeout);
        s.connect_event();
        s.remote_disconnect_seen();
        assert_eq!(s.disconnect_event(), Reason::Disconnect);
        // The flag does not outlive its connection.
        s.connect_event();
        assert_eq!(s.disconnect_event(), Reason::Timeout);
    }

    #[test]
    fn a_free_slot_ignores_ends_and_remote_flags() {
        let mut s = Slot::default();
        s.sync(PeerState::Disconnected);
        s.remote_disconnect_seen();
        s.local_disconnect(PeerState::Disconnected);
        assert_eq!(s.generation(), 0);
        // An event always ends a generation, even one Lua never saw begin.
        assert_eq!(s.disconnect_event(), Reason::Timeout);
        assert_eq!(s.generation(), 1);
        s.connect_event();
        assert_eq!(s.disconnect_event(), Reason::Timeout);
    }

    #[test]
    fn queue_is_bounded() {
        let mut s = Slot::default();
        s.connect_started();
        for _ in 0..MAX_PENDING {
            s.queue(0, packet()).unwrap();
        }
        assert!(s.queue(0, packet()).is_err());
    }
}

//! Events as Lua tables: `{type=, peer=, channelID=, packet=, data=, reason=}`.

use mlua::{AnyUserData, Lua, Table};

use crate::host::Shared;
use crate::packet::Packet;
use crate::peer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Connect = 1,
    Disconnect = 2,
    Receive = 3,
}

/// An event detached from rusty_enet's borrow of the host.
pub struct Event {
    pub kind: Kind,
    pub slot: usize,
    /// The connection (slot generation) the event belongs to.
    pub generation: u64,
    pub channel: u8,
    pub data: u32,
    pub packet: Option<rusty_enet::Packet>,
    pub reason: Option<&'static str>,
}

impl Event {
    pub fn new(kind: Kind, slot: usize, generation: u64, data: u32) -> Event {
        Event {
            kind,
            slot,
            generation,
            channel: 0,
            data,
            packet: None,
            reason: None,
        }
    }

    /// The event table. With `payload`, a receive event carries the bytes as `payload` (a
    /// string) instead of a `packet` userdata: one object and one call fewer per message.
    pub fn into_table(
        self,
        lua: &Lua,
        host_ud: &AnyUserData,
        state: &Shared,
        payload: bool,
    ) -> mlua::Result<Table> {
        let t = lua.create_table_with_capacity(0, 6)?;
        t.raw_set("type", self.kind as i64)?;
        t.raw_set(
            "peer",
            peer::userdata_for(lua, host_ud, state, self.slot, self.generation)?,
        )?;
        t.raw_set("channelID", self.channel)?;
        t.raw_set("data", self.data)?;
        match self.packet {
            Some(p) if payload => t.raw_set("payload", lua.create_string(p.data())?)?,
            Some(p) => t.raw_set("packet", lua.create_userdata(Packet::received(p))?)?,
            None => {}
        }
        if let Some(reason) = self.reason {
            t.raw_set("reason", reason)?;
        }
        Ok(t)
    }
}

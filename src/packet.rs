//! ENetPacket: a Lua handle on a rusty_enet packet, with the flags kept here (defect B4:
//! rusty_enet's `Packet::kind()` always answers `Reliable`).

use mlua::{ffi, AnyUserData, Lua, MetaMethod, UserData, UserDataFields, UserDataMethods, Value};

use crate::args::{self, StackBytes, StackUserData};
use crate::error::{bad_argument, type_error, type_name, Result};
use crate::registry::{class_methods, Registry};

pub const FLAG_RELIABLE: u32 = 1;
pub const FLAG_UNSEQUENCED: u32 = 2;
/// Accepted for C compatibility; data is always copied from the Lua string.
pub const FLAG_NO_ALLOCATE: u32 = 4;
const KNOWN_FLAGS: u32 = FLAG_RELIABLE | FLAG_UNSEQUENCED | FLAG_NO_ALLOCATE;
/// ENet's per-packet limit (rusty_enet's default `maximum_packet_size`).
pub const MAX_SIZE: usize = 32 * 1024 * 1024;

pub struct Packet {
    enet: Option<rusty_enet::Packet>,
    /// None for received packets: rusty_enet does not tell us how they were sent.
    flags: Option<u32>,
}

impl Packet {
    pub fn create(data: &[u8], flags: u32) -> Packet {
        Packet {
            enet: Some(enet_packet(data, flags)),
            flags: Some(flags),
        }
    }

    pub fn received(packet: rusty_enet::Packet) -> Packet {
        Packet {
            enet: Some(packet),
            flags: None,
        }
    }

    pub fn enet(&self) -> Option<&rusty_enet::Packet> {
        self.enet.as_ref()
    }
}

/// A rusty_enet packet holding a copy of `data`, sent the way `flags` ask.
pub fn enet_packet(data: &[u8], flags: u32) -> rusty_enet::Packet {
    // UNRELIABLE_FRAGMENT is deliberately unreachable (defect B2 starves the connection), so an
    // unreliable packet larger than the MTU is fragmented reliably, as C ENet does.
    let kind = if flags & FLAG_RELIABLE != 0 {
        rusty_enet::PacketKind::Reliable
    } else {
        rusty_enet::PacketKind::Unreliable {
            sequenced: flags & FLAG_UNSEQUENCED == 0,
        }
    };
    rusty_enet::Packet::new(data.to_vec(), kind)
}

impl UserData for Packet {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| class_methods(lua, "packet"));
        fields.add_meta_field("__name", "ENetPacket");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(match &this.enet {
                Some(p) => format!("ENetPacket({} bytes)", p.data().len()),
                None => "ENetPacket(destroyed)".to_string(),
            })
        });
        #[cfg(any(feature = "lua54", feature = "lua55"))]
        methods.add_meta_method_mut(MetaMethod::Close, |_, this, ()| {
            this.enet = None;
            Ok(())
        });
    }
}

pub fn arg<'a>(value: &'a Value, func: &str, pos: usize) -> Result<&'a AnyUserData> {
    args::userdata::<Packet>(value, func, pos, "ENetPacket")
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.function("packet_create", packet_create)?;
    reg.method("packet_destroy", packet_destroy)?;
    reg.method("packet_data", packet_data)?;
    reg.method("packet_flags", packet_flags)?;
    Ok(())
}

pub fn flags_arg(value: &Value, func: &str, pos: usize) -> Result<u32> {
    let flags = args::opt_integer_in(
        value,
        func,
        pos,
        "flags",
        i64::from(FLAG_RELIABLE),
        0..=i64::from(u32::MAX),
    )? as u32;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(bad_argument(
            func,
            pos,
            format!("unknown packet flags {:#x}", flags & !KNOWN_FLAGS),
        ));
    }
    Ok(flags)
}

fn packet_create(lua: &Lua, (data, flags): (StackBytes, Value)) -> Result<(Value, Option<String>)> {
    let create =
        |bytes: &[u8]| flags_arg(&flags, "packet_create", 2).map(|f| checked_create(bytes, f));
    // SAFETY: within this call.
    let packet = match unsafe { data.with_bytes(create) } {
        Ok(made) => made?,
        Err(other) => return Err(type_error("packet_create", 1, "string", other)),
    };
    Ok(match packet {
        Ok(packet) => (Value::UserData(lua.create_userdata(packet)?), None),
        Err(message) => (Value::Nil, Some(message)),
    })
}

fn checked_create(bytes: &[u8], flags: u32) -> std::result::Result<Packet, String> {
    if bytes.len() > MAX_SIZE {
        return Err(format!(
            "packet too large ({} bytes, limit {MAX_SIZE})",
            bytes.len()
        ));
    }
    Ok(Packet::create(bytes, flags))
}

fn packet_destroy(_: &Lua, packet: Value) -> Result<()> {
    arg(&packet, "packet_destroy", 1)?
        .borrow_mut::<Packet>()?
        .enet = None;
    Ok(())
}

fn packet_data(lua: &Lua, packet: StackUserData<Packet>) -> Result<Option<mlua::LuaString>> {
    let this = packet.get("packet_data", 1, "ENetPacket")?;
    Ok(match &this.enet {
        Some(p) => Some(lua.create_string(p.data())?),
        None => None,
    })
}

fn packet_flags(_: &Lua, packet: Value) -> Result<Option<u32>> {
    let ud = arg(&packet, "packet_flags", 1)?;
    let this = ud.borrow::<Packet>()?;
    Ok(this.enet.as_ref().and(this.flags))
}

/// Packets made from the strings `list[1]` .. `list[#list]`, read with raw C API calls (no mlua
/// reference per element): the bulk path of `peer_send_many`.
pub fn from_list(
    lua: &Lua,
    list: &mlua::Table,
    flags: u32,
    func: &str,
    pos: usize,
) -> Result<Vec<rusty_enet::Packet>> {
    let mut packets = Vec::new();
    let mut bad = None;
    // SAFETY: the closure reads the table exec_raw pushed at index 1 and pops what it pushes;
    // it only converts actual strings, so nothing in it can raise a Lua error.
    unsafe {
        lua.exec_raw::<()>(list, |l| {
            let n = ffi::lua_rawlen(l, 1);
            packets.reserve(n);
            for i in 1..=n {
                ffi::lua_rawgeti(l, 1, i as ffi::lua_Integer);
                if ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
                    ffi::lua_pop(l, 1);
                    bad = Some(i);
                    return;
                }
                let mut len = 0;
                let data = ffi::lua_tolstring(l, -1, &mut len);
                packets.push(enet_packet(
                    std::slice::from_raw_parts(data.cast(), len),
                    flags,
                ));
                ffi::lua_pop(l, 1);
            }
        })?;
    }
    match bad {
        None => Ok(packets),
        Some(i) => Err(bad_argument(
            func,
            pos,
            format!(
                "string expected at index {i}, got {}",
                type_name(&list.raw_get::<Value>(i)?)
            ),
        )),
    }
}

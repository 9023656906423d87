//! ENetPacket: a byte string with delivery flags, kept in the packet userdata itself
//! (src/object.rs). The flags are ours (defect B4: rusty_enet's `Packet::kind()` always answers
//! `Reliable`). Every packet function is a raw function: the seed loop calls them per message.

use std::os::raw::c_int;
use std::ptr;

use mlua::{ffi, Value};

use crate::args::raw as arg;
use crate::error::{raise, type_error, Msg, Result};
use crate::object::{self, upvalue, Class, LuaState, PacketHeader, PACKET_MT, RECEIVED};
use crate::registry::Registry;

pub const FLAG_RELIABLE: u32 = 1;
pub const FLAG_UNSEQUENCED: u32 = 2;
/// Accepted for C compatibility; data is always copied from the Lua string.
pub const FLAG_NO_ALLOCATE: u32 = 4;
const KNOWN_FLAGS: u32 = FLAG_RELIABLE | FLAG_UNSEQUENCED | FLAG_NO_ALLOCATE;
/// ENet's per-packet limit (rusty_enet's default `maximum_packet_size`).
pub const MAX_SIZE: usize = 32 * 1024 * 1024;

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
    rusty_enet::Packet::new(data, kind)
}

/// How a packet object is sent again: its own flags, or reliably for a received one (ENet
/// does not say how that one was sent).
pub fn send_flags(header: &PacketHeader) -> u32 {
    if header.flags == RECEIVED {
        FLAG_RELIABLE
    } else {
        header.flags
    }
}

/// The packet argument of a function written on mlua, as a rusty_enet packet; None for a
/// destroyed one.
pub fn enet_arg(value: &Value, func: &str, pos: usize) -> Result<Option<rusty_enet::Packet>> {
    let Some(p) = object::block_of(value, Class::Packet)? else {
        return Err(type_error(func, pos, "ENetPacket", value));
    };
    let header = p.cast::<PacketHeader>();
    // SAFETY: `value` holds the packet userdata alive for this call.
    unsafe {
        if !(*header).live {
            return Ok(None);
        }
        Ok(Some(enet_packet(
            object::packet_bytes(header),
            send_flags(&*header),
        )))
    }
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.raw_function("packet_create", packet_create)?;
    reg.raw_method("packet_destroy", packet_destroy)?;
    reg.raw_method("packet_data", packet_data)?;
    reg.raw_method("packet_flags", packet_flags)?;
    Ok(())
}

/// Packet flags at `idx`: an integer of known `PACKET_FLAG_*` bits; nil is reliable.
///
/// # Safety
/// As `args::raw::integer`.
pub unsafe fn raw_flags(l: LuaState, idx: c_int, func: &str, pos: c_int) -> arg::Result<u32> {
    let flags = unsafe {
        arg::opt_integer_in(
            l,
            idx,
            func,
            pos,
            "flags",
            i64::from(FLAG_RELIABLE),
            0,
            i64::from(u32::MAX),
        )?
    } as u32;
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Msg::bad_argument(
            func,
            pos,
            format_args!("unknown packet flags {:#x}", flags & !KNOWN_FLAGS),
        ));
    }
    Ok(flags)
}

/// The packet block at `idx`, or the `bad argument` message.
///
/// # Safety
/// Inside a raw function (the packet metatable is an upvalue).
pub unsafe fn raw_arg(
    l: LuaState,
    idx: c_int,
    func: &str,
    pos: c_int,
) -> arg::Result<*mut PacketHeader> {
    unsafe { object::arg::<PacketHeader>(l, idx, (Class::Packet, "ENetPacket"), func, pos) }
}

macro_rules! check {
    ($l:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(m) => raise($l, &m),
        }
    };
}
pub(crate) use check;

/// `packet_create(data, flags?) -> packet | nil, message`.
unsafe extern "C-unwind" fn packet_create(l: LuaState) -> c_int {
    const F: &str = "packet_create";
    // SAFETY: raw function; the bytes stay valid while the string is argument 1.
    unsafe {
        let Some(data) = arg::string(l, 1) else {
            let m = arg::type_error(l, 1, F, 1, "string");
            raise(l, &m)
        };
        let flags = check!(l, raw_flags(l, 2, F, 2));
        if data.len() > MAX_SIZE {
            let m = Msg::of(format_args!(
                "packet too large ({} bytes, limit {MAX_SIZE})",
                data.len()
            ));
            ffi::lua_pushnil(l);
            m.push(l);
            return 2;
        }
        let dst = object::new_packet(l, upvalue(PACKET_MT), data.len(), flags);
        ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len());
        1
    }
}

/// `packet_destroy(packet)`: afterwards the packet has no data; its memory goes with the
/// userdata.
unsafe extern "C-unwind" fn packet_destroy(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = check!(l, raw_arg(l, 1, "packet_destroy", 1));
        (*p).live = false;
        0
    }
}

/// `packet_data(packet) -> data | nil`.
unsafe extern "C-unwind" fn packet_data(l: LuaState) -> c_int {
    // SAFETY: raw function. The packet stays alive as argument 1 while its bytes are copied;
    // a finalizer that the allocation runs can only mark it destroyed, not free the bytes.
    unsafe {
        let p = check!(l, raw_arg(l, 1, "packet_data", 1));
        if (*p).live {
            let bytes = object::packet_bytes(p);
            ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len());
        } else {
            ffi::lua_pushnil(l);
        }
        1
    }
}

/// `packet_flags(packet) -> flags | nil`.
unsafe extern "C-unwind" fn packet_flags(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = check!(l, raw_arg(l, 1, "packet_flags", 1));
        if (*p).live && (*p).flags != RECEIVED {
            ffi::lua_pushinteger(l, ffi::lua_Integer::from((*p).flags));
        } else {
            ffi::lua_pushnil(l);
        }
        1
    }
}

/// `__tostring`: `ENetPacket(13 bytes)` or `ENetPacket(destroyed)`.
pub unsafe extern "C-unwind" fn tostring(l: LuaState) -> c_int {
    // SAFETY: raw function; the block is argument 1's.
    unsafe {
        let p = check!(l, raw_arg(l, 1, "__tostring", 1));
        let m = if (*p).live {
            Msg::of(format_args!("ENetPacket({} bytes)", (*p).len))
        } else {
            Msg::of("ENetPacket(destroyed)")
        };
        m.push(l);
        1
    }
}

/// `__close` (Lua 5.4+): the packet is destroyed when its variable goes out of scope.
#[cfg(any(feature = "lua54", feature = "lua55"))]
pub unsafe extern "C-unwind" fn close(l: LuaState) -> c_int {
    unsafe { packet_destroy(l) }
}

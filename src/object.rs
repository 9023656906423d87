//! Hosts, peers and packets as userdata whose memory layout is ours, so the hot calls can be
//! raw `lua_CFunction`s on Lua's C API instead of going through mlua's callback and userdata
//! layers (about 1 500 instructions per call; docs/performance.md).
//!
//! A userdata is one of ours when its first word is the tag of its class for its own address
//! ([`tag`]): two C API calls (`lua_touserdata`, `lua_rawlen`) and a compare, where checking
//! the metatable took four (docs/performance.md). Bytes copied into a userdata from elsewhere
//! (a payload) cannot carry a valid tag, as it depends on where the block is; Lua code cannot
//! write into userdata memory at all. The class metatables (one per class and Lua state, kept
//! in a registry table under a static address and in the raw functions' upvalues) give the
//! objects their methods and finalizers.
//!
//! The rules every raw function follows (issue 13's error safety; docs/reliability.md):
//! - a C API call that can raise (anything that allocates, and so may run a finalizer that
//!   errors) is made only while no Rust value with a destructor is alive in the Rust frames it
//!   would jump over, and while no host's `RefCell` is borrowed;
//! - Rust work (rusty_enet, borrows, formatting) runs inside [`rust`], which stops panics at
//!   the boundary, and never calls a C API function that can raise;
//! - errors are raised with [`raise`], once the message sits in a plain stack buffer.

use std::ffi::c_void;
use std::mem::size_of;
use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::rc::Rc;

use mlua::{ffi, AnyUserData, Function, IntoLuaMulti, Lua, Table, Value};

use crate::error::Msg;
use crate::host::Shared;

pub type LuaState = *mut ffi::lua_State;

// The upvalues every raw function gets, in this order (`push_upvalues`): the class metatables,
// then strings used as table keys and values. Held there, a string is pushed without hashing
// or allocating, so filling a pre-sized table never allocates.
pub const HOST_MT: c_int = 1;
pub const PEER_MT: c_int = 2;
pub const PACKET_MT: c_int = 3;
const STRINGS: [&str; 9] = [
    "type",
    "peer",
    "channelID",
    "data",
    "packet",
    "reason",
    "payload",
    "disconnect",
    "timeout",
];
pub const S_TYPE: c_int = 4;
pub const S_PEER: c_int = 5;
pub const S_CHANNEL_ID: c_int = 6;
pub const S_DATA: c_int = 7;
pub const S_PACKET: c_int = 8;
pub const S_REASON: c_int = 9;
pub const S_PAYLOAD: c_int = 10;
pub const S_DISCONNECT: c_int = 11;
pub const S_TIMEOUT: c_int = 12;
/// The number of standard upvalues; a function's own extra upvalues follow them.
pub const UPVALUES: c_int = 12;
/// Past the upvalues, the context table keeps the metatable of the hosts' weak peer caches.
const WEAK_MT: c_int = UPVALUES + 1;

/// Its address is the registry key of the context table.
static CONTEXT: u8 = 0;

fn context_key() -> *const c_void {
    ptr::addr_of!(CONTEXT).cast()
}

/// The pseudo-index of upvalue `i` of the running raw function.
#[inline(always)]
pub fn upvalue(i: c_int) -> c_int {
    ffi::lua_upvalueindex(i)
}

/// An ENetHost. The user value is the weak-valued peer cache: `slot + 1` -> the handle of the
/// slot's current (or last) connection, so one connection is always the same Lua object.
#[repr(C)]
pub struct HostBlock {
    /// [`tag`] of the block for [`Class::Host`] or [`Class::HostProxy`].
    pub tag: usize,
    /// None once `__gc` ran (a finalizer elsewhere may still reach a collected object).
    pub state: Option<Shared>,
}

/// An ENetPeer: a handle on connection `generation` of `slot`.
#[repr(C)]
pub struct PeerBlock {
    /// [`tag`] of the block for [`Class::Peer`] or [`Class::PeerProxy`].
    pub tag: usize,
    pub host: Option<Shared>,
    pub slot: usize,
    pub generation: u64,
}

/// An ENetPacket: this header, then the payload itself (`len` bytes). Keeping the bytes in the
/// userdata means no `__gc` (a finalizer per message costs a call and an extra collection
/// cycle) and memory the collector sees; `packet_destroy` only marks the packet.
#[repr(C)]
pub struct PacketHeader {
    /// [`tag`] of the block for [`Class::Packet`].
    pub tag: usize,
    pub len: usize,
    /// `packet_create`'s flags, or [`RECEIVED`].
    pub flags: u32,
    pub live: bool,
}

/// The flags of a received packet: ENet does not say how it was sent.
pub const RECEIVED: u32 = u32::MAX;
/// Where a packet's payload starts in its userdata (a multiple of the userdata alignment).
const PACKET_DATA: usize = (size_of::<PacketHeader>() + 15) & !15;

/// The kinds of block; compat's proxies share the layouts of hosts and peers, not their class.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Class {
    Host = 1,
    Peer = 2,
    Packet = 3,
    HostProxy = 4,
    PeerProxy = 5,
}

impl Class {
    /// The least size of a userdata of the class (packets add their payload).
    fn size(self) -> usize {
        match self {
            Class::Host | Class::HostProxy => size_of::<HostBlock>(),
            Class::Peer | Class::PeerProxy => size_of::<PeerBlock>(),
            Class::Packet => PACKET_DATA,
        }
    }
}

/// The tag a block of class `class` at `p` starts with: its address, scrambled, with the class
/// in the low bits (blocks are 8-aligned).
#[inline(always)]
pub fn tag(p: *const c_void, class: Class) -> usize {
    ((p as usize) ^ 0x6d6f_6475_6c65_5f65_u64 as usize).rotate_left(23) ^ class as usize
}

// Lua aligns userdata memory for any C type (at least 8 bytes); the blocks need no more.
const _: () = assert!(std::mem::align_of::<HostBlock>() <= 8);
const _: () = assert!(std::mem::align_of::<PeerBlock>() <= 8);
const _: () = assert!(std::mem::align_of::<PacketHeader>() <= 8);

/// A new full userdata of `size` bytes with `user_values` user values (Lua 5.4+; earlier
/// versions have exactly one, their environment or user value).
///
/// # Safety
/// Raises on allocation failure: see the module rules.
#[inline]
pub unsafe fn new_userdata(l: LuaState, size: usize, user_values: c_int) -> *mut c_void {
    #[cfg(any(feature = "lua54", feature = "lua55"))]
    {
        unsafe { ffi::lua_newuserdatauv(l, size, user_values) }
    }
    #[cfg(not(any(feature = "lua54", feature = "lua55")))]
    {
        let _ = user_values;
        unsafe { ffi::lua_newuserdata(l, size) }
    }
}

/// The block of type `T` at `idx` whose metatable is upvalue `mt`, or the `bad argument`
/// message naming `class`.
///
/// # Safety
/// Inside a raw function (the class metatables are its upvalues).
#[inline]
pub unsafe fn arg<T>(
    l: LuaState,
    idx: c_int,
    (class, name): (Class, &str),
    func: &str,
    pos: c_int,
) -> crate::args::raw::Result<*mut T> {
    unsafe {
        let p = block(l, idx, class).cast::<T>();
        if p.is_null() {
            Err(arg_error(l, idx, name, func, pos))
        } else {
            Ok(p)
        }
    }
}

/// [`arg`]'s message, out of line: every message passes through `arg`, no message is made.
#[cold]
#[inline(never)]
unsafe fn arg_error(l: LuaState, idx: c_int, name: &str, func: &str, pos: c_int) -> Msg {
    unsafe { crate::args::raw::type_error(l, idx, func, pos, name) }
}

/// The block of the userdata at `idx` when it is one of class `class`, else null:
/// `luaL_testudata`'s answer, from the block's tag instead of its metatable. Neither raises nor
/// allocates.
///
/// # Safety
/// `idx` must be an acceptable index of `l`.
#[inline]
pub unsafe fn block(l: LuaState, idx: c_int, class: Class) -> *mut c_void {
    unsafe {
        let p = ffi::lua_touserdata(l, idx);
        // A light userdata has length 0; a full one at least `size` bytes is readable up to
        // there, and Lua aligns it for any C type.
        if p.is_null() || ffi::lua_rawlen(l, idx) < class.size() {
            return ptr::null_mut();
        }
        if *p.cast::<usize>() == tag(p, class) {
            p
        } else {
            ptr::null_mut()
        }
    }
}

/// Why Rust work did not finish: it panicked (a bug). The panic stopped at [`rust`].
pub struct Panicked;

/// Runs Rust work that makes no Lua call that can raise. A panic stops here instead of
/// unwinding into Lua's C frames (the payload is dropped here too).
pub fn rust<R>(work: impl FnOnce() -> R) -> Result<R, Panicked> {
    catch_unwind(AssertUnwindSafe(work)).map_err(|_| Panicked)
}

/// [`rust`], raising a plain error naming `func` if the work panicked.
///
/// # Safety
/// May raise: no Rust value with a destructor may be alive in the caller's frames.
#[inline]
pub unsafe fn rust_or_raise<R>(l: LuaState, func: &str, work: impl FnOnce() -> R) -> R {
    match rust(work) {
        Ok(r) => r,
        Err(Panicked) => {
            let msg = Msg::internal(func);
            unsafe { crate::error::raise(l, &msg) }
        }
    }
}

/// Pushes a new packet userdata for `len` bytes and returns where the bytes go (not yet
/// written). `mt` is the packet metatable (an upvalue or absolute index).
///
/// # Safety
/// Raises on allocation failure: see the module rules.
pub unsafe fn new_packet(l: LuaState, mt: c_int, len: usize, flags: u32) -> *mut u8 {
    unsafe {
        let p = new_userdata(l, PACKET_DATA.saturating_add(len), 0).cast::<u8>();
        ptr::write(
            p.cast::<PacketHeader>(),
            PacketHeader {
                tag: tag(p.cast(), Class::Packet),
                len,
                flags,
                live: true,
            },
        );
        ffi::lua_pushvalue(l, mt);
        ffi::lua_setmetatable(l, -2);
        p.add(PACKET_DATA)
    }
}

/// The payload of a packet block.
///
/// # Safety
/// `header` must be the block of a packet userdata (made by `new_packet`) that is alive.
pub unsafe fn packet_bytes<'a>(header: *const PacketHeader) -> &'a [u8] {
    unsafe { std::slice::from_raw_parts(header.cast::<u8>().add(PACKET_DATA), (*header).len) }
}

/// Pushes the handle of connection `generation` of `slot`: the cached one, or a new one that
/// is then cached. `cache` is the absolute index of the host's peer cache, `mt` the peer
/// metatable (upvalue or absolute index).
///
/// # Safety
/// Raises on allocation failure: see the module rules. `state` must outlive the call (it is
/// the host's, kept by the host userdata on the stack).
pub unsafe fn push_peer(
    l: LuaState,
    cache: c_int,
    mt: c_int,
    state: &Shared,
    slot: usize,
    generation: u64,
) {
    // Slots are below host::MAX_PEERS, so the key fits every Lua's integer and c_int.
    let key = slot as ffi::lua_Integer + 1;
    unsafe {
        ffi::lua_rawgeti(l, cache, key);
        let top = ffi::lua_gettop(l);
        let cached = block(l, top, Class::Peer).cast::<PeerBlock>();
        if !cached.is_null() && (*cached).generation == generation && (*cached).host.is_some() {
            return;
        }
        ffi::lua_pop(l, 1);
        let p = new_userdata(l, size_of::<PeerBlock>(), 0).cast::<PeerBlock>();
        // No allocation between the clone and the write: the Rc is never loose in a frame.
        ptr::write(
            p,
            PeerBlock {
                tag: tag(p.cast(), Class::Peer),
                host: Some(Rc::clone(state)),
                slot,
                generation,
            },
        );
        ffi::lua_pushvalue(l, mt);
        ffi::lua_setmetatable(l, -2);
        ffi::lua_pushvalue(l, -1);
        ffi::lua_rawseti(l, cache, key);
    }
}

/// Stack slots the closures run by `exec_raw` use at most (mlua guarantees only 3), beyond the
/// upvalues `function` pushes.
const ROOM: c_int = 16;

/// Makes room for `n` more values on the stack, raising "stack overflow" (inside a protected
/// call) if there is none.
///
/// # Safety
/// Inside a protected call.
unsafe fn room(l: LuaState, n: c_int) {
    unsafe { ffi::luaL_checkstack(l, n, c"module_enet".as_ptr()) }
}

/// Pushes the context table (creating it on first use).
///
/// # Safety
/// Inside a protected call (it may allocate).
unsafe fn push_context(l: LuaState) {
    unsafe {
        if ffi::lua_rawgetp(l, ffi::LUA_REGISTRYINDEX, context_key()) != ffi::LUA_TTABLE {
            ffi::lua_pop(l, 1);
            ffi::lua_createtable(l, WEAK_MT, 0);
            ffi::lua_pushvalue(l, -1);
            ffi::lua_rawsetp(l, ffi::LUA_REGISTRYINDEX, context_key());
        }
    }
}

/// Pushes the standard upvalues, in order.
///
/// # Safety
/// Inside a protected call, after [`setup`].
unsafe fn push_upvalues(l: LuaState) {
    unsafe {
        push_context(l);
        let ctx = ffi::lua_gettop(l);
        for i in 1..=UPVALUES {
            ffi::lua_rawgeti(l, ctx, ffi::lua_Integer::from(i));
        }
        ffi::lua_remove(l, ctx);
    }
}

/// A raw function with the standard upvalues, then `extra` as upvalues `UPVALUES + 1`...
pub fn function(
    lua: &Lua,
    f: ffi::lua_CFunction,
    extra: impl IntoLuaMulti,
) -> mlua::Result<Function> {
    // SAFETY: exec_raw runs the closure in a protected call with `extra` at 1..=k; it leaves
    // exactly the closure on the stack. It captures nothing that owns memory.
    unsafe {
        lua.exec_raw(extra, |l| {
            let k = ffi::lua_gettop(l);
            room(l, ROOM + UPVALUES + k);
            push_upvalues(l);
            for i in 1..=k {
                ffi::lua_pushvalue(l, i);
            }
            ffi::lua_pushcclosure(l, f, UPVALUES + k);
            ffi::lua_insert(l, 1);
            ffi::lua_settop(l, 1);
        })
    }
}

/// The metamethods of one class (each a raw function).
pub struct Metamethods {
    pub gc: Option<ffi::lua_CFunction>,
    pub tostring: ffi::lua_CFunction,
    pub close: Option<ffi::lua_CFunction>,
}

/// Makes, once per Lua state, the class metatables and the strings, and (re)sets each class's
/// `__index` to its method table. A second `require` keeps the metatables, so objects made
/// before it stay recognised.
pub fn setup(lua: &Lua, classes: [(&str, &Table, Metamethods); 3]) -> mlua::Result<()> {
    // SAFETY: protected call; the closure leaves the stack as it found it and owns nothing.
    unsafe {
        lua.exec_raw::<()>((), |l| {
            room(l, ROOM);
            push_context(l);
            let ctx = ffi::lua_gettop(l);
            for class in [HOST_MT, PEER_MT, PACKET_MT] {
                if ffi::lua_rawgeti(l, ctx, ffi::lua_Integer::from(class)) != ffi::LUA_TTABLE {
                    ffi::lua_createtable(l, 0, 8);
                    ffi::lua_rawseti(l, ctx, ffi::lua_Integer::from(class));
                }
                ffi::lua_pop(l, 1);
            }
            for (i, s) in STRINGS.iter().enumerate() {
                ffi::lua_pushlstring(l, s.as_ptr().cast(), s.len());
                ffi::lua_rawseti(
                    l,
                    ctx,
                    ffi::lua_Integer::from(S_TYPE) + i as ffi::lua_Integer,
                );
            }
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushlstring(l, c"__mode".as_ptr(), 6);
            ffi::lua_pushlstring(l, c"v".as_ptr(), 1);
            ffi::lua_rawset(l, -3);
            ffi::lua_rawseti(l, ctx, ffi::lua_Integer::from(WEAK_MT));
            ffi::lua_pop(l, 1);
        })?;
    }
    for (mt_index, (name, methods, meta)) in [HOST_MT, PEER_MT, PACKET_MT].into_iter().zip(classes)
    {
        let mt = class_metatable(lua, mt_index)?;
        mt.raw_set("__index", methods)?;
        mt.raw_set("__name", name)?;
        mt.raw_set("__tostring", function(lua, meta.tostring, ())?)?;
        if let Some(gc) = meta.gc {
            mt.raw_set("__gc", function(lua, gc, ())?)?;
        }
        if let Some(close) = meta.close {
            mt.raw_set("__close", function(lua, close, ())?)?;
        }
    }
    Ok(())
}

fn class_metatable(lua: &Lua, class: c_int) -> mlua::Result<Table> {
    // SAFETY: protected call leaving exactly the metatable on the stack.
    unsafe {
        lua.exec_raw((), |l| {
            room(l, ROOM);
            push_context(l);
            ffi::lua_rawgeti(l, -1, ffi::lua_Integer::from(class));
            ffi::lua_remove(l, -2);
        })
    }
}

/// The block of `value` if it is a userdata of class `class`, for functions written on mlua.
/// The pointer is valid while `value` is. The check runs in a protected call (mlua pushes the
/// value there), which can fail like any allocation: that error is passed on.
pub fn block_of(value: &Value, class: Class) -> mlua::Result<Option<*mut c_void>> {
    let Value::UserData(ud) = value else {
        return Ok(None);
    };
    let lua = lua_of(ud);
    let mut found = ptr::null_mut();
    // SAFETY: protected call with the userdata at 1; reads only.
    unsafe {
        lua.exec_raw::<()>(ud, |l| {
            found = block(l, 1, class);
            ffi::lua_settop(l, 0);
        })?;
    }
    Ok((!found.is_null()).then_some(found))
}

/// The Lua state a userdata lives in. Functions written on mlua receive their arguments as
/// values; the state is alive while one of its values is (we run inside one of its calls).
fn lua_of(ud: &AnyUserData) -> Lua {
    ud.weak_lua().upgrade()
}

/// A new host userdata owning `state`, with an empty weak peer cache as its user value.
pub fn new_host(lua: &Lua, state: Shared) -> mlua::Result<AnyUserData> {
    let mut state = Some(state);
    let slot = &mut state;
    // SAFETY: protected call. Every allocation happens before the Rc moves from the caller's
    // frame into the block (after which nothing can raise), so a memory error leaves the Rc
    // with the caller, who drops it. The block is valid (state None) from the moment it exists,
    // so `__gc` may run on it at any time.
    unsafe {
        lua.exec_raw((), |l| {
            room(l, ROOM);
            push_context(l);
            let ctx = ffi::lua_gettop(l);
            let p = new_userdata(l, size_of::<HostBlock>(), 1).cast::<HostBlock>();
            ptr::write(
                p,
                HostBlock {
                    tag: tag(p.cast(), Class::Host),
                    state: None,
                },
            );
            ffi::lua_rawgeti(l, ctx, ffi::lua_Integer::from(HOST_MT));
            ffi::lua_setmetatable(l, -2);
            ffi::lua_createtable(l, 0, 0);
            ffi::lua_rawgeti(l, ctx, ffi::lua_Integer::from(WEAK_MT));
            ffi::lua_setmetatable(l, -2);
            ffi::lua_setuservalue(l, -2);
            ffi::lua_remove(l, ctx);
            (*p).state = slot.take();
        })
    }
}

/// The handle of connection `generation` of `slot` of the host `host_ud` (whose state is
/// `state`): the cached one or a new one.
pub fn peer_userdata(
    host_ud: &AnyUserData,
    state: &Shared,
    slot: usize,
    generation: u64,
) -> mlua::Result<AnyUserData> {
    let lua = lua_of(host_ud);
    // SAFETY: protected call with the host at 1; `push_peer` follows the module rules and the
    // closure owns nothing. Leaves exactly the handle on the stack.
    unsafe {
        lua.exec_raw(host_ud, |l| {
            room(l, ROOM);
            push_context(l);
            ffi::lua_rawgeti(l, -1, ffi::lua_Integer::from(PEER_MT));
            let mt = ffi::lua_gettop(l);
            ffi::lua_getuservalue(l, 1);
            let cache = ffi::lua_gettop(l);
            if ffi::lua_type(l, cache) == ffi::LUA_TTABLE {
                push_peer(l, cache, mt, state, slot, generation);
            } else {
                ffi::lua_pushnil(l);
            }
            ffi::lua_replace(l, 1);
            ffi::lua_settop(l, 1);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_known_by_its_own_tag_only() {
        let lua = Lua::new();
        let mut found = [ptr::null_mut::<c_void>(); 6];
        let mut real = ptr::null_mut::<c_void>();
        // SAFETY: protected call; plain userdata without metatables, read back at once.
        unsafe {
            lua.exec_raw::<()>((), |l| {
                let size = size_of::<PeerBlock>();
                real = new_userdata(l, size, 0);
                *real.cast::<usize>() = tag(real, Class::Peer);
                // The same bytes elsewhere: a payload copied into a userdata, say.
                let copy = new_userdata(l, size, 0);
                ptr::copy_nonoverlapping(real.cast::<u8>(), copy.cast::<u8>(), size);
                let short = new_userdata(l, size - 1, 0);
                ptr::write_bytes(short.cast::<u8>(), 0, size - 1);
                ffi::lua_pushlightuserdata(l, real);
                found = [
                    block(l, 1, Class::Peer),
                    block(l, 2, Class::Peer),
                    block(l, 1, Class::PeerProxy),
                    block(l, 1, Class::Host),
                    block(l, 3, Class::Peer),
                    block(l, 4, Class::Peer),
                ];
                ffi::lua_settop(l, 0);
            })
            .unwrap();
        }
        assert_eq!(found[0], real, "the block itself");
        assert!(found[1..].iter().all(|p| p.is_null()), "{found:?}");
    }
}

//! One error type for every Lua-facing function, and the plain-string errors of the raw ones.
//!
//! mlua raises Rust errors as userdata wrapped with a traceback, which is not what a Lua
//! programmer expects from a library (`err:match(...)` fails on it). So misuse in a function
//! written on mlua travels back to a tiny Lua wrapper as a sentinel plus a message, and the
//! wrapper calls `error(msg, 2)`; the raw functions (src/object.rs) raise the same message
//! themselves with [`raise`]. Either way the error is a plain string with the caller's
//! position, exactly like the standard library's.

use std::fmt::{self, Display, Write};
use std::os::raw::c_int;

use mlua::{ffi, AnyUserData, Value};

/// What a Lua-facing function can fail with besides its documented failure values.
#[derive(Debug)]
pub enum Error {
    /// Wrong argument type or value: raised as a Lua error string.
    Misuse(String),
    /// An error from the Lua runtime itself (out of memory and the like).
    Lua(mlua::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<mlua::Error> for Error {
    fn from(err: mlua::Error) -> Self {
        Error::Lua(err)
    }
}

/// `bad argument #2 to 'peer_send' (number expected, got nil)`, as luaL_argerror words it.
pub fn bad_argument(func: &str, pos: usize, detail: impl Display) -> Error {
    Error::Misuse(format!("bad argument #{pos} to '{func}' ({detail})"))
}

/// `bad argument ... (ENetHost expected, got number)`.
pub fn type_error(func: &str, pos: usize, expected: &str, got: &Value) -> Error {
    bad_argument(
        func,
        pos,
        format!("{expected} expected, got {}", type_name(got)),
    )
}

/// Lua's name for a value's type, with our userdata named after their class.
pub fn type_name(value: &Value) -> String {
    match value {
        Value::UserData(ud) => userdata_name(ud).into(),
        Value::Integer(_) | Value::Number(_) => "number".into(),
        Value::LightUserData(_) => "userdata".into(),
        other => other.type_name().into(),
    }
}

/// The classes a message names; any other userdata is just "userdata".
const CLASS_NAMES: [&str; 4] = ["ENetHost", "ENetPeer", "ENetPacket", "ENetResolveRequest"];

fn class_name(name: &[u8]) -> &'static str {
    CLASS_NAMES
        .into_iter()
        .find(|c| c.as_bytes() == name)
        .unwrap_or("userdata")
}

fn userdata_name(ud: &AnyUserData) -> &'static str {
    match ud.type_name() {
        Ok(name) => class_name(&name.as_bytes()),
        Err(_) => "userdata",
    }
}

/// A message for the raw functions, built in a fixed buffer on the stack: nothing to free when
/// `raise` leaves the frame by `longjmp` (or a C++ exception).
#[derive(Clone, Copy)]
pub struct Msg {
    len: usize,
    buf: [u8; 256],
}

impl Msg {
    pub fn new() -> Msg {
        Msg {
            len: 0,
            buf: [0; 256],
        }
    }

    /// The message `fmt` prints (cut at 256 bytes).
    pub fn of(text: impl Display) -> Msg {
        let mut m = Msg::new();
        let _ = write!(m, "{text}");
        m
    }

    /// `bad argument #pos to 'func' (detail)`.
    pub fn bad_argument(func: &str, pos: c_int, detail: impl Display) -> Msg {
        Msg::of(format_args!("bad argument #{pos} to '{func}' ({detail})"))
    }

    pub fn internal(func: &str) -> Msg {
        Msg::of(format_args!(
            "module_enet: internal error in '{func}' (a panic; please report it)"
        ))
    }

    pub fn busy(func: &str) -> Msg {
        Msg::of(format_args!(
            "'{func}' called while the host is busy (re-entrant call from a __gc?)"
        ))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len.min(self.buf.len())]
    }

    /// Pushes the message as a Lua string.
    ///
    /// # Safety
    /// Allocates, so may raise: see src/object.rs.
    pub unsafe fn push(&self, l: *mut ffi::lua_State) {
        let bytes = self.as_bytes();
        unsafe {
            ffi::lua_pushlstring(l, bytes.as_ptr().cast(), bytes.len());
        }
    }
}

impl Default for Msg {
    fn default() -> Self {
        Msg::new()
    }
}

impl Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always UTF-8: `write_str` cuts only at character boundaries.
        f.write_str(std::str::from_utf8(self.as_bytes()).unwrap_or("?"))
    }
}

impl Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

/// Raises `msg` with the caller's position, as `luaL_error` does.
///
/// # Safety
/// Never returns: no Rust value with a destructor may be alive in the frames between here and
/// Lua (src/object.rs).
pub unsafe fn raise(l: *mut ffi::lua_State, msg: &Msg) -> ! {
    unsafe {
        ffi::luaL_where(l, 1);
        msg.push(l);
        ffi::lua_concat(l, 2);
        ffi::lua_error(l)
    }
}

/// The type name of the value at `idx` for a message: our classes by name (their `__name`),
/// other userdata as "userdata", the rest as Lua names them.
///
/// # Safety
/// May allocate (error paths only).
pub unsafe fn raw_type_name(l: *mut ffi::lua_State, idx: c_int) -> &'static str {
    unsafe {
        match ffi::lua_type(l, idx) {
            ffi::LUA_TNONE | ffi::LUA_TNIL => "nil",
            ffi::LUA_TUSERDATA => {
                let mut name = "userdata";
                if ffi::luaL_getmetafield(l, idx, c"__name".as_ptr()) != 0 {
                    if ffi::lua_type(l, -1) == ffi::LUA_TSTRING {
                        let mut len = 0;
                        let p = ffi::lua_tolstring(l, -1, &mut len);
                        name = class_name(std::slice::from_raw_parts(p.cast(), len));
                    }
                    ffi::lua_pop(l, 1);
                }
                name
            }
            ffi::LUA_TLIGHTUSERDATA => "userdata",
            t => {
                let p = ffi::lua_typename(l, t);
                if p.is_null() {
                    "?"
                } else {
                    std::ffi::CStr::from_ptr(p).to_str().unwrap_or("?")
                }
            }
        }
    }
}

//! One error type for every Lua-facing function.
//!
//! mlua raises Rust errors as userdata wrapped with a traceback, which is not what a Lua
//! programmer expects from a library (`err:match(...)` fails on it). So misuse travels back to a
//! tiny Lua wrapper as a sentinel plus a message, and the wrapper calls `error(msg, 2)`: the
//! error is a plain string with the caller's position, exactly like the standard library's.

use std::fmt::Display;

use mlua::{AnyUserData, Value};

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
        Value::UserData(ud) => userdata_name(ud),
        Value::Integer(_) | Value::Number(_) => "number".into(),
        Value::LightUserData(_) => "userdata".into(),
        other => other.type_name().into(),
    }
}

fn userdata_name(ud: &AnyUserData) -> String {
    if ud.is::<crate::host::Host>() {
        "ENetHost".into()
    } else if ud.is::<crate::peer::Peer>() {
        "ENetPeer".into()
    } else if ud.is::<crate::packet::Packet>() {
        "ENetPacket".into()
    } else if ud.is::<crate::resolve::Request>() {
        "ENetResolveRequest".into()
    } else {
        "userdata".into()
    }
}

//! Argument checking shared by every Lua-facing function: the messages name the function and
//! the argument position the way the standard library does.

use std::ops::RangeInclusive;

use std::os::raw::c_int;

use mlua::state::RawLua;
use mlua::{ffi, FromLua, Lua, Value};

use crate::error::{bad_argument, type_error, Result};

/// An integer argument: a Lua integer, or a float with an exact integer value.
pub fn integer(value: &Value, func: &str, pos: usize) -> Result<i64> {
    match value {
        Value::Integer(i) => Ok(*i),
        Value::Number(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.2e18 => Ok(*n as i64),
        Value::Number(_) => Err(bad_argument(
            func,
            pos,
            "number has no integer representation",
        )),
        other => Err(type_error(func, pos, "number", other)),
    }
}

/// An integer argument within `range`; nil gives `default`.
pub fn opt_integer_in(
    value: &Value,
    func: &str,
    pos: usize,
    name: &str,
    default: i64,
    range: RangeInclusive<i64>,
) -> Result<i64> {
    if value.is_nil() {
        return Ok(default);
    }
    integer_in(value, func, pos, name, range)
}

/// A required integer argument within `range`.
pub fn integer_in(
    value: &Value,
    func: &str,
    pos: usize,
    name: &str,
    range: RangeInclusive<i64>,
) -> Result<i64> {
    let n = integer(value, func, pos)?;
    if range.contains(&n) {
        Ok(n)
    } else {
        let (lo, hi) = (range.start(), range.end());
        Err(bad_argument(
            func,
            pos,
            format!("{name} must be between {lo} and {hi}, got {n}"),
        ))
    }
}

/// A 32-bit unsigned integer (ENet's `data` values); nil gives 0.
pub fn opt_u32(value: &Value, func: &str, pos: usize, name: &str) -> Result<u32> {
    let n = opt_integer_in(value, func, pos, name, 0, 0..=i64::from(u32::MAX))?;
    Ok(u32::try_from(n).unwrap_or_default())
}

/// A millisecond count (timeouts, intervals): a non-negative finite number, rounded up.
pub fn opt_millis(value: &Value, func: &str, pos: usize, default: u64) -> Result<u64> {
    let n = match value {
        Value::Nil => return Ok(default),
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        other => return Err(type_error(func, pos, "number", other)),
    };
    if n.is_nan() || n < 0.0 {
        return Err(bad_argument(
            func,
            pos,
            "timeout must be a non-negative number of milliseconds",
        ));
    }
    // Clamp absurd values to about 49 days, the range of ENet's 32-bit millisecond clock.
    Ok(n.min(f64::from(u32::MAX)).ceil() as u64)
}

/// A userdata argument of our class `T` (`class` is its Lua-visible name, e.g. `ENetHost`).
pub fn userdata<'a, T: 'static>(
    value: &'a Value,
    func: &str,
    pos: usize,
    class: &str,
) -> Result<&'a mlua::AnyUserData> {
    match value {
        Value::UserData(ud) if ud.is::<T>() => Ok(ud),
        other => Err(type_error(func, pos, class, other)),
    }
}

/// An optional boolean (nil is false).
pub fn opt_boolean(value: &Value, func: &str, pos: usize) -> Result<bool> {
    match value {
        Value::Nil => Ok(false),
        Value::Boolean(b) => Ok(*b),
        other => Err(type_error(func, pos, "boolean", other)),
    }
}

/// An argument that is usually a string, read off the Lua stack without taking an mlua
/// reference (which costs a slot in mlua's reference thread and a drop): `peer_send`'s data.
pub enum StackBytes {
    /// A string argument: its bytes, valid only while the called function runs (the string
    /// stays on the Lua stack, alive and unmoved, until it returns).
    Bytes(*const u8, usize),
    /// Anything else.
    Other(Value),
}

impl StackBytes {
    /// `f` of the bytes of a string argument, or the argument itself when it is not a string.
    ///
    /// # Safety
    /// Only inside the Rust function this argument was passed to: a `Bytes` points into a Lua
    /// string that stays alive only while that call runs.
    pub unsafe fn with_bytes<R>(
        &self,
        f: impl FnOnce(&[u8]) -> R,
    ) -> std::result::Result<R, &Value> {
        match self {
            // SAFETY: as above; Lua strings are immutable.
            StackBytes::Bytes(data, len) => {
                Ok(f(unsafe { std::slice::from_raw_parts(*data, *len) }))
            }
            StackBytes::Other(Value::String(s)) => Ok(f(&s.as_bytes())),
            StackBytes::Other(other) => Err(other),
        }
    }
}

impl FromLua for StackBytes {
    fn from_lua(value: Value, _: &Lua) -> mlua::Result<Self> {
        // Not read off the stack: keep the reference, so the string stays alive.
        Ok(StackBytes::Other(value))
    }

    unsafe fn from_stack(idx: c_int, lua: &RawLua) -> mlua::Result<Self> {
        let state = lua.state();
        // SAFETY: idx is an argument slot of the running call (mlua's from_stack contract).
        unsafe {
            if ffi::lua_type(state, idx) == ffi::LUA_TSTRING {
                let mut len = 0;
                let data = ffi::lua_tolstring(state, idx, &mut len);
                return Ok(StackBytes::Bytes(data.cast(), len));
            }
            Ok(StackBytes::Other(Value::from_stack(idx, lua)?))
        }
    }
}

/// A userdata argument of class `T`, borrowed straight off the Lua stack (no mlua reference);
/// anything else is kept as a `Value` for the error message.
pub enum StackUserData<T: 'static> {
    Borrowed(mlua::UserDataRef<T>),
    Other(Value),
}

impl<T: 'static> StackUserData<T> {
    /// The borrowed `T`, or the `bad argument` error `userdata` would give.
    pub fn get(self, func: &str, pos: usize, class: &str) -> Result<mlua::UserDataRef<T>> {
        match self {
            StackUserData::Borrowed(r) => Ok(r),
            StackUserData::Other(Value::UserData(ud)) if ud.is::<T>() => Ok(ud.borrow::<T>()?),
            StackUserData::Other(other) => Err(type_error(func, pos, class, &other)),
        }
    }
}

impl<T: 'static> FromLua for StackUserData<T> {
    fn from_lua(value: Value, _: &Lua) -> mlua::Result<Self> {
        Ok(StackUserData::Other(value))
    }

    unsafe fn from_stack(idx: c_int, lua: &RawLua) -> mlua::Result<Self> {
        // SAFETY: idx is an argument slot of the running call (mlua's from_stack contract).
        unsafe {
            if ffi::lua_type(lua.state(), idx) == ffi::LUA_TUSERDATA {
                if let Ok(r) = mlua::UserDataRef::<T>::from_stack(idx, lua) {
                    return Ok(StackUserData::Borrowed(r));
                }
            }
            Ok(StackUserData::Other(Value::from_stack(idx, lua)?))
        }
    }
}

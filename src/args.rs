//! Argument checking shared by every Lua-facing function: the messages name the function and
//! the argument position the way the standard library does. [`raw`] reads the same arguments
//! off the Lua stack for the raw functions, with the same rules and messages.

use std::ops::RangeInclusive;

use mlua::Value;

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

/// A userdata argument made by mlua of type `T` (`class` is its Lua-visible name).
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

/// The readers of the raw functions (src/object.rs). `idx` is the stack index, `pos` the
/// position a message names (they differ where a method numbers its arguments without `self`).
/// A reader allocates only to describe a wrong argument, and leaves the stack as it was.
pub mod raw {
    use std::os::raw::c_int;
    use std::ptr;

    use mlua::ffi;

    use crate::error::{raw_type_name, Msg};
    use crate::object::LuaState;

    pub type Result<T> = std::result::Result<T, Msg>;

    /// `bad argument #pos to 'func' (EXPECTED expected, got TYPE)`.
    ///
    /// # Safety
    /// May allocate (to read a userdata's class name).
    pub unsafe fn type_error(
        l: LuaState,
        idx: c_int,
        func: &str,
        pos: c_int,
        expected: &str,
    ) -> Msg {
        let got = unsafe { raw_type_name(l, idx) };
        Msg::bad_argument(func, pos, format_args!("{expected} expected, got {got}"))
    }

    /// Is the argument absent or nil?
    ///
    /// # Safety
    /// `idx` must be an acceptable index.
    pub unsafe fn is_nil(l: LuaState, idx: c_int) -> bool {
        unsafe { ffi::lua_type(l, idx) <= ffi::LUA_TNIL }
    }

    /// A number argument as a float (an integer converted), or None if it is not a number.
    unsafe fn number(l: LuaState, idx: c_int) -> Option<f64> {
        unsafe {
            (ffi::lua_type(l, idx) == ffi::LUA_TNUMBER)
                .then(|| ffi::lua_tonumberx(l, idx, ptr::null_mut()))
        }
    }

    /// An integer: a Lua integer, or a float with an exact integer value.
    ///
    /// # Safety
    /// `idx` must be an acceptable index; allocates only on failure.
    pub unsafe fn integer(l: LuaState, idx: c_int, func: &str, pos: c_int) -> Result<i64> {
        unsafe {
            #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
            if ffi::lua_isinteger(l, idx) != 0 {
                return Ok(ffi::lua_tointegerx(l, idx, ptr::null_mut()));
            }
            match number(l, idx) {
                Some(n) if n.is_finite() && n.fract() == 0.0 && n.abs() < 9.2e18 => Ok(n as i64),
                Some(_) => Err(Msg::bad_argument(
                    func,
                    pos,
                    "number has no integer representation",
                )),
                None => Err(type_error(l, idx, func, pos, "number")),
            }
        }
    }

    /// An integer within `lo..=hi` (`name` is what the message calls it).
    ///
    /// # Safety
    /// As [`integer`].
    pub unsafe fn integer_in(
        l: LuaState,
        idx: c_int,
        func: &str,
        pos: c_int,
        name: &str,
        lo: i64,
        hi: i64,
    ) -> Result<i64> {
        let n = unsafe { integer(l, idx, func, pos)? };
        if (lo..=hi).contains(&n) {
            Ok(n)
        } else {
            Err(Msg::bad_argument(
                func,
                pos,
                format_args!("{name} must be between {lo} and {hi}, got {n}"),
            ))
        }
    }

    /// [`integer_in`], nil giving `default`.
    ///
    /// # Safety
    /// As [`integer`].
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn opt_integer_in(
        l: LuaState,
        idx: c_int,
        func: &str,
        pos: c_int,
        name: &str,
        default: i64,
        lo: i64,
        hi: i64,
    ) -> Result<i64> {
        unsafe {
            if is_nil(l, idx) {
                return Ok(default);
            }
            integer_in(l, idx, func, pos, name, lo, hi)
        }
    }

    /// A millisecond count, as `super::opt_millis`.
    ///
    /// # Safety
    /// As [`integer`].
    pub unsafe fn opt_millis(
        l: LuaState,
        idx: c_int,
        func: &str,
        pos: c_int,
        default: u64,
    ) -> Result<u64> {
        unsafe {
            if is_nil(l, idx) {
                return Ok(default);
            }
            let Some(n) = number(l, idx) else {
                return Err(type_error(l, idx, func, pos, "number"));
            };
            if n.is_nan() || n < 0.0 {
                return Err(Msg::bad_argument(
                    func,
                    pos,
                    "timeout must be a non-negative number of milliseconds",
                ));
            }
            Ok(n.min(f64::from(u32::MAX)).ceil() as u64)
        }
    }

    /// An optional boolean (nil is false).
    ///
    /// # Safety
    /// As [`integer`].
    pub unsafe fn opt_boolean(l: LuaState, idx: c_int, func: &str, pos: c_int) -> Result<bool> {
        unsafe {
            match ffi::lua_type(l, idx) {
                ffi::LUA_TNONE | ffi::LUA_TNIL => Ok(false),
                ffi::LUA_TBOOLEAN => Ok(ffi::lua_toboolean(l, idx) != 0),
                _ => Err(type_error(l, idx, func, pos, "boolean")),
            }
        }
    }

    /// The bytes of a string argument (not a number: no conversion), or None. They stay valid
    /// while the argument is on the stack: Lua never moves or changes a string.
    ///
    /// # Safety
    /// `idx` must be an acceptable index; the slice must not outlive the call.
    pub unsafe fn string<'a>(l: LuaState, idx: c_int) -> Option<&'a [u8]> {
        unsafe {
            if ffi::lua_type(l, idx) != ffi::LUA_TSTRING {
                return None;
            }
            let mut len = 0;
            let p = ffi::lua_tolstring(l, idx, &mut len);
            Some(if len == 0 {
                &[]
            } else {
                std::slice::from_raw_parts(p.cast(), len)
            })
        }
    }
}

//! Argument checking shared by every Lua-facing function: the messages name the function and
//! the argument position the way the standard library does.

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

/// A string argument as bytes (binary-safe).
pub fn bytes<'a>(value: &'a Value, func: &str, pos: usize) -> Result<&'a mlua::LuaString> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(type_error(func, pos, "string", other)),
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

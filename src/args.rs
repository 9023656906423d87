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
        Value::Number(n) => exact_integer(*n)
            .ok_or_else(|| bad_argument(func, pos, "number has no integer representation")),
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
    Ok(ceil_millis(n))
}

/// Below this magnitude a float converts to i64 and back exactly when it is whole.
const I64_RANGE: f64 = 9.2e18;

/// `n` as an i64 if it is a whole number in i64's range. Casts instead of `f64::fract`, which
/// is a libm call on x86-64's baseline (no SSE4.1): this runs for every `peer_send`.
pub fn exact_integer(n: f64) -> Option<i64> {
    // NaN and the infinities fail the range check.
    (n.abs() < I64_RANGE && trunc(n) == n).then_some(n as i64)
}

/// `n` rounded toward zero, as `f64::trunc` (but for the sign of a zero result), without its
/// libm call; beyond i64's range a float is whole already.
pub fn trunc(n: f64) -> f64 {
    if n.abs() < I64_RANGE {
        (n as i64) as f64
    } else {
        n
    }
}

/// A non-negative timeout in milliseconds, rounded up, clamped to about 49 days (the range of
/// ENet's 32-bit millisecond clock). Without `f64::ceil`, a libm call (see `exact_integer`).
pub fn ceil_millis(n: f64) -> u64 {
    let n = n.min(f64::from(u32::MAX));
    // Exact below 2^53; `as` saturates (NaN is 0, but callers reject NaN).
    let whole = n as u64;
    whole + u64::from((whole as f64) < n)
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
                Some(n) => super::exact_integer(n).ok_or_else(|| {
                    Msg::bad_argument(func, pos, "number has no integer representation")
                }),
                None => Err(type_error(l, idx, func, pos, "number")),
            }
        }
    }

    /// The value at `idx`, of Lua type `t`, if it is a Lua integer or a number with an exact
    /// integer value.
    #[inline]
    unsafe fn whole(l: LuaState, idx: c_int, t: c_int) -> Option<i64> {
        if t != ffi::LUA_TNUMBER {
            return None;
        }
        unsafe {
            // Lua 5.3+: an integer, or a float with an exact integer value (one call).
            #[cfg(any(feature = "lua53", feature = "lua54", feature = "lua55"))]
            {
                let mut ok = 0;
                let n = ffi::lua_tointegerx(l, idx, &mut ok);
                (ok != 0).then_some(n)
            }
            #[cfg(not(any(feature = "lua53", feature = "lua54", feature = "lua55")))]
            super::exact_integer(ffi::lua_tonumberx(l, idx, ptr::null_mut()))
        }
    }

    /// An integer within `lo..=hi` (`name` is what the message calls it).
    ///
    /// # Safety
    /// As [`integer`].
    #[inline]
    pub unsafe fn integer_in(
        l: LuaState,
        idx: c_int,
        func: &str,
        pos: c_int,
        name: &str,
        lo: i64,
        hi: i64,
    ) -> Result<i64> {
        unsafe { in_range(l, idx, ffi::lua_type(l, idx), func, pos, name, lo, hi) }
    }

    /// [`integer_in`] for a value of Lua type `t`. Every message passes a channel or flags:
    /// the check inline, the message kept out of line.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn in_range(
        l: LuaState,
        idx: c_int,
        t: c_int,
        func: &str,
        pos: c_int,
        name: &str,
        lo: i64,
        hi: i64,
    ) -> Result<i64> {
        match unsafe { whole(l, idx, t) } {
            Some(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => unsafe { integer_in_error(l, idx, func, pos, name, lo, hi) },
        }
    }

    /// [`integer_in`]'s answer for an argument that did not pass.
    #[cold]
    #[inline(never)]
    unsafe fn integer_in_error(
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
    #[inline]
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
            let t = ffi::lua_type(l, idx);
            if t <= ffi::LUA_TNIL {
                return Ok(default);
            }
            in_range(l, idx, t, func, pos, name, lo, hi)
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
            match ffi::lua_type(l, idx) {
                t if t <= ffi::LUA_TNIL => Ok(default),
                ffi::LUA_TNUMBER => {
                    let n = ffi::lua_tonumberx(l, idx, ptr::null_mut());
                    // `n >= 0.0` is false for NaN.
                    if n >= 0.0 {
                        Ok(super::ceil_millis(n))
                    } else {
                        Err(Msg::bad_argument(
                            func,
                            pos,
                            "timeout must be a non-negative number of milliseconds",
                        ))
                    }
                }
                _ => Err(type_error(l, idx, func, pos, "number")),
            }
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

#[cfg(test)]
mod tests {
    use super::{ceil_millis, exact_integer, trunc};

    #[test]
    fn trunc_rounds_toward_zero_like_f64_trunc() {
        for n in [
            0.0, 0.5, -0.5, 2.9, -2.9, 254.99, 9.1e18, -9.1e18, 1e19, -1e300,
        ] {
            // Equal as numbers: -0.5 gives 0.0 here and -0.0 from f64::trunc.
            assert_eq!(trunc(n), n.trunc(), "{n}");
        }
        assert_eq!(trunc(f64::INFINITY), f64::INFINITY);
        assert!(trunc(f64::NAN).is_nan());
    }

    #[test]
    fn whole_numbers_and_only_those_are_integers() {
        for (n, want) in [
            (0.0, Some(0)),
            (-0.0, Some(0)),
            (3.0, Some(3)),
            (-255.0, Some(-255)),
            (9.0e18, Some(9_000_000_000_000_000_000)),
            (0.5, None),
            (-1.5, None),
            (9.3e18, None),
            (f64::INFINITY, None),
            (f64::NEG_INFINITY, None),
            (f64::NAN, None),
        ] {
            assert_eq!(exact_integer(n), want, "{n}");
        }
    }

    #[test]
    fn timeouts_round_up_and_stop_at_the_clock_range() {
        for (n, want) in [
            (0.0, 0),
            (0.001, 1),
            (1.0, 1),
            (1.5, 2),
            (99.999, 100),
            (4294967294.5, 4294967295),
            (1e300, u64::from(u32::MAX)),
            (f64::INFINITY, u64::from(u32::MAX)),
        ] {
            assert_eq!(ceil_millis(n), want, "{n}");
            assert_eq!(
                ceil_millis(n),
                n.min(f64::from(u32::MAX)).ceil() as u64,
                "{n}"
            );
        }
    }
}

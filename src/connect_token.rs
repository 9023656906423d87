//! `connect_token{private_key=, protocol_id=, client_id=, servers=, expire=, timeout=,
//! user_data=}`: a netcode 1.02 connect token, made from Lua (docs/api.md section 6,
//! docs/secure.md). The protocol itself is in `secure`.

use std::net::SocketAddr;

use mlua::{Lua, Table, Value};

use crate::address;
use crate::args;
use crate::error::{bad_argument, type_error, type_name, Result};
use crate::registry::Registry;
use crate::resolve;
use crate::secure::token::{MAX_SERVERS, USER_DATA_BYTES};
use crate::secure::{self, TokenSpec, KEY_BYTES};

const F: &str = "connect_token";
const FIELDS: [&str; 7] = [
    "private_key",
    "protocol_id",
    "client_id",
    "servers",
    "expire",
    "timeout",
    "user_data",
];
const DEFAULT_EXPIRE: i64 = 30;
const DEFAULT_TIMEOUT: i64 = 10;
/// About 68 years: far enough for anything, small enough that create + expire cannot wrap.
const MAX_EXPIRE: i64 = i32::MAX as i64;
/// Integers above this are not all exact as Lua 5.1 / LuaJIT numbers.
const MAX_EXACT_NUMBER: f64 = 9_007_199_254_740_992.0;
/// Lua 5.1, 5.2 and LuaJIT have only doubles (mlua hands whole ones over as integers): a value
/// above 2^53 there may already be rounded, so it must come as a hex string.
const DOUBLES_ONLY: bool = cfg!(any(
    feature = "lua51",
    feature = "lua52",
    feature = "luajit"
));

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.function(F, connect_token)
}

type Failure = (Value, Option<String>);

fn connect_token(lua: &Lua, spec: Value) -> Result<Failure> {
    let Value::Table(t) = spec else {
        return Err(type_error(F, 1, "table", &spec));
    };
    check_field_names(&t)?;
    let private_key = private_key(&t)?;
    let protocol_id = u64_field(&t, "protocol_id")?;
    let client_id = u64_field(&t, "client_id")?;
    let expire = integer_field(&t, "expire", DEFAULT_EXPIRE)?;
    if !(1..=MAX_EXPIRE).contains(&expire) {
        return Err(field_error(
            "expire",
            format!("must be between 1 and {MAX_EXPIRE} seconds, got {expire}"),
        ));
    }
    let timeout = integer_field(&t, "timeout", DEFAULT_TIMEOUT)?;
    if timeout != -1 && !(1..=i64::from(i32::MAX)).contains(&timeout) {
        return Err(field_error(
            "timeout",
            format!(
                "must be -1 (none) or between 1 and {} seconds, got {timeout}",
                i32::MAX
            ),
        ));
    }
    let user_data = user_data(&t)?;
    let servers = match servers(lua, &t)? {
        Ok(servers) => servers,
        Err(message) => return Ok((Value::Nil, Some(message))),
    };
    let spec = TokenSpec {
        private_key: &private_key,
        protocol_id,
        client_id,
        servers: &servers,
        expire_seconds: expire as u64,
        timeout_seconds: timeout as i32,
        user_data: &user_data,
    };
    Ok(
        match secure::generate_connect_token(&spec, secure::unix_now()) {
            Ok(token) => (Value::String(lua.create_string(token)?), None),
            Err(e) => (Value::Nil, Some(e.to_string())),
        },
    )
}

fn field_error(field: &str, detail: impl std::fmt::Display) -> crate::error::Error {
    bad_argument(F, 1, format!("field '{field}' {detail}"))
}

/// Unknown keys are misspellings (`server=` for `servers=`): better an error than a token
/// that silently lacks what the caller meant to put in.
fn check_field_names(t: &Table) -> Result<()> {
    for pair in t.pairs::<Value, Value>() {
        let (key, _) = pair?;
        let known = match &key {
            Value::String(s) => FIELDS.iter().any(|f| s.as_bytes().as_ref() == f.as_bytes()),
            _ => false,
        };
        if !known {
            let name = match &key {
                Value::String(s) => format!("'{}'", s.to_string_lossy()),
                other => format!("of type {}", type_name(other)),
            };
            return Err(bad_argument(F, 1, format!("unknown field {name}")));
        }
    }
    Ok(())
}

fn private_key(t: &Table) -> Result<[u8; KEY_BYTES]> {
    key_of(&t.raw_get::<Value>("private_key")?).map_err(|e| field_error("private_key", e))
}

/// A netcode private key: a 32-byte string.
pub fn key_of(value: &Value) -> std::result::Result<[u8; KEY_BYTES], String> {
    let Value::String(s) = value else {
        return Err(format!(
            "must be a 32-byte string, got {}",
            type_name(value)
        ));
    };
    let bytes = s.as_bytes();
    bytes
        .as_ref()
        .try_into()
        .map_err(|_| format!("must be a 32-byte string, got {} bytes", bytes.len()))
}

fn u64_field(t: &Table, field: &str) -> Result<u64> {
    u64_of(&t.raw_get::<Value>(field)?).map_err(|e| field_error(field, e))
}

/// An unsigned 64-bit value: a non-negative integer (exact up to 2^53 where Lua numbers are
/// doubles) or a string of exactly 16 hex digits.
pub fn u64_of(value: &Value) -> std::result::Result<u64, String> {
    let expected = "must be a non-negative integer (up to 2^53 on Lua 5.1/LuaJIT) or a string of 16 hex digits";
    match value {
        Value::Integer(i) if *i >= 0 && !(DOUBLES_ONLY && *i as f64 > MAX_EXACT_NUMBER) => {
            Ok(*i as u64)
        }
        Value::Number(n) if n.fract() == 0.0 && (0.0..=MAX_EXACT_NUMBER).contains(n) => {
            Ok(*n as u64)
        }
        Value::String(s) => {
            let text = s.to_string_lossy();
            match text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
                true => u64::from_str_radix(&text, 16).map_err(|_| expected.to_string()),
                false => Err(format!("{expected}, got '{text}'")),
            }
        }
        Value::Integer(i) => Err(format!("{expected}, got {i}")),
        Value::Number(n) => Err(format!("{expected}, got {n}")),
        other => Err(format!("{expected}, got {}", type_name(other))),
    }
}

/// A u64 for Lua: an integer where every Lua represents it exactly (up to 2^53), above that
/// the 16 hex digits `u64_of` reads back.
pub fn u64_to_lua(lua: &Lua, value: u64) -> mlua::Result<Value> {
    Ok(if value as f64 <= MAX_EXACT_NUMBER {
        Value::Integer(value as i64)
    } else {
        Value::String(lua.create_string(format!("{value:016x}"))?)
    })
}

fn integer_field(t: &Table, field: &str, default: i64) -> Result<i64> {
    let value = t.raw_get::<Value>(field)?;
    if value.is_nil() {
        return Ok(default);
    }
    match &value {
        Value::Integer(_) | Value::Number(_) => args::integer(&value, F, 1)
            .map_err(|_| field_error(field, "must be a whole number of seconds")),
        other => Err(field_error(
            field,
            format!("must be a number, got {}", type_name(other)),
        )),
    }
}

fn user_data(t: &Table) -> Result<Vec<u8>> {
    match t.raw_get::<Value>("user_data")? {
        Value::Nil => Ok(Vec::new()),
        Value::String(s) if s.as_bytes().len() <= USER_DATA_BYTES => Ok(s.as_bytes().to_vec()),
        Value::String(s) => Err(field_error(
            "user_data",
            format!(
                "is at most {USER_DATA_BYTES} bytes, got {}",
                s.as_bytes().len()
            ),
        )),
        other => Err(field_error(
            "user_data",
            format!("must be a string, got {}", type_name(&other)),
        )),
    }
}

/// 1..=32 addresses; misuse raises, a name that does not resolve is a failure message.
fn servers(lua: &Lua, t: &Table) -> Result<std::result::Result<Vec<SocketAddr>, String>> {
    let list = match t.raw_get::<Value>("servers")? {
        Value::Table(list) => list,
        other => {
            return Err(field_error(
                "servers",
                format!(
                    "must be a list of 1 to {MAX_SERVERS} addresses, got {}",
                    type_name(&other)
                ),
            ))
        }
    };
    let count = list.raw_len();
    if !(1..=MAX_SERVERS).contains(&count) {
        return Err(field_error(
            "servers",
            format!("must list 1 to {MAX_SERVERS} addresses, got {count}"),
        ));
    }
    let mut servers = Vec::with_capacity(count);
    for i in 1..=count {
        let item = list.raw_get::<Value>(i)?;
        if !matches!(item, Value::Table(_) | Value::String(_)) {
            return Err(field_error(
                "servers",
                format!(
                    "item {i} must be an address table or string, got {}",
                    type_name(&item)
                ),
            ));
        }
        let Some(spec) = address::spec_arg(&item, F, 1)? else {
            continue;
        };
        if spec.port == 0 || spec.host.is_none() {
            return Err(field_error(
                "servers",
                format!("item {i} needs a host and a port"),
            ));
        }
        match resolve::resolve_one(lua, &spec, |_| true) {
            Ok(addr) => servers.push(address::canonical(addr)),
            Err(message) => return Ok(Err(message)),
        }
    }
    Ok(Ok(servers))
}

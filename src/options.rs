//! `host_create`'s sixth argument: what C ENet sets on the host struct (compressor, checksum,
//! MTU, packet and waiting-data limits), so we interoperate with C hosts configured that way.
//! Each field is one entry of `FIELDS`; a new option is a new entry.

use mlua::Value;
use rusty_enet::{HostSettings, MTU_MAX};

use crate::compress::{Switch, SwitchedRangeCoder};
use crate::connect_token::{key_of, u64_of};
use crate::error::{bad_argument, type_error, type_name, Result};
use crate::host::EnetHost;
use crate::packet;
use crate::socket::EnetSocket;
use crate::wire::Filter;

/// ENet's smallest MTU (`ENET_PROTOCOL_MINIMUM_MTU`).
const MTU_MIN: usize = 576;
/// A peer's waiting data may be set up to this (ENet's default is 32 MiB).
const MAX_WAITING_DATA: usize = 1 << 30;

#[derive(Default)]
pub struct HostOptions {
    pub compress: bool,
    pub checksum: bool,
    pub mtu: Option<u16>,
    pub max_packet_size: Option<usize>,
    pub max_waiting_data: Option<usize>,
    pub secure: Option<SecureOptions>,
}

/// `options.secure`: this host is a netcode server (docs/secure.md).
pub struct SecureOptions {
    pub private_key: [u8; crate::secure::KEY_BYTES],
    pub protocol_id: u64,
    /// The address tokens list for this server (an address table or string, resolved by
    /// `host_create`); nil means the bound address.
    pub public_address: Value,
}

type Parse = fn(&mut HostOptions, &Value) -> std::result::Result<(), String>;

/// The known fields and how each is read; a message says what was wrong with its value.
const FIELDS: &[(&str, Parse)] = &[
    ("compress", |o, v| {
        o.compress = one_of(v, "range_coder")?;
        Ok(())
    }),
    ("checksum", |o, v| {
        o.checksum = one_of(v, "crc32")?;
        Ok(())
    }),
    ("mtu", |o, v| {
        o.mtu = Some(size_in(v, MTU_MIN, MTU_MAX)? as u16);
        Ok(())
    }),
    ("max_packet_size", |o, v| {
        o.max_packet_size = Some(size_in(v, 1, packet::MAX_SIZE)?);
        Ok(())
    }),
    ("max_waiting_data", |o, v| {
        o.max_waiting_data = Some(size_in(v, 1, MAX_WAITING_DATA)?);
        Ok(())
    }),
    ("secure", |o, v| {
        o.secure = Some(secure(v)?);
        Ok(())
    }),
];

/// `{private_key = <32 bytes>, protocol_id = <u64>, public_address = <address>?}`.
fn secure(value: &Value) -> std::result::Result<SecureOptions, String> {
    let Value::Table(t) = value else {
        return Err(format!(
            "must be a table {{private_key=, protocol_id=, public_address=}}, got {}",
            type_name(value)
        ));
    };
    for pair in t.pairs::<Value, Value>() {
        let (key, _) = pair.map_err(|e| e.to_string())?;
        let known = matches!(&key, Value::String(s)
            if ["private_key", "protocol_id", "public_address"]
                .iter()
                .any(|k| s.as_bytes().as_ref() == k.as_bytes()));
        if !known {
            return Err(format!("has an unknown field {}", describe(&key)));
        }
    }
    let field = |name: &str| t.raw_get::<Value>(name).map_err(|e| e.to_string());
    Ok(SecureOptions {
        private_key: key_of(&field("private_key")?).map_err(|e| format!("private_key {e}"))?,
        protocol_id: u64_of(&field("protocol_id")?).map_err(|e| format!("protocol_id {e}"))?,
        public_address: field("public_address")?,
    })
}

/// `value` is nil (every default) or a table of known fields with valid values; anything else
/// raises `bad argument #pos to 'func' (...)`.
pub fn parse(value: &Value, func: &str, pos: usize) -> Result<HostOptions> {
    let mut options = HostOptions::default();
    let table = match value {
        Value::Nil => return Ok(options),
        Value::Table(t) => t,
        other => return Err(type_error(func, pos, "options table", other)),
    };
    for pair in table.pairs::<Value, Value>() {
        let (key, field) = pair?;
        let name = match &key {
            Value::String(s) => s.to_string_lossy(),
            other => {
                return Err(bad_argument(
                    func,
                    pos,
                    format!("unknown option {}", type_name(other)),
                ))
            }
        };
        let Some((_, read)) = FIELDS.iter().find(|(known, _)| *known == name) else {
            return Err(bad_argument(func, pos, format!("unknown option '{name}'")));
        };
        if field.is_nil() {
            continue;
        }
        read(&mut options, &field)
            .map_err(|message| bad_argument(func, pos, format!("options.{name} {message}")))?;
    }
    let secure_mtu = crate::secure::MAX_ENET_MTU;
    if options.secure.is_some() && options.mtu.is_some_and(|m| usize::from(m) > secure_mtu) {
        return Err(bad_argument(
            func,
            pos,
            format!("options.mtu must be at most {secure_mtu} with options.secure (netcode's payload limit)"),
        ));
    }
    Ok(options)
}

fn one_of(value: &Value, only: &str) -> std::result::Result<bool, String> {
    match value {
        Value::String(s) if s.as_bytes().as_ref() == only.as_bytes() => Ok(true),
        Value::Boolean(false) => Ok(false),
        other => Err(format!(
            "must be \"{only}\" or false, got {}",
            describe(other)
        )),
    }
}

fn size_in(value: &Value, lo: usize, hi: usize) -> std::result::Result<usize, String> {
    let n = match value {
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        other => return Err(format!("must be an integer, got {}", describe(other))),
    };
    if n.fract() != 0.0 || !(lo as f64..=hi as f64).contains(&n) {
        return Err(format!("must be an integer between {lo} and {hi}, got {n}"));
    }
    Ok(n as usize)
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{}\"", s.to_string_lossy()),
        Value::Integer(i) => i.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => type_name(other),
    }
}

impl HostOptions {
    /// What must be in place before the host exists: rusty_enet takes its compressor and
    /// checksum only at creation. Every host gets the switchable range coder (off unless
    /// asked for), so `host_compress` can turn it on later.
    pub fn configure(&self, settings: &mut HostSettings, socket: &mut EnetSocket) {
        let switch: Switch = Default::default();
        switch.set(self.compress);
        socket.filter = Filter::new(
            self.checksum,
            self.max_packet_size.unwrap_or(packet::MAX_SIZE),
            switch.clone(),
        );
        settings.compressor = Some(Box::new(SwitchedRangeCoder::new(switch)));
        if self.checksum {
            settings.checksum = Some(Box::new(rusty_enet::crc32));
        }
    }

    /// The settings rusty_enet has setters for. Values were range-checked by `parse`.
    pub fn apply(&self, enet: &mut EnetHost) -> std::result::Result<(), String> {
        // A secure host's datagrams plus netcode's overhead fit 1280 bytes (IPv6's minimum).
        let secure_mtu = self
            .secure
            .as_ref()
            .map(|_| crate::secure::MAX_ENET_MTU as u16);
        if let Some(mtu) = self.mtu.or(secure_mtu) {
            enet.set_mtu(mtu).map_err(|e| e.to_string())?;
        }
        if let Some(n) = self.max_packet_size {
            enet.set_maximum_packet_size(n).map_err(|e| e.to_string())?;
        }
        if let Some(n) = self.max_waiting_data {
            enet.set_maximum_waiting_data(n)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

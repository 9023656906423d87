//! Address arguments (`{host=, port=, sin6_scope_id=}` tables and `"host:port"` strings), their
//! canonical form, and the tables we hand back to Lua.
//!
//! rusty_enet matches incoming datagrams to peers with `SocketAddr ==`, which compares IPv6
//! flowinfo and scope ids and tells `::ffff:1.2.3.4` from `1.2.3.4`. Every address that reaches
//! it, from the user or from the kernel, goes through [`canonical`] first; otherwise some
//! connections silently never complete.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use mlua::{Lua, Table, Value};

use crate::args;
use crate::error::{bad_argument, type_error, Result};

/// An address as the user wrote it, before any name resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// None means "any interface" (only meaningful for binding).
    pub host: Option<String>,
    pub port: u16,
    pub scope_id: Option<u32>,
}

/// Reads an address argument: nil, a table or a string. Misuse (wrong types, bad port) raises.
pub fn spec_arg(value: &Value, func: &str, pos: usize) -> Result<Option<Spec>> {
    match value {
        Value::Nil => Ok(None),
        Value::Table(t) => table_spec(t, func, pos).map(Some),
        Value::String(s) => {
            let text = s
                .to_str()
                .map_err(|_| bad_argument(func, pos, "address is not UTF-8"))?;
            parse_spec(&text)
                .map(Some)
                .map_err(|e| bad_argument(func, pos, e))
        }
        other => Err(type_error(func, pos, "address table or string", other)),
    }
}

fn table_spec(t: &Table, func: &str, pos: usize) -> Result<Spec> {
    let host = match t.raw_get::<Value>("host")? {
        Value::Nil => None,
        Value::String(s) => Some(s.to_string_lossy()),
        other => {
            return Err(bad_argument(
                func,
                pos,
                format!(
                    "field 'host' must be a string, got {}",
                    crate::error::type_name(&other)
                ),
            ))
        }
    };
    let port = t.raw_get::<Value>("port")?;
    let port = args::opt_integer_in(&port, func, pos, "port", 0, 0..=65535)? as u16;
    let scope = t.raw_get::<Value>("sin6_scope_id")?;
    let scope_id = match scope {
        Value::Nil => None,
        v => {
            Some(args::integer_in(&v, func, pos, "sin6_scope_id", 0..=i64::from(u32::MAX))? as u32)
        }
    };
    Ok(Spec {
        host,
        port,
        scope_id,
    })
}

/// `"host"`, `"host:port"`, `"*:port"`, `"[v6%zone]:port"`, or a bare IPv6 literal.
pub fn parse_spec(text: &str) -> std::result::Result<Spec, String> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']').ok_or("missing ']' in address")?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("expected ':port' after ']'")?),
        };
        (inside, port)
    } else if text.matches(':').count() == 1 {
        let (h, p) = text.split_once(':').unwrap_or((text, ""));
        (h, Some(p))
    } else {
        (text, None)
    };
    let port = match port {
        None => 0,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port '{p}'"))?,
    };
    let host = match host {
        "" | "*" => None,
        h => Some(h.to_string()),
    };
    Ok(Spec {
        host,
        port,
        scope_id: None,
    })
}

/// Splits `"fe80::1%eth0"` / `"fe80::1%3"` into the address and its scope id.
pub fn parse_ip_literal(host: &str) -> std::result::Result<Option<(IpAddr, Option<u32>)>, String> {
    let (ip_text, zone) = match host.split_once('%') {
        Some((ip, zone)) => (ip, Some(zone)),
        None => (host, None),
    };
    let Ok(ip) = ip_text.parse::<IpAddr>() else {
        return Ok(None);
    };
    let scope = match zone {
        None => None,
        Some(_) if ip.is_ipv4() => {
            return Err(format!("a scope id is only valid on IPv6: '{host}'"))
        }
        Some(z) => Some(zone_index(z)?),
    };
    Ok(Some((ip, scope)))
}

/// A `%zone` suffix: a numeric scope id or an interface name (`if_nametoindex`).
pub fn zone_index(zone: &str) -> std::result::Result<u32, String> {
    if let Ok(n) = zone.parse::<u32>() {
        return Ok(n);
    }
    crate::socket::interface_index(zone)
        .ok_or_else(|| format!("unknown network interface '{zone}'"))
}

/// The literal address for a spec that needs no lookup (wildcards and IP literals).
pub fn literal(spec: &Spec) -> std::result::Result<Option<SocketAddr>, String> {
    let host = match spec.host.as_deref() {
        None | Some("*") | Some("0.0.0.0") => {
            return Ok(Some(SocketAddr::new(
                Ipv4Addr::UNSPECIFIED.into(),
                spec.port,
            )))
        }
        Some(h) => h,
    };
    let Some((ip, zone)) = parse_ip_literal(host)? else {
        return Ok(None);
    };
    Ok(Some(with_scope(
        SocketAddr::new(ip, spec.port),
        zone.or(spec.scope_id),
    )))
}

/// Attaches a scope id to an IPv6 address.
pub fn with_scope(addr: SocketAddr, scope: Option<u32>) -> SocketAddr {
    match (addr, scope) {
        (SocketAddr::V6(v6), Some(scope)) => {
            SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, scope))
        }
        _ => addr,
    }
}

/// The one form rusty_enet ever sees: v4-mapped shown as IPv4, flowinfo zeroed, scope id kept
/// only where it means something (link-local).
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V4(_) => addr,
        SocketAddr::V6(v6) => {
            if let Some(v4) = v6.ip().to_ipv4_mapped() {
                return SocketAddr::new(v4.into(), v6.port());
            }
            let scope = if is_link_local(v6.ip()) {
                v6.scope_id()
            } else {
                0
            };
            SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, scope))
        }
    }
}

pub fn is_link_local(ip: &Ipv6Addr) -> bool {
    ip.segments()[0] & 0xffc0 == 0xfe80
}

/// `{host=, port=, sin6_scope_id=}` with the real values (`sin6_scope_id` only for IPv6).
pub fn to_table(lua: &Lua, addr: SocketAddr) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 3)?;
    t.raw_set("host", addr.ip().to_string())?;
    t.raw_set("port", addr.port())?;
    if let SocketAddr::V6(v6) = addr {
        t.raw_set("sin6_scope_id", v6.scope_id())?;
    }
    Ok(t)
}

/// `127.0.0.1:6789`, `[fe80::1%2]:6789`.
pub fn display(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V6(v6) if v6.scope_id() != 0 => {
            format!("[{}%{}]:{}", v6.ip(), v6.scope_id(), v6.port())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn canonical_unmaps_v4_and_drops_flowinfo() {
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5".parse().unwrap();
        assert_eq!(canonical(mapped), "127.0.0.1:5".parse().unwrap());
        let v6 = SocketAddr::V6(SocketAddrV6::new("2001:db8::1".parse().unwrap(), 5, 7, 3));
        assert_eq!(canonical(v6), "[2001:db8::1]:5".parse().unwrap());
        let ll = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 5, 7, 3));
        assert_eq!(
            canonical(ll),
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 5, 0, 3))
        );
    }

    #[test]
    fn parses_address_strings() {
        let s = parse_spec("localhost:6789").unwrap();
        assert_eq!((s.host.as_deref(), s.port), (Some("localhost"), 6789));
        let s = parse_spec("*:1").unwrap();
        assert_eq!((s.host, s.port), (None, 1));
        let s = parse_spec("[fe80::1%3]:9").unwrap();
        assert_eq!((s.host.as_deref(), s.port), (Some("fe80::1%3"), 9));
        let s = parse_spec("::1").unwrap();
        assert_eq!((s.host.as_deref(), s.port), (Some("::1"), 0));
        assert!(parse_spec("host:99999").is_err());
        assert!(parse_spec("[::1").is_err());
    }

    #[test]
    fn literal_scope_ids() {
        let spec = parse_spec("[fe80::1%3]:9").unwrap();
        let addr = literal(&spec).unwrap().unwrap();
        assert_eq!(
            addr,
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 9, 0, 3))
        );
        let spec = Spec {
            host: Some("example.invalid".into()),
            port: 1,
            scope_id: None,
        };
        assert_eq!(literal(&spec).unwrap(), None);
        assert!(parse_ip_literal("1.2.3.4%1").is_err());
    }
}

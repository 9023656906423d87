//! Name resolution for address arguments.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use crate::address::{self, Spec};

/// Resolves a spec to one address the caller can use (`usable` says which families its socket
/// reaches), trying IP literals first so they never touch a resolver.
pub fn resolve_one(
    spec: &Spec,
    usable: impl Fn(&SocketAddr) -> bool,
) -> Result<SocketAddr, String> {
    if let Some(addr) = address::literal(spec)? {
        return Ok(addr);
    }
    let name = spec.host.as_deref().unwrap_or_default();
    let candidates = lookup(name, spec.port)?;
    candidates
        .iter()
        .copied()
        .find(|a| usable(a))
        .or(candidates.first().copied())
        .map(|a| address::with_scope(address::canonical(a), spec.scope_id))
        .ok_or_else(|| format!("cannot resolve '{name}': no addresses"))
}

/// All addresses for a name, IPv4 first. `localhost` never touches the network.
pub fn lookup(name: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    if name.eq_ignore_ascii_case("localhost") {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]);
    }
    let mut found: Vec<SocketAddr> = (name, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{name}': {e}"))?
        .collect();
    found.sort_by_key(|a| a.is_ipv6());
    found.dedup();
    Ok(found)
}

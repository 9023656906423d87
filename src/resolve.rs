//! Name resolution: `address_resolve`, `address_resolve_start`, `resolver_configure`, and the
//! lookups behind address arguments of `host_create` / `host_connect`.
//!
//! IP literals (with `%zone`) are parsed here, never by a resolver: hickory rejects scoped
//! literals. `localhost` is answered without any resolver. Everything else goes through
//! hickory-resolver with the system configuration and hosts file, or the nameservers given to
//! `resolver_configure`; where the system has no resolver configuration, through the OS resolver.
//!
//! Real lookups run on a small pool of worker threads per Lua state ([`WORKERS`], with at most
//! [`MAX_PENDING_LOOKUPS`] lookups queued or running; past that a lookup fails at once with
//! `nil, message`). hickory 0.26 is async only, and a tokio runtime cannot be started on a
//! thread that already runs one (an embedding game engine may), so the runtime lives on a
//! thread of ours; the same threads let `address_resolve_start` answer without blocking, and
//! put a bound on the caller's wait for the OS resolver, which has no timeout of its own (a
//! getaddrinfo that hangs keeps its worker, never more threads).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use mlua::{Lua, MetaMethod, Table, UserData, UserDataFields, UserDataMethods, Value};

use crate::address::{self, Spec};
use crate::args;
use crate::error::{bad_argument, type_error, Result};
use crate::registry::{class_methods, Registry};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Lookups queued or running per Lua state; one more fails at once (docs/api.md).
pub const MAX_PENDING_LOOKUPS: usize = 64;
/// Worker threads per Lua state, started on demand.
const WORKERS: usize = 4;
/// A worker with nothing to do for this long ends.
const WORKER_IDLE: Duration = Duration::from_secs(30);
const DEFAULT_DNS_PORT: u16 = 53;
/// Extra time the caller waits for the worker past the lookup's own timeout, so the worker's
/// precise "timed out" message wins over the caller's coarser one.
const GRACE: Duration = Duration::from_millis(250);

/// Address-family order of lookup results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// IPv4 first, but addresses this machine has no route to go last. ENet has no "happy
    /// eyeballs": the first address is the only one tried, so the family most likely to work
    /// comes first.
    #[default]
    Auto,
    Ipv4,
    Ipv6,
}

/// `resolver_configure` settings. One per Lua state (mlua app data), never process-wide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Empty: the system configuration.
    pub nameservers: Vec<SocketAddr>,
    pub timeout: Duration,
    pub prefer: Prefer,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            nameservers: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            prefer: Prefer::Auto,
        }
    }
}

/// The settings of this Lua state.
pub fn settings(lua: &Lua) -> Settings {
    lua.app_data_ref::<Settings>()
        .map(|s| s.clone())
        .unwrap_or_default()
}

type Outcome = std::result::Result<Vec<SocketAddr>, String>;

/// Resolves a spec to one address the caller can use (`usable` says which families its socket
/// reaches), honouring this Lua state's `resolver_configure`. IP literals never touch a
/// resolver. Blocks for at most the configured timeout.
pub fn resolve_one(
    lua: &Lua,
    spec: &Spec,
    usable: impl Fn(&SocketAddr) -> bool,
) -> std::result::Result<SocketAddr, String> {
    if let Some(addr) = address::literal(spec)? {
        return Ok(addr);
    }
    let candidates = resolve_all(lua, spec)?;
    candidates
        .iter()
        .copied()
        .find(|a| usable(a))
        .or(candidates.first().copied())
        .ok_or_else(|| {
            format!(
                "cannot resolve '{}': no addresses",
                spec.host.as_deref().unwrap_or_default()
            )
        })
}

/// Every address for a spec, canonical, deduplicated, in the Lua state's `prefer` order.
/// Blocking.
pub fn resolve_all(lua: &Lua, spec: &Spec) -> Outcome {
    match Job::new(&settings(lua), spec)? {
        Job::Done(outcome) => outcome,
        Job::Lookup(lookup) => {
            let name = lookup.name.clone();
            let timeout = lookup.settings.timeout;
            let ticket = pool(lua).submit(lookup)?;
            match ticket.rx.recv_timeout(timeout + GRACE) {
                Ok(outcome) => outcome,
                Err(RecvTimeoutError::Timeout) => Err(timed_out(&name, timeout)),
                Err(RecvTimeoutError::Disconnected) => Err(worker_died(&name)),
            }
        }
    }
}

/// What a spec needs: nothing (a literal, `localhost`, a bad name) or a lookup.
enum Job {
    Done(Outcome),
    Lookup(Lookup),
}

/// A lookup to run on a worker thread: everything it needs, owned.
struct Lookup {
    settings: Settings,
    name: String,
    port: u16,
    /// Applied to link-local answers (`name%eth0`, or `sin6_scope_id` in a table).
    scope: Option<u32>,
}

impl Job {
    fn new(settings: &Settings, spec: &Spec) -> std::result::Result<Job, String> {
        if let Some(addr) = address::literal(spec)? {
            return Ok(Job::Done(Ok(vec![address::canonical(addr)])));
        }
        let host = spec.host.as_deref().unwrap_or_default();
        let (name, zone) = match host.split_once('%') {
            Some((name, zone)) => (name, Some(address::zone_index(zone)?)),
            None => (host, None),
        };
        let name = name.trim_end_matches('.');
        let scope = zone.or(spec.scope_id);
        if name.is_empty() {
            return Err(format!("cannot resolve '{host}': empty host name"));
        }
        if is_localhost(name) {
            let found = [
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ];
            let addrs = finish(&found, spec.port, scope, settings.prefer);
            return Ok(Job::Done(Ok(addrs)));
        }
        Ok(Job::Lookup(Lookup {
            settings: settings.clone(),
            name: name.to_string(),
            port: spec.port,
            scope,
        }))
    }
}

impl Lookup {
    fn run(self) -> Outcome {
        let ips = lookup_ips(&self.settings, &self.name)?;
        let addrs = finish(&ips, self.port, self.scope, self.settings.prefer);
        if addrs.is_empty() {
            return Err(format!("cannot resolve '{}': no addresses", self.name));
        }
        Ok(addrs)
    }
}

/// The caller's end of a queued lookup. Dropping it (the request was collected, or the blocking
/// caller gave up) abandons the lookup: a worker skips it instead of running it to its timeout,
/// which would make every later lookup wait behind it.
#[derive(Debug)]
struct Ticket {
    rx: Receiver<Outcome>,
    _wanted: Arc<()>,
}

/// A lookup waiting for a worker; `wanted` is dead once its [`Ticket`] is dropped.
struct Queued {
    lookup: Lookup,
    tx: Sender<Outcome>,
    wanted: Weak<()>,
}

impl Queued {
    fn abandoned(&self) -> bool {
        self.wanted.strong_count() == 0
    }
}

/// The lookup workers of one Lua state (its mlua app data): a queue, up to [`WORKERS`]
/// threads, and the count of lookups not yet answered. Dropped with the Lua state: idle
/// workers end at once, busy ones after their lookup.
struct Pool {
    shared: Arc<PoolShared>,
}

#[derive(Default)]
struct PoolShared {
    state: Mutex<PoolState>,
    wake: Condvar,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Queued>,
    /// Queued plus running.
    pending: usize,
    workers: usize,
    idle: usize,
    closed: bool,
}

/// This Lua state's pool, made on first use.
fn pool(lua: &Lua) -> Arc<PoolShared> {
    if let Some(pool) = lua.app_data_ref::<Pool>() {
        return Arc::clone(&pool.shared);
    }
    let shared = Arc::new(PoolShared::default());
    lua.set_app_data(Pool {
        shared: Arc::clone(&shared),
    });
    shared
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_all();
    }
}

impl PoolShared {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A worker never panics while holding the lock, but a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a lookup; the ticket's receiver gets its one outcome.
    fn submit(self: &Arc<Self>, lookup: Lookup) -> std::result::Result<Ticket, String> {
        let (tx, rx) = mpsc::channel();
        let wanted = Arc::new(());
        let name = lookup.name.clone();
        let mut state = self.lock();
        // Abandoned lookups count against the bound only until the next submit.
        let before = state.queue.len();
        state.queue.retain(|q| !q.abandoned());
        state.pending -= before - state.queue.len();
        if state.pending >= MAX_PENDING_LOOKUPS {
            return Err(format!(
                "cannot resolve '{name}': {MAX_PENDING_LOOKUPS} lookups already pending"
            ));
        }
        state.pending += 1;
        state.queue.push_back(Queued {
            lookup,
            tx,
            wanted: Arc::downgrade(&wanted),
        });
        if state.idle == 0 && state.workers < WORKERS {
            let shared = Arc::clone(self);
            let started = std::thread::Builder::new()
                .name("module_enet resolver".into())
                .spawn(move || shared.work());
            match started {
                Ok(_) => state.workers += 1,
                Err(e) if state.workers == 0 => {
                    state.queue.pop_back();
                    state.pending -= 1;
                    return Err(format!(
                        "cannot resolve '{name}': cannot start resolver thread: {e}"
                    ));
                }
                // The running workers will get to it.
                Err(_) => {}
            }
        }
        self.wake.notify_one();
        Ok(Ticket {
            rx,
            _wanted: wanted,
        })
    }

    /// A worker thread: lookups until the pool closes or nothing comes for WORKER_IDLE.
    fn work(&self) {
        let mut state = self.lock();
        loop {
            if state.closed {
                // Nobody is left to read the answers of queued lookups.
                let dropped = state.queue.len();
                state.queue.clear();
                state.pending -= dropped;
                break;
            }
            if let Some(queued) = state.queue.pop_front() {
                if !queued.abandoned() {
                    drop(state);
                    // A caller that gives up while it runs drops its receiver: the send fails
                    // quietly.
                    let _ = queued.tx.send(queued.lookup.run());
                    state = self.lock();
                }
                state.pending -= 1;
                continue;
            }
            state.idle += 1;
            let (next, wait) = self
                .wake
                .wait_timeout(state, WORKER_IDLE)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if wait.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        state.workers -= 1;
    }
}

/// RFC 6761: `localhost` and every name under it are the loopback host.
fn is_localhost(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "localhost" || lower.ends_with(".localhost")
}

/// Socket addresses from lookup answers: canonical, deduplicated, ordered.
fn finish(ips: &[IpAddr], port: u16, scope: Option<u32>, prefer: Prefer) -> Vec<SocketAddr> {
    let mut addrs: Vec<SocketAddr> = Vec::with_capacity(ips.len());
    for ip in ips {
        let addr = address::canonical(address::with_scope(SocketAddr::new(*ip, port), scope));
        if !addrs.contains(&addr) {
            addrs.push(addr);
        }
    }
    order(&mut addrs, prefer);
    addrs
}

fn order(addrs: &mut [SocketAddr], prefer: Prefer) {
    match prefer {
        Prefer::Ipv4 => addrs.sort_by_key(|a| a.is_ipv6()),
        Prefer::Ipv6 => addrs.sort_by_key(|a| a.is_ipv4()),
        Prefer::Auto => addrs.sort_by_cached_key(|a| (!has_route(a), a.is_ipv6())),
    }
}

/// Does this machine have a route to `addr`? A UDP `connect` only consults the routing table:
/// no datagram is sent.
fn has_route(addr: &SocketAddr) -> bool {
    let any: SocketAddr = match addr {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    // Port 0 is not connectable; any port gives the same route.
    let mut target = *addr;
    if target.port() == 0 {
        target.set_port(9);
    }
    UdpSocket::bind(any).and_then(|s| s.connect(target)).is_ok()
}

/// The IPs for a name: hickory with the configured or system nameservers, or the OS resolver
/// where the system has no resolver configuration.
fn lookup_ips(settings: &Settings, name: &str) -> std::result::Result<Vec<IpAddr>, String> {
    use hickory_resolver::config::{
        ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
    };
    let config = if settings.nameservers.is_empty() {
        system_config()
    } else {
        let servers = settings
            .nameservers
            .iter()
            .map(|server| {
                let mut udp = ConnectionConfig::udp();
                udp.port = server.port();
                // TCP only on truncated answers; a server without it just fails that retry.
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = server.port();
                NameServerConfig::new(server.ip(), true, vec![udp, tcp])
            })
            .collect();
        // No search domains: configured nameservers are for names as written.
        Some((
            ResolverConfig::from_parts(None, vec![], servers),
            ResolverOpts::default(),
        ))
    };
    match config {
        Some((config, opts)) => hickory_lookup(config, opts, settings.timeout, name),
        None => os_lookup(name),
    }
}

#[cfg(any(unix, windows))]
fn system_config() -> Option<(
    hickory_resolver::config::ResolverConfig,
    hickory_resolver::config::ResolverOpts,
)> {
    hickory_resolver::system_conf::read_system_conf().ok()
}

#[cfg(not(any(unix, windows)))]
fn system_config() -> Option<(
    hickory_resolver::config::ResolverConfig,
    hickory_resolver::config::ResolverOpts,
)> {
    None
}

fn hickory_lookup(
    config: hickory_resolver::config::ResolverConfig,
    mut opts: hickory_resolver::config::ResolverOpts,
    timeout: Duration,
    name: &str,
) -> std::result::Result<Vec<IpAddr>, String> {
    use hickory_resolver::config::LookupIpStrategy;
    use hickory_resolver::net::runtime::TokioRuntimeProvider;
    use hickory_resolver::net::NetError;
    use hickory_resolver::Resolver;

    let fail = |detail: String| format!("cannot resolve '{name}': {detail}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("cannot start resolver: {e}")))?;
    // Both families in parallel; `finish` orders them by the Lua state's preference.
    opts.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
    opts.timeout = opts.timeout.min(timeout);
    let mut builder = Resolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = opts;
    let result = runtime.block_on(async {
        let resolver = builder.build()?;
        match tokio::time::timeout(timeout, resolver.lookup_ip(name)).await {
            Ok(r) => r,
            Err(_) => Err(NetError::Timeout),
        }
    });
    match result {
        Ok(found) => Ok(found.iter().collect()),
        Err(e) if e.is_nx_domain() => Err(fail("no such host".into())),
        Err(e) if e.is_no_records_found() => Err(fail("no addresses".into())),
        Err(NetError::Timeout) => Err(timed_out(name, timeout)),
        Err(e) => Err(fail(e.to_string())),
    }
}

/// getaddrinfo: it reads whatever the OS is configured with (nsswitch, mDNS, ...).
fn os_lookup(name: &str) -> std::result::Result<Vec<IpAddr>, String> {
    (name, 0)
        .to_socket_addrs()
        .map(|found| found.map(|a| a.ip()).collect())
        .map_err(|e| format!("cannot resolve '{name}': {e}"))
}

fn timed_out(name: &str, timeout: Duration) -> String {
    format!(
        "cannot resolve '{name}': timed out after {} ms",
        timeout.as_millis()
    )
}

fn worker_died(name: &str) -> String {
    format!("cannot resolve '{name}': resolver thread ended without an answer")
}

// --- Lua API ------------------------------------------------------------------------------

/// The request object of `address_resolve_start`.
pub struct Request {
    state: RefCell<RequestState>,
}

enum RequestState {
    Pending {
        ticket: Ticket,
        name: String,
        /// The worker bounds its own lookup; this bounds the wait if it never answers.
        deadline: Instant,
        timeout: Duration,
    },
    Done(Outcome),
}

impl Request {
    /// The outcome, once there is one. Polling never blocks.
    fn poll(&self) -> Option<Outcome> {
        let mut state = self.state.borrow_mut();
        if let RequestState::Pending {
            ticket,
            name,
            deadline,
            timeout,
        } = &*state
        {
            let outcome = match ticket.rx.try_recv() {
                Ok(outcome) => outcome,
                Err(TryRecvError::Empty) if Instant::now() < *deadline => return None,
                Err(TryRecvError::Empty) => Err(timed_out(name, *timeout)),
                Err(TryRecvError::Disconnected) => Err(worker_died(name)),
            };
            *state = RequestState::Done(outcome);
        }
        match &*state {
            RequestState::Done(outcome) => Some(outcome.clone()),
            RequestState::Pending { .. } => None,
        }
    }

    fn describe(&self) -> &'static str {
        match self.poll() {
            None => "pending",
            Some(Ok(_)) => "done",
            Some(Err(_)) => "failed",
        }
    }
}

impl UserData for Request {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field_with(MetaMethod::Index, |lua| class_methods(lua, "request"));
        fields.add_meta_field("__name", "ENetResolveRequest");
    }

    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(format!("ENetResolveRequest({})", this.describe()))
        });
    }
}

pub fn register(reg: &mut Registry) -> mlua::Result<()> {
    reg.function("address_resolve", address_resolve)?;
    reg.function("address_resolve_start", address_resolve_start)?;
    reg.function("resolver_configure", resolver_configure)?;
    reg.method("request_result", request_result)?;
    Ok(())
}

type Failure = (Value, Option<String>);

fn outcome_to_lua(lua: &Lua, outcome: Outcome) -> Result<Failure> {
    match outcome {
        Ok(addrs) => {
            let list = lua.create_table_with_capacity(addrs.len(), 0)?;
            for addr in addrs {
                list.raw_push(address::to_table(lua, addr)?)?;
            }
            Ok((Value::Table(list), None))
        }
        Err(message) => Ok((Value::Nil, Some(message))),
    }
}

/// A name or address argument; `"*"` resolves to the IPv4 wildcard like in `host_create`.
fn name_arg(value: &Value, func: &str) -> Result<Spec> {
    if let Value::String(s) = value {
        if s.as_bytes().is_empty() {
            return Err(bad_argument(func, 1, "empty host name"));
        }
    }
    match address::spec_arg(value, func, 1)? {
        Some(spec) => Ok(spec),
        None => Err(type_error(func, 1, "address string or table", value)),
    }
}

/// `address_resolve(name)` -> list of `{host=, port=, sin6_scope_id=}`, or nil, message.
fn address_resolve(lua: &Lua, name: Value) -> Result<Failure> {
    let spec = name_arg(&name, "address_resolve")?;
    outcome_to_lua(lua, resolve_all(lua, &spec))
}

/// `address_resolve_start(name)` -> request; `request:result()` is nil while pending.
fn address_resolve_start(lua: &Lua, name: Value) -> Result<Failure> {
    let spec = name_arg(&name, "address_resolve_start")?;
    let settings = settings(lua);
    let state = match Job::new(&settings, &spec) {
        Err(message) => RequestState::Done(Err(message)),
        Ok(Job::Done(outcome)) => RequestState::Done(outcome),
        Ok(Job::Lookup(lookup)) => {
            let name = lookup.name.clone();
            match pool(lua).submit(lookup) {
                Ok(ticket) => RequestState::Pending {
                    ticket,
                    name,
                    deadline: Instant::now() + settings.timeout + GRACE,
                    timeout: settings.timeout,
                },
                // Too many lookups pending (or no thread): refused now, not later.
                Err(message) => return Ok((Value::Nil, Some(message))),
            }
        }
    };
    let request = lua.create_userdata(Request {
        state: RefCell::new(state),
    })?;
    Ok((Value::UserData(request), None))
}

fn request_result(lua: &Lua, request: Value) -> Result<Failure> {
    let ud = args::userdata::<Request>(&request, "request_result", 1, "ENetResolveRequest")?;
    let request = ud.borrow::<Request>()?;
    match request.poll() {
        None => Ok((Value::Nil, None)),
        Some(outcome) => outcome_to_lua(lua, outcome),
    }
}

/// `resolver_configure{nameservers=, timeout=, prefer=}`: replaces this Lua state's settings;
/// omitted fields (or no table) go back to the defaults.
fn resolver_configure(lua: &Lua, options: Value) -> Result<bool> {
    const F: &str = "resolver_configure";
    let options = match options {
        Value::Nil => None,
        Value::Table(t) => Some(t),
        other => return Err(type_error(F, 1, "table", &other)),
    };
    let mut settings = Settings::default();
    if let Some(t) = options {
        settings.nameservers = nameservers_field(&t)?;
        let timeout = t.raw_get::<Value>("timeout")?;
        let ms = args::opt_millis(&timeout, F, 1, DEFAULT_TIMEOUT.as_millis() as u64)?;
        if ms == 0 {
            return Err(bad_argument(F, 1, "timeout must be at least 1 ms"));
        }
        settings.timeout = Duration::from_millis(ms);
        settings.prefer = match t.raw_get::<Value>("prefer")? {
            Value::Nil => Prefer::Auto,
            Value::String(s) => match s.to_str().as_deref() {
                Ok("auto") => Prefer::Auto,
                Ok("ipv4") => Prefer::Ipv4,
                Ok("ipv6") => Prefer::Ipv6,
                _ => {
                    return Err(bad_argument(
                        F,
                        1,
                        format!(
                            "prefer must be \"ipv4\", \"ipv6\" or \"auto\", got \"{}\"",
                            s.to_string_lossy()
                        ),
                    ))
                }
            },
            other => return Err(type_error(F, 1, "field 'prefer' string", &other)),
        };
    }
    lua.set_app_data(settings);
    Ok(true)
}

/// `nameservers = {"127.0.0.1:5353", "[::1]:53", "192.0.2.1"}`: IP literals only (a
/// nameserver named by a hostname would need a resolver to find the resolver).
fn nameservers_field(t: &Table) -> Result<Vec<SocketAddr>> {
    const F: &str = "resolver_configure";
    let list = match t.raw_get::<Value>("nameservers")? {
        Value::Nil => return Ok(Vec::new()),
        Value::Table(list) => list,
        other => return Err(type_error(F, 1, "field 'nameservers' table", &other)),
    };
    let mut servers = Vec::new();
    for entry in list.sequence_values::<Value>() {
        let entry = entry?;
        let Value::String(s) = &entry else {
            return Err(type_error(F, 1, "nameserver string", &entry));
        };
        let text = s.to_string_lossy();
        let bad = |detail: String| bad_argument(F, 1, format!("nameserver '{text}': {detail}"));
        let mut spec = address::parse_spec(&text).map_err(bad)?;
        if spec.host.is_none() {
            return Err(bad("an IP address is required".into()));
        }
        if spec.port == 0 {
            spec.port = DEFAULT_DNS_PORT;
        }
        match address::literal(&spec) {
            Ok(Some(addr)) => servers.push(addr),
            Ok(None) => return Err(bad("an IP address is required".into())),
            Err(e) => return Err(bad(e)),
        }
    }
    Ok(servers)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn spec(host: &str, port: u16) -> Spec {
        Spec {
            host: Some(host.into()),
            port,
            scope_id: None,
        }
    }

    #[test]
    fn localhost_needs_no_resolver() {
        // No nameserver at all: any network lookup would fail.
        let settings = Settings {
            nameservers: vec!["127.0.0.1:1".parse().unwrap()],
            timeout: Duration::from_millis(1),
            prefer: Prefer::Ipv4,
        };
        let lua = Lua::new();
        lua.set_app_data(settings);
        let found = resolve_all(&lua, &spec("LocalHost.", 7)).unwrap();
        assert_eq!(
            found,
            vec![
                "127.0.0.1:7".parse::<SocketAddr>().unwrap(),
                "[::1]:7".parse().unwrap()
            ]
        );
        let found = resolve_all(&lua, &spec("game.localhost", 7)).unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn preference_orders_families() {
        let ips: Vec<IpAddr> = vec!["::1".parse().unwrap(), "127.0.0.1".parse().unwrap()];
        let v4 = finish(&ips, 1, None, Prefer::Ipv4);
        assert!(v4[0].is_ipv4());
        let v6 = finish(&ips, 1, None, Prefer::Ipv6);
        assert!(v6[0].is_ipv6());
    }

    #[test]
    fn answers_are_canonical_and_scoped_only_when_link_local() {
        let ips: Vec<IpAddr> = vec![
            "::ffff:127.0.0.1".parse().unwrap(),
            "127.0.0.1".parse().unwrap(),
            "fe80::1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ];
        let found = finish(&ips, 5, Some(3), Prefer::Ipv4);
        assert_eq!(
            found,
            vec![
                "127.0.0.1:5".parse::<SocketAddr>().unwrap(),
                "[fe80::1%3]:5".parse().unwrap(),
                "[2001:db8::1]:5".parse().unwrap(),
            ]
        );
    }

    #[test]
    fn literals_skip_lookup() {
        let lua = Lua::new();
        let found = resolve_all(&lua, &spec("::ffff:10.0.0.1", 3)).unwrap();
        assert_eq!(found, vec!["10.0.0.1:3".parse::<SocketAddr>().unwrap()]);
    }

    fn lookup(lua: &Lua, name: &str) -> Lookup {
        match Job::new(&settings(lua), &spec(name, 1)).unwrap() {
            Job::Lookup(lookup) => lookup,
            Job::Done(_) => panic!("{name} is not a lookup"),
        }
    }

    fn submit(shared: &Arc<PoolShared>, lua: &Lua, name: &str) -> Ticket {
        shared.submit(lookup(lua, name)).unwrap()
    }

    /// Waits up to `limit` for the pool's pending count to reach `want`.
    fn pending_reaches(shared: &PoolShared, want: usize, limit: Duration) -> usize {
        let deadline = Instant::now() + limit;
        loop {
            let pending = shared.lock().pending;
            if pending == want || Instant::now() >= deadline {
                return pending;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Points `lua`'s resolver at `silent`, a nameserver that never answers: a lookup that
    /// runs takes its whole `timeout`.
    fn use_silent(lua: &Lua, silent: &UdpSocket, timeout: Duration) {
        lua.set_app_data(Settings {
            nameservers: vec![silent.local_addr().unwrap()],
            timeout,
            prefer: Prefer::Auto,
        });
    }

    #[test]
    fn abandoned_lookups_are_skipped_not_run() {
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let lua = Lua::new();
        use_silent(&lua, &silent, Duration::from_secs(1));
        let shared = pool(&lua);
        // Every worker busy with a lookup somebody waits for, then 20 nobody waits for.
        let busy: Vec<Ticket> = (0..WORKERS)
            .map(|i| submit(&shared, &lua, &format!("busy{i}.test")))
            .collect();
        let abandoned: Vec<Ticket> = (0..20)
            .map(|i| submit(&shared, &lua, &format!("gone{i}.test")))
            .collect();
        drop(abandoned);
        // The workers skip them once free: run, they would take 5 more seconds on 4 workers.
        for ticket in &busy {
            assert!(ticket.rx.recv_timeout(Duration::from_secs(30)).is_ok());
        }
        assert_eq!(pending_reaches(&shared, 0, Duration::from_millis(2500)), 0);

        // A submit drops abandoned lookups still queued: they no longer count against the bound.
        // These busy lookups last 10 s, so none ends before the count below, however slow the
        // machine.
        use_silent(&lua, &silent, Duration::from_secs(10));
        let busy: Vec<Ticket> = (0..WORKERS)
            .map(|i| submit(&shared, &lua, &format!("busy{i}.test")))
            .collect();
        for i in 0..MAX_PENDING_LOOKUPS - WORKERS {
            drop(submit(&shared, &lua, &format!("gone{i}.test")));
        }
        let live = shared.submit(lookup(&lua, "live.test"));
        assert!(live.is_ok(), "refused behind abandoned lookups");
        assert_eq!(shared.lock().pending, WORKERS + 1);
        drop(busy);
    }

    #[test]
    fn lookups_past_the_bound_fail_at_once_and_workers_stay_bounded() {
        // Every lookup stays pending for its timeout.
        let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
        let lua = Lua::new();
        use_silent(&lua, &silent, Duration::from_secs(3));
        let shared = pool(&lua);
        let mut tickets = Vec::new();
        for i in 0..MAX_PENDING_LOOKUPS {
            tickets.push(submit(&shared, &lua, &format!("h{i}.test")));
        }
        let refused = shared.submit(lookup(&lua, "over.test")).unwrap_err();
        assert!(refused.contains("lookups already pending"), "{refused}");
        assert!(shared.lock().workers <= WORKERS);
        // Closing the Lua state closes the pool: running lookups end with their timeout, queued
        // ones are dropped (their receivers see the sender gone), and the workers end.
        drop(lua);
        let last = tickets.pop().unwrap();
        assert!(matches!(
            last.rx.recv_timeout(Duration::from_secs(30)),
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected)
        ));
        let deadline = Instant::now() + Duration::from_secs(30);
        while shared.lock().workers > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(shared.lock().workers, 0);
    }

    #[test]
    fn os_fallback_answers_localhost_from_the_hosts_file() {
        let found = os_lookup("localhost").unwrap();
        assert!(found.iter().any(|ip| ip.is_loopback()), "{found:?}");
    }
}

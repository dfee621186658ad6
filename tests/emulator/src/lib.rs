//! An in-memory emulator of Clerk's Backend API (`/v1`), for tests, benchmarks and trying the
//! Clerk integration without a Clerk account.
//!
//! It speaks Clerk's wire format: the objects of the OpenAPI spec (version 2026-05-12), Clerk's
//! error body and codes, bearer-key authentication and the `Clerk-API-Version` header. Tests can
//! inspect every request it received, queue faults (429s, 5xx, dropped connections, truncated
//! bodies, delays) and set per-endpoint rate limits. Clerk's own rate limits (the instance limit
//! for the key's type and the endpoint limits) are on by default ([`ClerkLimits`]), each answer
//! can be delayed by a fixed latency, and [`Emulator::stats`] counts the 429s it sent. Given
//! Clerk's OpenAPI document ([`Config::with_openapi`]), it also answers every operation no
//! stateful handler serves with a mock built from the spec ([`Emulator::operations`] tells which
//! is which). [`Emulator::snapshot`] and [`Emulator::restore`] save and bring back the data. See
//! `README.md` for the full surface.

// Clerk's user object is wider than the default `json!` recursion limit allows.
#![recursion_limit = "256"]

mod api;
mod chaos;
mod control;
mod handlers;
mod limits;
mod mock;
pub mod multipart;
mod openapi;
mod routes;
mod server;
mod store;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

pub use chaos::{CHAOS_KINDS, Chaos, ChaosReport};
pub use kosmo_codegen::openapi::Document;
pub use limits::{ClerkLimit, ClerkLimits, InstanceTier, MAX_WINDOW_SCALE, Stats};
pub use mock::{MOCK_TIMESTAMP_MS, example_value};
pub use openapi::{load_openapi_spec, openapi_spec_path};
pub use routes::{Mode, Operation, operations};

/// The key the emulator accepts unless configured otherwise. It only ever works here.
pub const DEFAULT_SECRET_KEY: &str = "sk_test_emulator_local_only_0000000000000";

/// Values accepted in the `Clerk-API-Version` header or the `__clerk_api_version` query parameter.
pub const SUPPORTED_API_VERSIONS: &[&str] = &[
    "2021-02-05",
    "2024-10-01",
    "2025-04-10",
    "2025-11-10",
    "2026-05-12",
];

/// How to run an emulator.
#[derive(Clone)]
pub struct Config {
    pub host: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Also picks the instance limit: `sk_live_…` is a production instance, anything else a
    /// development one.
    pub secret_key: String,
    pub seed_users: usize,
    pub seed_organizations: usize,
    /// Clerk's rate limits; on by default. Test suites making many calls use
    /// [`Config::without_limits`].
    pub limits: ClerkLimits,
    /// How long every API request waits before its answer is sent (zero by default).
    pub latency: Duration,
    /// Whether API requests are recorded for [`Emulator::requests`] (true by default).
    pub record_requests: bool,
    /// Clerk's OpenAPI document: when set, every operation of it that no stateful handler
    /// serves is answered with a mock built from it (none by default: such routes are 404s).
    pub openapi: Option<Arc<Document>>,
    /// Random faults on API requests, for soaks (none by default).
    pub chaos: Option<Chaos>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the document itself: it is hundreds of kilobytes.
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("seed_users", &self.seed_users)
            .field("seed_organizations", &self.seed_organizations)
            .field("limits", &self.limits)
            .field("latency", &self.latency)
            .field("record_requests", &self.record_requests)
            .field("openapi", &self.openapi.is_some())
            .field("chaos", &self.chaos)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            secret_key: DEFAULT_SECRET_KEY.to_string(),
            seed_users: 0,
            seed_organizations: 0,
            limits: ClerkLimits::CLERK,
            latency: Duration::ZERO,
            record_requests: true,
            openapi: None,
            chaos: None,
        }
    }
}

impl Config {
    /// The defaults without Clerk's rate limits, for suites that make many calls.
    pub fn without_limits() -> Config {
        Config {
            limits: ClerkLimits::OFF,
            ..Config::default()
        }
    }

    /// The same settings, answering the document's other operations with mocks (see
    /// [`Config::openapi`]); [`load_openapi_spec`] finds and parses Clerk's.
    pub fn with_openapi(self, document: impl Into<Arc<Document>>) -> Config {
        Config {
            openapi: Some(document.into()),
            ..self
        }
    }
}

/// The emulator's data at one moment: every object, the ID generator's and clock's state and
/// the pinned IDs. Not the requests, faults, limits, stats or settings. See
/// [`Emulator::snapshot`].
#[derive(Clone)]
pub struct Snapshot {
    store: store::Store,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("users", &self.store.count(ObjectKind::User))
            .field("organizations", &self.store.count(ObjectKind::Organization))
            .finish_non_exhaustive()
    }
}

/// The kinds of objects [`Emulator::count`] can count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    User,
    Session,
    Organization,
    Membership,
    OrganizationInvitation,
    Invitation,
    SignInToken,
}

/// One request as the emulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// As received on the wire: percent-encoding preserved, without the query, including `/v1`.
    pub path: String,
    pub raw_query: Option<String>,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Lower-case header names, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body, parsed, when it is JSON.
    pub json: Option<serde_json::Value>,
}

impl RecordedRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Every value of a query parameter, in order.
    pub fn query_values(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A queued fault: the first queued fault matching a request applies to it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub method: Option<String>,
    /// Exact wire path including `/v1`, for example `/v1/users`.
    #[serde(default)]
    pub path: Option<String>,
    pub kind: FaultKind,
    /// How many requests it applies to before it is removed.
    #[serde(default = "one")]
    pub times: usize,
    /// How many matching requests it lets through before it applies.
    #[serde(default)]
    pub skip: usize,
}

fn one() -> usize {
    1
}

impl Fault {
    /// A fault for the next request, whatever it is.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            method: None,
            path: None,
            kind,
            times: 1,
            skip: 0,
        }
    }

    /// Only requests with this method and exact wire path (`/v1/...`).
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_string());
        self.path = Some(path.to_string());
        self
    }

    /// Applies to `n` matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    /// Lets the first `n` matching requests through, then applies to the following ones (a
    /// failure on the second page of a list: `.skip(1)`).
    pub fn skip(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.path.as_deref().is_none_or(|p| p == path)
    }
}

/// What a fault does. "Applied" means the request changes the emulator's state as usual.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultKindWire", into = "FaultKindWire")]
pub enum FaultKind {
    /// 429 `too_many_requests` with this `Retry-After` header verbatim; not applied.
    TooManyRequests { retry_after: Option<String> },
    /// A Clerk-shaped 5xx; not applied.
    ServerError { status: u16 },
    /// Applied, then a Clerk-shaped 5xx (what makes retrying a POST dangerous).
    ServerErrorAfterApplying { status: u16 },
    /// Waits, then handles the request normally.
    Delay(Duration),
    /// The connection closes with no response bytes; not applied.
    DropConnection,
    /// Applied, then the connection closes with no response bytes.
    DropConnectionAfterApplying,
    /// Applied; 200 with the full `Content-Length` but only the first half of the body.
    TruncatedBody,
    /// A non-JSON answer, such as a proxy's error page; not applied.
    NonJson {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Applied; this status with a zero-length body.
    EmptyBody { status: u16 },
    /// Applied; the whole answer, sent in `pieces` parts with `pause` between them.
    SlowBody { pieces: u16, pause: Duration },
}

/// The JSON form of [`FaultKind`] for the control endpoint: a snake_case `type` tag, and
/// `millis` for a delay.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum FaultKindWire {
    TooManyRequests {
        #[serde(default)]
        retry_after: Option<String>,
    },
    ServerError {
        status: u16,
    },
    ServerErrorAfterApplying {
        status: u16,
    },
    Delay {
        millis: u64,
    },
    DropConnection,
    DropConnectionAfterApplying,
    TruncatedBody,
    NonJson {
        status: u16,
        content_type: String,
        body: String,
    },
    EmptyBody {
        status: u16,
    },
    SlowBody {
        pieces: u16,
        pause_millis: u64,
    },
}

impl TryFrom<FaultKindWire> for FaultKind {
    type Error = String;

    fn try_from(wire: FaultKindWire) -> Result<Self, String> {
        let status_ok = |status: u16| {
            if (100..=999).contains(&status) {
                Ok(status)
            } else {
                Err(format!("invalid HTTP status {status}"))
            }
        };
        Ok(match wire {
            FaultKindWire::TooManyRequests { retry_after } => {
                FaultKind::TooManyRequests { retry_after }
            }
            FaultKindWire::ServerError { status } => FaultKind::ServerError {
                status: status_ok(status)?,
            },
            FaultKindWire::ServerErrorAfterApplying { status } => {
                FaultKind::ServerErrorAfterApplying {
                    status: status_ok(status)?,
                }
            }
            FaultKindWire::Delay { millis } => FaultKind::Delay(Duration::from_millis(millis)),
            FaultKindWire::DropConnection => FaultKind::DropConnection,
            FaultKindWire::DropConnectionAfterApplying => FaultKind::DropConnectionAfterApplying,
            FaultKindWire::TruncatedBody => FaultKind::TruncatedBody,
            FaultKindWire::NonJson {
                status,
                content_type,
                body,
            } => FaultKind::NonJson {
                status: status_ok(status)?,
                content_type,
                body,
            },
            FaultKindWire::EmptyBody { status } => FaultKind::EmptyBody {
                status: status_ok(status)?,
            },
            FaultKindWire::SlowBody {
                pieces,
                pause_millis,
            } => FaultKind::SlowBody {
                pieces: pieces.max(1),
                pause: Duration::from_millis(pause_millis),
            },
        })
    }
}

impl From<FaultKind> for FaultKindWire {
    fn from(kind: FaultKind) -> Self {
        match kind {
            FaultKind::TooManyRequests { retry_after } => {
                FaultKindWire::TooManyRequests { retry_after }
            }
            FaultKind::ServerError { status } => FaultKindWire::ServerError { status },
            FaultKind::ServerErrorAfterApplying { status } => {
                FaultKindWire::ServerErrorAfterApplying { status }
            }
            FaultKind::Delay(duration) => FaultKindWire::Delay {
                millis: u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
            },
            FaultKind::DropConnection => FaultKindWire::DropConnection,
            FaultKind::DropConnectionAfterApplying => FaultKindWire::DropConnectionAfterApplying,
            FaultKind::TruncatedBody => FaultKindWire::TruncatedBody,
            FaultKind::NonJson {
                status,
                content_type,
                body,
            } => FaultKindWire::NonJson {
                status,
                content_type,
                body,
            },
            FaultKind::EmptyBody { status } => FaultKindWire::EmptyBody { status },
            FaultKind::SlowBody { pieces, pause } => FaultKindWire::SlowBody {
                pieces,
                pause_millis: u64::try_from(pause.as_millis()).unwrap_or(u64::MAX),
            },
        }
    }
}

/// A fixed-window rate limit. Over the limit, requests get 429 `too_many_requests` with
/// `Retry-After` set to the whole seconds until the window ends (at least 1), and stay blocked
/// until then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "RateLimitWire", into = "RateLimitWire")]
pub struct RateLimit {
    pub method: Option<String>,
    /// Exact wire path including `/v1`; `None` limits every path (one shared counter).
    pub path: Option<String>,
    pub max_requests: u32,
    pub window: Duration,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitWire {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    path: Option<String>,
    max_requests: u32,
    window_ms: u64,
}

impl From<RateLimitWire> for RateLimit {
    fn from(wire: RateLimitWire) -> Self {
        RateLimit {
            method: wire.method,
            path: wire.path,
            max_requests: wire.max_requests,
            window: Duration::from_millis(wire.window_ms),
        }
    }
}

impl From<RateLimit> for RateLimitWire {
    fn from(limit: RateLimit) -> Self {
        RateLimitWire {
            method: limit.method,
            path: limit.path,
            max_requests: limit.max_requests,
            window_ms: u64::try_from(limit.window.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

#[derive(Debug)]
struct RateLimitState {
    limit: RateLimit,
    window_started: Option<Instant>,
    count: u32,
    blocked_until: Option<Instant>,
}

impl RateLimitState {
    fn new(limit: RateLimit) -> RateLimitState {
        RateLimitState {
            limit,
            window_started: None,
            count: 0,
            blocked_until: None,
        }
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.limit
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self.limit.path.as_deref().is_none_or(|p| p == path)
    }

    /// Counts a request; `Some(seconds)` when it is over the limit.
    fn check(&mut self, now: Instant) -> Option<u64> {
        if let Some(until) = self.blocked_until {
            if now < until {
                return Some(retry_after_seconds(until - now));
            }
            self.blocked_until = None;
        }
        let expired = self
            .window_started
            .is_none_or(|start| now >= start + self.limit.window);
        if expired {
            self.window_started = Some(now);
            self.count = 0;
        }
        self.count = self.count.saturating_add(1);
        if self.count > self.limit.max_requests {
            let until = self.window_started.unwrap_or(now) + self.limit.window;
            self.blocked_until = Some(until);
            return Some(retry_after_seconds(until.saturating_duration_since(now)));
        }
        None
    }
}

use limits::retry_after_seconds;

/// Everything behind the mutex: the data, the recorded requests, faults, limits and settings.
struct Inner {
    store: store::Store,
    requests: Vec<RecordedRequest>,
    record_requests: bool,
    latency: Duration,
    faults: VecDeque<Fault>,
    rate_limits: Vec<RateLimitState>,
    limiter: limits::Limiter,
    refusals: limits::RefusalCounts,
    /// Saved by `POST /__emulator/snapshot`, by name; a reset keeps them.
    snapshots: BTreeMap<String, Snapshot>,
    /// Random faults, when the emulator was started with them.
    chaos: Option<chaos::ChaosState>,
}

pub(crate) struct Shared {
    secret_key: String,
    /// Which routes are stateful and which mocked; fixed at the start.
    router: routes::Router,
    inner: Mutex<Inner>,
    /// API requests received since the start or the last reset.
    received: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
}

/// Counts an API request as in flight until dropped (also when its connection goes away).
pub(crate) struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new(config: &Config) -> Shared {
        Shared {
            secret_key: config.secret_key.clone(),
            router: routes::Router::new(config.openapi.as_deref()),
            inner: Mutex::new(Inner {
                store: store::Store::new(),
                requests: Vec::new(),
                record_requests: config.record_requests,
                latency: config.latency,
                faults: VecDeque::new(),
                rate_limits: Vec::new(),
                limiter: limits::Limiter::new(
                    config.limits,
                    InstanceTier::from_secret_key(&config.secret_key),
                ),
                refusals: limits::RefusalCounts::default(),
                snapshots: BTreeMap::new(),
                chaos: config.chaos.map(chaos::ChaosState::new),
            }),
            received: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
        }
    }

    /// Empties the data, requests, faults, custom limits, limit counters and stats; keeps the
    /// settings (Clerk limits, latency, recording) and saved snapshots.
    fn reset(&self) {
        self.reset_to(store::Store::new());
    }

    /// A reset whose data is `store` instead of nothing.
    fn reset_to(&self, store: store::Store) {
        let mut inner = self.lock();
        inner.store = store;
        inner.requests.clear();
        inner.faults.clear();
        inner.rate_limits.clear();
        inner.limiter.clear();
        inner.refusals = limits::RefusalCounts::default();
        self.received.store(0, Ordering::SeqCst);
        self.max_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }

    fn stats(&self) -> Stats {
        let mut stats = Stats {
            requests: self.received.load(Ordering::SeqCst),
            in_flight: self.in_flight.load(Ordering::SeqCst),
            max_in_flight: self.max_in_flight.load(Ordering::SeqCst),
            ..Stats::default()
        };
        self.lock().refusals.fill(&mut stats);
        stats
    }

    /// Replaces the Clerk limit settings and starts their counters afresh.
    fn set_limits(&self, limits: ClerkLimits) -> Result<(), String> {
        limits.validate()?;
        let mut inner = self.lock();
        inner.limiter.settings = limits;
        inner.limiter.clear();
        Ok(())
    }

    /// A random fault for the next API request, when the emulator runs with [`Chaos`].
    fn chaos_fault(&self) -> Option<FaultKind> {
        self.lock().chaos.as_mut().and_then(chaos::ChaosState::draw)
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<FaultKind> {
        let mut inner = self.lock();
        // Every matching fault that is still skipping counts the request; the first matching
        // fault that skips no more applies.
        let mut index = None;
        for (i, fault) in inner.faults.iter_mut().enumerate() {
            if fault.times == 0 || !fault.matches(method, path) {
                continue;
            }
            if fault.skip > 0 {
                fault.skip -= 1;
            } else if index.is_none() {
                index = Some(i);
            }
        }
        let index = index?;
        let fault = inner.faults.get_mut(index)?;
        fault.times -= 1;
        let kind = fault.kind.clone();
        if fault.times == 0 {
            inner.faults.remove(index);
        }
        Some(kind)
    }
}

/// A running emulator. Dropping the handle stops it.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Binds and serves on the current tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Emulator> {
        config
            .limits
            .validate()
            .map_err(|message| std::io::Error::new(std::io::ErrorKind::InvalidInput, message))?;
        let listener = tokio::net::TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&config));
        shared
            .lock()
            .store
            .seed(config.seed_users, config.seed_organizations);
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(server::serve(listener, Arc::clone(&shared), stopped));
        Ok(Emulator {
            addr,
            shared,
            stop: Some(stop),
            server: Some(server),
            thread: None,
        })
    }

    /// Serves from its own thread and multi-thread runtime, for synchronous tests and benches.
    pub fn spawn(config: Config) -> std::io::Result<Emulator> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("clerk-emulator".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = ready_tx.send(Err(error));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(mut emulator) => {
                            let server = emulator.server.take();
                            let parts = (
                                emulator.addr,
                                Arc::clone(&emulator.shared),
                                emulator.stop.take(),
                            );
                            drop(emulator);
                            let _ = ready_tx.send(Ok(parts));
                            if let Some(server) = server {
                                let _ = server.await;
                            }
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                        }
                    }
                });
            })?;
        let (addr, shared, stop) = ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the emulator thread exited early"))??;
        Ok(Emulator {
            addr,
            shared,
            stop,
            server: None,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// For example `http://127.0.0.1:8787/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn secret_key(&self) -> &str {
        &self.shared.secret_key
    }

    /// Every API request received (faulted, rejected and unauthorized ones too), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Returns the recorded requests and forgets them.
    pub fn take_requests(&self) -> Vec<RecordedRequest> {
        std::mem::take(&mut self.shared.lock().requests)
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        if fault.times > 0 {
            self.shared.lock().faults.push_back(fault);
        }
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Adds a rate limit, replacing one set earlier for the same method and path.
    pub fn set_rate_limit(&self, limit: RateLimit) {
        let mut inner = self.shared.lock();
        inner
            .rate_limits
            .retain(|state| state.limit.method != limit.method || state.limit.path != limit.path);
        inner.rate_limits.push(RateLimitState::new(limit));
    }

    /// Adds `users` users (with email addresses and names) and `organizations` organizations.
    pub fn seed(&self, users: usize, organizations: usize) {
        self.shared.lock().store.seed(users, organizations);
    }

    /// Makes the next objects created with these IDs' prefixes (`user_`, `org_`, `sess_`, ...)
    /// take exactly these IDs, in order, so that docs samples naming literal IDs
    /// (`get_user({ id = "user_2abc123" })`) can be run against objects created the normal way.
    /// Fails, pinning nothing, when an ID has no `prefix_` or is already used or pinned.
    pub fn pin_ids(&self, ids: &[&str]) -> Result<(), String> {
        let mut inner = self.shared.lock();
        for (index, id) in ids.iter().enumerate() {
            if !inner.store.can_pin(id) || ids[..index].contains(id) {
                return Err(format!(
                    "cannot pin `{id}`: it has no `prefix_` or is already used or pinned"
                ));
            }
        }
        for id in ids {
            inner.store.pin_id(id);
        }
        Ok(())
    }

    /// Empties the data, the recorded requests, the faults, the custom rate limits, the
    /// counters of Clerk's limits and the [`Stats`]. Settings stay: whether Clerk's limits are
    /// on and their window scale, the latency and whether requests are recorded.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Clerk's rate limits as currently set.
    pub fn limits(&self) -> ClerkLimits {
        self.shared.lock().limiter.settings
    }

    /// Turns Clerk's rate limits on or off or rescales their windows; their counters start
    /// afresh. Fails, changing nothing, when the window scale is not finite and positive.
    pub fn set_limits(&self, limits: ClerkLimits) -> Result<(), String> {
        self.shared.set_limits(limits)
    }

    /// Production for a `sk_live_` key, else development: which instance limit applies.
    pub fn instance_tier(&self) -> InstanceTier {
        self.shared.lock().limiter.tier
    }

    /// The latency added to every API answer.
    pub fn latency(&self) -> Duration {
        self.shared.lock().latency
    }

    /// Makes every later API request wait this long before its answer is sent. The wait does
    /// not hold the emulator's lock, so concurrent requests overlap.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Whether API requests are recorded (see [`Emulator::requests`]).
    pub fn records_requests(&self) -> bool {
        self.shared.lock().record_requests
    }

    /// Starts or stops recording API requests; those recorded so far stay.
    pub fn set_record_requests(&self, record: bool) {
        self.shared.lock().record_requests = record;
    }

    /// Requests received and 429s sent since the start or the last [`Emulator::reset`].
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// Starts random faults, or stops them with `None`; new ones count afresh.
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        self.shared.lock().chaos = chaos.map(chaos::ChaosState::new);
    }

    /// The random faults injected so far (`None` without [`Config::chaos`]).
    pub fn chaos_report(&self) -> Option<ChaosReport> {
        self.shared
            .lock()
            .chaos
            .as_ref()
            .map(chaos::ChaosState::report)
    }

    /// The data as it is now, to [`Emulator::restore`] later: a test builds its fixture once,
    /// snapshots it, and restores it before each case instead of building it again.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            store: self.shared.lock().store.clone(),
        }
    }

    /// Puts the data back as `snapshot` holds it (objects, ID generator, clock, pinned IDs) and
    /// otherwise resets like [`Emulator::reset`]: requests, faults, custom rate limits, the
    /// counters of Clerk's limits and the stats start empty; settings stay. The same calls after
    /// a restore give the same IDs.
    pub fn restore(&self, snapshot: &Snapshot) {
        self.shared.reset_to(snapshot.store.clone());
    }

    /// Every operation of the OpenAPI document with how it is answered (stateful or mocked),
    /// then the stateful routes the document lacks; without a document, the stateful routes.
    pub fn operations(&self) -> Vec<Operation> {
        self.shared.router.operations().to_vec()
    }

    /// How many live objects of a kind exist.
    pub fn count(&self, kind: ObjectKind) -> usize {
        self.shared.lock().store.count(kind)
    }

    /// Stops serving and waits until the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

//! Pacing: requests wait for room under the provider's declared limits instead of running into
//! 429s.
//!
//! Each limit is a sliding window: at most `requests` in any interval of `window`. That is the
//! strictest reading of a limit such as "100 requests per 10 seconds", so a server that
//! counts fixed windows, sliding windows or blocks after a burst never sees it exceeded. A
//! request is admitted when every limit it falls under (the instance's, for the key's tier, and
//! the endpoint's, per resource where declared) has had fewer than `requests` admissions in the
//! last `window`; otherwise it sleeps until the oldest of them leaves the window.
//!
//! Why not a GCRA limiter such as `governor`: GCRA spreads requests evenly, so to never exceed
//! "N in any window" it must give up either the burst or a share of the rate. Against a limit
//! of "100 invitations per hour", a GCRA pacer either lets only a few go at once (the 51st of 60
//! invitations would wait minutes that the provider would not have asked for) or runs at a
//! fraction of the limit. A window log admits exactly what the limit allows, at the cost of one
//! timestamp per admission in the window (1,000 for a limit of 1,000 requests per window).
//!
//! When a 429 arrives anyway (another process shares the key), the limit it hit is paused for
//! the provider's `Retry-After` and its budget cut to three quarters; the full budget returns
//! after a whole window without another 429.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::meta::{EndpointLimit, ProviderMeta, RateTier};
use crate::{Credentials, Error, Method};

/// How calls are paced.
#[derive(Debug, Clone)]
pub struct PacingConfig {
    /// Pace at all. On by default; off sends every request at once and leaves 429s to retries.
    pub enabled: bool,
    /// Tier overrides by provider name (`acme` → `production`), for keys whose prefix does not
    /// tell the tier.
    pub tiers: Vec<(String, String)>,
    /// Multiplies every window: `0.5` paces as if "100 per 10 s" were "100 per 5 s". For
    /// emulators whose windows are scaled the same way; 1 against a real provider.
    pub window_scale: f64,
    /// The longest a request waits for room. A request that would wait longer fails at once
    /// with a `rate_limited` error that says when room returns; nothing is sent.
    pub max_wait: Duration,
}

impl Default for PacingConfig {
    fn default() -> Self {
        PacingConfig {
            enabled: true,
            tiers: Vec::new(),
            window_scale: 1.0,
            max_wait: Duration::from_secs(60),
        }
    }
}

impl PacingConfig {
    /// No pacing.
    pub fn off() -> Self {
        PacingConfig {
            enabled: false,
            ..Self::default()
        }
    }

    /// The tier configured for `provider`, if any.
    pub fn tier_for(&self, provider: &str) -> Option<&str> {
        self.tiers
            .iter()
            .find(|(p, _)| p == provider)
            .map(|(_, t)| t.as_str())
    }
}

/// Added to every window, on top of 2 % of it, for the spread of the network's delay.
pub const WINDOW_MARGIN: Duration = Duration::from_millis(50);

/// A few counters, for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacerStats {
    /// Requests admitted.
    pub admitted: u64,
    /// Requests that had to wait for room.
    pub delayed: u64,
    /// Time requests spent waiting, in total.
    pub waited: Duration,
    /// 429s reported back by the transport.
    pub rate_limited: u64,
    /// Requests refused because room was further away than [`PacingConfig::max_wait`].
    pub refused: u64,
}

/// One sliding window.
#[derive(Debug)]
struct Window {
    declared: u32,
    /// The budget now: `declared`, or less after a 429.
    allowed: u32,
    window: Duration,
    admitted: VecDeque<Instant>,
    paused_until: Option<Instant>,
    last_429: Option<Instant>,
}

impl Window {
    fn new(requests: u32, window: Duration) -> Self {
        Window {
            declared: requests.max(1),
            allowed: requests.max(1),
            window,
            admitted: VecDeque::new(),
            paused_until: None,
            last_429: None,
        }
    }

    /// The first moment at or after `now` this window has room.
    fn next_room(&mut self, now: Instant) -> Instant {
        if let Some(last) = self.last_429
            && now.saturating_duration_since(last) >= self.window
        {
            self.allowed = self.declared;
            self.last_429 = None;
        }
        while let Some(&oldest) = self.admitted.front() {
            if now.saturating_duration_since(oldest) >= self.window {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
        let mut at = now;
        let allowed = self.allowed as usize;
        if self.admitted.len() >= allowed {
            // The admission that must leave the window before one more fits.
            let index = self.admitted.len() - allowed;
            if let Some(&blocking) = self.admitted.get(index) {
                at = at.max(blocking + self.window);
            }
        }
        if let Some(until) = self.paused_until {
            if until > now {
                at = at.max(until);
            } else {
                self.paused_until = None;
            }
        }
        at
    }

    fn admit(&mut self, now: Instant) {
        self.admitted.push_back(now);
    }

    fn penalize(&mut self, now: Instant, wait: Duration) {
        let until = now + wait;
        self.paused_until = Some(self.paused_until.map_or(until, |u| u.max(until)));
        self.allowed = (self.allowed.saturating_mul(3) / 4).max(1);
        self.last_429 = Some(now);
    }

    fn is_idle(&self, now: Instant) -> bool {
        self.paused_until.is_none_or(|u| u <= now)
            && self.last_429.is_none()
            && self
                .admitted
                .back()
                .is_none_or(|&last| now.saturating_duration_since(last) >= self.window)
    }
}

/// The windows of one endpoint limit: one, or one per resource.
#[derive(Debug)]
struct EndpointWindows {
    limit: &'static EndpointLimit,
    /// The window paced to: the declared one and a margin.
    window: Duration,
    /// The window as declared (and scaled), for messages.
    declared: Duration,
    shared: Window,
    per_resource: HashMap<String, Window>,
}

/// Resource windows kept before idle ones are dropped.
const MAX_IDLE_RESOURCES: usize = 4096;

impl EndpointWindows {
    fn get(&mut self, resource: Option<&str>, now: Instant) -> &mut Window {
        let Some(resource) = resource else {
            return &mut self.shared;
        };
        if self.per_resource.len() >= MAX_IDLE_RESOURCES
            && !self.per_resource.contains_key(resource)
        {
            self.per_resource.retain(|_, w| !w.is_idle(now));
        }
        let (requests, window) = (self.limit.requests, self.window);
        self.per_resource
            .entry(resource.to_string())
            .or_insert_with(|| Window::new(requests, window))
    }
}

/// The limits one key's requests share. Every transport that sends with the key should hold
/// the same `Pacer` (see [`Pacers`]), so that calls from any account or script of a process
/// count against one budget.
#[derive(Debug)]
pub struct Pacer {
    provider: &'static ProviderMeta,
    tier: Option<&'static RateTier>,
    instance: Option<Mutex<Window>>,
    /// The instance window as declared and scaled, for messages (which must not lock).
    instance_window: Duration,
    endpoints: Vec<Mutex<EndpointWindows>>,
    max_wait: Duration,
    admitted: AtomicU64,
    delayed: AtomicU64,
    waited_nanos: AtomicU64,
    rate_limited: AtomicU64,
    refused: AtomicU64,
}

/// Which endpoint limit a request falls under, and for which resource.
struct Matched {
    endpoint: usize,
    resource: Option<String>,
}

impl Pacer {
    /// The pacer for one key of `provider`, or `None` when pacing is off or the provider
    /// declares no limits. An unknown tier name in `config` is an error.
    pub fn new(
        provider: &'static ProviderMeta,
        credentials: &Credentials,
        config: &PacingConfig,
    ) -> Result<Option<Pacer>, Error> {
        let limits = &provider.rate_limits;
        if !config.enabled || (limits.tiers.is_empty() && limits.endpoints.is_empty()) {
            return Ok(None);
        }
        if !config.window_scale.is_finite() || config.window_scale <= 0.0 {
            return Err(Error::Config(format!(
                "the pacing window scale must be a number above 0, not {}",
                config.window_scale
            )));
        }
        let tier = match config.tier_for(provider.name) {
            Some(name) => Some(limits.tier(name).ok_or_else(|| {
                let known: Vec<&str> = limits.tiers.iter().map(|t| t.name).collect();
                Error::Config(format!(
                    "{} has no rate-limit tier `{name}`; its tiers are: {}",
                    provider.label,
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            })?),
            None => {
                let key = credentials
                    .get(limits.tier_credential)
                    .map(|k| k.expose_secret().to_string())
                    .unwrap_or_default();
                limits.tier_for_key(&key)
            }
        };
        let scaled = |ms: u64| {
            Duration::from_millis(ms)
                .mul_f64(config.window_scale)
                .max(Duration::from_millis(1))
        };
        // Requests are counted where they arrive, and the way there takes longer for some than
        // for others: two sent a window apart can arrive closer. Pacing to a window a little
        // longer than the limit's covers that spread, for 2 % of the throughput.
        let padded = |window: Duration| window + window / 50 + WINDOW_MARGIN;
        Ok(Some(Pacer {
            provider,
            tier,
            instance: tier
                .map(|t| Mutex::new(Window::new(t.requests, padded(scaled(t.window_ms))))),
            instance_window: tier.map_or(Duration::ZERO, |t| scaled(t.window_ms)),
            endpoints: limits
                .endpoints
                .iter()
                .map(|limit| {
                    let declared = scaled(limit.window_ms);
                    let window = padded(declared);
                    Mutex::new(EndpointWindows {
                        limit,
                        window,
                        declared,
                        shared: Window::new(limit.requests, window),
                        per_resource: HashMap::new(),
                    })
                })
                .collect(),
            max_wait: config.max_wait,
            admitted: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            waited_nanos: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        }))
    }

    /// The tier the instance limit uses.
    pub fn tier(&self) -> Option<&'static RateTier> {
        self.tier
    }

    pub fn stats(&self) -> PacerStats {
        PacerStats {
            admitted: self.admitted.load(Ordering::Relaxed),
            delayed: self.delayed.load(Ordering::Relaxed),
            waited: Duration::from_nanos(self.waited_nanos.load(Ordering::Relaxed)),
            rate_limited: self.rate_limited.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
        }
    }

    fn matched(&self, method: Method, path: &str) -> Option<Matched> {
        let limits = &self.provider.rate_limits;
        limits.endpoints.iter().enumerate().find_map(|(i, limit)| {
            limit.routes.iter().find_map(|route| {
                let captures = route.captures(method, path)?;
                Some(Matched {
                    endpoint: i,
                    resource: limit.per_resource.then(|| captures.join("/")),
                })
            })
        })
    }

    fn counts_for_instance(&self, method: Method, path: &str) -> bool {
        let limits = &self.provider.rate_limits;
        !limits
            .exempt
            .iter()
            .any(|route| route.captures(method, path).is_some())
    }

    /// Waits until `method path` fits under every limit it falls under, and counts it. Returns
    /// the time waited, or a `rate_limited` error, without waiting, when room is further away
    /// than the configured maximum.
    pub async fn admit(&self, method: Method, path: &str) -> Result<Duration, Error> {
        let started = Instant::now();
        let matched = self.matched(method, path);
        let instance = self
            .instance
            .as_ref()
            .filter(|_| self.counts_for_instance(method, path));
        let mut slept = false;
        loop {
            let now = Instant::now();
            let (room, blocker) = {
                // Locks are always taken instance first, then the endpoint: no deadlock.
                let mut instance_window = instance.map(|m| lock(m));
                let mut endpoint = matched
                    .as_ref()
                    .and_then(|m| self.endpoints.get(m.endpoint))
                    .map(|m| lock(m));
                let mut room = now;
                let mut blocker = None;
                if let Some(window) = instance_window.as_deref_mut() {
                    let at = window.next_room(now);
                    if at > room {
                        room = at;
                        blocker = Some(self.instance_description());
                    }
                }
                if let (Some(windows), Some(m)) = (endpoint.as_deref_mut(), &matched) {
                    let description = describe_endpoint(windows.limit, windows.declared);
                    let at = windows.get(m.resource.as_deref(), now).next_room(now);
                    if at > room {
                        room = at;
                        blocker = Some(description);
                    }
                }
                if room <= now {
                    if let Some(window) = instance_window.as_deref_mut() {
                        window.admit(now);
                    }
                    if let (Some(windows), Some(m)) = (endpoint.as_deref_mut(), &matched) {
                        windows.get(m.resource.as_deref(), now).admit(now);
                    }
                }
                (room, blocker)
            };
            if room <= now {
                let waited = if slept {
                    started.elapsed()
                } else {
                    Duration::ZERO
                };
                self.admitted.fetch_add(1, Ordering::Relaxed);
                if slept {
                    self.delayed.fetch_add(1, Ordering::Relaxed);
                    let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
                    self.waited_nanos.fetch_add(nanos, Ordering::Relaxed);
                    record_wait(waited);
                }
                return Ok(waited);
            }
            let until_room = room - now;
            if started.elapsed() + until_room > self.max_wait {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(Error::RateLimited {
                    provider: self.provider.label.to_string(),
                    limit: blocker.unwrap_or_default(),
                    retry_after: until_room.as_secs() + u64::from(until_room.subsec_nanos() > 0),
                    max_wait: self.max_wait.as_secs_f64(),
                });
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(room)).await;
            slept = true;
        }
    }

    /// A 429 came back for `method path`: pause the limit it most likely hit for `retry_after`
    /// (1 s when the provider gave none) and cut its budget until a window passes without one.
    pub fn rate_limited(&self, method: Method, path: &str, retry_after: Option<Duration>) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let wait = retry_after.unwrap_or(Duration::from_secs(1));
        // An endpoint's own limit is far lower than the instance's: it is the likelier cause,
        // and pausing only it keeps the rest of the script moving.
        if let Some(m) = self.matched(method, path)
            && let Some(endpoint) = self.endpoints.get(m.endpoint)
        {
            lock(endpoint)
                .get(m.resource.as_deref(), now)
                .penalize(now, wait);
            return;
        }
        if let Some(instance) = &self.instance {
            lock(instance).penalize(now, wait);
        }
    }

    fn instance_description(&self) -> String {
        // Called with the instance window locked: it must not lock it again.
        match self.tier {
            Some(tier) => format!(
                "{} requests per {} for the key ({} tier)",
                tier.requests,
                seconds(self.instance_window),
                tier.name
            ),
            None => "the instance limit".to_string(),
        }
    }
}

fn describe_endpoint(limit: &EndpointLimit, window: Duration) -> String {
    format!(
        "{}: {} requests per {}{}",
        limit.name,
        limit.requests,
        seconds(window),
        if limit.per_resource {
            " for each resource"
        } else {
            ""
        }
    )
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 3600.0 && s % 3600.0 == 0.0 {
        format!("{} h", s / 3600.0)
    } else if s.fract() == 0.0 {
        format!("{s} s")
    } else {
        format!("{s:.3} s")
    }
}

/// A poisoned lock only means another request panicked mid-update; the window is still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One pacer per provider and key, shared by every transport that asks for one.
#[derive(Debug, Default)]
pub struct Pacers {
    entries: Mutex<Vec<(&'static str, SecretString, Arc<Pacer>)>>,
}

impl Pacers {
    /// The pacer for `provider` and the key in `credentials`: the one already made for the
    /// same key, else a new one. `None` when pacing is off or nothing is declared.
    pub fn pacer(
        &self,
        provider: &'static ProviderMeta,
        credentials: &Credentials,
        config: &PacingConfig,
    ) -> Result<Option<Arc<Pacer>>, Error> {
        let key = credentials
            .get(provider.rate_limits.tier_credential)
            .or_else(|| credentials.get(provider.bearer_credential))
            .map(|k| k.expose_secret().to_string())
            .unwrap_or_default();
        let mut entries = lock(&self.entries);
        if let Some((_, _, pacer)) = entries
            .iter()
            .find(|(name, held, _)| *name == provider.name && held.expose_secret() == key)
        {
            return Ok(Some(pacer.clone()));
        }
        let Some(pacer) = Pacer::new(provider, credentials, config)? else {
            return Ok(None);
        };
        let pacer = Arc::new(pacer);
        entries.push((provider.name, SecretString::from(key), pacer.clone()));
        Ok(Some(pacer))
    }
}

tokio::task_local! {
    /// Nanoseconds the current call spent waiting for room, summed over its attempts.
    static PACED: Arc<AtomicU64>;
}

/// Runs `call` and returns its output with the time its requests waited for room.
pub async fn measure<F: Future>(call: F) -> (F::Output, Duration) {
    let cell = Arc::new(AtomicU64::new(0));
    let output = PACED.scope(cell.clone(), call).await;
    (output, Duration::from_nanos(cell.load(Ordering::Relaxed)))
}

fn record_wait(waited: Duration) {
    let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
    let _ = PACED.try_with(|cell| cell.fetch_add(nanos, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_never_admits_more_than_its_budget_in_any_interval() {
        let start = Instant::now();
        let mut window = Window::new(5, Duration::from_millis(100));
        let mut admitted = Vec::new();
        let mut now = start;
        // Ask every 7 ms for 1 s: admit whenever there is room.
        while now < start + Duration::from_secs(1) {
            if window.next_room(now) <= now {
                window.admit(now);
                admitted.push(now);
            }
            now += Duration::from_millis(7);
        }
        for (i, &first) in admitted.iter().enumerate() {
            let within = admitted[i..]
                .iter()
                .take_while(|&&t| t.duration_since(first) < Duration::from_millis(100))
                .count();
            assert!(within <= 5, "{within} admissions within one window");
        }
        // And it uses the budget: 5 per 100 ms over 1 s is 50, give or take the last window.
        assert!(admitted.len() >= 45, "{}", admitted.len());
    }

    static TIERS: [crate::meta::RateTier; 1] = [crate::meta::RateTier {
        name: "test",
        key_prefix: "",
        requests: 5,
        window_ms: 100,
    }];
    static PROVIDER: ProviderMeta = ProviderMeta {
        name: "acme",
        label: "Acme",
        description: "",
        category: "",
        docs_url: "",
        base_url: "https://acme.test",
        version_header: None,
        bearer_credential: "token",
        credentials: &[],
        errors: crate::meta::ErrorFormat::NONE,
        retry_after_header: "Retry-After",
        rate_limits: crate::meta::RateLimits {
            tier_credential: "token",
            tiers: &TIERS,
            exempt: &[],
            endpoints: &[],
        },
        families: &[],
        functions: &[],
    };

    #[tokio::test]
    async fn requests_past_the_budget_wait_for_room_and_then_go() {
        let pacer = Pacer::new(&PROVIDER, &Credentials::new(), &PacingConfig::default())
            .unwrap()
            .unwrap();
        for _ in 0..12 {
            pacer.admit(Method::Get, "/widgets").await.unwrap();
        }
        let stats = pacer.stats();
        assert_eq!(stats.admitted, 12);
        // 5 at once; the 6th waits for the window (and its margin) to pass, after which the
        // 7th to 10th fit at once; the 11th waits again and the 12th fits.
        assert_eq!(stats.delayed, 2);
        assert!(stats.waited >= Duration::from_millis(250), "{stats:?}");

        // A wait longer than allowed is refused at once, with the limit and the time to wait.
        let strict = Pacer::new(
            &PROVIDER,
            &Credentials::new(),
            &PacingConfig {
                max_wait: Duration::ZERO,
                ..PacingConfig::default()
            },
        )
        .unwrap()
        .unwrap();
        for _ in 0..5 {
            strict.admit(Method::Get, "/widgets").await.unwrap();
        }
        let refused = strict.admit(Method::Get, "/widgets").await.unwrap_err();
        assert_eq!(refused.kind(), "rate_limited");
        assert!(
            refused
                .to_string()
                .starts_with("Acme rate limit (5 requests per 0.100 s for the key (test tier)) has no room for another 1 s"),
            "{refused}"
        );
    }

    #[test]
    fn a_429_pauses_and_cuts_the_budget_until_a_clean_window() {
        let now = Instant::now();
        let mut window = Window::new(8, Duration::from_secs(1));
        window.penalize(now, Duration::from_secs(2));
        assert_eq!(window.allowed, 6);
        assert_eq!(window.next_room(now), now + Duration::from_secs(2));
        // After a clean window the budget is whole again.
        let later = now + Duration::from_secs(3);
        assert_eq!(window.next_room(later), later);
        assert_eq!(window.allowed, 8);
    }
}

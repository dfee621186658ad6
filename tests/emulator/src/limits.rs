//! Clerk's own rate limits: the instance limit chosen by the key's type and the endpoint limits,
//! enforced as sliding windows, and the counts of what the emulator refused.
//!
//! Each counter keeps the times of the requests it accepted within its window. A request passes
//! when every counter it falls under holds fewer than its maximum; it is then recorded in all of
//! them. A refused request is recorded in none.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::store::Store;

/// How often (in checks) counters that have emptied are dropped, so that counters per user,
/// organization or membership do not pile up over a long benchmark.
const SWEEP_EVERY: u32 = 4096;

/// The largest accepted [`ClerkLimits::window_scale`]: an hour's window becomes about 114 years.
pub const MAX_WINDOW_SCALE: f64 = 1_000_000.0;

/// Whether the emulator enforces Clerk's rate limits, and how long their windows are.
///
/// On by default with Clerk's windows. `window_scale` multiplies every window: 0.5 turns
/// "100 per 10 s" into "100 per 5 s" and "50 per hour" into "50 per 30 min", so benchmarks that
/// wait for windows to pass run faster.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClerkLimits {
    pub enabled: bool,
    /// Finite, greater than 0 and at most [`MAX_WINDOW_SCALE`].
    pub window_scale: f64,
}

impl ClerkLimits {
    /// Clerk's limits with Clerk's windows (the default).
    pub const CLERK: ClerkLimits = ClerkLimits {
        enabled: true,
        window_scale: 1.0,
    };

    /// No Clerk limits (custom [`crate::RateLimit`]s and faults still apply).
    pub const OFF: ClerkLimits = ClerkLimits {
        enabled: false,
        window_scale: 1.0,
    };

    /// Clerk's limits with every window multiplied by `window_scale`.
    pub fn scaled(window_scale: f64) -> ClerkLimits {
        ClerkLimits {
            enabled: true,
            window_scale,
        }
    }

    /// Checks `window_scale`.
    pub fn validate(&self) -> Result<(), String> {
        let scale = self.window_scale;
        if scale.is_finite() && scale > 0.0 && scale <= MAX_WINDOW_SCALE {
            Ok(())
        } else {
            Err(format!(
                "window_scale must be a finite number greater than 0 and at most {MAX_WINDOW_SCALE}, not {scale}"
            ))
        }
    }
}

impl Default for ClerkLimits {
    fn default() -> Self {
        ClerkLimits::CLERK
    }
}

/// The kind of Clerk instance, from the secret key: `sk_live_…` is production, anything else
/// development.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceTier {
    /// 100 requests per 10 seconds.
    Development,
    /// 1,000 requests per 10 seconds.
    Production,
}

impl InstanceTier {
    pub fn from_secret_key(secret_key: &str) -> InstanceTier {
        if secret_key.starts_with("sk_live_") {
            InstanceTier::Production
        } else {
            InstanceTier::Development
        }
    }

    /// The instance limit: requests per (unscaled) 10 seconds.
    pub fn requests_per_10_seconds(self) -> u32 {
        match self {
            InstanceTier::Development => 100,
            InstanceTier::Production => 1_000,
        }
    }
}

/// One of Clerk's rate limits. [`ClerkLimit::name`] is the stable name used in [`Stats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClerkLimit {
    /// Every `/v1` request except `GET /v1/jwks`: 100 per 10 s (development) or 1,000
    /// (production), per instance.
    Instance,
    /// `POST /v1/invitations`: 100 per hour.
    Invitations,
    /// `POST /v1/invitations/bulk`: 25 per hour.
    InvitationsBulk,
    /// `POST /v1/organizations/{id}/invitations`: 250 per hour, over all organizations.
    OrganizationInvitations,
    /// `POST /v1/organizations/{id}/invitations/bulk`: 50 per hour, over all organizations.
    OrganizationInvitationsBulk,
    /// `PATCH /v1/users/{id}` and `PATCH|PUT /v1/users/{id}/metadata`: 10 per 10 s per user.
    UserUpdates,
    /// `PATCH /v1/organizations/{id}` and `PATCH|PUT …/metadata`: 10 per 10 s per organization.
    OrganizationUpdates,
    /// `PATCH /v1/organizations/{id}/memberships/{user_id}` and its `/metadata`: 10 per 10 s per
    /// membership.
    MembershipUpdates,
}

impl ClerkLimit {
    pub const ALL: [ClerkLimit; 8] = [
        ClerkLimit::Instance,
        ClerkLimit::Invitations,
        ClerkLimit::InvitationsBulk,
        ClerkLimit::OrganizationInvitations,
        ClerkLimit::OrganizationInvitationsBulk,
        ClerkLimit::UserUpdates,
        ClerkLimit::OrganizationUpdates,
        ClerkLimit::MembershipUpdates,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ClerkLimit::Instance => "instance",
            ClerkLimit::Invitations => "invitations",
            ClerkLimit::InvitationsBulk => "invitations_bulk",
            ClerkLimit::OrganizationInvitations => "organization_invitations",
            ClerkLimit::OrganizationInvitationsBulk => "organization_invitations_bulk",
            ClerkLimit::UserUpdates => "user_updates",
            ClerkLimit::OrganizationUpdates => "organization_updates",
            ClerkLimit::MembershipUpdates => "membership_updates",
        }
    }

    /// How many requests its window admits.
    pub fn max_requests(self, tier: InstanceTier) -> u32 {
        match self {
            ClerkLimit::Instance => tier.requests_per_10_seconds(),
            ClerkLimit::Invitations => 100,
            ClerkLimit::InvitationsBulk => 25,
            ClerkLimit::OrganizationInvitations => 250,
            ClerkLimit::OrganizationInvitationsBulk => 50,
            ClerkLimit::UserUpdates
            | ClerkLimit::OrganizationUpdates
            | ClerkLimit::MembershipUpdates => 10,
        }
    }

    /// Clerk's window, before [`ClerkLimits::window_scale`].
    pub fn window(self) -> Duration {
        match self {
            ClerkLimit::Invitations
            | ClerkLimit::InvitationsBulk
            | ClerkLimit::OrganizationInvitations
            | ClerkLimit::OrganizationInvitationsBulk => Duration::from_secs(3600),
            ClerkLimit::Instance
            | ClerkLimit::UserUpdates
            | ClerkLimit::OrganizationUpdates
            | ClerkLimit::MembershipUpdates => Duration::from_secs(10),
        }
    }

    fn index(self) -> usize {
        match self {
            ClerkLimit::Instance => 0,
            ClerkLimit::Invitations => 1,
            ClerkLimit::InvitationsBulk => 2,
            ClerkLimit::OrganizationInvitations => 3,
            ClerkLimit::OrganizationInvitationsBulk => 4,
            ClerkLimit::UserUpdates => 5,
            ClerkLimit::OrganizationUpdates => 6,
            ClerkLimit::MembershipUpdates => 7,
        }
    }
}

/// What the emulator received and refused, since it started or since the last reset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// API requests received (everything outside `/__emulator`), including faulted, limited and
    /// unauthorized ones.
    pub requests: u64,
    /// 429s sent because of Clerk's limits ([`ClerkLimits`]).
    pub clerk_limit_429s: u64,
    /// The same by [`ClerkLimit::name`]; every limit is listed, zero or not. A request refused
    /// by two limits at once counts under both (and once in `clerk_limit_429s`).
    pub clerk_limit_429s_by_limit: BTreeMap<String, u64>,
    /// 429s sent because of custom [`crate::RateLimit`]s.
    pub rate_limit_429s: u64,
    /// 429s sent by injected faults ([`crate::FaultKind::TooManyRequests`], or another fault
    /// with status 429).
    pub fault_429s: u64,
    /// API requests being handled right now (including their injected latency).
    pub in_flight: u64,
    /// The most API requests handled at once.
    pub max_in_flight: u64,
}

impl Stats {
    /// The 429s one Clerk limit caused.
    pub fn clerk_limit_429s_of(&self, limit: ClerkLimit) -> u64 {
        self.clerk_limit_429s_by_limit
            .get(limit.name())
            .copied()
            .unwrap_or(0)
    }
}

/// The refusal counts kept behind the emulator's lock.
#[derive(Debug, Default)]
pub(crate) struct RefusalCounts {
    pub clerk_total: u64,
    pub clerk_by_limit: [u64; ClerkLimit::ALL.len()],
    pub rate_limit: u64,
    pub fault: u64,
}

impl RefusalCounts {
    pub fn count_clerk(&mut self, limits: &[ClerkLimit]) {
        self.clerk_total += 1;
        for limit in limits {
            self.clerk_by_limit[limit.index()] += 1;
        }
    }

    pub fn fill(&self, stats: &mut Stats) {
        stats.clerk_limit_429s = self.clerk_total;
        stats.clerk_limit_429s_by_limit = ClerkLimit::ALL
            .iter()
            .map(|limit| (limit.name().to_string(), self.clerk_by_limit[limit.index()]))
            .collect();
        stats.rate_limit_429s = self.rate_limit;
        stats.fault_429s = self.fault;
    }
}

/// The counters of Clerk's limits: accepted request times per (limit, key), where the key is
/// empty for per-instance limits and names the user, organization or membership otherwise.
pub(crate) struct Limiter {
    pub settings: ClerkLimits,
    pub tier: InstanceTier,
    counters: HashMap<(ClerkLimit, String), VecDeque<Instant>>,
    checks_since_sweep: u32,
}

/// Why a request was refused.
pub(crate) struct Refusal {
    /// Whole seconds until every full counter has room again (at least 1).
    pub retry_after: u64,
    pub limits: Vec<ClerkLimit>,
}

impl Limiter {
    pub fn new(settings: ClerkLimits, tier: InstanceTier) -> Limiter {
        Limiter {
            settings,
            tier,
            counters: HashMap::new(),
            checks_since_sweep: 0,
        }
    }

    /// Forgets every counted request.
    pub fn clear(&mut self) {
        self.counters.clear();
        self.checks_since_sweep = 0;
    }

    fn window(&self, limit: ClerkLimit) -> Duration {
        // `validate` keeps the scale finite, positive and bounded, so this cannot fail; a zero
        // window (never limiting) is the fallback all the same.
        Duration::try_from_secs_f64(limit.window().as_secs_f64() * self.settings.window_scale)
            .unwrap_or(Duration::ZERO)
    }

    /// Checks a request against every limit it falls under and, when it passes all of them,
    /// counts it in each.
    pub fn check(
        &mut self,
        method: &str,
        segments: Option<&[String]>,
        store: &Store,
        now: Instant,
    ) -> Result<(), Refusal> {
        if !self.settings.enabled {
            return Ok(());
        }
        // Outside `/v1` (a 404 anyway) nothing is counted.
        let Some(segments) = segments else {
            return Ok(());
        };
        self.sweep(now);
        let keys = applicable(method, segments, store);
        let mut refusal: Option<Refusal> = None;
        for (limit, key) in &keys {
            let window = self.window(*limit);
            let max = limit.max_requests(self.tier) as usize;
            let Some(times) = self.counters.get_mut(&(*limit, key.clone())) else {
                continue;
            };
            expire(times, window, now);
            if times.len() >= max {
                let wait = times
                    .front()
                    .and_then(|oldest| oldest.checked_add(window))
                    .map_or(window, |free| free.saturating_duration_since(now));
                refusal = Some(refuse(refusal, *limit, retry_after_seconds(wait)));
            }
        }
        if let Some(refusal) = refusal {
            return Err(refusal);
        }
        for key in keys {
            self.counters.entry(key).or_default().push_back(now);
        }
        Ok(())
    }

    /// Every so often, drops the counters whose requests have all left their window.
    fn sweep(&mut self, now: Instant) {
        self.checks_since_sweep += 1;
        if self.checks_since_sweep < SWEEP_EVERY {
            return;
        }
        self.checks_since_sweep = 0;
        let scale = self.settings.window_scale;
        self.counters.retain(|(limit, _), times| {
            let window = Duration::try_from_secs_f64(limit.window().as_secs_f64() * scale)
                .unwrap_or(Duration::ZERO);
            expire(times, window, now);
            !times.is_empty()
        });
    }
}

fn refuse(earlier: Option<Refusal>, limit: ClerkLimit, seconds: u64) -> Refusal {
    match earlier {
        Some(mut refusal) => {
            refusal.retry_after = refusal.retry_after.max(seconds);
            refusal.limits.push(limit);
            refusal
        }
        None => Refusal {
            retry_after: seconds,
            limits: vec![limit],
        },
    }
}

/// Drops the times that have left the window: a request at `t` no longer counts from
/// `t + window` on, so at most `max` accepted requests fall in any interval of that length.
fn expire(times: &mut VecDeque<Instant>, window: Duration, now: Instant) {
    while let Some(oldest) = times.front() {
        let gone = oldest.checked_add(window).is_some_and(|free| free <= now);
        if !gone {
            break;
        }
        times.pop_front();
    }
}

/// Whole seconds, rounded up, at least 1: what `Retry-After` says.
pub(crate) fn retry_after_seconds(remaining: Duration) -> u64 {
    let whole = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    whole.max(1)
}

/// The (limit, key) counters a request falls under. `segments` are the decoded path segments
/// after `/v1`.
fn applicable(method: &str, segments: &[String], store: &Store) -> Vec<(ClerkLimit, String)> {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut keys = Vec::with_capacity(2);
    if !(method == "GET" && segments == ["jwks"]) {
        keys.push((ClerkLimit::Instance, String::new()));
    }
    let endpoint = match (method, segments.as_slice()) {
        ("POST", ["invitations"]) => Some((ClerkLimit::Invitations, String::new())),
        ("POST", ["invitations", "bulk"]) => Some((ClerkLimit::InvitationsBulk, String::new())),
        ("POST", ["organizations", _, "invitations"]) => {
            Some((ClerkLimit::OrganizationInvitations, String::new()))
        }
        ("POST", ["organizations", _, "invitations", "bulk"]) => {
            Some((ClerkLimit::OrganizationInvitationsBulk, String::new()))
        }
        ("PATCH", ["users", id]) | ("PATCH" | "PUT", ["users", id, "metadata"]) => {
            Some((ClerkLimit::UserUpdates, (*id).to_string()))
        }
        ("PATCH", ["organizations", id]) | ("PATCH" | "PUT", ["organizations", id, "metadata"]) => {
            Some((ClerkLimit::OrganizationUpdates, organization_key(store, id)))
        }
        ("PATCH", ["organizations", id, "memberships", user_id])
        | ("PATCH" | "PUT", ["organizations", id, "memberships", user_id, "metadata"]) => Some((
            ClerkLimit::MembershipUpdates,
            format!("{} {user_id}", organization_key(store, id)),
        )),
        _ => None,
    };
    keys.extend(endpoint);
    keys
}

/// Organizations are addressed by ID or slug; both count against the organization's ID.
fn organization_key(store: &Store, id_or_slug: &str) -> String {
    if store.organizations.contains_key(id_or_slug) {
        return id_or_slug.to_string();
    }
    store
        .organizations
        .values()
        .find(|organization| organization.slug == id_or_slug)
        .map_or_else(|| id_or_slug.to_string(), |o| o.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Vec<String> {
        path.split('/').map(str::to_string).collect()
    }

    #[test]
    fn a_sliding_window_admits_at_most_max_in_any_window() {
        let store = Store::new();
        let mut limiter = Limiter::new(ClerkLimits::CLERK, InstanceTier::Development);
        let start = Instant::now();
        let user = segments("users/user_1");
        for i in 0..10u64 {
            let at = start + Duration::from_millis(i * 100);
            assert!(limiter.check("PATCH", Some(&user), &store, at).is_ok());
        }
        // The 11th within 10 s of the first is refused until the first leaves the window.
        let refused = limiter
            .check(
                "PATCH",
                Some(&user),
                &store,
                start + Duration::from_millis(9_999),
            )
            .err()
            .map(|r| (r.retry_after, r.limits));
        assert_eq!(refused, Some((1, vec![ClerkLimit::UserUpdates])));
        let later = start + Duration::from_millis(5_000);
        assert_eq!(
            limiter
                .check("PATCH", Some(&user), &store, later)
                .err()
                .map(|r| r.retry_after),
            Some(5)
        );
        // Another user has its own counter.
        let other = segments("users/user_2");
        assert!(limiter.check("PATCH", Some(&other), &store, later).is_ok());
        // At exactly first + 10 s the first request no longer counts; a refused one never did.
        let free = start + Duration::from_secs(10);
        assert!(limiter.check("PATCH", Some(&user), &store, free).is_ok());
        assert!(limiter.check("PATCH", Some(&user), &store, free).is_err());
    }

    #[test]
    fn limits_by_method_and_path() {
        let store = Store::new();
        let names = |method: &str, path: &str| -> Vec<&'static str> {
            applicable(method, &segments(path), &store)
                .into_iter()
                .map(|(limit, _)| limit.name())
                .collect()
        };
        assert_eq!(names("GET", "jwks"), Vec::<&str>::new());
        assert_eq!(names("POST", "jwks"), ["instance"]);
        assert_eq!(names("GET", "users"), ["instance"]);
        assert_eq!(names("POST", "invitations"), ["instance", "invitations"]);
        assert_eq!(
            names("POST", "invitations/bulk"),
            ["instance", "invitations_bulk"]
        );
        assert_eq!(
            names("POST", "organizations/org_1/invitations"),
            ["instance", "organization_invitations"]
        );
        assert_eq!(
            names("POST", "organizations/org_1/invitations/bulk"),
            ["instance", "organization_invitations_bulk"]
        );
        for (method, path) in [
            ("PATCH", "users/u"),
            ("PATCH", "users/u/metadata"),
            ("PUT", "users/u/metadata"),
        ] {
            assert_eq!(names(method, path), ["instance", "user_updates"]);
        }
        assert_eq!(names("PUT", "users/u"), ["instance"]);
        for (method, path) in [
            ("PATCH", "organizations/o"),
            ("PATCH", "organizations/o/metadata"),
            ("PUT", "organizations/o/metadata"),
        ] {
            assert_eq!(names(method, path), ["instance", "organization_updates"]);
        }
        for (method, path) in [
            ("PATCH", "organizations/o/memberships/u"),
            ("PATCH", "organizations/o/memberships/u/metadata"),
            ("PUT", "organizations/o/memberships/u/metadata"),
        ] {
            assert_eq!(names(method, path), ["instance", "membership_updates"]);
        }
    }

    #[test]
    fn window_scale_is_validated() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_WINDOW_SCALE * 2.0] {
            assert!(ClerkLimits::scaled(bad).validate().is_err(), "{bad}");
        }
        for good in [1e-6, 0.02, 1.0, MAX_WINDOW_SCALE] {
            assert!(ClerkLimits::scaled(good).validate().is_ok(), "{good}");
        }
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_at_least_one() {
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(200)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
    }
}

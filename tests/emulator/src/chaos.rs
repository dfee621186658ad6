//! Faults at random, for soaks: each API request that no queued fault takes gets, with
//! probability `rate`, one fault of a kind drawn uniformly from every kind the emulator offers.
//! The draws come from a generator seeded with `seed`, so a run's sequence of faults (in the
//! order requests arrive) can be told again from the seed it printed.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::FaultKind;

/// Random faults: `rate` of the API requests (0 to 1) get one, drawn with `seed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    pub seed: u64,
    pub rate: f64,
}

/// The kinds drawn, by the name the report counts them under. Each is one the emulator offers
/// as a queued [`FaultKind`]; 429s come with `Retry-After` in both of its forms.
pub const CHAOS_KINDS: [&str; 11] = [
    "too_many_requests_seconds",
    "too_many_requests_http_date",
    "server_error",
    "server_error_after_applying",
    "drop_connection",
    "drop_connection_after_applying",
    "truncated_body",
    "non_json",
    "empty_body",
    "delay",
    "slow_body",
];

/// What the random faults did: requests seen, and faults injected by kind (every kind of
/// [`CHAOS_KINDS`] is listed, zero or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaosReport {
    pub seed: u64,
    pub requests: u64,
    pub faults: BTreeMap<&'static str, u64>,
}

impl ChaosReport {
    /// Faults injected, of every kind.
    pub fn total(&self) -> u64 {
        self.faults.values().sum()
    }
}

pub(crate) struct ChaosState {
    seed: u64,
    /// SplitMix64's state: small, fast and good enough to spread faults; not for secrets.
    state: u64,
    rate: f64,
    requests: u64,
    faults: BTreeMap<&'static str, u64>,
}

impl ChaosState {
    pub(crate) fn new(chaos: Chaos) -> ChaosState {
        ChaosState {
            seed: chaos.seed,
            state: chaos.seed,
            rate: chaos.rate.clamp(0.0, 1.0),
            requests: 0,
            faults: CHAOS_KINDS.iter().map(|k| (*k, 0)).collect(),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for the next request, if it gets one.
    pub(crate) fn draw(&mut self) -> Option<FaultKind> {
        self.requests += 1;
        if self.next_unit() >= self.rate {
            return None;
        }
        let index = (self.next_u64() % CHAOS_KINDS.len() as u64) as usize;
        let name = CHAOS_KINDS[index];
        *self.faults.entry(name).or_default() += 1;
        Some(fault_of(name))
    }

    pub(crate) fn report(&self) -> ChaosReport {
        ChaosReport {
            seed: self.seed,
            requests: self.requests,
            faults: self.faults.clone(),
        }
    }
}

fn fault_of(name: &str) -> FaultKind {
    match name {
        "too_many_requests_seconds" => FaultKind::TooManyRequests {
            retry_after: Some("1".into()),
        },
        // One second from now, in the form `Retry-After` also takes (RFC 9110, 10.2.3).
        "too_many_requests_http_date" => FaultKind::TooManyRequests {
            retry_after: Some(httpdate::fmt_http_date(
                SystemTime::now() + Duration::from_secs(1),
            )),
        },
        "server_error" => FaultKind::ServerError { status: 503 },
        "server_error_after_applying" => FaultKind::ServerErrorAfterApplying { status: 500 },
        "drop_connection" => FaultKind::DropConnection,
        "drop_connection_after_applying" => FaultKind::DropConnectionAfterApplying,
        "truncated_body" => FaultKind::TruncatedBody,
        "non_json" => FaultKind::NonJson {
            status: 502,
            content_type: "text/html".into(),
            body: "<html><body><h1>502 Bad Gateway</h1></body></html>".into(),
        },
        "empty_body" => FaultKind::EmptyBody { status: 200 },
        "delay" => FaultKind::Delay(Duration::from_millis(50)),
        _ => FaultKind::SlowBody {
            pieces: 4,
            pause: Duration::from_millis(20),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_faults_and_every_kind_comes_up() {
        let draws = |seed| {
            let mut state = ChaosState::new(Chaos { seed, rate: 0.5 });
            let faults: Vec<bool> = (0..2_000).map(|_| state.draw().is_some()).collect();
            (faults, state.report())
        };
        let (first, report) = draws(7);
        assert_eq!(draws(7).0, first);
        assert_ne!(draws(8).0, first);
        assert_eq!(report.requests, 2_000);
        let total = report.total();
        assert!((800..1_200).contains(&total), "{total} of 2,000 at 0.5");
        assert!(report.faults.values().all(|n| *n > 0), "{report:?}");
    }

    #[test]
    fn a_rate_of_zero_injects_nothing() {
        let mut state = ChaosState::new(Chaos { seed: 1, rate: 0.0 });
        assert!((0..1_000).all(|_| state.draw().is_none()));
    }
}

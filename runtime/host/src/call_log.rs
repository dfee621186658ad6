//! The record of a run's integration calls, and the time spent waiting for them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One integration call, as the run's log keeps it (KosmoKrator's `integration_calls`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The integration's name (`app.integrations.<name>`).
    pub integration: &'static str,
    /// The account the call used.
    pub account: Arc<str>,
    /// The function's Lua name.
    pub function: &'static str,
    /// The function's title (`List Users`).
    pub title: &'static str,
    /// From the call to its answer, approval and retries included.
    pub duration: Duration,
    /// The error's message, when it failed.
    pub error: Option<String>,
    /// Whether it only showed the request it would send.
    pub dry_run: bool,
}

impl CallRecord {
    /// `integrations.<provider>.<function>`, or `integrations.<provider>.<account>.<function>`
    /// for a named account.
    pub fn path(&self) -> String {
        if &*self.account == crate::accounts::DEFAULT_ACCOUNT {
            format!("integrations.{}.{}", self.integration, self.function)
        } else {
            format!(
                "integrations.{}.{}.{}",
                self.integration, self.account, self.function
            )
        }
    }
}

/// Shared by every call of one run.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    calls: Mutex<Vec<CallRecord>>,
    waiting: Mutex<Waiting>,
    permission_bypassed: AtomicBool,
}

/// Time with at least one call in flight: the union of the calls' intervals, so concurrent
/// calls are not counted twice.
#[derive(Debug, Default)]
struct Waiting {
    in_flight: usize,
    since: Option<Instant>,
    total: Duration,
}

impl CallLog {
    pub(crate) fn calls(&self) -> Vec<CallRecord> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub(crate) fn push(&self, record: CallRecord) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(record);
        }
    }

    pub(crate) fn permission_bypassed(&self) -> bool {
        self.permission_bypassed.load(Ordering::Relaxed)
    }

    pub(crate) fn mark_bypassed(&self) {
        self.permission_bypassed.store(true, Ordering::Relaxed);
    }

    /// A call starts waiting.
    pub(crate) fn begin(&self) {
        if let Ok(mut waiting) = self.waiting.lock() {
            if waiting.in_flight == 0 {
                waiting.since = Some(Instant::now());
            }
            waiting.in_flight += 1;
        }
    }

    /// A call has its answer.
    pub(crate) fn end(&self) {
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.in_flight = waiting.in_flight.saturating_sub(1);
            if waiting.in_flight == 0
                && let Some(since) = waiting.since.take()
            {
                waiting.total += since.elapsed();
            }
        }
    }

    /// Time spent waiting for calls so far, the current wait included.
    pub(crate) fn waited(&self) -> Duration {
        self.waiting
            .lock()
            .map(|w| w.total + w.since.map_or(Duration::ZERO, |s| s.elapsed()))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_counts_while_any_call_is_in_flight_and_stops_after() {
        let log = CallLog::default();
        log.begin();
        log.begin();
        std::thread::sleep(Duration::from_millis(20));
        log.end();
        let during = log.waited();
        assert!(during >= Duration::from_millis(20), "{during:?}");
        log.end();
        let after = log.waited();
        std::thread::sleep(Duration::from_millis(20));
        // Nothing in flight: the total stands still.
        assert_eq!(log.waited(), after);
        assert!(after >= during);
    }
}

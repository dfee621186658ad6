//! The record of a run's integration calls.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallTarget {
    /// A function of a generated integration (`app.integrations.<provider>.<function>`).
    Integration,
    /// A tool of an MCP server (`app.mcp.<server>.<tool>`).
    Mcp,
}

/// One call, as the run's log keeps it (KosmoKrator's `integration_calls`).
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// An integration's function or an MCP server's tool.
    pub target: CallTarget,
    /// The integration's name (`app.integrations.<name>`), or the MCP server's.
    pub integration: Cow<'static, str>,
    /// The account the call used (`default` for MCP servers).
    pub account: Arc<str>,
    /// The function's Lua name, or the tool's.
    pub function: Cow<'static, str>,
    /// The function's title (`List Users`), or the tool's title or name.
    pub title: Cow<'static, str>,
    /// From the call to its answer, approval and retries included.
    pub duration: Duration,
    /// Of `duration`, the time its requests waited for room under the provider's rate limits.
    pub paced: Duration,
    /// The error's message, when it failed.
    pub error: Option<String>,
    /// Whether it only showed the request it would send.
    pub dry_run: bool,
}

impl CallRecord {
    /// `integrations.<provider>.<function>`, `integrations.<provider>.<account>.<function>`
    /// for a named account, or `mcp.<server>.<tool>`.
    pub fn path(&self) -> String {
        match self.target {
            CallTarget::Mcp => format!("mcp.{}.{}", self.integration, self.function),
            CallTarget::Integration if &*self.account == crate::accounts::DEFAULT_ACCOUNT => {
                format!("integrations.{}.{}", self.integration, self.function)
            }
            CallTarget::Integration => format!(
                "integrations.{}.{}.{}",
                self.integration, self.account, self.function
            ),
        }
    }

    /// The group envelopes show it under: the integration, or `mcp.<server>`.
    pub fn group(&self) -> String {
        match self.target {
            CallTarget::Integration => self.integration.to_string(),
            CallTarget::Mcp => format!("mcp.{}", self.integration),
        }
    }
}

/// Shared by every call of one run.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    calls: Mutex<Vec<CallRecord>>,
    permission_bypassed: AtomicBool,
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
}

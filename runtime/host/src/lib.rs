//! The Lua host: everything a program needs to run an agent's Lua against the generated
//! integrations, as a library.
//!
//! - the sandbox and its limits ([`Limits`]): memory, CPU time and output, enforced inside the
//!   Luau VM; what runs outside it is bounded by its input, so nothing needs a watchdog;
//! - the globals `print`, `dump`, `json`, `regex` and `docs`;
//! - `app.integrations.<provider>[.<account>]` for every [`Integration`] of the registry;
//! - `app.mcp.<server>.<tool>` and the `mcp` global for the MCP servers it is given
//!   ([`HostBuilder::mcp_servers`]), under per-server permissions ([`McpPolicySource`]);
//! - the permission policy per account ([`PolicySource`], [`AccountPolicy`]): allow, ask or
//!   deny reads and writes; `ask` goes to the embedding program's [`Approver`];
//! - dry runs and the call log ([`CallRecord`]);
//! - named accounts from the program's [`CredentialSource`];
//! - the run's output, captured into its [`RunReport`].
//!
//! It never prints and never ends the process. The `kosmo` CLI is one program that embeds it;
//! KosmoKrator is another.
//!
//! ```no_run
//! # async fn example() -> Result<(), kosmo_host::BuildError> {
//! use kosmo_host::{EnvCredentials, Host, RunOptions};
//!
//! let host = Host::builder()
//!     .integrations(&kosmo_integrations::INTEGRATIONS)
//!     .credentials(EnvCredentials)
//!     .build()?;
//! let report = host.run("return 1 + 1", RunOptions::default()).await;
//! assert_eq!(report.result, Some(vec![serde_json::json!(2)]));
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod accounts;
mod approval;
mod call_log;
pub mod docs;
mod gate;
mod host;
pub mod lua;
mod mcp;
mod paging;
mod sandbox;
mod transports;

pub use accounts::{
    AccountPolicy, CredentialMap, CredentialSource, DEFAULT_ACCOUNT, EnvCredentials,
    McpPolicySource, Policy, PolicySource,
};
pub use approval::{Approval, ApprovalRequest, Approver, McpApprovalRequest, NobodyToAsk};
pub use call_log::{CallRecord, CallTarget};
pub use docs::DocsIndex;
pub use host::{
    BuildError, CallError, CallOptions, CallReport, Host, HostBuilder, Pages, RunOptions, RunReport,
};
pub use kosmo_mcp;
pub use kosmo_runtime::{Credentials, HttpConfig, Integration, PacingConfig, RetryPolicy};
pub use mcp::{McpCallOptions, McpCallReport, McpSession};
pub use sandbox::limits::{LimitExceeded, Limits, OutputSink};
pub use transports::{HttpTransports, TransportFactory};

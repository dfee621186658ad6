//! [`Host`]: runs scripts and single calls against a registry of integrations.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kosmo_runtime::{Error, FunctionMeta, HttpConfig, Integration};
use serde_json::Value;

use crate::accounts::{
    AccountPolicy, CredentialSource, DEFAULT_ACCOUNT, EnvCredentials, McpPolicySource, PolicySource,
};
use crate::approval::{Approver, NobodyToAsk};
use crate::call_log::{CallLog, CallRecord};
use crate::docs::DocsIndex;
use crate::gate::{Failure, Gate, GateOptions};
use crate::mcp::{McpCallOptions, McpSession};
use crate::paging::Pager;
use crate::sandbox::limits::{LimitExceeded, Limits, OutputSink};
use crate::sandbox::namespace::Namespace;
use crate::transports::{HttpTransports, LazyTransport, TransportFactory};

/// Runs agents' Lua, and single calls, against a set of integrations with the embedding
/// program's credentials, permissions and approver. Cheap to clone; runs may be concurrent,
/// each in a Lua state of its own.
#[derive(Clone)]
pub struct Host {
    inner: Arc<Inner>,
}

struct Inner {
    integrations: Arc<[&'static Integration]>,
    credentials: Arc<dyn CredentialSource>,
    policies: Arc<dyn PolicySource>,
    approver: Arc<dyn Approver>,
    transports: Arc<dyn TransportFactory>,
    limits: Limits,
    mcp_servers: Arc<[kosmo_mcp::Server]>,
    mcp_policies: Arc<dyn McpPolicySource>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field(
                "integrations",
                &self
                    .inner
                    .integrations
                    .iter()
                    .map(|i| i.meta.name)
                    .collect::<Vec<_>>(),
            )
            .field("limits", &self.inner.limits)
            .field(
                "mcp_servers",
                &self
                    .inner
                    .mcp_servers
                    .iter()
                    .map(|s| &s.config.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builds a [`Host`]. Everything but the integrations has a default: credentials from the
/// environment ([`EnvCredentials`]), reads allowed and writes asked ([`AccountPolicy`]), nobody
/// to ask ([`NobodyToAsk`]), real HTTPS ([`HttpTransports`]) and the default [`Limits`].
pub struct HostBuilder {
    integrations: Vec<&'static Integration>,
    credentials: Arc<dyn CredentialSource>,
    policies: Arc<dyn PolicySource>,
    approver: Arc<dyn Approver>,
    transports: Arc<dyn TransportFactory>,
    limits: Limits,
    mcp_servers: Vec<kosmo_mcp::Server>,
    mcp_policies: Arc<dyn McpPolicySource>,
}

/// Why a [`HostBuilder`] could not build a host.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// Two integrations answer to one name.
    #[error("two integrations are named `{0}`; each needs a name of its own")]
    DuplicateIntegration(String),
    /// The limits leave a script no room to run.
    #[error("{0}")]
    Limits(String),
}

impl Default for HostBuilder {
    fn default() -> Self {
        HostBuilder {
            integrations: Vec::new(),
            credentials: Arc::new(EnvCredentials),
            policies: Arc::new(AccountPolicy::default()),
            approver: Arc::new(NobodyToAsk),
            transports: Arc::new(HttpTransports::default()),
            limits: Limits::default(),
            mcp_servers: Vec::new(),
            mcp_policies: Arc::new(AccountPolicy::default()),
        }
    }
}

impl HostBuilder {
    /// Adds integrations, for example a generated crate's whole registry.
    pub fn integrations(mut self, integrations: &[&'static Integration]) -> Self {
        self.integrations.extend_from_slice(integrations);
        self
    }

    /// Where credentials and named accounts come from.
    pub fn credentials(mut self, source: impl CredentialSource + 'static) -> Self {
        self.credentials = Arc::new(source);
        self
    }

    /// Where each account's permissions come from.
    pub fn policies(mut self, source: impl PolicySource + 'static) -> Self {
        self.policies = Arc::new(source);
        self
    }

    /// Who decides calls the policy marks `ask`.
    pub fn approver(mut self, approver: impl Approver + 'static) -> Self {
        self.approver = Arc::new(approver);
        self
    }

    /// How requests are sent (the default is real HTTPS with [`HttpConfig::default`]).
    pub fn transports(mut self, factory: impl TransportFactory + 'static) -> Self {
        self.transports = Arc::new(factory);
        self
    }

    /// Real HTTPS with these timeouts and retry rules.
    pub fn http(self, config: HttpConfig) -> Self {
        self.transports(HttpTransports::new(config))
    }

    /// The limits of every run that does not set its own.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Adds MCP servers scripts reach as `app.mcp.<server>` and through the `mcp` global (read
    /// them with [`kosmo_mcp::McpConfig::load`], or make them). A server added again replaces
    /// the earlier one.
    pub fn mcp_servers(mut self, servers: impl IntoIterator<Item = kosmo_mcp::Server>) -> Self {
        for server in servers {
            self.mcp_servers
                .retain(|s| s.config.name != server.config.name);
            self.mcp_servers.push(server);
        }
        self
    }

    /// Where each MCP server's permissions come from (default: reads allowed, writes asked).
    pub fn mcp_policies(mut self, source: impl McpPolicySource + 'static) -> Self {
        self.mcp_policies = Arc::new(source);
        self
    }

    /// The host, or why these settings cannot make one.
    pub fn build(self) -> Result<Host, BuildError> {
        for (i, integration) in self.integrations.iter().enumerate() {
            if self.integrations[..i]
                .iter()
                .any(|other| other.meta.name == integration.meta.name)
            {
                return Err(BuildError::DuplicateIntegration(
                    integration.meta.name.to_string(),
                ));
            }
        }
        check_limits(&self.limits)?;
        Ok(Host {
            inner: Arc::new(Inner {
                integrations: self.integrations.into(),
                credentials: self.credentials,
                policies: self.policies,
                approver: self.approver,
                transports: self.transports,
                limits: self.limits,
                mcp_servers: self.mcp_servers.into(),
                mcp_policies: self.mcp_policies,
            }),
        })
    }
}

fn check_limits(limits: &Limits) -> Result<(), BuildError> {
    if limits.memory < Limits::MIN_MEMORY {
        return Err(BuildError::Limits(format!(
            "the memory limit must be at least {} bytes",
            Limits::MIN_MEMORY
        )));
    }
    if limits.cpu.is_zero() {
        return Err(BuildError::Limits(
            "the CPU time limit must be more than zero".into(),
        ));
    }
    Ok(())
}

/// How one script runs.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// The chunk's name in error messages (`workflow.lua:3: …`); `script` when empty.
    pub name: String,
    /// Run calls the policy would refuse or ask about, without asking. The run's report says
    /// so ([`RunReport::permission_bypassed`]).
    pub force: bool,
    /// Do not send writes: each returns the request it would send. Reads run.
    pub dry_run: bool,
    /// Limits for this run instead of the host's.
    pub limits: Option<Limits>,
    /// Receives each line of output as it is printed, besides [`RunReport::output`].
    pub on_output: Option<OutputSink>,
    /// Also print the values the chunk returns, as `print` would (what a terminal shows).
    pub print_results: bool,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("name", &self.name)
            .field("force", &self.force)
            .field("dry_run", &self.dry_run)
            .field("limits", &self.limits)
            .field("on_output", &self.on_output.is_some())
            .field("print_results", &self.print_results)
            .finish()
    }
}

/// What a run did. `error` is `None` exactly when it succeeded.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// Every line `print` and `dump` wrote, joined by `\n`.
    pub output: String,
    /// Why the run failed: a Lua error's message, a limit, a refused script.
    pub error: Option<String>,
    /// The limit that ended the run, if one did.
    pub limit_exceeded: Option<LimitExceeded>,
    /// The values the chunk returned, as JSON (`return 42` gives `[42]`); `None` on error.
    pub result: Option<Vec<Value>>,
    /// From start to end, calls included.
    pub execution_time: Duration,
    /// Bytes the Lua state held at the end; `None` on error.
    pub memory_usage: Option<usize>,
    /// Every integration call, in the order they finished.
    pub calls: Vec<CallRecord>,
    /// Whether a call ran only because of [`RunOptions::force`].
    pub permission_bypassed: bool,
    /// Whether writes were only shown.
    pub dry_run: bool,
    /// Things the host noticed but that did not stop the run (an account that cannot be
    /// reached from Lua, say).
    pub warnings: Vec<String>,
}

impl RunReport {
    /// Whether the script ran to its end without an error.
    pub fn success(&self) -> bool {
        self.error.is_none()
    }
}

/// How one single call runs.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// The named account to use; `default` when `None`.
    pub account: Option<String>,
    /// Run it even if the policy would refuse or ask.
    pub force: bool,
    /// Check everything and return the request instead of sending it (reads too).
    pub dry_run: bool,
}

/// Why a single call did not get to the integration, or how it failed there.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No integration has this name.
    #[error("Unknown integration `{name}`; known: {known}")]
    UnknownIntegration {
        /// The name asked for.
        name: String,
        /// The names there are, comma-separated.
        known: String,
    },
    /// The account is not configured.
    #[error("{label} account `{account}` is not configured (accounts: {known}).")]
    UnknownAccount {
        /// The integration's label.
        label: &'static str,
        /// The account asked for.
        account: String,
        /// The accounts there are, comma-separated.
        known: String,
    },
    /// The function is unknown, its arguments are wrong, the policy refused it, or the
    /// provider answered with an error.
    #[error(transparent)]
    Call(#[from] Error),
}

/// What a single call did.
#[derive(Debug)]
pub struct CallReport {
    /// The function it resolved to, if it did.
    pub function: Option<&'static FunctionMeta>,
    /// The answer, or why there is none.
    pub result: Result<Value, CallError>,
    /// The call as the log records it, if it was made.
    pub record: Option<CallRecord>,
    /// Whether it ran only because of [`CallOptions::force`].
    pub permission_bypassed: bool,
    /// From start to end.
    pub duration: Duration,
}

/// A walk of every page of a list function ([`Host::pages`]). One page is held at a time.
pub struct Pages {
    pager: Pager,
    log: Arc<CallLog>,
    function: &'static FunctionMeta,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages")
            .field("function", &self.function.name)
            .field("pages", &self.pager.pages())
            .finish_non_exhaustive()
    }
}

impl Pages {
    /// The function walked.
    pub fn function(&self) -> &'static FunctionMeta {
        self.function
    }

    /// The next page's items, or `None` after the last. After an error the same page can be
    /// asked for again.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>, CallError> {
        self.pager.next_page().await.map_err(failure_to_call_error)
    }

    /// How many items the walk visits in all, when the list says (from the first page, which
    /// it fetches if none was, or from the declared counting function).
    pub async fn total(&mut self) -> Result<Option<u64>, CallError> {
        self.pager.total().await.map_err(failure_to_call_error)
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u64 {
        self.pager.pages()
    }

    /// Every request the walk made, in order.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.log.calls()
    }

    /// Whether a page was fetched only because of [`CallOptions::force`].
    pub fn permission_bypassed(&self) -> bool {
        self.log.permission_bypassed()
    }
}

fn failure_to_call_error(failure: Failure) -> CallError {
    match failure {
        Failure::Call(error) => CallError::Call(error),
        // Nothing here builds Lua values.
        Failure::Lua(error) => CallError::Call(Error::Config(error.to_string())),
    }
}

impl Host {
    /// A builder with every default.
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }

    /// The integrations scripts can reach, in the order they were added.
    pub fn integrations(&self) -> &[&'static Integration] {
        &self.inner.integrations
    }

    /// The integration called `name`.
    pub fn integration(&self, name: &str) -> Option<&'static Integration> {
        self.inner
            .integrations
            .iter()
            .copied()
            .find(|i| i.meta.name == name)
    }

    /// The generated docs of every integration.
    pub fn docs(&self) -> DocsIndex<'_> {
        DocsIndex::new(&self.inner.integrations)
    }

    /// The limits runs get unless they set their own.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// The configured MCP servers, usable or not.
    pub fn mcp_servers(&self) -> &[kosmo_mcp::Server] {
        &self.inner.mcp_servers
    }

    /// The permissions of one MCP server.
    pub fn mcp_policy(&self, server: &str) -> AccountPolicy {
        self.inner.mcp_policies.mcp_policy(server)
    }

    /// A session with the MCP servers, for calls without Lua (`kosmo mcp:call`, the gateway):
    /// the same permissions, approver, dry run and call log as a script's calls. Servers start
    /// on first use; end them with [`McpSession::shutdown`].
    pub fn mcp_session(&self, options: McpCallOptions) -> McpSession {
        McpSession::new(
            self.inner.mcp_servers.clone(),
            self.inner.mcp_policies.clone(),
            self.inner.approver.clone(),
            options,
            Arc::new(CallLog::default()),
        )
    }

    /// The accounts of `integration`, `default` first.
    pub fn accounts(&self, integration: &'static Integration) -> Vec<String> {
        let mut names = vec![DEFAULT_ACCOUNT.to_string()];
        for name in self.inner.credentials.accounts(integration.meta) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The permissions of one account.
    pub fn policy(&self, integration: &'static Integration, account: &str) -> AccountPolicy {
        self.inner.policies.policy(integration.meta, account)
    }

    /// Runs a Lua script in a fresh sandbox and reports what it did. The future completes when
    /// the script ends or a limit stops it; it never panics on script input, prints nothing
    /// and never ends the process.
    pub async fn run(&self, code: impl AsRef<[u8]>, options: RunOptions) -> RunReport {
        let started = Instant::now();
        let limits = options.limits.unwrap_or(self.inner.limits);
        let log = Arc::new(CallLog::default());
        if let Err(error) = check_limits(&limits) {
            return RunReport {
                output: String::new(),
                error: Some(error.to_string()),
                limit_exceeded: None,
                result: None,
                execution_time: started.elapsed(),
                memory_usage: None,
                calls: Vec::new(),
                permission_bypassed: false,
                dry_run: options.dry_run,
                warnings: Vec::new(),
            };
        }
        let gate_options = GateOptions {
            force: options.force,
            dry_run_writes: options.dry_run,
            dry_run_reads: false,
        };
        let mut warnings = Vec::new();
        let namespaces = self
            .inner
            .integrations
            .iter()
            .map(|&integration| {
                let accounts = self
                    .accounts(integration)
                    .into_iter()
                    .filter(|account| {
                        // A table field cannot be both a function (or the iterators) and an account.
                        let clash = account != DEFAULT_ACCOUNT
                            && (integration.function(account).is_some()
                                || account == crate::sandbox::namespace::RESERVED_ITERATOR_TABLE);
                        if clash {
                            warnings.push(format!(
                                "the {} account `{account}` has the name of a function or of the `each` iterators; reach it with integrations:call --account {account}",
                                integration.meta.name
                            ));
                        }
                        !clash
                    })
                    .map(|account| Arc::new(self.gate(integration, &account, gate_options, &log)))
                    .collect();
                Namespace {
                    integration,
                    accounts,
                }
            })
            .collect();
        let name = if options.name.is_empty() {
            "script"
        } else {
            options.name.as_str()
        };
        for server in self.inner.mcp_servers.iter() {
            if server.config.enabled && !server.trusted {
                warnings.push(format!(
                    "MCP server '{}' from {} is not trusted, so app.mcp leaves it out; check its entry, then run `kosmo mcp:trust {}`",
                    server.config.name,
                    server.config.path_text(),
                    server.config.name
                ));
            }
        }
        let mcp = Arc::new(McpSession::new(
            self.inner.mcp_servers.clone(),
            self.inner.mcp_policies.clone(),
            self.inner.approver.clone(),
            McpCallOptions {
                force: options.force,
                dry_run: options.dry_run,
            },
            log.clone(),
        ));
        let outcome = crate::sandbox::run(crate::sandbox::Job {
            code: code.as_ref(),
            chunk_name: name,
            limits,
            integrations: self.inner.integrations.clone(),
            namespaces,
            mcp: mcp.clone(),
            sink: options.on_output.clone(),
            print_results: options.print_results,
        })
        .await;
        // Servers live as long as the run that started them.
        mcp.shutdown().await;
        let (result, error) = match outcome.result {
            Ok(values) => (Some(values), None),
            Err(message) => (None, Some(message)),
        };
        RunReport {
            output: outcome.output,
            error,
            limit_exceeded: outcome.limit,
            result,
            execution_time: outcome.started.elapsed(),
            memory_usage: outcome.memory_usage,
            calls: log.calls(),
            permission_bypassed: log.permission_bypassed(),
            dry_run: options.dry_run,
            warnings,
        }
    }

    /// Calls one function of one integration, with the same policy, approval, dry run and
    /// record as a script's call.
    pub async fn call(
        &self,
        integration: &str,
        function: &str,
        args: Value,
        options: CallOptions,
    ) -> CallReport {
        let started = Instant::now();
        let report = |function, result, record, bypassed| CallReport {
            function,
            result,
            record,
            permission_bypassed: bypassed,
            duration: started.elapsed(),
        };
        let (entry, meta, account) = match self.resolve(integration, function, &options) {
            Ok(resolved) => resolved,
            Err((meta, error)) => return report(meta, Err(error), None, false),
        };
        let (gate, log) = self.single_gate(entry, &account, &options);
        let result = gate
            .call(meta, args, |output| {
                output.into_value().map_err(Failure::Call)
            })
            .await
            .map_err(failure_to_call_error);
        report(
            Some(meta),
            result,
            log.calls().pop(),
            log.permission_bypassed(),
        )
    }

    /// The integration, function and account a call names, or why it cannot be made (with the
    /// function when it was found).
    #[allow(clippy::type_complexity)]
    fn resolve(
        &self,
        integration: &str,
        function: &str,
        options: &CallOptions,
    ) -> Result<
        (&'static Integration, &'static FunctionMeta, String),
        (Option<&'static FunctionMeta>, CallError),
    > {
        let Some(entry) = self.integration(integration) else {
            let known = self
                .inner
                .integrations
                .iter()
                .map(|i| i.meta.name)
                .collect::<Vec<_>>()
                .join(", ");
            let error = CallError::UnknownIntegration {
                name: integration.to_string(),
                known,
            };
            return Err((None, error));
        };
        let Some(meta) = entry.function(function) else {
            return Err((None, CallError::Call(entry.meta.unknown_function(function))));
        };
        let account = options
            .account
            .clone()
            .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
        let accounts = self.accounts(entry);
        if !accounts.contains(&account) {
            let error = CallError::UnknownAccount {
                label: entry.meta.label,
                account,
                known: accounts.join(", "),
            };
            return Err((Some(meta), error));
        }
        Ok((entry, meta, account))
    }

    /// Walks every page of a list function that declares its paging, with the same policy,
    /// approval and call log as [`Host::call`] (a dry run shows the first page's request).
    /// `args` are the list's filters; `limit` sets the page size and `offset` where to start.
    pub fn pages(
        &self,
        integration: &str,
        function: &str,
        args: Value,
        options: CallOptions,
    ) -> Result<Pages, CallError> {
        let (entry, meta, account) = self
            .resolve(integration, function, &options)
            .map_err(|(_, error)| error)?;
        let (gate, log) = self.single_gate(entry, &account, &options);
        let pager = Pager::new(gate, meta, args)?;
        Ok(Pages {
            pager,
            log,
            function: meta,
        })
    }

    /// The gate of a call made without a script ([`Host::call`], [`Host::pages`]), with a log
    /// of its own; a dry run shows reads too.
    fn single_gate(
        &self,
        integration: &'static Integration,
        account: &str,
        options: &CallOptions,
    ) -> (Arc<Gate>, Arc<CallLog>) {
        let log = Arc::new(CallLog::default());
        let options = GateOptions {
            force: options.force,
            dry_run_writes: options.dry_run,
            dry_run_reads: options.dry_run,
        };
        (
            Arc::new(self.gate(integration, account, options, &log)),
            log,
        )
    }

    fn gate(
        &self,
        integration: &'static Integration,
        account: &str,
        options: GateOptions,
        log: &Arc<CallLog>,
    ) -> Gate {
        let source = self.inner.credentials.clone();
        let meta = integration.meta;
        let owner = account.to_string();
        let transport = LazyTransport::new(
            meta,
            Box::new(move || source.credentials(meta, &owner)),
            self.inner.transports.clone(),
        );
        Gate::new(
            integration,
            account,
            self.inner.policies.policy(meta, account),
            transport,
            self.inner.approver.clone(),
            options,
            log.clone(),
        )
    }
}

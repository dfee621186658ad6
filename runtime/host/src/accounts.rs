//! Named accounts and their permissions, as the embedding program supplies them.
//!
//! Every integration has a `default` account; a [`CredentialSource`] may add named ones, which
//! scripts reach as `app.integrations.<provider>.<account>`. A [`PolicySource`] says, per
//! account, whether the integration is enabled and whether reads and writes are allowed,
//! need approval, or are denied.

use std::collections::BTreeMap;

use kosmo_runtime::{Credentials, Operation, ProviderMeta};

/// The account every integration has, reached as `app.integrations.<provider>` itself.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Where credentials come from: the embedding program's own configuration (KosmoKrator's
/// settings, the `kosmo` CLI's files, environment variables, a secrets manager).
pub trait CredentialSource: Send + Sync {
    /// Names of the named accounts configured for `integration`, besides `default` (which
    /// always exists and may be listed or not).
    fn accounts(&self, integration: &'static ProviderMeta) -> Vec<String>;

    /// The credentials of one account; empty when nothing is configured, in which case every
    /// call fails with the provider's "not configured" message.
    fn credentials(&self, integration: &'static ProviderMeta, account: &str) -> Credentials;
}

/// The default account of each integration, from the environment variables its manifest
/// declares (for example `<PROVIDER>_SECRET_KEY`); no named accounts.
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvCredentials;

impl CredentialSource for EnvCredentials {
    fn accounts(&self, _integration: &'static ProviderMeta) -> Vec<String> {
        Vec::new()
    }

    fn credentials(&self, integration: &'static ProviderMeta, account: &str) -> Credentials {
        if account == DEFAULT_ACCOUNT {
            Credentials::from_env(integration)
        } else {
            Credentials::new()
        }
    }
}

/// Credentials held in memory, by integration and account: for tests and programs that read
/// their configuration themselves.
#[derive(Debug, Clone, Default)]
pub struct CredentialMap {
    accounts: BTreeMap<(String, String), Credentials>,
}

impl CredentialMap {
    /// An empty map: every account unconfigured.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the credentials of `account` of the integration named `integration`.
    pub fn with(mut self, integration: &str, account: &str, credentials: Credentials) -> Self {
        self.accounts
            .insert((integration.to_string(), account.to_string()), credentials);
        self
    }
}

impl CredentialSource for CredentialMap {
    fn accounts(&self, integration: &'static ProviderMeta) -> Vec<String> {
        self.accounts
            .keys()
            .filter(|(name, _)| name == integration.name)
            .map(|(_, account)| account.clone())
            .collect()
    }

    fn credentials(&self, integration: &'static ProviderMeta, account: &str) -> Credentials {
        self.accounts
            .get(&(integration.name.to_string(), account.to_string()))
            .cloned()
            .unwrap_or_default()
    }
}

/// What to do with a call of one kind. In configuration files: `allow`, `ask` or `deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Run it.
    Allow,
    /// Run it if the [`Approver`](crate::Approver) approves.
    Ask,
    /// Refuse it.
    Deny,
}

impl Policy {
    /// `allow`, `ask` or `deny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Allow => "allow",
            Policy::Ask => "ask",
            Policy::Deny => "deny",
        }
    }

    /// Reads `allow`, `ask` or `deny`.
    pub fn parse(text: &str) -> Option<Policy> {
        match text {
            "allow" => Some(Policy::Allow),
            "ask" => Some(Policy::Ask),
            "deny" => Some(Policy::Deny),
            _ => None,
        }
    }
}

/// The permissions of one account of one integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// A disabled integration refuses every call, whatever `read` and `write` say.
    pub enabled: bool,
    /// For functions that change nothing.
    pub read: Policy,
    /// For functions that change something.
    pub write: Policy,
}

impl Default for AccountPolicy {
    /// Enabled; reads allowed; writes need approval.
    fn default() -> Self {
        AccountPolicy {
            enabled: true,
            read: Policy::Allow,
            write: Policy::Ask,
        }
    }
}

impl AccountPolicy {
    /// The policy for one kind of call.
    pub fn for_operation(&self, operation: Operation) -> Policy {
        match operation {
            Operation::Read => self.read,
            Operation::Write => self.write,
        }
    }
}

/// Where permissions come from.
pub trait PolicySource: Send + Sync {
    /// The permissions of `account` of `integration`.
    fn policy(&self, integration: &'static ProviderMeta, account: &str) -> AccountPolicy;
}

/// One policy for every account of every integration.
impl PolicySource for AccountPolicy {
    fn policy(&self, _integration: &'static ProviderMeta, _account: &str) -> AccountPolicy {
        *self
    }
}

/// A shared source, so one configuration object can be both the credential and the policy
/// source.
impl<T: CredentialSource + ?Sized> CredentialSource for std::sync::Arc<T> {
    fn accounts(&self, integration: &'static ProviderMeta) -> Vec<String> {
        (**self).accounts(integration)
    }

    fn credentials(&self, integration: &'static ProviderMeta, account: &str) -> Credentials {
        (**self).credentials(integration, account)
    }
}

impl<T: PolicySource + ?Sized> PolicySource for std::sync::Arc<T> {
    fn policy(&self, integration: &'static ProviderMeta, account: &str) -> AccountPolicy {
        (**self).policy(integration, account)
    }
}

/// Where each MCP server's permissions come from. `enabled: false` refuses every call; `read`
/// applies to tools the server marks read-only, `write` to every other tool.
pub trait McpPolicySource: Send + Sync {
    /// The permissions of the server called `server`.
    fn mcp_policy(&self, server: &str) -> AccountPolicy;
}

/// One policy for every server.
impl McpPolicySource for AccountPolicy {
    fn mcp_policy(&self, _server: &str) -> AccountPolicy {
        *self
    }
}

impl<T: McpPolicySource + ?Sized> McpPolicySource for std::sync::Arc<T> {
    fn mcp_policy(&self, server: &str) -> AccountPolicy {
        (**self).mcp_policy(server)
    }
}

//! Asking someone before a call the policy marks `ask`.

use std::future::Future;
use std::pin::Pin;

use kosmo_runtime::{FunctionMeta, ProviderMeta};
use serde_json::Value;

/// What the [`Approver`] is asked about: one call, before it is made.
#[derive(Debug)]
pub struct ApprovalRequest<'a> {
    /// The integration the call goes to.
    pub integration: &'static ProviderMeta,
    /// The account it uses.
    pub account: &'a str,
    /// The function it calls (its `operation` says whether it reads or writes).
    pub function: &'static FunctionMeta,
    /// The script's arguments, as JSON.
    pub arguments: &'a Value,
}

/// What the [`Approver`] is asked about for an MCP tool: one call, before it is made.
#[derive(Debug)]
pub struct McpApprovalRequest<'a> {
    /// The server's name.
    pub server: &'a str,
    /// The tool, with its description and whether it reads or writes.
    pub tool: &'a kosmo_mcp::ToolInfo,
    /// The script's arguments, as JSON.
    pub arguments: &'a Value,
}

/// The answer of an [`Approver`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    /// Make the call.
    Approved,
    /// Refuse it; the script gets the "requires approval" error.
    Refused,
}

/// Decides calls the policy marks `ask`. KosmoKrator asks its user; a headless program has
/// nobody to ask ([`NobodyToAsk`]). The script waits for the answer; the wait does not count
/// against its CPU limit.
pub trait Approver: Send + Sync {
    /// Approves or refuses one call.
    fn approve<'a>(
        &'a self,
        request: ApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>>;

    /// Approves or refuses one MCP tool call. Refuses unless the program says otherwise, so an
    /// approver written for integrations never lets an MCP write through unseen.
    fn approve_mcp<'a>(
        &'a self,
        request: McpApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
        let _ = request;
        Box::pin(std::future::ready(Approval::Refused))
    }
}

/// Refuses everything it is asked: the answer when nobody is there to ask. Such calls run only
/// with [`RunOptions::force`](crate::RunOptions::force).
#[derive(Debug, Clone, Copy, Default)]
pub struct NobodyToAsk;

impl Approver for NobodyToAsk {
    fn approve<'a>(
        &'a self,
        _request: ApprovalRequest<'a>,
    ) -> Pin<Box<dyn Future<Output = Approval> + Send + 'a>> {
        Box::pin(std::future::ready(Approval::Refused))
    }
}

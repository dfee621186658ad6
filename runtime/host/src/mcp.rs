//! MCP servers behind the host's permissions: [`McpSession`] is what `app.mcp`, the `mcp`
//! global, `kosmo mcp:call` and the gateway's upstream tools all call through.
//!
//! A tool the server marks read-only (`readOnlyHint: true`) is a read; every other tool is a
//! write. Each server has a read and a write policy (allow, ask or deny) from the program's
//! [`McpPolicySource`], decided as for integrations: `ask` goes to the [`Approver`], `force`
//! runs what the policy would refuse, and a dry run shows a write instead of calling it.
//! Trust is not a policy: `force` never starts a server the user has not trusted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kosmo_mcp::{McpClients, McpError, Server, ToolInfo};
use kosmo_runtime::Operation;
use serde_json::{Map, Value, json};

use crate::accounts::{DEFAULT_ACCOUNT, McpPolicySource, Policy};
use crate::approval::{Approval, Approver, McpApprovalRequest};
use crate::call_log::{CallLog, CallRecord, CallTarget};

/// How one session's calls run.
#[derive(Debug, Clone, Copy, Default)]
pub struct McpCallOptions {
    /// Run calls the policy would refuse or ask about, without asking.
    pub force: bool,
    /// Show writes instead of calling them; reads run.
    pub dry_run: bool,
}

/// The configured MCP servers for one run (or one gateway), with the host's permissions.
/// Servers start on first use; [`McpSession::shutdown`] ends them.
pub struct McpSession {
    clients: McpClients,
    policies: Arc<dyn McpPolicySource>,
    approver: Arc<dyn Approver>,
    options: McpCallOptions,
    log: Arc<CallLog>,
}

impl std::fmt::Debug for McpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpSession")
            .field("clients", &self.clients)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What one MCP call did, for programs that call without Lua.
#[derive(Debug)]
pub struct McpCallReport {
    /// The tool it resolved to, if it did.
    pub tool: Option<ToolInfo>,
    /// The result, or why there is none.
    pub result: Result<Value, McpError>,
    /// Whether it ran only because of `force`.
    pub permission_bypassed: bool,
    /// Whether the write was only shown.
    pub dry_run: bool,
    /// From start to end.
    pub duration: Duration,
}

impl McpSession {
    pub(crate) fn new(
        servers: Arc<[Server]>,
        policies: Arc<dyn McpPolicySource>,
        approver: Arc<dyn Approver>,
        options: McpCallOptions,
        log: Arc<CallLog>,
    ) -> Self {
        McpSession {
            clients: McpClients::new(servers),
            policies,
            approver,
            options,
            log,
        }
    }

    /// The connections, for listings that need no permission (tools, schemas, docs).
    pub fn clients(&self) -> &McpClients {
        &self.clients
    }

    /// Every call made through this session so far.
    pub fn calls(&self) -> Vec<CallRecord> {
        self.log.calls()
    }

    /// Every configured server, usable or not.
    pub fn servers(&self) -> &[Server] {
        self.clients.servers()
    }

    /// The tools of a usable server (starting it if needed).
    pub async fn tools(&self, server: &str) -> Result<Arc<Vec<ToolInfo>>, McpError> {
        self.clients.tools(server).await
    }

    /// Calls a tool by its Lua name or its own, under the server's policy, and records the
    /// call in the log.
    pub async fn call(&self, server: &str, tool: &str, arguments: Value) -> McpCallReport {
        self.call_with(server, tool, arguments, self.options).await
    }

    /// [`McpSession::call`] with options of its own, for a caller that decides per call (the
    /// gateway forces a write its client approved, and nothing else).
    pub async fn call_with(
        &self,
        server: &str,
        tool: &str,
        arguments: Value,
        options: McpCallOptions,
    ) -> McpCallReport {
        let started = Instant::now();
        let bypassed_before = self.log.permission_bypassed();
        let resolved = self.clients.tool(server, tool).await;
        let (tool_info, dry_run, result) = match resolved {
            Ok(info) => {
                let dry_run = options.dry_run && !info.read_only;
                let result = self
                    .call_tool(&info, arguments, dry_run, options.force)
                    .await;
                (Some(info), dry_run, result)
            }
            Err(error) => (None, false, Err(error)),
        };
        self.log.push(CallRecord {
            target: CallTarget::Mcp,
            paced: Duration::ZERO,
            integration: server.to_string().into(),
            account: DEFAULT_ACCOUNT.into(),
            function: tool_info
                .as_ref()
                .map_or_else(|| tool.to_string(), |t| t.lua_name.clone())
                .into(),
            title: tool_info
                .as_ref()
                .map_or_else(
                    || tool.to_string(),
                    |t| t.title.clone().unwrap_or(t.name.clone()),
                )
                .into(),
            duration: started.elapsed(),
            error: result.as_ref().err().map(ToString::to_string),
            dry_run,
        });
        McpCallReport {
            tool: tool_info,
            result,
            permission_bypassed: !bypassed_before && self.log.permission_bypassed(),
            dry_run,
            duration: started.elapsed(),
        }
    }

    async fn call_tool(
        &self,
        tool: &ToolInfo,
        arguments: Value,
        dry_run: bool,
        force: bool,
    ) -> Result<Value, McpError> {
        let arguments = match arguments {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            // An empty Lua table arrives as an empty array.
            Value::Array(items) if items.is_empty() => Map::new(),
            other => {
                return Err(McpError::InvalidArguments {
                    server: tool.server.clone(),
                    tool: tool.name.clone(),
                    message: format!(
                        "the arguments must be a table of named values, not {}",
                        json_kind(&other)
                    ),
                });
            }
        };
        let server = tool.server.as_str();
        let policy = self.policies.mcp_policy(server);
        let operation = if tool.read_only {
            Operation::Read
        } else {
            Operation::Write
        };
        if !policy.enabled {
            return Err(McpError::Refused {
                server: server.to_string(),
                message: format!("MCP server '{server}' is disabled. Enable it in /settings → MCP"),
            });
        }
        let decision = policy.for_operation(operation);
        match decision {
            Policy::Allow => {}
            Policy::Ask if dry_run => {}
            _ if force => self.log.mark_bypassed(),
            Policy::Ask => {
                let arguments_json = Value::Object(arguments.clone());
                let request = McpApprovalRequest {
                    server,
                    tool,
                    arguments: &arguments_json,
                };
                if self.approver.approve_mcp(request).await == Approval::Refused {
                    return Err(McpError::Refused {
                        server: server.to_string(),
                        message: format!(
                            "MCP server '{server}' {operation} requires approval ({}). Ask the user to change the permission in /settings → MCP",
                            tool.function()
                        ),
                    });
                }
            }
            Policy::Deny => {
                return Err(McpError::Refused {
                    server: server.to_string(),
                    message: format!(
                        "MCP server '{server}' {operation} access denied ({}). Enable it in /settings → MCP",
                        tool.function()
                    ),
                });
            }
        }
        if dry_run {
            return Ok(json!({
                "dry_run": true,
                "function": format!("mcp.{}", tool.function()),
                "server": server,
                "tool": tool.name,
                "operation": operation.as_str(),
                "arguments": arguments,
                "policy": decision.as_str(),
            }));
        }
        self.clients.call_tool(tool, arguments).await
    }

    /// Resources and prompts change nothing, so they follow the server's read policy; with
    /// nobody to ask about a resource, `ask` refuses unless forced.
    fn check_read(&self, server: &str, what: &str) -> Result<(), McpError> {
        self.clients.usable(server)?;
        let policy = self.policies.mcp_policy(server);
        let refused = |message: String| {
            Err(McpError::Refused {
                server: server.to_string(),
                message,
            })
        };
        if !policy.enabled {
            return refused(format!(
                "MCP server '{server}' is disabled. Enable it in /settings → MCP"
            ));
        }
        match policy.read {
            Policy::Allow => Ok(()),
            _ if self.options.force => {
                self.log.mark_bypassed();
                Ok(())
            }
            Policy::Ask => refused(format!(
                "MCP server '{server}' read requires approval ({what}). Ask the user to change the permission in /settings → MCP"
            )),
            Policy::Deny => refused(format!(
                "MCP server '{server}' read access denied ({what}). Enable it in /settings → MCP"
            )),
        }
    }

    /// The server's resources, under its read policy.
    pub async fn resources(&self, server: &str) -> Result<Value, McpError> {
        self.check_read(server, "resources/list")?;
        self.clients.resources(server).await
    }

    /// One resource's contents, under the server's read policy.
    pub async fn read_resource(&self, server: &str, uri: &str) -> Result<Value, McpError> {
        self.check_read(server, "resources/read")?;
        self.clients.read_resource(server, uri).await
    }

    /// The server's prompts, under its read policy.
    pub async fn prompts(&self, server: &str) -> Result<Value, McpError> {
        self.check_read(server, "prompts/list")?;
        self.clients.prompts(server).await
    }

    /// One prompt, under the server's read policy.
    pub async fn get_prompt(
        &self,
        server: &str,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value, McpError> {
        self.check_read(server, "prompts/get")?;
        self.clients.get_prompt(server, name, arguments).await
    }

    /// Ends every server the session started.
    pub async fn shutdown(&self) {
        self.clients.shutdown().await;
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nil",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

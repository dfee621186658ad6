//! [`Gateway`]: the MCP server, over stdio or streamable HTTP.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use kosmo_host::kosmo_mcp::{Server, ToolInfo, Transport};
use kosmo_host::{CallError, CallOptions, Host, Integration, McpCallOptions, McpSession, Policy};
use kosmo_runtime::Operation;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use crate::names::closest;
use crate::results::{failure, fields, success};
use crate::tools::{ACCOUNT_ARGUMENT, Target, ToolEntry};
use crate::{GatewayError, GatewayOptions, WritePolicy};

/// The path streamable HTTP is served at.
const HTTP_PATH: &str = "/mcp";

/// The integrations of a [`Host`] as MCP tools. Cheap to clone: every HTTP session gets a
/// clone, and all share the host (its connections, credentials and policies).
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    host: Host,
    /// The upstream servers' connections, started when the gateway is made and ended when it
    /// stops serving.
    mcp: McpSession,
    options: GatewayOptions,
    /// Every function's tool, sorted by name, writes included (to refuse them by name).
    tools: Vec<ToolEntry>,
    by_name: HashMap<String, usize>,
    /// What `tools/list` answers.
    listed: Vec<Tool>,
    instructions: String,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("options", &self.inner.options)
            .field("tools", &self.inner.tools.len())
            .field("listed", &self.inner.listed.len())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway to `options.integrations` of `host` (all of them when empty) and to the tools
    /// of `options.upstreams`, which it starts to list them. Fails on an unknown integration or
    /// server, a server that is this gateway itself, disabled, untrusted or does not answer, a
    /// result limit under [`GatewayOptions::MIN_RESULT_CHARS`], or a function that cannot be a
    /// tool.
    pub async fn new(host: Host, options: GatewayOptions) -> Result<Gateway, GatewayError> {
        if options.max_result_chars < GatewayOptions::MIN_RESULT_CHARS {
            return Err(GatewayError::ResultLimitTooSmall {
                given: options.max_result_chars,
                minimum: GatewayOptions::MIN_RESULT_CHARS,
            });
        }
        let integrations = select(&host, &options.integrations)?;
        let mcp = host.mcp_session(McpCallOptions::default());
        let upstream = match upstream_tools(&host, &mcp, &options.upstreams).await {
            Ok(tools) => tools,
            Err(error) => {
                mcp.shutdown().await;
                return Err(error);
            }
        };
        let (tools, by_name) = crate::tools::build(&host, &integrations, upstream)?;
        let listed = tools
            .iter()
            .filter(|entry| options.write == WritePolicy::Allow || !entry.is_write())
            .map(|entry| entry.tool.clone())
            .collect();
        let instructions = instructions(&host, &integrations, &options.upstreams, options.write);
        Ok(Gateway {
            inner: Arc::new(Inner {
                host,
                mcp,
                options,
                tools,
                by_name,
                listed,
                instructions,
            }),
        })
    }

    /// The tools `tools/list` answers with, sorted by name.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.listed
    }

    /// What the gateway serves.
    pub fn options(&self) -> &GatewayOptions {
        &self.inner.options
    }

    /// Serves one client on standard input and output until it closes them.
    pub async fn serve_stdio(self) -> Result<(), GatewayError> {
        let failed = |message: String| GatewayError::Serve {
            transport: "stdio",
            message,
        };
        let inner = self.inner.clone();
        let served = match self.serve(rmcp::transport::stdio_pipes()).await {
            Ok(running) => running
                .waiting()
                .await
                .map(drop)
                .map_err(|error| failed(error.to_string())),
            Err(error) => Err(failed(error.to_string())),
        };
        inner.mcp.shutdown().await;
        served
    }

    /// Listens for streamable HTTP on `addr`, which must be a loopback address (port 0 picks a
    /// free port; [`HttpGateway::local_addr`] says which). Serving starts with
    /// [`HttpGateway::serve`].
    pub async fn bind_http(self, addr: SocketAddr) -> Result<HttpGateway, GatewayError> {
        if !addr.ip().is_loopback() {
            return Err(GatewayError::NotLoopback(addr));
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| GatewayError::Bind { addr, source })?;
        Ok(HttpGateway {
            gateway: self,
            listener,
            local_addr,
        })
    }

    /// [`Gateway::bind_http`], then [`HttpGateway::serve`].
    pub async fn serve_http(self, addr: SocketAddr) -> Result<(), GatewayError> {
        self.bind_http(addr).await?.serve().await
    }

    async fn call(&self, request: CallToolRequestParams) -> CallToolResult {
        let inner = &self.inner;
        let Some(entry) = inner
            .by_name
            .get(request.name.as_ref())
            .map(|&i| &inner.tools[i])
        else {
            return unknown_tool(&request.name, &inner.listed);
        };
        let tool = entry.tool.name.as_ref();
        if entry.is_write() && inner.options.write == WritePolicy::Deny {
            let message = format!(
                "`{tool}` writes, and this gateway runs with --write=deny: write tools are neither listed nor run. To allow writes, restart it with --write=allow (`kosmo mcp:serve --write=allow`); the MCP client then asks before each call."
            );
            let about = match &entry.target {
                Target::Function {
                    integration,
                    function,
                } => [
                    ("function", json!(function.name)),
                    ("provider", json!(integration.meta.label)),
                ],
                Target::Upstream(info) => {
                    [("tool", json!(info.name)), ("server", json!(info.server))]
                }
            };
            return failure(message.clone(), fields("write_denied", &message, &about));
        }
        let (integration, function) = match &entry.target {
            Target::Function {
                integration,
                function,
            } => (*integration, *function),
            Target::Upstream(info) => {
                return self
                    .call_upstream(
                        info,
                        entry.is_write(),
                        request.arguments.unwrap_or_default(),
                    )
                    .await;
            }
        };
        let mut arguments = request.arguments.unwrap_or_default();
        let account = match arguments.remove(ACCOUNT_ARGUMENT) {
            None | Some(Value::Null) => None,
            Some(Value::String(account)) => Some(account),
            Some(other) => {
                let error = kosmo_runtime::Error::invalid(
                    function.name,
                    ACCOUNT_ARGUMENT,
                    format!("must be an account name (a string), not {other}"),
                );
                return failure(error.to_string(), error.fields());
            }
        };
        let force = entry.is_write() && self.approves_writes(integration, account.as_deref());
        let report = inner
            .host
            .call(
                integration.meta.name,
                function.name,
                Value::Object(arguments),
                CallOptions {
                    account,
                    force,
                    dry_run: false,
                },
            )
            .await;
        match report.result {
            Ok(value) => success(value, inner.options.max_result_chars),
            Err(CallError::Call(error)) => failure(error.to_string(), error.fields()),
            Err(error @ CallError::UnknownAccount { label, .. }) => {
                let message = error.to_string();
                let fields = fields("unknown_account", &message, &[("provider", json!(label))]);
                failure(message, fields)
            }
            Err(error @ CallError::UnknownIntegration { .. }) => {
                let message = error.to_string();
                let fields = fields("unknown_integration", &message, &[]);
                failure(message, fields)
            }
        }
    }

    /// Calls an upstream server's tool under the server's permissions. A write the client
    /// approved (`--write=allow`) runs unless the server's writes are `deny`.
    async fn call_upstream(
        &self,
        info: &ToolInfo,
        is_write: bool,
        arguments: serde_json::Map<String, Value>,
    ) -> CallToolResult {
        let inner = &self.inner;
        let force = is_write
            && inner.options.write == WritePolicy::Allow
            && inner.host.mcp_policy(&info.server).write != Policy::Deny;
        let report = inner
            .mcp
            .call_with(
                &info.server,
                &info.name,
                Value::Object(arguments),
                McpCallOptions {
                    force,
                    dry_run: false,
                },
            )
            .await;
        match report.result {
            Ok(value) => success(value, inner.options.max_result_chars),
            Err(error) => failure(error.to_string(), error.fields()),
        }
    }

    /// Whether a write to this account runs without asking: under `--write=allow` the MCP
    /// client has asked its user, which answers the policy's `ask`; an account whose writes
    /// are `deny` keeps refusing them.
    fn approves_writes(&self, integration: &'static Integration, account: Option<&str>) -> bool {
        let account = account.unwrap_or(kosmo_host::DEFAULT_ACCOUNT);
        self.inner.options.write == WritePolicy::Allow
            && self
                .inner
                .host
                .policy(integration, account)
                .for_operation(Operation::Write)
                != Policy::Deny
    }
}

/// The integrations of `host` named in `names`, in the host's order; all when `names` is empty.
fn select(host: &Host, names: &[String]) -> Result<Vec<&'static Integration>, GatewayError> {
    if names.is_empty() {
        return Ok(host.integrations().to_vec());
    }
    for name in names {
        if host.integration(name).is_none() {
            return Err(GatewayError::UnknownIntegration {
                name: name.clone(),
                known: host
                    .integrations()
                    .iter()
                    .map(|i| i.meta.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(host
        .integrations()
        .iter()
        .copied()
        .filter(|i| names.iter().any(|name| name == i.meta.name))
        .collect())
}

/// The tools of the upstream servers named in `names`, each server checked first: configured,
/// not this gateway itself, enabled and trusted. Listing them starts the servers.
async fn upstream_tools(
    host: &Host,
    session: &McpSession,
    names: &[String],
) -> Result<Vec<ToolInfo>, GatewayError> {
    let mut tools = Vec::new();
    for name in names {
        let Some(server) = host.mcp_servers().iter().find(|s| &s.config.name == name) else {
            let known: Vec<&str> = host
                .mcp_servers()
                .iter()
                .map(|s| s.config.name.as_str())
                .collect();
            return Err(GatewayError::UnknownUpstream {
                name: name.clone(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        };
        if runs_this_gateway(server) {
            return Err(GatewayError::SelfProxy(name.clone()));
        }
        let listed = session
            .tools(name)
            .await
            .map_err(|error| GatewayError::Upstream(error.to_string()))?;
        tools.extend(listed.iter().cloned());
    }
    Ok(tools)
}

/// Whether a server entry starts `kosmo mcp:serve`: this program (or another `kosmo`) serving
/// as a gateway, which would end up calling itself.
fn runs_this_gateway(server: &Server) -> bool {
    let Transport::Stdio { command, args, .. } = &server.config.transport else {
        return false;
    };
    if !args.iter().any(|arg| arg == "mcp:serve") {
        return false;
    }
    let program = std::path::Path::new(command);
    let ours = std::env::current_exe().ok();
    let same_file = ours.as_ref().is_some_and(|ours| {
        let resolved = if program.is_absolute() {
            program.canonicalize().ok()
        } else {
            None
        };
        resolved.is_some_and(|p| ours.canonicalize().is_ok_and(|o| o == p))
    });
    let same_name = program.file_stem().is_some_and(|stem| {
        stem == "kosmo"
            || ours
                .as_ref()
                .and_then(|o| o.file_stem())
                .is_some_and(|ours| ours == stem)
    });
    same_file || same_name
}

fn unknown_tool(name: &str, listed: &[Tool]) -> CallToolResult {
    let suggestion = closest(name, listed.iter().map(|tool| tool.name.as_ref()))
        .map(|closest| format!(" The closest is `{closest}`."))
        .unwrap_or_default();
    let message = format!("Unknown tool `{name}`.{suggestion} tools/list names them all.");
    let fields = fields("unknown_tool", &message, &[]);
    failure(message, fields)
}

fn instructions(
    host: &Host,
    integrations: &[&'static Integration],
    upstreams: &[String],
    write: WritePolicy,
) -> String {
    let served: Vec<String> = integrations
        .iter()
        .map(|&i| {
            format!(
                "{} ({}; accounts: {})",
                i.meta.name,
                i.meta.label,
                host.accounts(i).join(", ")
            )
        })
        .collect();
    let writes = match write {
        WritePolicy::Deny => {
            "Only reads are offered: the gateway runs with --write=deny, so write tools are neither listed nor run."
        }
        WritePolicy::Allow => {
            "Writes are offered (--write=allow) and change real data: each tool's annotations say whether it only reads, destroys something or is safe to repeat."
        }
    };
    let upstream = if upstreams.is_empty() {
        String::new()
    } else {
        format!(
            " The tools of the MCP servers {} are offered too, named mcp__<server>__<tool>, under each server's permissions.",
            upstreams.join(", ")
        )
    };
    format!(
        "KosmoKrator integrations as tools named integration__<provider>__<function>, one per API function: {}. Each call goes to the provider's API with the configured credentials. Pass `_account` to use a named account instead of `default`.{upstream} {writes} A failed call is a result with isError, whose structuredContent.error has kind, message and, for API errors, status, code and long_message.",
        served.join("; ")
    )
}

impl ServerHandler for Gateway {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("kosmo", env!("CARGO_PKG_VERSION"))
                    .with_title("KosmoKrator integrations"),
            )
            .with_instructions(self.inner.instructions.clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.inner.listed.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        Ok(self.call(request).await.into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner
            .listed
            .iter()
            .find(|tool| tool.name == name)
            .cloned()
    }
}

/// A gateway listening for streamable HTTP, not yet serving.
pub struct HttpGateway {
    gateway: Gateway,
    listener: tokio::net::TcpListener,
    local_addr: SocketAddr,
}

impl HttpGateway {
    /// The address it listens on (with the port chosen when port 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint MCP clients connect to: `http://127.0.0.1:<port>/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{HTTP_PATH}", self.local_addr)
    }

    /// Serves until the listener fails.
    pub async fn serve(self) -> Result<(), GatewayError> {
        self.serve_until(std::future::pending()).await
    }

    /// Serves until `shutdown` completes, then closes every session.
    pub async fn serve_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), GatewayError> {
        let gateway = self.gateway;
        let inner = gateway.inner.clone();
        let config = StreamableHttpServerConfig::default();
        let cancel = config.cancellation_token.clone();
        let service: StreamableHttpService<Gateway, LocalSessionManager> =
            StreamableHttpService::new(
                move || Ok(gateway.clone()),
                Arc::new(LocalSessionManager::default()),
                config,
            );
        let router = axum::Router::new().nest_service(HTTP_PATH, service);
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await
            .map_err(|error| GatewayError::Serve {
                transport: "HTTP",
                message: error.to_string(),
            });
        inner.mcp.shutdown().await;
        served
    }
}

//! [`Gateway`]: the MCP server, over stdio or streamable HTTP.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use kosmo_host::{CallError, CallOptions, Host, Integration, Policy};
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
use crate::tools::{ACCOUNT_ARGUMENT, ToolEntry};
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
    /// A gateway to `options.integrations` of `host` (all of them when empty). Fails on an
    /// unknown integration, a result limit under [`GatewayOptions::MIN_RESULT_CHARS`], or a
    /// function that cannot be a tool.
    pub fn new(host: Host, options: GatewayOptions) -> Result<Gateway, GatewayError> {
        if options.max_result_chars < GatewayOptions::MIN_RESULT_CHARS {
            return Err(GatewayError::ResultLimitTooSmall {
                given: options.max_result_chars,
                minimum: GatewayOptions::MIN_RESULT_CHARS,
            });
        }
        let integrations = select(&host, &options.integrations)?;
        let (tools, by_name) = crate::tools::build(&host, &integrations)?;
        let listed = tools
            .iter()
            .filter(|entry| options.write == WritePolicy::Allow || !entry.is_write())
            .map(|entry| entry.tool.clone())
            .collect();
        let instructions = instructions(&host, &integrations, options.write);
        Ok(Gateway {
            inner: Arc::new(Inner {
                host,
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
        let running = self
            .serve(rmcp::transport::stdio_pipes())
            .await
            .map_err(|error| failed(error.to_string()))?;
        running
            .waiting()
            .await
            .map(drop)
            .map_err(|error| failed(error.to_string()))
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
            return failure(
                message.clone(),
                fields(
                    "write_denied",
                    &message,
                    &[
                        ("function", json!(entry.function.name)),
                        ("provider", json!(entry.integration.meta.label)),
                    ],
                ),
            );
        }
        let mut arguments = request.arguments.unwrap_or_default();
        let account = match arguments.remove(ACCOUNT_ARGUMENT) {
            None | Some(Value::Null) => None,
            Some(Value::String(account)) => Some(account),
            Some(other) => {
                let error = kosmo_runtime::Error::invalid(
                    entry.function.name,
                    ACCOUNT_ARGUMENT,
                    format!("must be an account name (a string), not {other}"),
                );
                return failure(error.to_string(), error.fields());
            }
        };
        let force = entry.is_write() && self.approves_writes(entry.integration, account.as_deref());
        let report = inner
            .host
            .call(
                entry.integration.meta.name,
                entry.function.name,
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

fn unknown_tool(name: &str, listed: &[Tool]) -> CallToolResult {
    let suggestion = closest(name, listed.iter().map(|tool| tool.name.as_ref()))
        .map(|closest| format!(" The closest is `{closest}`."))
        .unwrap_or_default();
    let message = format!("Unknown tool `{name}`.{suggestion} tools/list names them all.");
    let fields = fields("unknown_tool", &message, &[]);
    failure(message, fields)
}

fn instructions(host: &Host, integrations: &[&'static Integration], write: WritePolicy) -> String {
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
    format!(
        "KosmoKrator integrations as tools named integration__<provider>__<function>, one per API function: {}. Each call goes to the provider's API with the configured credentials. Pass `_account` to use a named account instead of `default`. {writes} A failed call is a result with isError, whose structuredContent.error has kind, message and, for API errors, status, code and long_message.",
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
        let config = StreamableHttpServerConfig::default();
        let cancel = config.cancellation_token.clone();
        let service: StreamableHttpService<Gateway, LocalSessionManager> =
            StreamableHttpService::new(
                move || Ok(gateway.clone()),
                Arc::new(LocalSessionManager::default()),
                config,
            );
        let router = axum::Router::new().nest_service(HTTP_PATH, service);
        axum::serve(self.listener, router)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await
            .map_err(|error| GatewayError::Serve {
                transport: "HTTP",
                message: error.to_string(),
            })
    }
}

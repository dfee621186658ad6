//! A small MCP server for tests of MCP clients and gateways.
//!
//! It serves an in-memory item store (seeded with `item_1`) through tools chosen to cover the
//! cases a client must handle: structured results, a single JSON text item, several text items,
//! tool errors, a call that never answers, a write without annotations, and a process that dies
//! mid-call. It runs over stdio ([`server`] with rmcp's stdio transport, what the binary does by
//! default) or streamable HTTP ([`serve_http`]).

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::{prompt::PromptRouter, tool::ToolRouter};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, Role, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use rmcp::{prompt, prompt_handler, prompt_router, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// The name the server reports in `initialize`, so a client test can tell it is talking to us.
pub const SERVER_NAME: &str = "kosmo-test-mcp-server";

/// The environment variable the `env` tool reports, to check what a client passes to a server
/// it spawns.
pub const TOKEN_VAR: &str = "KOSMO_MCP_TEST_TOKEN";

/// The exit code of the process after the `crash` tool, distinct from a failure to start (1)
/// or a usage error (2).
pub const CRASH_EXIT_CODE: i32 = 3;

/// How one server instance behaves beyond its fixed tools.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `create_item` appends `create_item <name>` here, so a test in another process can see
    /// whether a write really reached the server.
    pub state_file: Option<PathBuf>,
    /// HTTP only: requests without this header (and value) get 401, to test that a client sends
    /// the headers it is configured with.
    pub required_header: Option<(HeaderName, HeaderValue)>,
    /// `crash` ends the whole process with [`CRASH_EXIT_CODE`], as the binary does. Without it
    /// (for servers run inside a test process) `crash` stops the server started by
    /// [`serve_http`] and never answers.
    pub exit_on_crash: bool,
}

#[derive(Debug, Clone)]
struct Item {
    id: String,
    name: String,
}

impl Item {
    fn to_json(&self) -> Value {
        json!({ "id": self.id, "name": self.name })
    }
}

/// The MCP server: a cheap handle on one shared store, cloned for every HTTP session.
#[derive(Clone)]
pub struct TestServer {
    items: Arc<Mutex<Vec<Item>>>,
    options: Arc<Options>,
    /// Cancelled by `crash` when the process is not to exit; [`serve_http`] stops on it.
    stop: CancellationToken,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

/// A server with a fresh store, to serve over any rmcp transport (e.g. an in-memory duplex).
pub fn server(options: Options) -> TestServer {
    TestServer::new(options, CancellationToken::new())
}

#[derive(Deserialize, JsonSchema)]
struct IdArgs {
    /// The item's id, such as `item_1`.
    id: String,
}

#[derive(Deserialize, JsonSchema)]
struct NameArgs {
    /// The new item's name.
    name: String,
}

#[derive(Deserialize, JsonSchema)]
struct TextArgs {
    /// The text to echo.
    text: String,
}

fn text_result(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn error_result(text: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

#[tool_router]
impl TestServer {
    fn new(options: Options, stop: CancellationToken) -> Self {
        let seed = Item {
            id: "item_1".into(),
            name: "first".into(),
        };
        Self {
            items: Arc::new(Mutex::new(vec![seed])),
            options: Arc::new(options),
            stop,
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
        }
    }

    fn find(&self, id: &str) -> Option<Item> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        items.iter().find(|item| item.id == id).cloned()
    }

    #[tool(
        description = "Get one item by id.",
        annotations(read_only_hint = true)
    )]
    fn get_item(&self, Parameters(args): Parameters<IdArgs>) -> CallToolResult {
        match self.find(&args.id) {
            // Structured content, and the same JSON as text for clients that read only text.
            Some(item) => CallToolResult::structured(item.to_json()),
            None => error_result(format!("no item {}", args.id)),
        }
    }

    #[tool(
        description = "List all items, as one JSON text.",
        annotations(read_only_hint = true)
    )]
    fn list_items(&self) -> CallToolResult {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        text_result(Value::Array(items.iter().map(Item::to_json).collect()).to_string())
    }

    // No annotations at all: a client must assume a write.
    #[tool(description = "Create an item with the given name and return it.")]
    fn create_item(
        &self,
        Parameters(args): Parameters<NameArgs>,
    ) -> Result<CallToolResult, McpError> {
        let item = {
            let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
            let item = Item {
                id: format!("item_{}", items.len() + 1),
                name: args.name,
            };
            items.push(item.clone());
            item
        };
        if let Some(path) = &self.options.state_file {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut file| writeln!(file, "create_item {}", item.name))
                .map_err(|e| {
                    McpError::internal_error(format!("state file {}: {e}", path.display()), None)
                })?;
        }
        Ok(CallToolResult::structured(item.to_json()))
    }

    #[tool(
        description = "Always fails with a tool error.",
        annotations(read_only_hint = true)
    )]
    fn fail(&self) -> CallToolResult {
        error_result("the item store is closed")
    }

    #[tool(
        description = "Never answers; ends only when the call is cancelled.",
        annotations(read_only_hint = true)
    )]
    async fn hang(&self, context: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        context.ct.cancelled().await;
        // rmcp drops the answer to a cancelled request; this only ends the task.
        Err(McpError::internal_error("hang was cancelled", None))
    }

    #[tool(
        name = "Echo-Back",
        description = "Echo the text back as plain text, prefixed with `echo: `.",
        annotations(read_only_hint = true)
    )]
    fn echo_back(&self, Parameters(args): Parameters<TextArgs>) -> CallToolResult {
        text_result(format!("echo: {}", args.text))
    }

    #[tool(
        description = "Return two text items, `a` and `b`.",
        annotations(read_only_hint = true)
    )]
    fn two_texts(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text("a"), ContentBlock::text("b")])
    }

    #[tool(
        description = "Report the names of the server's environment variables and the value of KOSMO_MCP_TEST_TOKEN.",
        annotations(read_only_hint = true)
    )]
    fn env(&self) -> CallToolResult {
        let mut names: Vec<String> = std::env::vars_os()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        names.sort();
        let token = std::env::var(TOKEN_VAR).ok();
        CallToolResult::structured(json!({ "names": names, "token": token }))
    }

    #[tool(description = "End the server process at once, with exit code 3.")]
    async fn crash(&self, context: RequestContext<RoleServer>) -> Result<CallToolResult, McpError> {
        if self.options.exit_on_crash {
            std::process::exit(CRASH_EXIT_CODE);
        }
        self.stop.cancel();
        context.ct.cancelled().await;
        Err(McpError::internal_error("the server stopped", None))
    }
}

#[prompt_router]
impl TestServer {
    #[prompt(
        name = "summarize_item",
        description = "Ask for a summary of one item."
    )]
    fn summarize_item(
        &self,
        Parameters(args): Parameters<IdArgs>,
    ) -> Result<Vec<PromptMessage>, McpError> {
        let item = self
            .find(&args.id)
            .ok_or_else(|| McpError::invalid_params(format!("no item {}", args.id), None))?;
        Ok(vec![PromptMessage::new_text(
            Role::User,
            format!("Summarize item {}: {}", item.id, item.name),
        )])
    }
}

const ITEM_SCHEME: &str = "item://";

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        let items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let resources = items
            .iter()
            .map(|item| {
                Resource::new(format!("{ITEM_SCHEME}{}", item.id), item.id.clone())
                    .with_mime_type("application/json")
            })
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let item = request
            .uri
            .strip_prefix(ITEM_SCHEME)
            .and_then(|id| self.find(id))
            .ok_or_else(|| {
                McpError::resource_not_found(format!("no resource {}", request.uri), None)
            })?;
        let contents = ResourceContents::text(item.to_json().to_string(), request.uri.clone())
            .with_mime_type("application/json");
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}

/// A running streamable HTTP server; dropping it stops the server.
pub struct HttpServer {
    addr: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// The address actually bound (the port is known only after binding to port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint, for a client's configuration.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Stops the server, ending its MCP sessions, and waits until it has stopped.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        let _ = (&mut self.task).await;
    }

    /// Waits until the server stops (after `crash`, or never): what the binary does.
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Serves one shared store over streamable HTTP at `/mcp` on `addr`, which must be a loopback
/// address: the server has no authentication beyond `required_header` and exposes the
/// process's environment variable names.
///
/// Sessions use rmcp's defaults, so response streams are resumable: a client calling `crash`
/// should cap rmcp's stream-resume retries (unlimited by default) or it waits for ever.
pub async fn serve_http(addr: SocketAddr, options: Options) -> std::io::Result<HttpServer> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to listen on {addr}: only loopback addresses are allowed"),
        ));
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stop = CancellationToken::new();
    let required_header = options.required_header.clone();
    let server = TestServer::new(options, stop.clone());
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stop.child_token())
        // rmcp checks the Host header against this list (DNS rebinding); any loopback IP may be bound.
        .with_allowed_hosts(["localhost".to_string(), addr.ip().to_string()]);
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let mut router = axum::Router::new().route_service("/mcp", service);
    if let Some(header) = required_header {
        let header = Arc::new(header);
        router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let header = Arc::clone(&header);
            async move { require_header(&header, request, next).await }
        }));
    }
    let shutdown = stop.clone();
    let task = tokio::spawn(async move {
        let serve =
            axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned());
        if let Err(error) = serve.await {
            eprintln!("{SERVER_NAME}: HTTP server failed: {error}");
        }
    });
    Ok(HttpServer { addr, stop, task })
}

async fn require_header(
    (name, value): &(HeaderName, HeaderValue),
    request: Request,
    next: Next,
) -> Response {
    if request.headers().get(name) == Some(value) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, format!("missing header {name}\n")).into_response()
    }
}

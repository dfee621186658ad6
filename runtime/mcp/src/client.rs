//! Connections to the configured servers, made on first use and ended together.
//!
//! One [`McpClients`] serves one script run (or one gateway): a server starts the first time
//! the run needs it, once even if several calls need it at the same moment, and
//! [`McpClients::shutdown`] ends them all. Every request, the start included, has the server's
//! timeout; a request that runs out of time is cancelled (`notifications/cancelled`), and one
//! whose server died says so with the end of its stderr. A server that died is started again
//! on the next request.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, GetPromptRequestParams,
    Implementation, ReadResourceRequestParams,
};
use rmcp::service::{RoleClient, RunningService, ServiceError};
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{Peer, ServiceExt};
use serde_json::{Map, Value};
use tokio::io::AsyncReadExt;

use crate::config::{ServerConfig, Transport};
use crate::env::{Environment, ProcessEnvironment, child_environment, expand_references};
use crate::error::McpError;
use crate::tools::{ToolInfo, error_text, make_lua_names_unique, result_value};

/// How much of a server's stderr is kept for error messages.
const STDERR_TAIL: usize = 2048;

/// How long ending a server may take before its process is killed.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A configured server and whether the user trusts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    /// Its entry.
    pub config: ServerConfig,
    /// Whether it may run: always for the user's own file and the embedding program's
    /// servers; for a project file's, only when the user trusted this exact entry.
    pub trusted: bool,
}

impl Server {
    /// Whether a script can reach it: enabled and trusted.
    pub fn usable(&self) -> bool {
        self.config.enabled && self.trusted
    }

    /// The server as `mcp:list --json` and `mcp.servers()` show it.
    pub fn to_json(&self) -> Value {
        let config = &self.config;
        let mut row = Map::new();
        row.insert("name".into(), config.name.as_str().into());
        row.insert("type".into(), config.transport.kind().into());
        row.insert("enabled".into(), config.enabled.into());
        row.insert("trusted".into(), self.trusted.into());
        row.insert("needs_trust".into(), config.source.needs_trust().into());
        row.insert("source".into(), config.source.as_str().into());
        row.insert(
            "path".into(),
            config
                .path
                .as_ref()
                .map_or(Value::Null, |p| p.display().to_string().into()),
        );
        match &config.transport {
            Transport::Stdio { command, args, .. } => {
                row.insert("command".into(), command.as_str().into());
                row.insert("args".into(), args.clone().into());
                row.insert("url".into(), Value::Null);
            }
            Transport::Http { url, .. } => {
                row.insert("command".into(), Value::Null);
                row.insert("args".into(), Value::Array(Vec::new()));
                row.insert("url".into(), url.as_str().into());
            }
        }
        row.insert("timeout".into(), config.timeout.as_secs_f64().into());
        row.insert("fingerprint".into(), config.fingerprint().into());
        row.insert(
            "lua_path".into(),
            crate::tools::server_path(&config.name).into(),
        );
        Value::Object(row)
    }
}

/// One live connection.
struct Connection {
    peer: Peer<RoleClient>,
    service: Mutex<Option<RunningService<RoleClient, ClientConfig>>>,
    tools: tokio::sync::OnceCell<Arc<Vec<ToolInfo>>>,
    stderr: Arc<Mutex<String>>,
}

impl Connection {
    fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

type Slot = Arc<tokio::sync::OnceCell<Arc<Connection>>>;

/// The servers one run can reach, and their connections.
pub struct McpClients {
    servers: Arc<[Server]>,
    environment: Arc<dyn Environment + Send + Sync>,
    connections: Mutex<BTreeMap<String, Slot>>,
}

impl std::fmt::Debug for McpClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClients")
            .field(
                "servers",
                &self
                    .servers
                    .iter()
                    .map(|s| &s.config.name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl McpClients {
    /// Clients for `servers`, reading `${…}` references from the process's environment.
    pub fn new(servers: impl Into<Arc<[Server]>>) -> Self {
        McpClients {
            servers: servers.into(),
            environment: Arc::new(ProcessEnvironment),
            connections: Mutex::new(BTreeMap::new()),
        }
    }

    /// Reads `${…}` references and the pass-through variables from `environment` instead.
    pub fn with_environment(
        mut self,
        environment: impl Environment + Send + Sync + 'static,
    ) -> Self {
        self.environment = Arc::new(environment);
        self
    }

    /// Every configured server, by name.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The server called `name`, usable or not.
    pub fn server(&self, name: &str) -> Result<&Server, McpError> {
        self.servers
            .iter()
            .find(|s| s.config.name == name)
            .ok_or_else(|| McpError::UnknownServer {
                name: name.to_string(),
                known: if self.servers.is_empty() {
                    "none (add one with `kosmo mcp:add`, or in .mcp.json)".to_string()
                } else {
                    self.servers
                        .iter()
                        .map(|s| s.config.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
            })
    }

    /// The server called `name`, if a script may reach it.
    pub fn usable(&self, name: &str) -> Result<&Server, McpError> {
        let server = self.server(name)?;
        if !server.config.enabled {
            return Err(McpError::Disabled {
                server: name.to_string(),
                path: server.config.path_text(),
            });
        }
        if !server.trusted {
            return Err(McpError::Untrusted {
                server: name.to_string(),
                path: server.config.path_text(),
            });
        }
        Ok(server)
    }

    async fn connection(&self, name: &str) -> Result<Arc<Connection>, McpError> {
        let server = self.usable(name)?;
        let slot = {
            let mut connections = self.connections.lock().map_err(|_| McpError::Config {
                server: name.to_string(),
                message: "the connection table is unusable after a panic".into(),
            })?;
            connections.entry(name.to_string()).or_default().clone()
        };
        let connection = slot
            .get_or_try_init(|| async {
                let timeout = server.config.timeout;
                match tokio::time::timeout(timeout, self.connect(&server.config)).await {
                    Ok(result) => result,
                    Err(_) => Err(McpError::Timeout {
                        server: name.to_string(),
                        request: "the handshake (initialize)".into(),
                        seconds: timeout.as_secs_f64(),
                    }),
                }
            })
            .await?;
        Ok(connection.clone())
    }

    async fn connect(&self, config: &ServerConfig) -> Result<Arc<Connection>, McpError> {
        let server = config.name.clone();
        let config_error = |message: String| McpError::Config {
            server: server.clone(),
            message,
        };
        let client_config = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("kosmo", env!("CARGO_PKG_VERSION")),
        );
        let stderr = Arc::new(Mutex::new(String::new()));
        let service = match &config.transport {
            Transport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let vars = child_environment(env, &*self.environment).map_err(config_error)?;
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).env_clear().envs(vars);
                if let Some(cwd) = cwd {
                    cmd.current_dir(cwd);
                }
                let mut wrapped = process_wrap::tokio::CommandWrap::from(cmd);
                // Ends the server, and whatever it started, even if we are dropped mid-call.
                wrapped
                    .wrap(process_wrap::tokio::KillOnDrop)
                    .wrap(process_wrap::tokio::ProcessGroup::leader());
                let (transport, child_stderr) = TokioChildProcess::builder(wrapped)
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| McpError::Start {
                        server: server.clone(),
                        message: format!("cannot run `{command}`: {e}"),
                        stderr: String::new(),
                    })?;
                if let Some(mut child_stderr) = child_stderr {
                    let tail = stderr.clone();
                    tokio::spawn(async move {
                        let mut buffer = [0u8; 1024];
                        while let Ok(n) = child_stderr.read(&mut buffer).await {
                            if n == 0 {
                                break;
                            }
                            if let Ok(mut tail) = tail.lock() {
                                tail.push_str(&String::from_utf8_lossy(&buffer[..n]));
                                if tail.len() > STDERR_TAIL {
                                    let mut cut = tail.len() - STDERR_TAIL;
                                    while !tail.is_char_boundary(cut) {
                                        cut += 1;
                                    }
                                    tail.drain(..cut);
                                }
                            }
                        }
                    });
                }
                client_config.serve(transport).await
            }
            Transport::Http { url, headers } => {
                let mut custom = std::collections::HashMap::new();
                for (name, value) in headers {
                    let value = expand_references(value, &*self.environment)
                        .map_err(|e| config_error(format!("headers.{name}: {e}")))?;
                    let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|e| config_error(format!("header `{name}`: {e}")))?;
                    let header_value = reqwest::header::HeaderValue::from_str(&value)
                        .map_err(|e| config_error(format!("header `{name}`: {e}")))?;
                    custom.insert(header_name, header_value);
                }
                let mut transport_config =
                    rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                        url.as_str(),
                    )
                    .custom_headers(custom);
                // rmcp reconnects a dropped event stream forever by default; a server that
                // died should fail the call, not keep it waiting for its timeout.
                let mut retry =
                    rmcp::transport::common::client_side_sse::ExponentialBackoff::default();
                retry.max_times = Some(2);
                retry.base_duration = Duration::from_millis(200);
                transport_config.retry_config = Arc::new(retry);
                let transport = StreamableHttpClientTransport::with_client(
                    reqwest::Client::new(),
                    transport_config,
                );
                client_config.serve(transport).await
            }
        };
        let service = service.map_err(|e| McpError::Start {
            server: server.clone(),
            message: e.to_string(),
            stderr: stderr.lock().map(|s| s.clone()).unwrap_or_default(),
        })?;
        Ok(Arc::new(Connection {
            peer: service.peer().clone(),
            service: Mutex::new(Some(service)),
            tools: tokio::sync::OnceCell::new(),
            stderr,
        }))
    }

    /// Runs one request with the server's timeout, starting the server if needed. A server
    /// found dead is forgotten, so the next request starts it again.
    async fn request<T, F, Fut>(&self, server: &str, request: &str, send: F) -> Result<T, McpError>
    where
        F: FnOnce(Peer<RoleClient>) -> Fut,
        Fut: std::future::Future<Output = Result<T, ServiceError>>,
    {
        let connection = self.connection(server).await?;
        let timeout = self.usable(server)?.config.timeout;
        let outcome = tokio::time::timeout(timeout, send(connection.peer.clone())).await;
        let error = match outcome {
            Ok(Ok(value)) => return Ok(value),
            Err(_) => {
                return Err(McpError::Timeout {
                    server: server.to_string(),
                    request: request.to_string(),
                    seconds: timeout.as_secs_f64(),
                });
            }
            Ok(Err(error)) => error,
        };
        match error {
            ServiceError::McpError(data) => Err(McpError::Protocol {
                server: server.to_string(),
                request: request.to_string(),
                message: data.message.to_string(),
            }),
            ServiceError::Timeout { timeout } => Err(McpError::Timeout {
                server: server.to_string(),
                request: request.to_string(),
                seconds: timeout.as_secs_f64(),
            }),
            ServiceError::UnexpectedResponse => Err(McpError::Protocol {
                server: server.to_string(),
                request: request.to_string(),
                message: "it answered with a result of another kind".into(),
            }),
            _ => {
                // Let the stderr reader catch up with a process that just died.
                tokio::time::sleep(Duration::from_millis(20)).await;
                self.forget(server, &connection).await;
                Err(McpError::Closed {
                    server: server.to_string(),
                    request: request.to_string(),
                    stderr: connection.stderr(),
                })
            }
        }
    }

    async fn forget(&self, server: &str, connection: &Arc<Connection>) {
        let removed = self.connections.lock().ok().and_then(|mut connections| {
            let same = connections
                .get(server)
                .and_then(|slot| slot.get())
                .is_some_and(|c| Arc::ptr_eq(c, connection));
            if same {
                connections.remove(server)
            } else {
                None
            }
        });
        if removed.is_some() {
            close(connection).await;
        }
    }

    /// The server's tools, listed once per connection, with Lua names unique within it.
    pub async fn tools(&self, server: &str) -> Result<Arc<Vec<ToolInfo>>, McpError> {
        let connection = self.connection(server).await?;
        let tools = connection
            .tools
            .get_or_try_init(|| async {
                let listed = self
                    .request(server, "tools/list", |peer| async move {
                        peer.list_all_tools().await
                    })
                    .await?;
                let mut tools: Vec<ToolInfo> = listed
                    .iter()
                    .filter_map(|tool| {
                        let json = serde_json::to_value(tool).ok()?;
                        ToolInfo::from_json(server, &json)
                    })
                    .collect();
                make_lua_names_unique(&mut tools);
                Ok::<_, McpError>(Arc::new(tools))
            })
            .await?;
        Ok(tools.clone())
    }

    /// The tool `name` of `server`, by its Lua name or its own.
    pub async fn tool(&self, server: &str, name: &str) -> Result<ToolInfo, McpError> {
        let tools = self.tools(server).await?;
        if let Some(tool) = tools
            .iter()
            .find(|t| t.lua_name == name)
            .or_else(|| tools.iter().find(|t| t.name == name))
        {
            return Ok(tool.clone());
        }
        let closest = tools
            .iter()
            .map(|t| (strsim::jaro_winkler(name, &t.lua_name), &t.lua_name))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let suggestion = match closest {
            Some((_, lua)) => format!(" Did you mean `{lua}`?"),
            None => format!(
                " Tools: {}.",
                tools
                    .iter()
                    .map(|t| t.lua_name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Err(McpError::UnknownTool {
            server: server.to_string(),
            name: name.to_string(),
            suggestion,
        })
    }

    /// Calls a tool and returns its result as the server sent it (the `CallToolResult` JSON),
    /// `isError` included.
    pub async fn call_tool_raw(
        &self,
        tool: &ToolInfo,
        arguments: Map<String, Value>,
    ) -> Result<Map<String, Value>, McpError> {
        let name = tool.name.clone();
        let result = self
            .request(
                &tool.server,
                &format!("tools/call {}", tool.name),
                |peer| async move {
                    peer.call_tool(CallToolRequestParams::new(name).with_arguments(arguments))
                        .await
                },
            )
            .await?;
        match serde_json::to_value(result) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(McpError::Protocol {
                server: tool.server.clone(),
                request: format!("tools/call {}", tool.name),
                message: "its result is not a JSON object".into(),
            }),
        }
    }

    /// Calls a tool: its value (see [`result_value`]), or [`McpError::Tool`] when it reports
    /// an error.
    pub async fn call_tool(
        &self,
        tool: &ToolInfo,
        arguments: Map<String, Value>,
    ) -> Result<Value, McpError> {
        let result = self.call_tool_raw(tool, arguments).await?;
        if result.get("isError") == Some(&Value::Bool(true)) {
            return Err(McpError::Tool {
                server: tool.server.clone(),
                tool: tool.name.clone(),
                text: error_text(&result),
                result: Box::new(Value::Object(result)),
            });
        }
        Ok(result_value(&result))
    }

    /// The server's resources (`resources/list`, every page).
    pub async fn resources(&self, server: &str) -> Result<Value, McpError> {
        let listed = self
            .request(server, "resources/list", |peer| async move {
                peer.list_all_resources().await
            })
            .await?;
        Ok(serde_json::to_value(listed).unwrap_or(Value::Null))
    }

    /// One resource's contents (`resources/read`).
    pub async fn read_resource(&self, server: &str, uri: &str) -> Result<Value, McpError> {
        let params = ReadResourceRequestParams::new(uri);
        let read = self
            .request(
                server,
                &format!("resources/read {uri}"),
                |peer| async move { peer.read_resource(params).await },
            )
            .await?;
        Ok(serde_json::to_value(read).unwrap_or(Value::Null))
    }

    /// The server's prompts (`prompts/list`, every page).
    pub async fn prompts(&self, server: &str) -> Result<Value, McpError> {
        let listed = self
            .request(server, "prompts/list", |peer| async move {
                peer.list_all_prompts().await
            })
            .await?;
        Ok(serde_json::to_value(listed).unwrap_or(Value::Null))
    }

    /// One prompt with its arguments filled in (`prompts/get`).
    pub async fn get_prompt(
        &self,
        server: &str,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value, McpError> {
        let mut params = GetPromptRequestParams::new(name);
        params.arguments = Some(arguments);
        let prompt = self
            .request(server, &format!("prompts/get {name}"), |peer| async move {
                peer.get_prompt(params).await
            })
            .await?;
        Ok(serde_json::to_value(prompt).unwrap_or(Value::Null))
    }

    /// Ends every server this run started: closes its connection, and kills what is left of it
    /// after a short grace.
    pub async fn shutdown(&self) {
        let slots: Vec<Slot> = match self.connections.lock() {
            Ok(mut connections) => std::mem::take(&mut *connections).into_values().collect(),
            Err(_) => return,
        };
        for slot in slots {
            if let Some(connection) = slot.get() {
                close(connection).await;
            }
        }
    }
}

async fn close(connection: &Connection) {
    let service = connection.service.lock().ok().and_then(|mut s| s.take());
    if let Some(mut service) = service {
        // Dropping the transport kills the process (kill-on-drop, process group).
        let _ = service.close_with_timeout(SHUTDOWN_GRACE).await;
    }
}

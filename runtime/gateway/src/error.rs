//! Why a gateway could not be made or could not serve.

use std::net::SocketAddr;

/// Why a [`Gateway`](crate::Gateway) could not be made, bound or served. Failures of single
/// tool calls are not errors of the gateway: they are results with `isError`.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// An integration asked for is not one of the host's.
    #[error("unknown integration `{name}`; known: {known}")]
    UnknownIntegration {
        /// The name asked for.
        name: String,
        /// The host's integrations, comma-separated.
        known: String,
    },
    /// An upstream MCP server asked for is not configured.
    #[error("unknown MCP server `{name}`; configured: {known}")]
    UnknownUpstream {
        /// The name asked for.
        name: String,
        /// The configured servers, comma-separated.
        known: String,
    },
    /// An upstream would be this gateway itself (`kosmo mcp:serve`), which would call itself.
    #[error(
        "the MCP server `{0}` runs `kosmo mcp:serve`, this gateway itself; a gateway never proxies itself"
    )]
    SelfProxy(String),
    /// An upstream cannot be used: disabled, untrusted, or it did not start or list its tools.
    #[error("the upstream MCP server cannot be served: {0}")]
    Upstream(String),
    /// The result limit is too small to show anything useful.
    #[error("the result limit must be at least {minimum} characters, not {given}")]
    ResultLimitTooSmall {
        /// The limit asked for.
        given: usize,
        /// The smallest limit accepted.
        minimum: usize,
    },
    /// Two functions come out under one tool name once sanitized.
    #[error("`{first}` and `{second}` would both be the tool `{tool}`")]
    DuplicateTool {
        /// The tool name.
        tool: String,
        /// One function, as `<provider>.<function>`.
        first: String,
        /// The other.
        second: String,
    },
    /// A function's input schema cannot be offered as a plain object schema.
    #[error("the input schema of {function} cannot be offered to MCP clients: {reason}")]
    InputSchema {
        /// The function, as `<provider>.<function>`.
        function: String,
        /// What is wrong with it.
        reason: String,
    },
    /// HTTP was asked for on an address other programs or machines could reach.
    #[error(
        "the MCP gateway serves HTTP only on a loopback address such as 127.0.0.1 or [::1], not {0}: it has no authentication, and every tool runs with your credentials"
    )]
    NotLoopback(SocketAddr),
    /// The HTTP listener could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// Serving failed: the connection or the HTTP server.
    #[error("the MCP {transport} connection failed: {message}")]
    Serve {
        /// `stdio` or `HTTP`.
        transport: &'static str,
        /// What happened.
        message: String,
    },
}

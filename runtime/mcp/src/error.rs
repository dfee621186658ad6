//! Why a request to an MCP server gave no result.

use serde_json::{Map, Value};

/// Why a request to an MCP server gave no result. Every message names the server, so a
/// script's error says which one failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    /// No server has this name.
    #[error("Unknown MCP server `{name}`. Configured: {known}.")]
    UnknownServer {
        /// The name asked for.
        name: String,
        /// The configured servers, comma-separated (`none` when there are none).
        known: String,
    },
    /// The entry says `enabled: false`.
    #[error("MCP server '{server}' is disabled in {path}.")]
    Disabled {
        /// The server.
        server: String,
        /// The file that disables it.
        path: String,
    },
    /// A project file's server the user has not trusted, or whose entry changed since.
    #[error(
        "MCP server '{server}' comes from {path} and is not trusted. Check its entry, then run `kosmo mcp:trust {server}`; any later edit of the entry revokes the trust."
    )]
    Untrusted {
        /// The server.
        server: String,
        /// The project file it comes from.
        path: String,
    },
    /// Its entry cannot be turned into a process or a connection (an env reference that is
    /// not allowed, say).
    #[error("MCP server '{server}' cannot start: {message}")]
    Config {
        /// The server.
        server: String,
        /// What is wrong.
        message: String,
    },
    /// It did not start, or did not complete the MCP handshake.
    #[error("MCP server '{server}' did not start: {message}{}", stderr_suffix(.stderr))]
    Start {
        /// The server.
        server: String,
        /// What went wrong.
        message: String,
        /// The end of what the process wrote to stderr.
        stderr: String,
    },
    /// The connection closed during a request: the process exited or crashed.
    #[error("MCP server '{server}' closed the connection during {request}{}", stderr_suffix(.stderr))]
    Closed {
        /// The server.
        server: String,
        /// The request (`tools/call get_item`).
        request: String,
        /// The end of what the process wrote to stderr.
        stderr: String,
    },
    /// No answer within the server's timeout; the request was cancelled.
    #[error(
        "MCP server '{server}' did not answer {request} within {seconds} s; the request was cancelled (set `timeout` in its entry to allow longer)"
    )]
    Timeout {
        /// The server.
        server: String,
        /// The request.
        request: String,
        /// The timeout, in seconds.
        seconds: f64,
    },
    /// The server answered the request with a JSON-RPC error.
    #[error("MCP server '{server}' refused {request}: {message}")]
    Protocol {
        /// The server.
        server: String,
        /// The request.
        request: String,
        /// The server's message.
        message: String,
    },
    /// The server has no tool of this name.
    #[error("MCP server '{server}' has no tool `{name}`.{suggestion}")]
    UnknownTool {
        /// The server.
        server: String,
        /// The name asked for.
        name: String,
        /// ` Did you mean …?`, or the tools there are.
        suggestion: String,
    },
    /// The host's permissions refused the call (the message says which and how to allow it).
    #[error("{message}")]
    Refused {
        /// The server.
        server: String,
        /// Why, in the words the host uses for integrations too.
        message: String,
    },
    /// The arguments cannot be sent (not a table, too many positional values, a function).
    #[error("MCP tool {server}.{tool}: {message}")]
    InvalidArguments {
        /// The server.
        server: String,
        /// The tool.
        tool: String,
        /// What is wrong.
        message: String,
    },
    /// The tool ran and reported an error (`isError: true`).
    #[error("MCP tool {server}.{tool} failed: {text}")]
    Tool {
        /// The server.
        server: String,
        /// The tool, as the server names it.
        tool: String,
        /// The error's text items.
        text: String,
        /// The whole result the server sent.
        result: Box<Value>,
    },
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.trim().is_empty() {
        String::new()
    } else {
        format!(" (stderr: {})", stderr.trim())
    }
}

impl McpError {
    /// The error's kind as scripts branch on it: `config` (unknown, disabled, untrusted or
    /// misconfigured server), `transport` (did not start, closed), `timeout`, `mcp_protocol`,
    /// `unknown_function` or `mcp_tool` (the tool reported an error).
    pub fn kind(&self) -> &'static str {
        match self {
            McpError::UnknownServer { .. }
            | McpError::Disabled { .. }
            | McpError::Untrusted { .. }
            | McpError::Config { .. }
            | McpError::Refused { .. } => "config",
            McpError::InvalidArguments { .. } => "invalid_argument",
            McpError::Start { .. } | McpError::Closed { .. } => "transport",
            McpError::Timeout { .. } => "timeout",
            McpError::Protocol { .. } => "mcp_protocol",
            McpError::UnknownTool { .. } => "unknown_function",
            McpError::Tool { .. } => "mcp_tool",
        }
    }

    /// The server it concerns.
    pub fn server(&self) -> &str {
        match self {
            McpError::UnknownServer { name, .. } => name,
            McpError::Disabled { server, .. }
            | McpError::Untrusted { server, .. }
            | McpError::Config { server, .. }
            | McpError::Start { server, .. }
            | McpError::Closed { server, .. }
            | McpError::Timeout { server, .. }
            | McpError::Protocol { server, .. }
            | McpError::UnknownTool { server, .. }
            | McpError::Refused { server, .. }
            | McpError::InvalidArguments { server, .. }
            | McpError::Tool { server, .. } => server,
        }
    }

    /// The fields of the error object scripts and gateway clients get: `kind`, `text` (the
    /// full message), `message`, `server`, and `tool` and `result` for a tool's own error,
    /// `stderr` when the process wrote any.
    pub fn fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        let text = self.to_string();
        fields.insert("kind".into(), self.kind().into());
        fields.insert("server".into(), self.server().into());
        match self {
            McpError::Tool {
                tool,
                text: message,
                result,
                ..
            } => {
                fields.insert("tool".into(), tool.as_str().into());
                fields.insert("message".into(), message.as_str().into());
                fields.insert("result".into(), (**result).clone());
            }
            McpError::InvalidArguments { tool, .. } => {
                fields.insert("tool".into(), tool.as_str().into());
                fields.insert("message".into(), text.as_str().into());
            }
            McpError::UnknownTool { name, .. } => {
                fields.insert("tool".into(), name.as_str().into());
                fields.insert("message".into(), text.as_str().into());
            }
            McpError::Start { stderr, .. } | McpError::Closed { stderr, .. }
                if !stderr.trim().is_empty() =>
            {
                fields.insert("stderr".into(), stderr.trim().into());
                fields.insert("message".into(), text.as_str().into());
            }
            _ => {
                fields.insert("message".into(), text.as_str().into());
            }
        }
        fields.insert("text".into(), text.into());
        fields
    }
}

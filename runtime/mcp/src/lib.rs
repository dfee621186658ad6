//! MCP servers as scripts reach them.
//!
//! - [`config`]: the files editors and KosmoKrator keep servers in, their precedence, and the
//!   fingerprint trust is given to;
//! - [`env`]: what `${NAME}` in an entry may read, and the minimal environment of a child;
//! - [`client`]: connections made on first use, with timeouts, ended together
//!   ([`McpClients`]);
//! - [`tools`]: tools as scripts see them (Lua names, read or write) and what results become;
//! - [`docs`]: docs pages built from a server's live tool list.
//!
//! No Lua here: the host (`kosmo-host`) puts these behind `app.mcp` and the `mcp` global, with
//! its permissions, and the gateway serves them on.

#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod docs;
pub mod env;
mod error;
pub mod tools;

pub use client::{McpClients, Server};
pub use config::{ConfigError, ConfigLocations, McpConfig, ServerConfig, Source, Transport};
pub use error::McpError;
pub use tools::{ToolInfo, lua_name};

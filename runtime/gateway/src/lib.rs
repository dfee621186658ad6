//! `kosmo-gateway`: the integrations of a [`kosmo_host::Host`] as MCP tools.
//!
//! A [`Gateway`] offers one tool per function of each integration it serves, named
//! `integration__<provider>__<function>`, with the function's input JSON Schema (flattened to a
//! plain object schema, plus an optional `_account` argument) and annotations from the manifest
//! (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`). A call goes through
//! [`Host::call`](kosmo_host::Host::call), so it gets the host's credentials, account policy and
//! call checks; its answer comes back as text and `structuredContent`, its failure as a result
//! with `isError` (never a JSON-RPC error), with the error's fields under
//! `structuredContent.error`.
//!
//! It may also offer the tools of the host's MCP servers ([`GatewayOptions::upstreams`]), named
//! `mcp__<server>__<tool>` with the server's own schema and annotations, under the server's
//! permissions; it never proxies itself.
//!
//! Writes are neither listed nor run unless [`WritePolicy::Allow`]: an MCP client asks its user
//! before each call, and that answer is the approval a write needs.
//!
//! ```no_run
//! # async fn serve(host: kosmo_host::Host) -> Result<(), kosmo_gateway::GatewayError> {
//! use kosmo_gateway::{Gateway, GatewayOptions};
//!
//! Gateway::new(host, GatewayOptions::default()).await?.serve_stdio().await
//! # }
//! ```
//!
//! It prints nothing: over stdio, standard output belongs to the protocol.
#![deny(missing_docs)]

mod error;
mod names;
mod options;
mod results;
mod schema;
mod server;
mod tools;

pub use error::GatewayError;
pub use names::{TOOL_PREFIX, UPSTREAM_PREFIX, sanitize_name, tool_name, upstream_tool_name};
pub use options::{GatewayOptions, WritePolicy};
pub use schema::plain_object_schema;
pub use server::{Gateway, HttpGateway};
pub use tools::ACCOUNT_ARGUMENT;

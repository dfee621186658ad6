//! `test-mcp-server`: the test MCP server over stdio (default) or streamable HTTP.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use axum::http::{HeaderName, HeaderValue};
use clap::Parser;
use kosmo_test_mcp_server::{Options, serve_http, server};
use rmcp::ServiceExt as _;

/// A small MCP server with an in-memory item store, for testing MCP clients.
#[derive(Parser, Debug)]
#[command(name = "test-mcp-server", version)]
struct Args {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (loopback only; port 0 picks
    /// one). The URL is printed as the first line of stdout.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// HTTP requests without this header get 401.
    #[arg(long, value_name = "NAME=VALUE", requires = "http", value_parser = parse_header)]
    require_header: Option<(HeaderName, HeaderValue)>,
    /// Append `create_item <name>` to FILE for every item created.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
}

fn parse_header(arg: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, value) = arg
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got {arg:?}"))?;
    let name = HeaderName::try_from(name).map_err(|e| format!("header name {name:?}: {e}"))?;
    let value = HeaderValue::try_from(value).map_err(|e| format!("header value: {e}"))?;
    Ok((name, value))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let options = Options {
        state_file: args.state,
        required_header: args.require_header,
        exit_on_crash: true,
    };
    match args.http {
        Some(addr) => {
            let running = serve_http(addr, options)
                .await
                .with_context(|| format!("serving HTTP on {addr}"))?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", running.url())?;
            out.flush()?;
            drop(out);
            running.wait().await;
        }
        None => {
            // stdout carries only the protocol.
            let service = server(options)
                .serve(rmcp::transport::stdio())
                .await
                .context("starting the MCP session on stdio")?;
            service.waiting().await?;
        }
    }
    Ok(())
}

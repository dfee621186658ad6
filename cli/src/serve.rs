//! `mcp:serve`: the integrations as MCP tools (stdio, or streamable HTTP on loopback), and
//! `mcp:gateway:export`: the MCP client configuration that starts it.

use std::net::SocketAddr;
use std::sync::Arc;

use kosmo_gateway::{Gateway, GatewayOptions, WritePolicy};
use serde_json::json;

use crate::config::Settings;
use crate::print_json;

/// After the flags in `kosmo mcp:serve --help`.
pub const SERVE_HELP: &str = "Tools are named integration__<provider>__<function>; each takes the function's arguments and an optional _account. With --upstream, a configured MCP server's tools are served too, as mcp__<server>__<tool>, under that server's trust and permissions (a server that runs `kosmo mcp:serve` is refused: the gateway never proxies itself).
Writes are neither listed nor run with --write=deny (the default); --write=allow lists them and runs them without asking, since the MCP client asks its user first (an account whose writes are `deny` still refuses them).
Examples:
  kosmo mcp:serve                                  # stdio, every integration, reads only
  kosmo mcp:serve --integrations a,b --write=allow # stdio, two integrations, writes too
  kosmo mcp:serve --http 127.0.0.1:8765            # streamable HTTP; prints http://127.0.0.1:8765/mcp
  kosmo mcp:serve --upstream github                # the integrations and the github server's tools
  kosmo mcp:gateway:export                         # the .mcp.json entry that starts it";

/// Which integrations a gateway serves, and how: the flags `mcp:serve` and
/// `mcp:gateway:export` share.
#[derive(clap::Args)]
pub struct Selection {
    /// Serve this integration (repeatable); without it or --integrations, every integration.
    #[arg(long = "integration", value_name = "NAME")]
    integration: Vec<String>,
    /// Serve these integrations, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    integrations: Vec<String>,
    /// Serve the tools of this configured MCP server too, as mcp__<server>__<tool> (repeatable).
    #[arg(long = "upstream", value_name = "SERVER")]
    upstream: Vec<String>,
    /// Serve the tools of these configured MCP servers, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    upstreams: Vec<String>,
    /// `deny`: write tools are neither listed nor run. `allow`: they are listed and run.
    #[arg(long, value_name = "deny|allow", default_value = "deny", value_parser = write_policy)]
    write: WritePolicy,
    /// The longest text a result shows, in characters (at least 1000); longer text is cut with a line saying so.
    #[arg(long, value_name = "N", default_value_t = GatewayOptions::DEFAULT_MAX_RESULT_CHARS, value_parser = result_limit)]
    max_result_chars: usize,
}

impl Selection {
    /// The integrations named, in order, each once.
    fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.integration.iter().chain(&self.integrations) {
            let name = name.trim();
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    /// The upstream servers named, in order, each once.
    fn upstream_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for name in self.upstream.iter().chain(&self.upstreams) {
            let name = name.trim();
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    fn options(&self) -> GatewayOptions {
        GatewayOptions {
            integrations: self.names(),
            upstreams: self.upstream_names(),
            write: self.write,
            max_result_chars: self.max_result_chars,
        }
    }
}

/// `kosmo mcp:serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    selection: Selection,
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio; ADDR must be a loopback address (port 0 picks one). The URL is printed once listening.
    #[arg(long, value_name = "127.0.0.1:PORT", value_parser = loopback_address)]
    http: Option<SocketAddr>,
}

/// `kosmo mcp:gateway:export`.
#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    selection: Selection,
    /// The server's name under `mcpServers`.
    #[arg(long, default_value = "kosmo")]
    name: String,
    /// Print the envelope {success, config} instead of the configuration alone.
    #[arg(long)]
    json: bool,
}

fn write_policy(value: &str) -> Result<WritePolicy, String> {
    value.parse()
}

fn result_limit(value: &str) -> Result<usize, String> {
    let limit: usize = value
        .parse()
        .map_err(|_| format!("`{value}` is not a number of characters"))?;
    if limit < GatewayOptions::MIN_RESULT_CHARS {
        return Err(format!(
            "at least {} characters, so that an error's explanation fits",
            GatewayOptions::MIN_RESULT_CHARS
        ));
    }
    Ok(limit)
}

/// An address to listen on, refused unless only this machine can reach it: the gateway has no
/// authentication, and its tools run with the configured credentials.
fn loopback_address(value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|_| format!("`{value}` is not an address such as 127.0.0.1:8765"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{addr} is not a loopback address; the gateway has no authentication, so it listens only on 127.0.0.1 or [::1]"
        ));
    }
    Ok(addr)
}

/// Serves until the client closes stdin, or over HTTP until interrupted.
pub fn serve(args: ServeArgs) -> anyhow::Result<u8> {
    let settings = Arc::new(Settings::load()?);
    // Warnings go to stderr: over stdio, stdout belongs to the protocol.
    settings.print_warnings();
    let host = if args.selection.upstream_names().is_empty() {
        crate::host(settings)?
    } else {
        crate::host_with_mcp(settings)?
    };
    // One thread: calls wait on the network, and a single thread spares each message a hand-off.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let gateway = Gateway::new(host, args.selection.options()).await?;
        match args.http {
            None => gateway.serve_stdio().await,
            Some(addr) => {
                let bound = gateway.bind_http(addr).await?;
                outln!("{}", bound.url());
                {
                    use std::io::Write as _;
                    let _ = std::io::stdout().flush();
                }
                bound
                    .serve_until(async {
                        let _ = tokio::signal::ctrl_c().await;
                    })
                    .await
            }
        }
    })?;
    Ok(0)
}

/// Prints the `mcpServers` entry that starts this binary's gateway with the same selection.
pub fn export(args: ExportArgs) -> anyhow::Result<u8> {
    let selection = &args.selection;
    let names = selection.names();
    for name in &names {
        if crate::integration(name).is_none() {
            let known: Vec<&str> = kosmo_integrations::INTEGRATIONS
                .iter()
                .map(|i| i.meta.name)
                .collect();
            anyhow::bail!("unknown integration `{name}`; known: {}", known.join(", "));
        }
    }
    let command = std::env::current_exe()?;
    let command = command.canonicalize().unwrap_or(command);
    let mut server_args = vec![
        "mcp:serve".to_string(),
        format!("--write={}", selection.write),
    ];
    server_args.extend(names.iter().map(|name| format!("--integration={name}")));
    let upstreams = selection.upstream_names();
    if !upstreams.is_empty() {
        let settings = Settings::load()?;
        let servers = settings.mcp_servers()?;
        for name in &upstreams {
            if !servers.iter().any(|s| &s.config.name == name) {
                let known: Vec<&str> = servers.iter().map(|s| s.config.name.as_str()).collect();
                anyhow::bail!(
                    "unknown MCP server `{name}`; configured: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                );
            }
        }
    }
    server_args.extend(upstreams.iter().map(|name| format!("--upstream={name}")));
    if selection.max_result_chars != GatewayOptions::DEFAULT_MAX_RESULT_CHARS {
        server_args.push(format!("--max-result-chars={}", selection.max_result_chars));
    }
    let config = json!({
        "mcpServers": {
            args.name.as_str(): {
                "type": "stdio",
                "command": command.to_string_lossy(),
                "args": server_args,
            }
        }
    });
    if args.json {
        print_json(&json!({ "success": true, "config": config }));
    } else {
        print_json(&config);
    }
    Ok(0)
}

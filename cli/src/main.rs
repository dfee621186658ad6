//! `kosmo`: the headless KosmoKrator integrations CLI.
//!
//! A thin front-end to the host library (`kosmo_host`): it parses arguments, reads the
//! configuration files, builds JSON envelopes and sets exit codes. Which integrations exist it
//! learns from the generated registry, so no provider is named here.
//!
//! Exit codes: 0 success, 1 failure (Lua error, failed call, bad configuration), 2 nothing to
//! run or bad usage.

/// `println!` that ignores a closed stdout (`kosmo … | head`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `print!` that ignores a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod bulk;
mod call;
mod config;
mod configure;
mod discovery;
mod export;
mod lua;
mod mcp;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use kosmo_host::{Host, HttpConfig, Integration, Limits};
use kosmo_integrations::INTEGRATIONS;
use serde_json::Value;

use crate::config::Settings;

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "kosmo",
    version,
    about = "Headless KosmoKrator integrations: run sandboxed Lua against app.integrations.* and app.mcp.*, call single functions and MCP tools, read docs, configure credentials and MCP servers."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Lua with app.integrations.*, app.mcp.*, mcp.*, docs.*, json.* and regex.* in a sandbox.
    #[command(name = "integrations:lua")]
    Lua(LuaArgs),
    /// Call one function: JSON arguments from the argument or piped stdin, flags merged over them.
    #[command(name = "integrations:call", disable_help_flag = true)]
    Call {
        /// `<provider>.<function>`, JSON arguments, `--key=value` arguments and the options below.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Write every item of a list (every page) to JSON Lines or CSV, in a file or on stdout.
    #[command(name = "integrations:export", disable_help_flag = true)]
    Export {
        /// `<provider>.<function>`, JSON arguments, `--key=value` arguments and the options below.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// List the integrations, their accounts (secrets masked), permissions and functions, grouped by family.
    #[command(name = "integrations:list", after_help = discovery::GROUP_HELP)]
    List {
        /// Only these families (repeat, or separate with commas; `<provider>.<family>` when providers share a name).
        #[arg(long = "group", value_name = "NAME", value_delimiter = ',')]
        groups: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search functions by what they do: name, title, summary, family, description and parameter names.
    #[command(name = "integrations:search", after_help = discovery::GROUP_HELP)]
    Search {
        /// Words that must all match somewhere.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// Most results to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only functions of these families (repeat, or separate with commas).
        #[arg(long = "group", value_name = "NAME", value_delimiter = ',')]
        groups: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a docs page: `<provider>`, `app.integrations.<provider>` (the agent's index), `<provider>.family.<family>`, `<provider>.guide.<guide>` or `<provider>.<function>`; without a page, list the pages grouped by family.
    #[command(name = "integrations:docs", after_help = discovery::GROUP_HELP)]
    Docs {
        page: Option<String>,
        #[arg(long, value_enum, default_value_t = DocsFormat::Markdown)]
        format: DocsFormat,
        /// Only these families, in the page list and in a provider's JSON catalog (repeat, or separate with commas).
        #[arg(long = "group", value_name = "NAME", value_delimiter = ',')]
        groups: Vec<String>,
    },
    /// Print a function's input JSON Schema.
    #[command(name = "integrations:schema")]
    Schema {
        /// `<provider>.<function>`.
        function: String,
    },
    /// Show or change a provider's configuration: credentials per account, enabled, read/write policy.
    #[command(name = "integrations:configure")]
    Configure(configure::ConfigureArgs),
    /// Run Lua with app.mcp.*, mcp.*, docs.*, json.* and regex.* only: MCP servers, no integrations.
    #[command(name = "mcp:lua")]
    McpLua(LuaArgs),
    /// List the configured MCP servers, where each comes from, its permissions and trust.
    #[command(name = "mcp:list")]
    McpList {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the tools of one server, or of every usable server (starts them).
    #[command(name = "mcp:tools")]
    McpTools {
        server: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a tool's input schema (`<server>.<tool>`).
    #[command(name = "mcp:schema")]
    McpSchema {
        function: String,
        /// Print the whole tool as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Call one MCP tool: JSON arguments from the argument or piped stdin, flags merged over them.
    #[command(name = "mcp:call", disable_help_flag = true)]
    McpCall {
        /// `<server>.<tool>`, JSON arguments, `--key=value` arguments and the options below.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Trust a project server's entry as it is now (any later edit revokes it).
    #[command(name = "mcp:trust")]
    McpTrust {
        server: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add (or replace) a server in $KOSMO_HOME/mcp.json, or in the project's .mcp.json with --project.
    #[command(name = "mcp:add")]
    McpAdd(mcp::AddArgs),
    /// Remove a server from $KOSMO_HOME/mcp.json, or from the project's .mcp.json with --project.
    #[command(name = "mcp:remove")]
    McpRemove {
        server: String,
        #[command(flatten)]
        scope: mcp::Scope,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show or set a server's read and write policy (allow, ask or deny), in your own config.
    #[command(name = "mcp:permissions")]
    McpPermissions {
        server: String,
        #[arg(long, value_name = "POLICY")]
        read: Option<String>,
        #[arg(long, value_name = "POLICY")]
        write: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the integrations as MCP tools, over stdio or (with --http) streamable HTTP on loopback.
    #[command(name = "mcp:serve", after_help = serve::SERVE_HELP)]
    McpServe(serve::ServeArgs),
    /// Print the MCP client configuration (`mcpServers`, as in .mcp.json) that starts `kosmo mcp:serve`.
    #[command(name = "mcp:gateway:export")]
    McpGatewayExport(serve::ExportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DocsFormat {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
pub struct LuaArgs {
    /// Lua file to run (`-` for stdin).
    file: Option<PathBuf>,
    /// Lua code to run.
    #[arg(short = 'e', long = "eval", value_name = "CODE")]
    eval: Option<String>,
    /// Print one JSON envelope: success, output, error, result, execution_time_ms, memory_usage, integration_calls, meta.
    #[arg(long)]
    json: bool,
    /// Run calls the read/write policy would refuse (ask or deny).
    #[arg(long)]
    force: bool,
    /// Do not send writes; they return the request they would send. Reads run.
    #[arg(long)]
    dry_run: bool,
    /// Memory limit of the Lua state in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::DEFAULT_MEMORY)]
    memory_limit: usize,
    /// CPU time limit in seconds (time spent waiting for integration calls does not count).
    #[arg(long, value_name = "SECONDS", default_value_t = Limits::DEFAULT_CPU.as_secs_f64())]
    cpu_limit: f64,
    /// Send calls at once instead of waiting for room under the providers' rate limits.
    #[arg(long)]
    no_pacing: bool,
}

/// The integration called `name` in the generated registry.
pub fn integration(name: &str) -> Option<&'static Integration> {
    INTEGRATIONS.iter().copied().find(|i| i.meta.name == name)
}

/// `integrations:<provider>` for a provider of the registry.
fn shortcut_name(integration: &Integration) -> String {
    format!("integrations:{}", integration.meta.name)
}

/// The host every command runs through, with the configuration files as its credential and
/// policy source; MCP servers of a file that cannot be read are left out, with a warning.
pub fn host(settings: Arc<Settings>) -> anyhow::Result<Host> {
    let servers = settings.mcp_servers_or_none();
    build_host(settings, servers)
}

/// The host with the MCP servers, refusing to go on when a server file cannot be read.
pub fn host_with_mcp(settings: Arc<Settings>) -> anyhow::Result<Host> {
    let servers = settings.mcp_servers()?;
    build_host(settings, servers)
}

fn build_host(
    settings: Arc<Settings>,
    servers: Vec<kosmo_host::kosmo_mcp::Server>,
) -> anyhow::Result<Host> {
    let (pacing, warnings) = settings.pacing()?;
    for warning in warnings {
        eprintln!("{warning}");
    }
    Ok(Host::builder()
        .integrations(&INTEGRATIONS)
        .http(HttpConfig {
            pacing,
            ..HttpConfig::default()
        })
        .credentials(settings.clone())
        .policies(settings.clone())
        .mcp_servers(servers)
        .mcp_policies(settings)
        .build()?)
}

/// The host of `mcp:lua`: the MCP servers and no integration.
pub fn mcp_host(settings: Arc<Settings>) -> anyhow::Result<Host> {
    Ok(Host::builder()
        .mcp_servers(settings.mcp_servers()?)
        .mcp_policies(settings)
        .build()?)
}

/// The clap command with a shortcut subcommand per integration of the registry, and help texts
/// whose examples come from it.
fn command_line() -> clap::Command {
    let mut command = Cli::command().after_help(format!(
        "Configuration: $KOSMO_HOME/integrations.json (default ~/.kosmo/integrations.json) and .kosmo/integrations.json in the project; {} {}=off sends calls without waiting for room under the rate limits.\nExit codes: 0 success, 1 failure, 2 nothing to run or bad usage.",
        environment_help(),
        config::PACING_ENV
    ));
    command = command
        .mut_subcommand("integrations:lua", |c| c.after_help(lua_help()))
        .mut_subcommand("integrations:call", |c| c.after_help(call::help_text()))
        .mut_subcommand("integrations:export", |c| c.after_help(export::help_text()))
        .mut_subcommand("mcp:call", |c| c.after_help(mcp::call_help()))
        .mut_subcommand("mcp:lua", |c| c.after_help(mcp_lua_help()))
        .mut_subcommand("integrations:configure", |c| {
            c.after_help(configure::help_text())
        });
    for integration in INTEGRATIONS.iter() {
        let name = shortcut_name(integration);
        if command.find_subcommand(&name).is_some() {
            continue;
        }
        command = command.subcommand(
            clap::Command::new(name)
                .about(format!(
                    "{} shortcut: `integrations:{p} <function> ...` is `integrations:call {p}.<function> ...`; with no function it prints the provider doc.",
                    integration.meta.label,
                    p = integration.meta.name
                ))
                .disable_help_flag(true)
                .after_help(call::help_text())
                .arg(
                    Arg::new("args")
                        .allow_hyphen_values(true)
                        .trailing_var_arg(true)
                        .num_args(0..),
                ),
        );
    }
    command
}

/// Which environment variables set which default account.
fn environment_help() -> String {
    let lines: Vec<String> = INTEGRATIONS
        .iter()
        .filter_map(|i| {
            let vars: Vec<&str> = i.meta.credentials.iter().filter_map(|c| c.env).collect();
            (!vars.is_empty()).then(|| {
                format!(
                    "{} set the default {} account",
                    vars.join(" and "),
                    i.meta.label
                )
            })
        })
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("{}.", lines.join("; "))
    }
}

fn lua_help() -> String {
    let mut help = "Code comes from --eval, else FILE, else piped stdin.\nExamples:\n".to_string();
    if let Some(example) = INTEGRATIONS.iter().find_map(|i| {
        discovery::listing_example(i).map(|call| {
            format!(
                "  kosmo integrations:lua --eval 'dump(app.integrations.{}.{call})' --json\n",
                i.meta.name
            )
        })
    }) {
        help.push_str(&example);
    }
    help.push_str("  kosmo integrations:lua workflow.lua --force --json");
    help
}

fn mcp_lua_help() -> &'static str {
    "Code comes from --eval, else FILE, else piped stdin. Servers come from $KOSMO_HOME/mcp.json, .vscode/mcp.json, .cursor/mcp.json and .mcp.json (later wins); project servers need `kosmo mcp:trust`.\nExamples:\n  kosmo mcp:lua --eval 'dump(mcp.servers())' --json\n  kosmo mcp:lua --eval 'return app.mcp.demo.get_item({ id = \"item_1\" })' --json"
}

fn main() -> ExitCode {
    let matches = command_line().get_matches();
    let code = match run(&matches) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            EXIT_FAILURE
        }
    };
    ExitCode::from(code)
}

fn run(matches: &ArgMatches) -> anyhow::Result<u8> {
    if let Some((name, sub)) = matches.subcommand()
        && let Some(shortcut) = INTEGRATIONS
            .iter()
            .find(|i| shortcut_name(i) == name && Cli::command().find_subcommand(name).is_none())
    {
        let args: Vec<String> = sub
            .get_many::<String>("args")
            .map(|values| values.cloned().collect())
            .unwrap_or_default();
        return call::run(Some(shortcut), &args);
    }
    let cli = Cli::from_arg_matches(matches)?;
    match cli.command {
        Command::Lua(args) => lua::run(args, true),
        Command::Call { args } => call::run(None, &args),
        Command::Export { args } => export::run(&args),
        Command::List { groups, json } => discovery::list(&groups, json),
        Command::Search {
            query,
            limit,
            groups,
            json,
        } => discovery::search(&query, limit, &groups, json),
        Command::Docs {
            page,
            format,
            groups,
        } => discovery::docs(page.as_deref(), format, &groups),
        Command::Schema { function } => discovery::schema(&function),
        Command::Configure(args) => configure::run(args),
        Command::McpLua(args) => lua::run(args, false),
        Command::McpList { json } => mcp::list(json),
        Command::McpTools { server, json } => mcp::tools(server.as_deref(), json),
        Command::McpSchema { function, json } => mcp::schema(&function, json),
        Command::McpCall { args } => mcp::call(&args),
        Command::McpTrust { server, json } => mcp::trust(&server, json),
        Command::McpAdd(args) => mcp::add(args),
        Command::McpRemove {
            server,
            scope,
            json,
        } => mcp::remove(&server, scope, json),
        Command::McpPermissions {
            server,
            read,
            write,
            json,
        } => mcp::permissions(&server, read.as_deref(), write.as_deref(), json),
        Command::McpServe(args) => serve::serve(args),
        Command::McpGatewayExport(args) => serve::export(args),
    }
}

pub fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(e) => eprintln!("Error: cannot print JSON: {e}"),
    }
}

//! `mcp:list`, `mcp:tools`, `mcp:schema`, `mcp:call`, `mcp:trust`, `mcp:add` and `mcp:remove`:
//! the configured MCP servers from the command line, with KosmoKrator's JSON envelopes.
//! (`mcp:lua` is `integrations:lua`: every script sees `app.mcp` and the `mcp` global.)

use std::path::PathBuf;
use std::sync::Arc;

use kosmo_host::kosmo_mcp::config::{remove_server, write_server};
use kosmo_host::kosmo_mcp::{McpError, Server, ServerConfig, Source};
use kosmo_host::{McpCallOptions, Policy};
use serde_json::{Map, Value, json};

use crate::call::{Parsed, generic, parse, payload_arguments};
use crate::config::{ConfigFile, McpServerSettings, Settings, global_file, parse_policy};
use crate::lua::milliseconds;
use crate::{EXIT_FAILURE, EXIT_USAGE, print_json};

/// Where `mcp:add`, `mcp:remove` and `mcp:trust` write.
#[derive(clap::Args, Clone, Copy)]
pub struct Scope {
    /// The project's `.mcp.json` (what editors share through the repository).
    #[arg(long, conflicts_with = "global")]
    pub project: bool,
    /// The user's own `$KOSMO_HOME/mcp.json` (the default).
    #[arg(long)]
    pub global: bool,
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The server's name: `app.mcp.<name>`.
    pub name: String,
    /// The command to run (stdio), or the URL (http).
    pub target: Option<String>,
    /// The command's arguments: everything after the command, so give options before it.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// `stdio` or `http` (default: `http` for a URL, else `stdio`).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// The command (instead of TARGET).
    #[arg(long)]
    pub command: Option<String>,
    /// The URL of a streamable-HTTP server (instead of TARGET).
    #[arg(long)]
    pub url: Option<String>,
    /// One more argument of the command (repeatable).
    #[arg(long = "arg", value_name = "ARG")]
    pub extra_args: Vec<String>,
    /// KEY=VALUE for the server's environment; a bare KEY stands for `${KEY}` (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// NAME=VALUE sent with every HTTP request (repeatable).
    #[arg(long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
    /// Seconds one request may take (default 30).
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Add it disabled.
    #[arg(long)]
    pub disable: bool,
    /// Policy for the tools it marks read-only: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    pub read: Option<String>,
    /// Policy for every other tool: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    pub write: Option<String>,
    #[command(flatten)]
    pub scope: Scope,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn load() -> anyhow::Result<Arc<Settings>> {
    let settings = Arc::new(Settings::load()?);
    settings.print_warnings();
    Ok(settings)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Prints a failure (`{success: false, error}` with `--json`) and gives the exit code.
fn fail(json_output: bool, error: &str) -> u8 {
    if json_output {
        print_json(&json!({ "success": false, "error": error }));
    } else {
        eprintln!("Error: {error}");
    }
    EXIT_FAILURE
}

/// The servers, or the failure of a file that cannot be read.
fn servers(settings: &Settings, json_output: bool) -> Result<Vec<Server>, u8> {
    settings
        .mcp_servers()
        .map_err(|error| fail(json_output, &error.to_string()))
}

fn row(settings: &Settings, server: &Server) -> Value {
    let mut row = server.to_json();
    let policy = settings.mcp_permissions(&server.config.name);
    if let Some(map) = row.as_object_mut() {
        map.insert(
            "permissions".into(),
            json!({ "read": policy.read.as_str(), "write": policy.write.as_str() }),
        );
    }
    row
}

pub fn list(json_output: bool) -> anyhow::Result<u8> {
    let settings = load()?;
    let servers = match servers(&settings, json_output) {
        Ok(servers) => servers,
        Err(code) => return Ok(code),
    };
    let problems: Vec<String> = settings
        .mcp
        .as_ref()
        .map(|c| c.problems.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    if json_output {
        let sources: Vec<Value> = settings
            .mcp
            .as_ref()
            .map(|c| {
                c.sources
                    .iter()
                    .map(|s| {
                        json!({
                            "source": s.source.as_str(),
                            "path": s.path.display().to_string(),
                            "schema": s.schema,
                            "servers": s.servers,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        print_json(&json!({
            "success": true,
            "servers": servers.iter().map(|s| row(&settings, s)).collect::<Vec<_>>(),
            "sources": sources,
            "problems": problems,
        }));
        return Ok(0);
    }
    for problem in &problems {
        eprintln!("warning: {problem}");
    }
    if servers.is_empty() {
        outln!(
            "No MCP servers. Add one with `kosmo mcp:add NAME COMMAND [ARGS...]`, or in .mcp.json."
        );
        return Ok(0);
    }
    for server in &servers {
        let config = &server.config;
        let policy = settings.mcp_permissions(&config.name);
        let state = match (config.enabled, server.trusted) {
            (false, _) => "disabled",
            (true, false) => "NOT TRUSTED (kosmo mcp:trust)",
            (true, true) => "ready",
        };
        outln!(
            "{}  {}  {}  read={} write={}  {}",
            config.name,
            config.transport.kind(),
            config.path_text(),
            policy.read.as_str(),
            policy.write.as_str(),
            state
        );
    }
    Ok(0)
}

pub fn tools(server: Option<&str>, json_output: bool) -> anyhow::Result<u8> {
    let settings = load()?;
    let host = crate::host_with_mcp(settings)?;
    let session = host.mcp_session(McpCallOptions::default());
    let names: Vec<String> = match server {
        Some(name) => vec![name.to_string()],
        None => host
            .mcp_servers()
            .iter()
            .filter(|s| s.usable())
            .map(|s| s.config.name.clone())
            .collect(),
    };
    let outcome: Result<Vec<Value>, McpError> = runtime()?.block_on(async {
        let mut rows = Vec::new();
        for name in &names {
            match session.tools(name).await {
                Ok(tools) => rows.extend(tools.iter().map(|t| t.to_json())),
                Err(error) => {
                    session.shutdown().await;
                    return Err(error);
                }
            }
        }
        session.shutdown().await;
        Ok(rows)
    });
    match outcome {
        Ok(rows) if json_output => {
            print_json(&json!({ "success": true, "tools": rows }));
            Ok(0)
        }
        Ok(rows) => {
            for tool in rows {
                outln!(
                    "{}  {}  {}",
                    tool["lua_path"].as_str().unwrap_or_default(),
                    tool["operation"].as_str().unwrap_or_default(),
                    tool["description"]
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .next()
                        .unwrap_or_default()
                );
            }
            Ok(0)
        }
        Err(error) => Ok(fail(json_output, &error.to_string())),
    }
}

/// `server.tool` split at the longest configured server name.
fn split_function(servers: &[Server], function: &str) -> Option<(String, String)> {
    match kosmo_host::kosmo_mcp::docs::split_page(&format!("mcp.{function}"), servers) {
        Some((server, Some(tool))) if !tool.is_empty() => Some((server.into(), tool.into())),
        _ => None,
    }
}

pub fn schema(function: &str, json_output: bool) -> anyhow::Result<u8> {
    let settings = load()?;
    let host = crate::host_with_mcp(settings)?;
    let Some((server, tool)) = split_function(host.mcp_servers(), function) else {
        eprintln!("Error: name the tool as <server>.<tool>, e.g. `kosmo mcp:schema demo.get_item`");
        return Ok(EXIT_USAGE);
    };
    let session = host.mcp_session(McpCallOptions::default());
    let outcome = runtime()?.block_on(async {
        let tool = session.clients().tool(&server, &tool).await;
        session.shutdown().await;
        tool
    });
    match outcome {
        Ok(tool) if json_output => {
            print_json(&json!({ "success": true, "tool": tool.to_json() }));
            Ok(0)
        }
        Ok(tool) => {
            print_json(&tool.input_schema);
            Ok(0)
        }
        Err(error) => Ok(fail(json_output, &error.to_string())),
    }
}

pub fn call_help() -> &'static str {
    "Usage: kosmo mcp:call <server>.<tool> [JSON] [--key=value ...] [--arg key=value] [--force] [--dry-run] [--json]

Arguments come from the JSON object (argument or piped stdin); --key=value flags are merged over
it (kebab-case keys become snake_case; values are read by the tool's schema type: strings stay
strings, and true, false, null, numbers and JSON arrays or objects are coerced otherwise).

Options:
  --arg key=value  an argument whose name might clash with an option
  --force          run even if the server's read/write policy says ask or deny (trust is still needed)
  --dry-run        show a write instead of calling it; reads run
  --json           print {success, function, data, error, meta, duration_ms}
  -h, --help       print this help"
}

pub fn call(args: &[String]) -> anyhow::Result<u8> {
    let parsed: Parsed = match parse(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("Error: {message}\n\n{}", call_help());
            return Ok(EXIT_USAGE);
        }
    };
    if parsed.help {
        outln!("{}", call_help());
        return Ok(0);
    }
    if parsed.account.is_some() {
        eprintln!("Error: MCP servers have no accounts; --account is for integrations");
        return Ok(EXIT_USAGE);
    }
    let Some(target) = parsed.target.clone() else {
        eprintln!(
            "Nothing to call: name a tool as <server>.<tool>\n\n{}",
            call_help()
        );
        return Ok(EXIT_USAGE);
    };
    let mut arguments = match payload_arguments(&parsed)? {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("Error: {message}");
            return Ok(EXIT_USAGE);
        }
    };
    let settings = load()?;
    let host = crate::host_with_mcp(settings)?;
    let Some((server, tool_name)) = split_function(host.mcp_servers(), &target) else {
        eprintln!(
            "Error: name the tool as <server>.<tool>, not `{target}`\n\n{}",
            call_help()
        );
        return Ok(EXIT_USAGE);
    };
    let session = host.mcp_session(McpCallOptions {
        force: parsed.force,
        dry_run: parsed.dry_run,
    });
    let report = runtime()?.block_on(async {
        if !parsed.flags.is_empty() {
            let tool = session.clients().tool(&server, &tool_name).await;
            if let Ok(tool) = &tool {
                merge_flags(&mut arguments, &parsed.flags, &tool.input_schema);
            } else {
                merge_flags(&mut arguments, &parsed.flags, &Value::Null);
            }
        }
        let report = session
            .call(&server, &tool_name, Value::Object(arguments))
            .await;
        session.shutdown().await;
        report
    });
    let function = report
        .tool
        .as_ref()
        .map_or_else(|| target.clone(), |t| t.function());
    let operation = report.tool.as_ref().map(|t| t.operation());
    let duration_ms = milliseconds(report.duration);
    let (data, error) = match report.result {
        Ok(data) => (Some(data), None),
        Err(error) => (None, Some(error)),
    };
    if parsed.json {
        print_json(&json!({
            "success": error.is_none(),
            "function": function,
            "data": data,
            "error": error.as_ref().map(ToString::to_string),
            "error_details": error.as_ref().map(|e| Value::Object(e.fields())),
            "meta": {
                "dry_run": report.dry_run,
                "operation": operation,
                "permission_bypassed": report.permission_bypassed,
                "server": server,
            },
            "duration_ms": duration_ms,
        }));
    } else if let Some(error) = &error {
        eprintln!("Error: {error}");
    } else if let Some(data) = &data {
        match data {
            Value::String(text) => outln!("{text}"),
            other => print_json(other),
        }
    }
    Ok(if error.is_none() { 0 } else { EXIT_FAILURE })
}

/// `--key=value` flags over the JSON arguments, typed by the tool's schema.
fn merge_flags(
    arguments: &mut Map<String, Value>,
    flags: &[(String, Option<String>)],
    schema: &Value,
) {
    for (key, value) in flags {
        let declared = schema
            .get("properties")
            .and_then(|p| p.get(key))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        let value = match (value, declared) {
            (None, _) => Value::Bool(true),
            (Some(value), Some("string")) => Value::String(value.clone()),
            (Some(value), Some("array" | "object")) => {
                serde_json::from_str(value).unwrap_or_else(|_| generic(value))
            }
            (Some(value), _) => generic(value),
        };
        arguments.insert(key.clone(), value);
    }
}

pub fn trust(server: &str, json_output: bool) -> anyhow::Result<u8> {
    let settings = load()?;
    let servers = match servers(&settings, json_output) {
        Ok(servers) => servers,
        Err(code) => return Ok(code),
    };
    let Some(found) = servers.iter().find(|s| s.config.name == server) else {
        let known: Vec<&str> = servers.iter().map(|s| s.config.name.as_str()).collect();
        return Ok(fail(
            json_output,
            &format!(
                "Unknown MCP server `{server}`. Configured: {}.",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        ));
    };
    let fingerprint = found.config.fingerprint();
    let Some(path) = global_file() else {
        return Ok(fail(
            json_output,
            "cannot find the home folder to record trust in; set KOSMO_HOME",
        ));
    };
    let scope = if found.config.source.needs_trust() {
        let mut file = ConfigFile::read(&path)?.unwrap_or_default();
        file.mcp
            .trusted
            .entry(settings.trust_key())
            .or_default()
            .insert(server.to_string(), fingerprint.clone());
        file.write(&path)?;
        "project"
    } else {
        // The user's own servers need no trust; say so rather than record it.
        "global"
    };
    if json_output {
        print_json(&json!({
            "success": true,
            "server": server,
            "fingerprint": fingerprint,
            "scope": scope,
            "project": settings.trust_key(),
            "path": path.display().to_string(),
        }));
    } else if scope == "project" {
        outln!(
            "Trusted MCP server '{server}' of {} ({fingerprint}). Any edit of its entry revokes this.",
            settings.trust_key()
        );
    } else {
        outln!(
            "MCP server '{server}' comes from your own {}; it needs no trust.",
            found.config.path_text()
        );
    }
    Ok(0)
}

fn scope_path(settings: &Settings, scope: Scope) -> (PathBuf, &'static str) {
    if scope.project {
        (settings.mcp_locations.project_file(), "project")
    } else {
        (settings.mcp_locations.global_file(), "global")
    }
}

pub fn add(args: AddArgs) -> anyhow::Result<u8> {
    let settings = load()?;
    let json_output = args.json;
    let usage = |message: String| {
        eprintln!("Error: {message}");
        Ok(EXIT_USAGE)
    };
    let read = match args.read.as_deref().map(parse_policy).transpose() {
        Ok(policy) => policy,
        Err(e) => return usage(e.to_string()),
    };
    let write = match args.write.as_deref().map(parse_policy).transpose() {
        Ok(policy) => policy,
        Err(e) => return usage(e.to_string()),
    };
    let target_is_url = args
        .target
        .as_deref()
        .is_some_and(|t| t.starts_with("http://") || t.starts_with("https://"));
    let url = args
        .url
        .clone()
        .or_else(|| target_is_url.then(|| args.target.clone()).flatten());
    let command = args
        .command
        .clone()
        .or_else(|| (!target_is_url).then(|| args.target.clone()).flatten());
    let kind = args.kind.clone().unwrap_or_else(|| {
        if url.is_some() {
            "http".into()
        } else {
            "stdio".into()
        }
    });
    let mut entry = Map::new();
    entry.insert("type".into(), kind.clone().into());
    match kind.as_str() {
        "http" => {
            let Some(url) = url else {
                return usage(
                    "an http server needs a URL: `kosmo mcp:add NAME https://…/mcp`".into(),
                );
            };
            entry.insert("url".into(), url.into());
            let mut headers = Map::new();
            for header in &args.headers {
                let Some((name, value)) = header.split_once('=') else {
                    return usage(format!("--header takes NAME=VALUE, got `{header}`"));
                };
                headers.insert(name.trim().into(), value.into());
            }
            if !headers.is_empty() {
                entry.insert("headers".into(), headers.into());
            }
        }
        "stdio" => {
            let Some(command) = command else {
                return usage(
                    "a stdio server needs a command: `kosmo mcp:add NAME COMMAND [ARGS...]`".into(),
                );
            };
            entry.insert("command".into(), command.into());
            let all_args: Vec<Value> = args
                .args
                .iter()
                .chain(&args.extra_args)
                .map(|a| Value::String(a.clone()))
                .collect();
            entry.insert("args".into(), all_args.into());
            let mut env = Map::new();
            for pair in &args.env {
                match pair.split_once('=') {
                    Some((key, value)) => env.insert(key.into(), value.into()),
                    None => env.insert(pair.clone(), format!("${{{pair}}}").into()),
                };
            }
            if !env.is_empty() {
                entry.insert("env".into(), env.into());
            }
        }
        other => return usage(format!("--type must be stdio or http, not `{other}`")),
    }
    if let Some(timeout) = args.timeout {
        entry.insert("timeout".into(), json!(timeout));
    }
    if args.disable {
        entry.insert("enabled".into(), false.into());
    }
    let entry = Value::Object(entry);
    // Refuse what the reader would refuse, before writing it.
    let (path, scope) = scope_path(&settings, args.scope);
    let source = if scope == "project" {
        Source::Project
    } else {
        Source::Global
    };
    if let Err(message) = ServerConfig::from_entry(&args.name, source, Some(&path), &entry) {
        return usage(message);
    }
    if let Err(error) = write_server(&path, &args.name, entry) {
        return Ok(fail(json_output, &error.to_string()));
    }
    if read.is_some() || write.is_some() {
        set_permissions(&args.name, read, write)?;
    }
    if json_output {
        print_json(&json!({
            "success": true,
            "server": args.name,
            "path": path.display().to_string(),
            "scope": scope,
        }));
    } else {
        outln!("Added MCP server '{}' to {}.", args.name, path.display());
        if scope == "project" {
            outln!(
                "Project servers run once trusted: `kosmo mcp:trust {}`.",
                args.name
            );
        }
    }
    Ok(0)
}

/// Records a server's permissions in the user's own file (a project file could only make them
/// stricter).
fn set_permissions(
    server: &str,
    read: Option<Policy>,
    write: Option<Policy>,
) -> anyhow::Result<()> {
    let Some(path) = global_file() else {
        anyhow::bail!("cannot find the home folder to record permissions in; set KOSMO_HOME");
    };
    let mut file = ConfigFile::read(&path)?.unwrap_or_default();
    let entry = file
        .mcp
        .servers
        .entry(server.to_string())
        .or_insert_with(McpServerSettings::default);
    if read.is_some() {
        entry.permissions.read = read;
    }
    if write.is_some() {
        entry.permissions.write = write;
    }
    file.write(&path)
}

pub fn remove(server: &str, scope: Scope, json_output: bool) -> anyhow::Result<u8> {
    let settings = load()?;
    let (path, scope_name) = scope_path(&settings, scope);
    match remove_server(&path, server) {
        Ok(true) => {}
        Ok(false) => {
            return Ok(fail(
                json_output,
                &format!("{} has no MCP server `{server}`", path.display()),
            ));
        }
        Err(error) => return Ok(fail(json_output, &error.to_string())),
    }
    if json_output {
        print_json(&json!({
            "success": true,
            "server": server,
            "path": path.display().to_string(),
            "scope": scope_name,
        }));
    } else {
        outln!("Removed MCP server '{server}' from {}.", path.display());
    }
    Ok(0)
}

pub fn permissions(
    server: &str,
    read: Option<&str>,
    write: Option<&str>,
    json_output: bool,
) -> anyhow::Result<u8> {
    let read = match read.map(parse_policy).transpose() {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let write = match write.map(parse_policy).transpose() {
        Ok(policy) => policy,
        Err(e) => {
            eprintln!("Error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    if read.is_some() || write.is_some() {
        set_permissions(server, read, write)?;
    }
    let settings = load()?;
    let policy = settings.mcp_permissions(server);
    if json_output {
        print_json(&json!({
            "success": true,
            "server": server,
            "permissions": { "read": policy.read.as_str(), "write": policy.write.as_str() },
        }));
    } else {
        outln!(
            "MCP server '{server}': read={} write={}",
            policy.read.as_str(),
            policy.write.as_str()
        );
    }
    Ok(0)
}

//! `kosmo`: the headless KosmoKrator integrations CLI.
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

mod call;
mod config;
mod dispatch;
mod docs;
mod providers;
mod regex_lib;
mod render;
mod sandbox;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::dispatch::CallOptions;
use crate::sandbox::{Limits, RunConfig};

pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "kosmo",
    version,
    about = "Headless KosmoKrator integrations: run sandboxed Lua against app.integrations.*, call single functions, read docs, configure credentials.",
    after_help = "Configuration: $KOSMO_HOME/integrations.json (default ~/.kosmo/integrations.json) and .kosmo/integrations.json in the project; CLERK_SECRET_KEY and CLERK_API_URL set the default Clerk account.\nExit codes: 0 success, 1 failure, 2 nothing to run or bad usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Lua with app.integrations.*, docs.*, json.* and regex.* in a sandbox.
    #[command(
        name = "integrations:lua",
        after_help = "Code comes from --eval, else FILE, else piped stdin.\nExamples:\n  kosmo integrations:lua --eval 'dump(app.integrations.clerk.list_users({}))' --json\n  kosmo integrations:lua workflow.lua --force --json"
    )]
    Lua(LuaArgs),
    /// Call one function: JSON arguments from the argument or piped stdin, flags merged over them.
    #[command(
        name = "integrations:call",
        disable_help_flag = true,
        after_help = CALL_HELP_TEXT
    )]
    Call {
        /// `clerk.<function>`, JSON arguments, `--key=value` arguments and the options below.
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// Clerk shortcut: `integrations:clerk <function> ...` is `integrations:call clerk.<function> ...`; with no function it prints the provider doc.
    #[command(
        name = "integrations:clerk",
        disable_help_flag = true,
        after_help = CALL_HELP_TEXT
    )]
    Clerk {
        #[arg(allow_hyphen_values = true, trailing_var_arg = true, num_args = 0..)]
        args: Vec<String>,
    },
    /// List the integrations, their accounts (secrets masked), permissions and functions.
    #[command(name = "integrations:list")]
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search functions by name and description.
    #[command(name = "integrations:search")]
    Search {
        /// Words that must all appear.
        #[arg(required = true, num_args = 1..)]
        query: Vec<String>,
        /// Most results to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a docs page: `clerk`, `app.integrations.clerk` (agent namespace reference) or `clerk.<function>`; without a page, list the pages.
    #[command(name = "integrations:docs")]
    Docs {
        page: Option<String>,
        #[arg(long, value_enum, default_value_t = DocsFormat::Markdown)]
        format: DocsFormat,
    },
    /// Print a function's input JSON Schema.
    #[command(name = "integrations:schema")]
    Schema {
        /// `clerk.<function>`.
        function: String,
    },
    /// Show or change a provider's configuration: credentials per account, enabled, read/write policy.
    #[command(
        name = "integrations:configure",
        after_help = "Without changes it shows the configuration (secrets masked).\nExamples:\n  kosmo integrations:configure clerk --set secret_key=sk_test_...\n  kosmo integrations:configure clerk --account work --set secret_key=sk_live_... --write allow\n  kosmo integrations:configure clerk --unset url --project"
    )]
    Configure(ConfigureArgs),
}

pub const CALL_HELP_TEXT: &str = "Usage: kosmo integrations:call clerk.<function> [JSON] [--key=value ...] [--arg key=value] [--account A] [--force] [--dry-run] [--json]
       kosmo integrations:clerk <function> [same options]

Arguments come from the JSON object (argument or piped stdin); --key=value flags are merged over
it (kebab-case keys become snake_case; values are read by the parameter's type, and true, false,
null and numbers are coerced for unknown keys).

Options:
  --arg key=value  an argument whose name might clash with an option
  --account A      use the named credential account (default: default)
  --force          run even if the read/write policy says ask or deny
  --dry-run        check everything and show the request instead of sending it
  --json           print {function, success, data, error, meta, duration_ms}
  -h, --help       print this help";

#[derive(Clone, Copy, ValueEnum)]
enum DocsFormat {
    Text,
    Markdown,
    Json,
}

#[derive(clap::Args)]
struct LuaArgs {
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
    #[arg(long, value_name = "BYTES", default_value_t = sandbox::DEFAULT_MEMORY_LIMIT)]
    memory_limit: usize,
    /// CPU time limit in seconds (time spent waiting for integration calls does not count).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    cpu_limit: f64,
}

#[derive(clap::Args)]
struct ConfigureArgs {
    /// Provider name (clerk).
    provider: String,
    /// Set a credential: `--set secret_key=sk_test_...`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Remove a credential.
    #[arg(long = "unset", value_name = "KEY")]
    unset: Vec<String>,
    /// The credential account to change (default: default).
    #[arg(long, default_value = config::DEFAULT_ACCOUNT)]
    account: String,
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    #[arg(long)]
    disable: bool,
    /// Policy for reads: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    read: Option<String>,
    /// Policy for writes: allow, ask or deny.
    #[arg(long, value_name = "POLICY")]
    write: Option<String>,
    /// Write the project file (.kosmo/integrations.json) instead of the global one.
    #[arg(long)]
    project: bool,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli.command) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("Error: {error:#}");
            EXIT_FAILURE
        }
    };
    ExitCode::from(code)
}

fn run(command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Lua(args) => run_lua(args),
        Command::Call { args } => call::run(None, &args),
        Command::Clerk { args } => call::run(Some("clerk"), &args),
        Command::List { json } => list(json),
        Command::Search { query, limit, json } => {
            let lines = docs::search(&query.join(" "), limit);
            if json {
                print_json(&json!(lines));
            } else if lines.is_empty() {
                eprintln!("No functions match \"{}\".", query.join(" "));
                return Ok(EXIT_FAILURE);
            } else {
                outln!("{}", lines.join("\n"));
            }
            Ok(0)
        }
        Command::Docs { page, format } => show_docs(page.as_deref(), format),
        Command::Schema { function } => {
            let Some((provider, name)) = providers::split_qualified(&function) else {
                eprintln!("Error: name a function as <provider>.<function>, e.g. clerk.get_user");
                return Ok(EXIT_USAGE);
            };
            let Some(meta) = provider.meta.function(name) else {
                eprintln!("Error: {}", provider.meta.unknown_function(name));
                return Ok(EXIT_FAILURE);
            };
            let schema: Value = serde_json::from_str(meta.input_schema)?;
            print_json(&schema);
            Ok(0)
        }
        Command::Configure(args) => configure(args),
    }
}

pub fn print_json(value: &Value) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => outln!("{text}"),
        Err(e) => eprintln!("Error: cannot print JSON: {e}"),
    }
}

fn run_lua(args: LuaArgs) -> anyhow::Result<u8> {
    let (code, chunk_name): (Vec<u8>, String) = if let Some(code) = args.eval {
        (code.into_bytes(), "eval".to_string())
    } else if let Some(file) = args.file.filter(|f| f.as_os_str() != "-") {
        let code = match std::fs::read(&file) {
            Ok(code) => code,
            Err(e) => {
                let message = format!("cannot read {}: {e}", file.display());
                if args.json {
                    print_json(&sandbox::failed_envelope(&message));
                } else {
                    eprintln!("Error: {message}");
                }
                return Ok(EXIT_FAILURE);
            }
        };
        let name = file.file_name().map_or_else(
            || "script".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        (code, name)
    } else if !std::io::stdin().is_terminal() {
        let mut code = Vec::new();
        std::io::stdin().read_to_end(&mut code)?;
        (code, "stdin".to_string())
    } else {
        (Vec::new(), String::new())
    };
    if code.iter().all(u8::is_ascii_whitespace) {
        eprintln!(
            "Nothing to run: pass --eval CODE, a FILE, or pipe Lua on stdin. See `kosmo integrations:lua --help`."
        );
        return Ok(EXIT_USAGE);
    }
    if !(args.cpu_limit.is_finite() && args.cpu_limit > 0.0) {
        eprintln!("Error: --cpu-limit must be a positive number of seconds");
        return Ok(EXIT_USAGE);
    }
    if args.memory_limit < 64 * 1024 {
        eprintln!("Error: --memory-limit must be at least 65536 bytes");
        return Ok(EXIT_USAGE);
    }
    let settings = Settings::load()?;
    settings.print_warnings();
    let config = RunConfig {
        limits: Limits {
            memory: args.memory_limit,
            cpu: Duration::from_secs_f64(args.cpu_limit),
            output: args.memory_limit,
        },
        options: CallOptions {
            force: args.force,
            dry_run: args.dry_run,
            dry_run_reads: false,
        },
        stream: !args.json,
    };
    let outcome = sandbox::run(&code, &chunk_name, &settings, config);
    if args.json {
        print_json(&outcome.envelope());
    } else if let Some(error) = &outcome.error {
        eprintln!("Error: {error}");
    }
    Ok(if outcome.success { 0 } else { EXIT_FAILURE })
}

fn list(as_json: bool) -> anyhow::Result<u8> {
    let settings = Settings::load()?;
    settings.print_warnings();
    let mut entries = Vec::new();
    for provider in providers::PROVIDERS {
        let meta = provider.meta;
        let mut accounts = Vec::new();
        for account in settings.accounts(meta.name) {
            let sources = settings.credential_sources(meta, &account);
            let credentials = settings.credentials(meta, &account);
            let configured = credentials.check(meta).is_ok();
            let values: serde_json::Map<String, Value> = sources
                .iter()
                .map(|(name, (value, source))| {
                    (
                        name.clone(),
                        json!({
                            "value": config::display_value(meta, name, value),
                            "source": source,
                        }),
                    )
                })
                .collect();
            accounts.push(json!({
                "name": account,
                "configured": configured,
                "credentials": values,
                "permissions": {
                    "read": settings.policy(meta.name, &account, kosmo_runtime::Operation::Read).as_str(),
                    "write": settings.policy(meta.name, &account, kosmo_runtime::Operation::Write).as_str(),
                },
            }));
        }
        let functions: Vec<Value> = meta
            .functions
            .iter()
            .map(|f| {
                json!({
                    "name": f.name,
                    "slug": f.slug,
                    "operation": f.operation.as_str(),
                    "summary": f.summary,
                })
            })
            .collect();
        entries.push(json!({
            "name": meta.name,
            "label": meta.label,
            "category": meta.category,
            "description": meta.description,
            "enabled": settings.enabled(meta.name),
            "accounts": accounts,
            "functions": functions,
        }));
    }
    if as_json {
        print_json(&json!({ "integrations": entries }));
        return Ok(0);
    }
    for entry in &entries {
        let enabled = entry["enabled"].as_bool().unwrap_or(true);
        outln!(
            "{} ({}) - {}, {} functions",
            entry["name"].as_str().unwrap_or_default(),
            entry["label"].as_str().unwrap_or_default(),
            if enabled { "enabled" } else { "disabled" },
            entry["functions"].as_array().map_or(0, Vec::len)
        );
        for account in entry["accounts"].as_array().into_iter().flatten() {
            let creds: Vec<String> = account["credentials"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(name, v)| {
                    format!(
                        "{name}={} ({})",
                        v["value"].as_str().unwrap_or_default(),
                        v["source"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            outln!(
                "  account {}: {}; read={} write={}{}",
                account["name"].as_str().unwrap_or_default(),
                if account["configured"].as_bool() == Some(true) {
                    "configured"
                } else {
                    "not configured"
                },
                account["permissions"]["read"].as_str().unwrap_or_default(),
                account["permissions"]["write"].as_str().unwrap_or_default(),
                if creds.is_empty() {
                    String::new()
                } else {
                    format!("; {}", creds.join(", "))
                }
            );
        }
        for function in entry["functions"].as_array().into_iter().flatten() {
            outln!(
                "  {:<32} {:<6} {}",
                function["name"].as_str().unwrap_or_default(),
                function["operation"].as_str().unwrap_or_default(),
                function["summary"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(0)
}

fn show_docs(page: Option<&str>, format: DocsFormat) -> anyhow::Result<u8> {
    let Some(page) = page else {
        let pages = docs::list();
        match format {
            DocsFormat::Json => print_json(&json!(pages)),
            _ => outln!("{}", pages.join("\n")),
        }
        return Ok(0);
    };
    match format {
        DocsFormat::Json => match docs::read_json(page) {
            Ok(value) => {
                print_json(&value);
                Ok(0)
            }
            Err(message) => {
                eprintln!("Error: {message}");
                Ok(EXIT_FAILURE)
            }
        },
        DocsFormat::Markdown | DocsFormat::Text => match docs::read(page) {
            Ok(markdown) => {
                let text = match format {
                    DocsFormat::Text => docs::to_text(&markdown),
                    _ => markdown,
                };
                out!("{text}");
                if !text.ends_with('\n') {
                    outln!();
                }
                Ok(0)
            }
            Err(message) => {
                eprintln!("Error: {message}");
                Ok(EXIT_FAILURE)
            }
        },
    }
}

fn configure(args: ConfigureArgs) -> anyhow::Result<u8> {
    let Some(provider) = providers::provider(&args.provider) else {
        eprintln!(
            "Error: unknown integration `{}`; known: {}",
            args.provider,
            providers::PROVIDERS
                .iter()
                .map(|p| p.meta.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Ok(EXIT_USAGE);
    };
    let meta = provider.meta;
    let read = args.read.as_deref().map(config::Policy::parse).transpose();
    let write = args.write.as_deref().map(config::Policy::parse).transpose();
    let (read, write) = match (read, write) {
        (Ok(r), Ok(w)) => (r, w),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("Error: {e}");
            return Ok(EXIT_USAGE);
        }
    };
    let mut sets = Vec::new();
    for item in &args.set {
        let Some((key, value)) = item.split_once('=') else {
            eprintln!("Error: --set takes KEY=VALUE, got `{item}`");
            return Ok(EXIT_USAGE);
        };
        let key = key.trim().replace('-', "_");
        if !meta.credentials.iter().any(|c| c.name == key) {
            eprintln!(
                "Error: `{key}` is not a {} credential; known: {}",
                meta.label,
                meta.credentials
                    .iter()
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(EXIT_USAGE);
        }
        sets.push((key, value.trim().to_string()));
    }
    let account = args.account.trim().to_string();
    if account.is_empty()
        || !account
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        eprintln!("Error: account names use letters, digits, `_` and `-`");
        return Ok(EXIT_USAGE);
    }
    let changes = !sets.is_empty()
        || !args.unset.is_empty()
        || args.enable
        || args.disable
        || read.is_some()
        || write.is_some();

    if changes {
        let path = if args.project {
            config::project_file_for_write()?
        } else {
            config::global_file().ok_or_else(|| {
                anyhow::anyhow!("no home directory: set KOSMO_HOME or use --project")
            })?
        };
        let mut file = config::ConfigFile::read(&path)?.unwrap_or_default();
        let entry = file.integrations.entry(meta.name.to_string()).or_default();
        if args.enable {
            entry.enabled = Some(true);
        }
        if args.disable {
            entry.enabled = Some(false);
        }
        let touches_account =
            !sets.is_empty() || !args.unset.is_empty() || account != config::DEFAULT_ACCOUNT;
        if touches_account {
            let acc = entry.accounts.entry(account.clone()).or_default();
            for (key, value) in &sets {
                acc.credentials.insert(key.clone(), value.clone());
            }
            for key in &args.unset {
                acc.credentials.remove(&key.replace('-', "_"));
            }
            if account != config::DEFAULT_ACCOUNT {
                if read.is_some() {
                    acc.permissions.read = read;
                }
                if write.is_some() {
                    acc.permissions.write = write;
                }
            }
        }
        if account == config::DEFAULT_ACCOUNT {
            if read.is_some() {
                entry.permissions.read = read;
            }
            if write.is_some() {
                entry.permissions.write = write;
            }
        }
        // Refuse values that can never work (a publishable key, say) before saving them.
        if !sets.is_empty() {
            let mut credentials = kosmo_runtime::Credentials::new();
            if let Some(acc) = entry.accounts.get(&account) {
                for (k, v) in &acc.credentials {
                    credentials.set(k, v.clone());
                }
            }
            if let Err(e) = check_values(meta, &credentials) {
                eprintln!("Error: {e}");
                return Ok(EXIT_FAILURE);
            }
        }
        file.write(&path)?;
        eprintln!("Saved {}", path.display());
    }

    let settings = Settings::load()?;
    settings.print_warnings();
    let mut accounts = Vec::new();
    for name in settings.accounts(meta.name) {
        let credentials: serde_json::Map<String, Value> = settings
            .credential_sources(meta, &name)
            .iter()
            .map(|(k, (v, source))| {
                (
                    k.clone(),
                    json!({"value": config::display_value(meta, k, v), "source": source}),
                )
            })
            .collect();
        accounts.push(json!({
            "name": name,
            "credentials": credentials,
            "permissions": {
                "read": settings.policy(meta.name, &name, kosmo_runtime::Operation::Read).as_str(),
                "write": settings.policy(meta.name, &name, kosmo_runtime::Operation::Write).as_str(),
            },
        }));
    }
    let files: Vec<String> = [settings.global.as_ref(), settings.project.as_ref()]
        .into_iter()
        .flatten()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let view = json!({
        "provider": meta.name,
        "enabled": settings.enabled(meta.name),
        "accounts": accounts,
        "files": files,
    });
    if args.json {
        print_json(&view);
    } else {
        outln!(
            "{} ({})",
            meta.name,
            if settings.enabled(meta.name) {
                "enabled"
            } else {
                "disabled"
            }
        );
        for account in view["accounts"].as_array().into_iter().flatten() {
            outln!(
                "  account {}: read={} write={}",
                account["name"].as_str().unwrap_or_default(),
                account["permissions"]["read"].as_str().unwrap_or_default(),
                account["permissions"]["write"].as_str().unwrap_or_default()
            );
            for (name, value) in account["credentials"].as_object().into_iter().flatten() {
                outln!(
                    "    {name} = {} ({})",
                    value["value"].as_str().unwrap_or_default(),
                    value["source"].as_str().unwrap_or_default()
                );
            }
        }
        if files.is_empty() {
            outln!("  (no configuration file)");
        }
        for file in &files {
            outln!("  file {file}");
        }
    }
    Ok(0)
}

/// Checks the values that are set (prefixes, publishable keys) without requiring the
/// missing ones.
fn check_values(
    meta: &'static kosmo_runtime::ProviderMeta,
    credentials: &kosmo_runtime::Credentials,
) -> Result<(), kosmo_runtime::Error> {
    match credentials.check(meta) {
        Err(kosmo_runtime::Error::Config(message)) if message.contains("is missing") => Ok(()),
        other => other,
    }
}

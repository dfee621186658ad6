//! `integrations:call <provider>.<fn> [JSON] [--key=value ...]` and the `integrations:<provider>`
//! shortcuts: arguments in, one call through the host, the envelope out.

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Duration;

use kosmo_host::{CallError, CallOptions, DEFAULT_ACCOUNT, Integration};
use kosmo_runtime::{FunctionMeta, ParamType};
use serde_json::{Map, Value, json};

use crate::config::Settings;
use crate::lua::milliseconds;
use crate::{EXIT_FAILURE, EXIT_USAGE, print_json};

/// The usage of `integrations:call` and the shortcuts, with the registry's names.
pub fn help_text() -> String {
    let providers: Vec<&str> = kosmo_integrations::INTEGRATIONS
        .iter()
        .map(|i| i.meta.name)
        .collect();
    format!(
        "Usage: kosmo integrations:call <provider>.<function> [JSON] [--key=value ...] [--arg key=value] [--account A] [--force] [--dry-run] [--all] [--no-pacing] [--json]
       kosmo integrations:<provider> <function> [same options]
Providers: {}

Arguments come from the JSON object (argument or piped stdin); --key=value flags are merged over
it (kebab-case keys become snake_case; values are read by the parameter's type, and true, false,
null and numbers are coerced for unknown keys).

Options:
  --arg key=value  an argument whose name might clash with an option
  --account A      use the named credential account (default: default)
  --force          run even if the read/write policy says ask or deny
  --dry-run        check everything and show the request instead of sending it
  --all            walk every page of a list: each item as one JSON line (JSON Lines); limit
                   sets the page size and offset where to start; with --dry-run, the first
                   page's request
  --no-pacing      send at once instead of waiting for room under the rate limits
  --json           print {{function, success, data, error, meta, duration_ms}}; with --all
                   stdout holds only items and a failure's envelope goes to stderr
  -h, --help       print this help",
        providers.join(", ")
    )
}

/// The options `integrations:call` and the shortcuts take beyond [`parse`]'s.
pub const CALL_SWITCHES: &[&str] = &["all", "no-pacing"];

/// A call's command line: the target, the JSON payload, `--key=value` flags and the options.
/// `mcp:call` reads the same shape.
#[derive(Default)]
pub struct Parsed {
    pub target: Option<String>,
    pub payload: Option<String>,
    pub flags: Vec<(String, Option<String>)>,
    pub account: Option<String>,
    pub force: bool,
    pub dry_run: bool,
    pub json: bool,
    pub help: bool,
    /// The command's own options ([`parse_with`]): switches without a value, the others with
    /// theirs, in order.
    pub options: Vec<(String, Option<String>)>,
}

impl Parsed {
    /// Whether the command's own switch `name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.options.iter().any(|(n, v)| n == name && v.is_none())
    }

    /// The last value of the command's own option `name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(n, v)| n == name && v.is_some())
            .and_then(|(_, v)| v.as_deref())
    }
}

/// The shared options only: every other `--name` is an argument of the call.
pub fn parse(args: &[String]) -> Result<Parsed, String> {
    parse_with(args, &[], &[])
}

/// Like [`parse`], with the command's own `switches` (`--all`) and options that take a value
/// (`--output FILE` or `--output=FILE`), kept in [`Parsed::options`]. `--arg name=value` still
/// passes an argument whose name is one of them.
pub fn parse_with(args: &[String], switches: &[&str], values: &[&str]) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    let mut positional_only = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if positional_only || !arg.starts_with('-') || arg == "-" {
            if parsed.target.is_none() {
                parsed.target = Some(arg.clone());
            } else if parsed.payload.is_none() {
                parsed.payload = Some(arg.clone());
            } else {
                return Err(format!("unexpected argument `{arg}`"));
            }
            continue;
        }
        match arg.as_str() {
            "--" => positional_only = true,
            "-h" | "--help" => parsed.help = true,
            "--json" => parsed.json = true,
            "--force" => parsed.force = true,
            "--dry-run" => parsed.dry_run = true,
            "--account" | "--arg" => {
                let Some(value) = args.get(i) else {
                    return Err(format!("{arg} needs a value"));
                };
                i += 1;
                if arg == "--account" {
                    parsed.account = Some(value.clone());
                } else {
                    push_arg(&mut parsed, value)?;
                }
            }
            _ => {
                if let Some(value) = arg.strip_prefix("--account=") {
                    parsed.account = Some(value.to_string());
                } else if let Some(value) = arg.strip_prefix("--arg=") {
                    push_arg(&mut parsed, value)?;
                } else if let Some(flag) = arg.strip_prefix("--") {
                    let (name, value) = match flag.split_once('=') {
                        Some((name, value)) => (name, Some(value)),
                        None => (flag, None),
                    };
                    if switches.contains(&name) {
                        if value.is_some() {
                            return Err(format!("--{name} takes no value"));
                        }
                        parsed.options.push((name.to_string(), None));
                        continue;
                    }
                    if values.contains(&name) {
                        let value = match value {
                            Some(value) => value.to_string(),
                            None => {
                                let Some(value) = args.get(i) else {
                                    return Err(format!("--{name} needs a value"));
                                };
                                i += 1;
                                value.clone()
                            }
                        };
                        parsed.options.push((name.to_string(), Some(value)));
                        continue;
                    }
                    match flag.split_once('=') {
                        Some((key, value)) => parsed
                            .flags
                            .push((key.replace('-', "_"), Some(value.to_string()))),
                        None => parsed.flags.push((flag.replace('-', "_"), None)),
                    }
                } else {
                    return Err(format!("unknown option `{arg}`"));
                }
            }
        }
    }
    Ok(parsed)
}

fn push_arg(parsed: &mut Parsed, value: &str) -> Result<(), String> {
    let Some((key, value)) = value.split_once('=') else {
        return Err(format!("--arg takes KEY=VALUE, got `{value}`"));
    };
    parsed
        .flags
        .push((key.replace('-', "_"), Some(value.to_string())));
    Ok(())
}

/// A flag value read by the parameter's declared type; generic coercion for unknown names.
fn coerce(function: &FunctionMeta, key: &str, value: Option<&str>) -> Value {
    let Some(value) = value else {
        return Value::Bool(true);
    };
    let ty = function.param(key).map(|p| p.ty);
    match ty {
        Some(ParamType::String) => Value::String(value.to_string()),
        Some(ParamType::Array(_) | ParamType::Object | ParamType::File) => {
            match serde_json::from_str::<Value>(value) {
                Ok(v @ (Value::Array(_) | Value::Object(_))) => v,
                _ if matches!(ty, Some(ParamType::Array(_))) => {
                    let item = match ty {
                        Some(ParamType::Array(ParamType::String)) => {
                            Value::String(value.to_string())
                        }
                        _ => generic(value),
                    };
                    Value::Array(vec![item])
                }
                _ => generic(value),
            }
        }
        _ => generic(value),
    }
}

/// A flag value without a declared type: true, false, null and numbers are coerced.
pub fn generic(value: &str) -> Value {
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => {
            if let Ok(i) = value.parse::<i64>() {
                return Value::from(i);
            }
            if let Ok(f) = value.parse::<f64>()
                && f.is_finite()
                && let Some(n) = serde_json::Number::from_f64(f)
            {
                return Value::Number(n);
            }
            Value::String(value.to_string())
        }
    }
}

pub fn run(shortcut: Option<&'static Integration>, args: &[String]) -> anyhow::Result<u8> {
    let help = help_text();
    let parsed = match parse_with(args, CALL_SWITCHES, &[]) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("Error: {message}\n\n{help}");
            return Ok(EXIT_USAGE);
        }
    };
    if parsed.help {
        outln!("{help}");
        return Ok(0);
    }
    let (integration, function_name): (&'static Integration, String) =
        match (shortcut, &parsed.target) {
            (Some(integration), None) => {
                let page = kosmo_host::DocsIndex::new(&kosmo_integrations::INTEGRATIONS)
                    .read(integration.meta.name)
                    .unwrap_or_default();
                out!("{page}");
                return Ok(0);
            }
            (Some(integration), Some(target)) => {
                let target = target
                    .strip_prefix(&format!("{}.", integration.meta.name))
                    .unwrap_or(target)
                    .to_string();
                (integration, target)
            }
            (None, Some(target)) => match split_target(target) {
                Some(split) => split,
                None => {
                    eprintln!(
                        "Error: name the function as <provider>.<function>, e.g. {}\n\n{help}",
                        example_target()
                    );
                    return Ok(EXIT_USAGE);
                }
            },
            (None, None) => {
                eprintln!(
                    "Nothing to call: name a function, e.g. {}\n\n{help}",
                    example_target()
                );
                return Ok(EXIT_USAGE);
            }
        };

    let account = parsed
        .account
        .clone()
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    let provider = integration.meta.name;
    let qualified = format!("{provider}.{function_name}");
    let walk_all = parsed.switch("all");
    let report = |data: Option<Value>,
                  error: Option<String>,
                  meta_function: Option<&FunctionMeta>,
                  bypassed: bool,
                  duration: Duration,
                  paced: Duration| {
        let success = error.is_none();
        if parsed.json {
            print_json(&json!({
                "function": meta_function.map_or(qualified.clone(), |f| format!("{provider}.{}", f.name)),
                "success": success,
                "data": data,
                "error": error,
                "meta": {
                    "dry_run": parsed.dry_run,
                    "operation": meta_function.map(|f| f.operation.as_str()),
                    "permission_bypassed": bypassed,
                    "account": account,
                    "paced_ms": milliseconds(paced),
                },
                "duration_ms": milliseconds(duration),
            }));
        } else if let Some(error) = &error {
            eprintln!("Error: {error}");
        } else if let Some(data) = &data {
            print_json(data);
        }
        if success { 0 } else { EXIT_FAILURE }
    };

    let started = std::time::Instant::now();
    let Some(function) = integration.function(&function_name) else {
        let error = integration
            .meta
            .unknown_function(&function_name)
            .to_string();
        return Ok(report(
            None,
            Some(error),
            None,
            false,
            started.elapsed(),
            Duration::ZERO,
        ));
    };
    if walk_all && function.pagination.is_none() {
        eprintln!(
            "Error: {}\n\n{help}",
            crate::bulk::not_paged(integration, function, "--all")
        );
        return Ok(EXIT_USAGE);
    }

    let mut args = match arguments(function, &parsed)? {
        Ok(args) => args,
        Err(message) => {
            eprintln!("Error: {message}");
            return Ok(EXIT_USAGE);
        }
    };

    let mut settings = Settings::load()?;
    settings.no_pacing = parsed.switch("no-pacing");
    let settings = Arc::new(settings);
    settings.print_warnings();
    let host = crate::host(settings)?;
    let options = CallOptions {
        account: parsed.account.clone(),
        force: parsed.force,
        dry_run: parsed.dry_run,
    };
    if walk_all {
        if !parsed.dry_run {
            return crate::bulk::stream_all(
                &host,
                integration,
                function,
                args,
                options,
                parsed.json,
            );
        }
        // A dry run of a walk shows the request of its first page.
        args = crate::bulk::first_page_arguments(function, args);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome =
        runtime.block_on(host.call(provider, function.name, Value::Object(args), options));
    let paced = outcome.record.as_ref().map_or(Duration::ZERO, |r| r.paced);
    Ok(match outcome.result {
        Ok(data) => report(
            Some(data),
            None,
            Some(function),
            outcome.permission_bypassed,
            outcome.duration,
            paced,
        ),
        Err(error) => report(
            None,
            Some(error_message(provider, &error)),
            Some(function),
            outcome.permission_bypassed,
            outcome.duration,
            paced,
        ),
    })
}

/// `<provider>.<function>` (or the prefixed forms) split into the integration and the name.
pub fn split_target(target: &str) -> Option<(&'static Integration, String)> {
    kosmo_host::DocsIndex::new(&kosmo_integrations::INTEGRATIONS)
        .split_qualified(target)
        .map(|(integration, function)| (integration, function.to_string()))
}

/// A failed call's message, with how to add an account that does not exist.
pub fn error_message(provider: &str, error: &CallError) -> String {
    match error {
        CallError::UnknownAccount { account, .. } => format!(
            "{error} Add it with `kosmo integrations:configure {provider} --account {account} --set ...`."
        ),
        other => other.to_string(),
    }
}

/// The call's arguments: the JSON payload with the `--key=value` flags merged over it, or why
/// they are unusable.
pub fn arguments(
    function: &FunctionMeta,
    parsed: &Parsed,
) -> anyhow::Result<Result<Map<String, Value>, String>> {
    let mut args = match payload_arguments(parsed)? {
        Ok(args) => args,
        Err(message) => return Ok(Err(message)),
    };
    for (key, value) in &parsed.flags {
        let value = coerce(function, key, value.as_deref());
        match (args.get_mut(key), value) {
            // A repeated array flag adds items.
            (Some(Value::Array(items)), Value::Array(more))
                if parsed.flags.iter().filter(|(k, _)| k == key).count() > 1 =>
            {
                items.extend(more)
            }
            (_, value) => {
                args.insert(key.clone(), value);
            }
        }
    }
    Ok(Ok(args))
}

/// The JSON payload's arguments (from the argument or piped stdin), or why they are unusable.
pub fn payload_arguments(parsed: &Parsed) -> anyhow::Result<Result<Map<String, Value>, String>> {
    let payload = match &parsed.payload {
        Some(text) => Some(text.clone()),
        None if !std::io::stdin().is_terminal() => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (!text.trim().is_empty()).then_some(text)
        }
        None => None,
    };
    Ok(
        match payload.as_deref().map(serde_json::from_str::<Value>) {
            None => Ok(Map::new()),
            Some(Ok(Value::Object(map))) => Ok(map),
            Some(Ok(_)) => Err("the JSON arguments must be an object".to_string()),
            Some(Err(e)) => Err(format!("the JSON arguments are not valid JSON: {e}")),
        },
    )
}

/// `<provider>.<function>` of the registry's first listing function, for usage errors.
pub fn example_target() -> String {
    kosmo_integrations::INTEGRATIONS
        .iter()
        .find_map(|i| {
            i.meta
                .functions
                .iter()
                .find(|f| {
                    f.operation == kosmo_runtime::Operation::Read
                        && f.params.iter().all(|p| !p.required)
                })
                .map(|f| format!("{}.{}", i.meta.name, f.name))
        })
        .unwrap_or_else(|| "<provider>.<function>".to_string())
}

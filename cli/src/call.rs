//! `integrations:call <provider>.<fn> [JSON] [--key=value ...]` and the `integrations:<provider>`
//! shortcuts: arguments in, one call through the host, the envelope out.

use std::io::{IsTerminal, Read};
use std::sync::Arc;

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
        "Usage: kosmo integrations:call <provider>.<function> [JSON] [--key=value ...] [--arg key=value] [--account A] [--force] [--dry-run] [--json]
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
  --json           print {{function, success, data, error, meta, duration_ms}}
  -h, --help       print this help",
        providers.join(", ")
    )
}

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
}

pub fn parse(args: &[String]) -> Result<Parsed, String> {
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
        Some(ParamType::Array(_)) | Some(ParamType::Object) => {
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
    let parsed = match parse(args) {
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
            (None, Some(target)) => {
                match kosmo_host::DocsIndex::new(&kosmo_integrations::INTEGRATIONS)
                    .split_qualified(target)
                {
                    Some((integration, function)) => (integration, function.to_string()),
                    None => {
                        eprintln!(
                            "Error: name the function as <provider>.<function>, e.g. {}\n\n{help}",
                            example_target()
                        );
                        return Ok(EXIT_USAGE);
                    }
                }
            }
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
    let report = |data: Option<Value>,
                  error: Option<String>,
                  meta_function: Option<&FunctionMeta>,
                  bypassed: bool,
                  duration_ms: f64| {
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
                },
                "duration_ms": duration_ms,
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
            milliseconds(started.elapsed()),
        ));
    };

    let mut args = match payload_arguments(&parsed)? {
        Ok(args) => args,
        Err(message) => {
            eprintln!("Error: {message}");
            return Ok(EXIT_USAGE);
        }
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

    let settings = Arc::new(Settings::load()?);
    settings.print_warnings();
    let host = crate::host(settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(host.call(
        provider,
        function.name,
        Value::Object(args),
        CallOptions {
            account: parsed.account.clone(),
            force: parsed.force,
            dry_run: parsed.dry_run,
        },
    ));
    let duration_ms = milliseconds(outcome.duration);
    Ok(match outcome.result {
        Ok(data) => report(
            Some(data),
            None,
            Some(function),
            outcome.permission_bypassed,
            duration_ms,
        ),
        Err(error) => {
            let message = match &error {
                CallError::UnknownAccount { account, .. } => format!(
                    "{error} Add it with `kosmo integrations:configure {provider} --account {account} --set ...`."
                ),
                other => other.to_string(),
            };
            report(
                None,
                Some(message),
                Some(function),
                outcome.permission_bypassed,
                duration_ms,
            )
        }
    })
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
fn example_target() -> String {
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

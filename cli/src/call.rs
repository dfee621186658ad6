//! `integrations:call clerk.<fn> [JSON] [--key=value ...]` and the `integrations:clerk` shortcut.

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Instant;

use kosmo_runtime::lua::Dispatch;
use kosmo_runtime::{FunctionMeta, ParamType};
use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_ACCOUNT, Settings};
use crate::dispatch::{CallOptions, Guarded, RunState};
use crate::providers::{self, Provider};
use crate::{CALL_HELP_TEXT, EXIT_FAILURE, EXIT_USAGE, print_json};

#[derive(Default)]
struct Parsed {
    target: Option<String>,
    payload: Option<String>,
    flags: Vec<(String, Option<String>)>,
    account: Option<String>,
    force: bool,
    dry_run: bool,
    json: bool,
    help: bool,
}

fn parse(args: &[String]) -> Result<Parsed, String> {
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

fn generic(value: &str) -> Value {
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

pub fn run(shortcut: Option<&str>, args: &[String]) -> anyhow::Result<u8> {
    let parsed = match parse(args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("Error: {message}\n\n{CALL_HELP_TEXT}");
            return Ok(EXIT_USAGE);
        }
    };
    if parsed.help {
        outln!("{CALL_HELP_TEXT}");
        return Ok(0);
    }
    let (provider, function_name): (&'static Provider, String) = match (shortcut, &parsed.target) {
        (Some(name), None) => {
            let Some(provider) = providers::provider(name) else {
                return Ok(EXIT_USAGE);
            };
            out!(
                "{}",
                crate::docs::read(provider.meta.name).unwrap_or_default()
            );
            return Ok(0);
        }
        (Some(name), Some(target)) => {
            let Some(provider) = providers::provider(name) else {
                return Ok(EXIT_USAGE);
            };
            let target = target
                .strip_prefix(&format!("{name}."))
                .unwrap_or(target)
                .to_string();
            (provider, target)
        }
        (None, Some(target)) => match providers::split_qualified(target) {
            Some((provider, function)) => (provider, function.to_string()),
            None => {
                eprintln!(
                    "Error: name the function as <provider>.<function>, e.g. clerk.list_users\n\n{CALL_HELP_TEXT}"
                );
                return Ok(EXIT_USAGE);
            }
        },
        (None, None) => {
            eprintln!(
                "Nothing to call: name a function, e.g. clerk.list_users\n\n{CALL_HELP_TEXT}"
            );
            return Ok(EXIT_USAGE);
        }
    };

    let started = Instant::now();
    let account = parsed
        .account
        .clone()
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    let qualified = format!("{}.{function_name}", provider.meta.name);
    let report = |data: Option<Value>,
                  error: Option<String>,
                  meta_function: Option<&FunctionMeta>,
                  bypassed: bool| {
        let success = error.is_none();
        if parsed.json {
            print_json(&json!({
                "function": meta_function.map_or(qualified.clone(), |f| format!("{}.{}", provider.meta.name, f.name)),
                "success": success,
                "data": data,
                "error": error,
                "meta": {
                    "dry_run": parsed.dry_run,
                    "operation": meta_function.map(|f| f.operation.as_str()),
                    "permission_bypassed": bypassed,
                    "account": account,
                },
                "duration_ms": (started.elapsed().as_secs_f64() * 1_000_000.0).round() / 1000.0,
            }));
        } else if let Some(error) = &error {
            eprintln!("Error: {error}");
        } else if let Some(data) = &data {
            print_json(data);
        }
        if success { 0 } else { EXIT_FAILURE }
    };

    let Some(function) = provider.meta.function(&function_name) else {
        let error = provider.meta.unknown_function(&function_name).to_string();
        return Ok(report(None, Some(error), None, false));
    };

    // Arguments: the JSON payload (argument or piped stdin), then flags over it.
    let payload = match &parsed.payload {
        Some(text) => Some(text.clone()),
        None if !std::io::stdin().is_terminal() => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            (!text.trim().is_empty()).then_some(text)
        }
        None => None,
    };
    let mut args = match payload.as_deref().map(serde_json::from_str::<Value>) {
        None => Map::new(),
        Some(Ok(Value::Object(map))) => map,
        Some(Ok(_)) => {
            eprintln!("Error: the JSON arguments must be an object");
            return Ok(EXIT_USAGE);
        }
        Some(Err(e)) => {
            eprintln!("Error: the JSON arguments are not valid JSON: {e}");
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

    let settings = Settings::load()?;
    settings.print_warnings();
    if !settings.has_account(provider.meta.name, &account) {
        let known = settings.accounts(provider.meta.name).join(", ");
        let error = format!(
            "{} account `{account}` is not configured (accounts: {known}). Add it with `kosmo integrations:configure {} --account {account} --set ...`.",
            provider.meta.label, provider.meta.name
        );
        return Ok(report(None, Some(error), Some(function), false));
    }
    let state = Arc::new(RunState::default());
    let guarded = Guarded::new(
        provider,
        &settings,
        &account,
        CallOptions {
            force: parsed.force,
            dry_run: parsed.dry_run,
            dry_run_reads: true,
        },
        state.clone(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(guarded.call(function, Value::Object(args)));
    let bypassed = state
        .permission_bypassed
        .load(std::sync::atomic::Ordering::Relaxed);
    Ok(match result {
        Ok(data) => report(Some(data), None, Some(function), bypassed),
        Err(error) => report(None, Some(error.to_string()), Some(function), bypassed),
    })
}

//! `integrations:lua`: reads the code, runs it on the host, prints the envelope.

use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Duration;

use kosmo_host::{CallRecord, Limits, RunOptions, RunReport};
use serde_json::{Value, json};

use crate::config::Settings;
use crate::{EXIT_FAILURE, EXIT_USAGE, LuaArgs, print_json};

/// `integrations:lua` (`with_integrations`) or the narrower `mcp:lua`, which reaches only the
/// MCP servers.
pub fn run(args: LuaArgs, with_integrations: bool) -> anyhow::Result<u8> {
    let (code, chunk_name): (Vec<u8>, String) = if let Some(code) = args.eval {
        (code.into_bytes(), "eval".to_string())
    } else if let Some(file) = args.file.filter(|f| f.as_os_str() != "-") {
        let code = match std::fs::read(&file) {
            Ok(code) => code,
            Err(e) => {
                let message = format!("cannot read {}: {e}", file.display());
                if args.json {
                    print_json(&failed_envelope(&message));
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
    if args.memory_limit < Limits::MIN_MEMORY {
        eprintln!(
            "Error: --memory-limit must be at least {} bytes",
            Limits::MIN_MEMORY
        );
        return Ok(EXIT_USAGE);
    }
    let mut settings = Settings::load()?;
    settings.no_pacing = args.no_pacing;
    let settings = Arc::new(settings);
    settings.print_warnings();
    let host = if with_integrations {
        crate::host(settings)?
    } else {
        crate::mcp_host(settings)?
    };
    let options = RunOptions {
        name: chunk_name,
        force: args.force,
        dry_run: args.dry_run,
        limits: Some(Limits {
            memory: args.memory_limit,
            cpu: Duration::from_secs_f64(args.cpu_limit),
            output: args.memory_limit,
        }),
        // Without --json, lines reach the terminal as they are printed, then the results.
        on_output: (!args.json)
            .then(|| Arc::new(|line: &str| outln!("{line}")) as kosmo_host::OutputSink),
        print_results: !args.json,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(host.run(&code, options));
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if args.json {
        print_json(&envelope(&report));
    } else if let Some(error) = &report.error {
        eprintln!("Error: {error}");
    }
    Ok(if report.success() { 0 } else { EXIT_FAILURE })
}

/// KosmoKrator's `integrations:lua --json` envelope.
fn envelope(report: &RunReport) -> Value {
    json!({
        "success": report.success(),
        "output": report.output,
        "error": report.error,
        "result": report.result,
        "execution_time_ms": milliseconds(report.execution_time),
        "memory_usage": report.memory_usage,
        "integration_calls": report.calls.iter().map(call_entry).collect::<Vec<_>>(),
        "meta": {
            "permission_bypassed": report.permission_bypassed,
            "dry_run": report.dry_run,
        },
    })
}

/// The envelope of a run that could not start.
fn failed_envelope(message: &str) -> Value {
    envelope(&RunReport {
        output: String::new(),
        error: Some(message.to_string()),
        limit_exceeded: None,
        result: None,
        execution_time: Duration::ZERO,
        memory_usage: None,
        calls: Vec::new(),
        permission_bypassed: false,
        dry_run: false,
        warnings: Vec::new(),
    })
}

/// One `integration_calls` entry.
fn call_entry(call: &CallRecord) -> Value {
    let mut entry = json!({
        "path": call.path(),
        "durationMs": milliseconds(call.duration),
        "pacedMs": milliseconds(call.paced),
        "status": if call.error.is_some() { "error" } else { "ok" },
    });
    if let (Some(error), Some(map)) = (&call.error, entry.as_object_mut()) {
        map.insert("error".into(), Value::String(error.clone()));
    }
    if let Some(map) = entry.as_object_mut() {
        map.insert("name".into(), Value::String(call.title.to_string()));
        map.insert("group".into(), Value::String(call.group()));
    }
    entry
}

/// Milliseconds with three decimals, as the envelopes show them.
pub fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

//! Walking every page of a list: `integrations:call --all` (JSON Lines on stdout) and the
//! pieces `integrations:export` shares with it. The walk itself is the host's
//! ([`kosmo_host::Host::pages`]): one page is held at a time.

use std::io::Write;
use std::time::{Duration, Instant};

use kosmo_host::{CallError, CallOptions, DEFAULT_ACCOUNT, Host, Integration, Pages};
use kosmo_runtime::{FunctionMeta, Literal};
use serde_json::{Map, Value, json};

use crate::EXIT_FAILURE;
use crate::lua::milliseconds;

/// Why `what` (`--all`, `integrations:export`) cannot walk `function`, naming the functions of
/// the integration that can.
pub fn not_paged(integration: &Integration, function: &FunctionMeta, what: &str) -> String {
    let paged: Vec<String> = integration
        .meta
        .functions
        .iter()
        .filter(|f| f.pagination.is_some())
        .map(|f| format!("{}.{}", integration.meta.name, f.name))
        .collect();
    format!(
        "{what} walks every page of a list, and {}.{} does not page; functions that page: {}",
        integration.meta.name,
        function.name,
        if paged.is_empty() {
            "none".to_string()
        } else {
            paged.join(", ")
        }
    )
}

/// The arguments of a walk's first request: the page size unless `limit` is given, offset 0
/// unless given, and the arguments the manifest sets on every page (`paginated = true`).
pub fn first_page_arguments(
    function: &FunctionMeta,
    mut args: Map<String, Value>,
) -> Map<String, Value> {
    let Some(pagination) = function.pagination else {
        return args;
    };
    if args.get(pagination.limit_param).is_none_or(Value::is_null) {
        args.insert(
            pagination.limit_param.to_string(),
            pagination.page_size.into(),
        );
    }
    if args.get(pagination.offset_param).is_none_or(Value::is_null) {
        args.insert(pagination.offset_param.to_string(), 0.into());
    }
    for (name, value) in pagination.with {
        args.insert((*name).to_string(), literal_json(*value));
    }
    args
}

fn literal_json(literal: Literal) -> Value {
    match literal {
        Literal::String(s) => Value::String(s.to_string()),
        Literal::Integer(i) => i.into(),
        Literal::Number(n) => serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
        Literal::Boolean(b) => b.into(),
    }
}

/// Time the walk's requests waited for room under the rate limits.
pub fn paced(pages: &Pages) -> Duration {
    pages.calls().iter().map(|call| call.paced).sum()
}

/// Appends each item as one compact JSON line.
pub fn json_lines(items: &[Value], buffer: &mut Vec<u8>) -> std::io::Result<()> {
    for item in items {
        serde_json::to_writer(&mut *buffer, item)?;
        buffer.push(b'\n');
    }
    Ok(())
}

/// "1 item", "2 items".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How a walk that was streaming ended early.
pub enum Stop {
    /// A page could not be fetched.
    Call(CallError),
    /// Writing failed.
    Write(std::io::Error),
    /// The reader of stdout went away (`| head`): nothing more is wanted.
    Closed,
}

impl From<std::io::Error> for Stop {
    fn from(error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            Stop::Closed
        } else {
            Stop::Write(error)
        }
    }
}

/// `integrations:call --all`: every item of every page as one JSON line on stdout, flushed
/// page by page. A failure midway leaves the lines already written and goes to stderr (with
/// `--json` as the call's envelope, so that stdout holds only items).
pub fn stream_all(
    host: &Host,
    integration: &'static Integration,
    function: &'static FunctionMeta,
    args: Map<String, Value>,
    options: CallOptions,
    json: bool,
) -> anyhow::Result<u8> {
    let started = Instant::now();
    let provider = integration.meta.name;
    let account = options
        .account
        .clone()
        .unwrap_or_else(|| DEFAULT_ACCOUNT.to_string());
    let failed = |error: &CallError, items: u64, pages: Option<&Pages>| {
        let message = crate::call::error_message(provider, error);
        if json {
            let envelope = json!({
                "function": format!("{provider}.{}", function.name),
                "success": false,
                "data": null,
                "error": message,
                "meta": {
                    "dry_run": false,
                    "operation": function.operation.as_str(),
                    "permission_bypassed": pages.is_some_and(Pages::permission_bypassed),
                    "account": account,
                    "paced_ms": milliseconds(pages.map_or(Duration::ZERO, paced)),
                    "items": items,
                    "pages": pages.map_or(0, Pages::pages),
                },
                "duration_ms": milliseconds(started.elapsed()),
            });
            eprintln!(
                "{}",
                serde_json::to_string_pretty(&envelope).unwrap_or_else(|_| message.clone())
            );
        } else if items > 0 {
            eprintln!(
                "Error: {message} (the walk stopped after {} were written)",
                count(items, "item", "items")
            );
        } else {
            eprintln!("Error: {message}");
        }
        EXIT_FAILURE
    };
    let mut pages = match host.pages(provider, function.name, Value::Object(args), options) {
        Ok(pages) => pages,
        Err(error) => return Ok(failed(&error, 0, None)),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut items = 0u64;
    let outcome: Result<(), Stop> = runtime.block_on(async {
        let mut buffer = Vec::new();
        loop {
            let page = match pages.next_page().await {
                Ok(Some(page)) => page,
                Ok(None) => return Ok(()),
                Err(error) => return Err(Stop::Call(error)),
            };
            buffer.clear();
            json_lines(&page, &mut buffer)?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(&buffer)?;
            stdout.flush()?;
            items += page.len() as u64;
        }
    });
    Ok(match outcome {
        Ok(()) | Err(Stop::Closed) => 0,
        Err(Stop::Call(error)) => failed(&error, items, Some(&pages)),
        Err(Stop::Write(error)) => {
            eprintln!("Error: cannot write to stdout: {error}");
            EXIT_FAILURE
        }
    })
}

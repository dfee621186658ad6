//! The Lua sandbox: a Luau state with only the safe standard library, `app.integrations.*`,
//! `app.mcp.*`, `mcp`, `print`, `dump`, `json`, `regex` and `docs`, and limits on memory, CPU time and output.
//!
//! - [`limits`]: the limits and the monitor that enforces them;
//! - [`globals`]: every global but `app`;
//! - [`namespace`]: `app.integrations`, its account tables and their `each` iterators;
//! - [`parallel`], for `parallel.map`;
//! - [`mcp`]: `app.mcp`, the `mcp` global and the `mcp.…` docs pages;
//! - [`reserved`]: the check that runs before the script;
//! - [`render`] and [`regex`]: what `print`, `dump` and `regex.*` do.

pub(crate) mod globals;
pub(crate) mod limits;
pub(crate) mod mcp;
pub(crate) mod namespace;
pub(crate) mod parallel;
pub(crate) mod regex;
pub(crate) mod render;
pub(crate) mod reserved;

use std::sync::Arc;
use std::time::Instant;

use kosmo_runtime::Integration;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Value as LuaValue};
use serde_json::Value;

use self::globals::error_message;
use self::limits::{LUA_MEMORY_ERROR, LimitExceeded, Limited, Limits, Monitor, OutputSink};
use self::namespace::Namespace;
use crate::lua::error_text;

/// Runs the chunk under the original `pcall` and raises its error as text, so the host gets a
/// message even for error objects.
const RUNNER: &str = r#"
local pcall, chunk, check, text, pack, unpack, error, host, running = ...
return function()
    host.main = running()
    local r = pack(pcall(chunk))
    if not r[1] then
        local stop = check(false, r[2])
        if stop then
            error(stop, 0)
        end
        error(text(r[2]), 0)
    end
    return unpack(r, 2, r.n)
end
"#;

/// One script and what it runs with.
pub(crate) struct Job<'a> {
    pub(crate) code: &'a [u8],
    pub(crate) chunk_name: &'a str,
    pub(crate) limits: Limits,
    pub(crate) integrations: Arc<[&'static Integration]>,
    pub(crate) namespaces: Vec<Namespace>,
    pub(crate) mcp: Arc<crate::mcp::McpSession>,
    pub(crate) sink: Option<OutputSink>,
    pub(crate) print_results: bool,
}

/// What a run produced, before the host adds what it knows.
pub(crate) struct Outcome {
    pub(crate) output: String,
    pub(crate) result: Result<Vec<Value>, String>,
    pub(crate) limit: Option<LimitExceeded>,
    pub(crate) memory_usage: Option<usize>,
    pub(crate) started: Instant,
}

/// Runs a script. Never panics on script input; the Lua state is dropped at the end whatever
/// the script did.
pub(crate) async fn run(job: Job<'_>) -> Outcome {
    let started = Instant::now();
    let monitor = Arc::new(Monitor::new(job.limits, job.sink.clone()));
    let fail = |error: String, monitor: &Monitor| Outcome {
        output: monitor.output(),
        result: Err(error),
        limit: monitor.exceeded(),
        memory_usage: None,
        started,
    };
    if let Some(name) = reserved::reserved_assignment(&String::from_utf8_lossy(job.code)) {
        return fail(
            format!(
                "Refused before running: the script assigns the global `{name}`; names starting with `__` are reserved."
            ),
            &monitor,
        );
    }
    let lua = match Lua::new_with(
        StdLib::COROUTINE
            | StdLib::TABLE
            | StdLib::STRING
            | StdLib::UTF8
            | StdLib::BIT
            | StdLib::MATH
            | StdLib::BUFFER
            | StdLib::INTEGER,
        LuaOptions::default(),
    ) {
        Ok(lua) => lua,
        Err(e) => return fail(format!("cannot create the Lua state: {e}"), &monitor),
    };
    let runner = match prepare(&lua, &job, &monitor) {
        Ok(Ok(runner)) => runner,
        Ok(Err(syntax)) => return fail(syntax, &monitor),
        Err(e) => {
            return fail(
                format!("cannot prepare the sandbox: {}", error_message(&e)),
                &monitor,
            );
        }
    };

    // Limits apply from here: the script's own allocations and time.
    let memory_limit = lua.used_memory().saturating_add(job.limits.memory);
    if let Err(e) = lua.set_memory_limit(memory_limit) {
        return fail(format!("cannot set the memory limit: {e}"), &monitor);
    }
    {
        let monitor = monitor.clone();
        lua.set_interrupt(move |_| monitor.interrupt());
    }
    let mut script = Limited {
        inner: Box::pin(runner.call_async::<MultiValue>(())),
        monitor: monitor.clone(),
    };
    let outcome = (&mut script).await;
    // Converting the results must not fail for want of memory the script used up, and neither
    // must dropping a script that a limit stopped mid-way: resetting its suspended threads (the
    // main one, `parallel.map`'s workers) allocates, and an allocation that fails there would
    // raise a Lua error where nothing can catch it.
    let _ = lua.set_memory_limit(0);
    lua.remove_interrupt();
    drop(script);

    match outcome {
        Ok(values) => {
            let max_values = job.limits.max_json_values();
            let result: Vec<Value> = values
                .iter()
                .map(|v| render::result_json(v, max_values, job.limits.output))
                .collect();
            if job.print_results {
                for value in values.iter().filter(|v| !v.is_nil()) {
                    if let Ok(text) = render::print_value(value, monitor.output_left())
                        && monitor.emit(text).is_err()
                    {
                        break;
                    }
                }
            }
            Outcome {
                output: monitor.output(),
                result: Ok(result),
                limit: None,
                memory_usage: Some(lua.used_memory()),
                started,
            }
        }
        Err(error) => {
            let mut message = error_message(&error);
            if message == LUA_MEMORY_ERROR {
                monitor.set_stop(LimitExceeded::Memory);
            }
            if let Some(limit) = monitor.stop_message() {
                message = limit;
            }
            fail(message, &monitor)
        }
    }
}

/// The state's globals, the script compiled in its environment, and the runner around it;
/// `Ok(Err(message))` when the script does not compile.
fn prepare(
    lua: &Lua,
    job: &Job<'_>,
    monitor: &Arc<Monitor>,
) -> mlua::Result<Result<Function, String>> {
    crate::lua::keep_integers_exact(lua)?;
    let host = lua.create_table()?;
    // The threads of `parallel.map` that may call integrations, while they run.
    host.raw_set("workers", lua.create_table()?)?;
    let mcp = mcp::install(lua, job.mcp.clone(), &host, job.limits.max_json_values())?;
    let environment = globals::install(lua, monitor, job.integrations.clone(), &mcp, &host)?;
    namespace::install(
        lua,
        &host,
        &job.namespaces,
        job.limits.max_json_values(),
        mcp.app_table,
    )?;
    lua.sandbox(true)?;
    let chunk = match lua
        .load(job.code)
        .set_name(format!("={}", job.chunk_name))
        .set_mode(mlua::chunk::ChunkMode::Text)
        .set_environment(environment.env)
        .into_function()
    {
        Ok(chunk) => chunk,
        Err(e) => return Ok(Err(error_message(&e))),
    };
    let text = lua.create_function(|lua, value: LuaValue| Ok(error_text(lua, &value)))?;
    let runner: Function = lua.load(RUNNER).set_name("=kosmo").into_function()?.call((
        environment.pcall,
        chunk,
        environment.check,
        text,
        environment.pack,
        environment.unpack,
        environment.error,
        host,
        environment.running,
    ))?;
    Ok(Ok(runner))
}

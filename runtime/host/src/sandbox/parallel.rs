//! `parallel.map(items, fn, {concurrency = n})`: runs `fn(item, index)` for every item with up
//! to `n` running at once, and returns `results, failures`.
//!
//! Each item runs in a Lua thread of its own, on the script's Lua state; the threads take turns
//! on one OS thread and overlap only while they wait for calls, so the script writer needs no
//! locks. The sandbox's limits hold as everywhere: the interrupt that stops a script stops its
//! workers too, and the calls they were waiting for are cancelled when the run ends. Pacing
//! applies across the workers, since their calls share the account's transport.

use std::sync::Arc;

use futures_util::StreamExt;
use mlua::{Function, Lua, Table, Value as LuaValue};

use super::limits::{LUA_MEMORY_ERROR, LimitExceeded, Monitor};

/// Items that may run at once unless the script says otherwise.
pub(crate) const DEFAULT_CONCURRENCY: i64 = 8;
/// The most that may run at once.
pub(crate) const MAX_CONCURRENCY: i64 = 64;

/// The Lua side: the thread check, and errors raised at the caller's line.
const MAP: &str = r#"
local map, host, running, error = ...
return function(items, fn, options)
    if running() ~= host.main then
        error("parallel.map runs from the main script, not inside a coroutine or another parallel.map.", 2)
    end
    local ok, results, failures = map(items, fn, options)
    if not ok then
        error(results, 2)
    end
    return results, failures
end
"#;

/// The body of each worker thread: `pcall` (the limit-aware one) keeps an item's error as a
/// value, with all its fields, and lets a limit end the run. Items, results and failures are
/// read and written here, in Lua, because a value that crosses into Rust and back loses a Luau
/// `integer`'s exactness (mlua pushes integers as doubles).
const WORKER: &str = r#"
local pcall, rawget = ...
return function(fn, items, results, failed, index)
    -- Raw, as the item count is: an `__index` on the items is not consulted.
    local item = rawget(items, index)
    local ok, value = pcall(fn, item, index)
    if ok then
        results[index] = value
    else
        failed[index] = { index = index, item = item, error = value }
    end
    return ok
end
"#;

/// Builds the `parallel` table. `host.workers` must be a table: the threads that may call
/// integrations are registered there while they run.
pub(crate) fn create(
    lua: &Lua,
    host: &Table,
    pcall: Function,
    monitor: Arc<Monitor>,
) -> mlua::Result<Table> {
    let worker: Function = lua
        .load(WORKER)
        .set_name("=parallel.map")
        .into_function()?
        .call((pcall, lua.globals().raw_get::<Function>("rawget")?))?;
    let workers: Table = host.raw_get("workers")?;
    let map = lua.create_async_function(
        move |lua, (items, function, options): (LuaValue, LuaValue, LuaValue)| {
            let worker = worker.clone();
            let workers = workers.clone();
            let monitor = monitor.clone();
            async move {
                let refused = |message: String| -> mlua::Result<(bool, LuaValue, LuaValue)> {
                    Ok((
                        false,
                        LuaValue::String(lua.create_string(&message)?),
                        LuaValue::Nil,
                    ))
                };
                let LuaValue::Table(items) = items else {
                    return refused(format!(
                        "parallel.map: the first argument must be an array of items, not {}",
                        lua_type(&items)
                    ));
                };
                let LuaValue::Function(function) = function else {
                    return refused(format!(
                        "parallel.map: the second argument must be a function, not {}",
                        lua_type(&function)
                    ));
                };
                let concurrency = match concurrency(&options) {
                    Ok(n) => n,
                    Err(message) => return refused(message),
                };
                let count = items.raw_len();
                let results = lua.create_table_with_capacity(count, 0)?;
                // Failures by index, as the workers finish; listed in index order at the end.
                let failed = lua.create_table()?;
                let (all_results, all_failed) = (results.clone(), failed.clone());
                let runs = futures_util::stream::iter(1..=count)
                    .map(|index| {
                        let (lua, worker, workers, items, function, results, failed) = (
                            lua.clone(),
                            worker.clone(),
                            workers.clone(),
                            items.clone(),
                            function.clone(),
                            all_results.clone(),
                            all_failed.clone(),
                        );
                        async move {
                            let thread = lua.create_thread(worker)?;
                            workers.raw_set(&thread, true)?;
                            let outcome = thread
                                .clone()
                                .into_async::<bool>((function, items, results, failed, index))?
                                .await;
                            workers.raw_set(&thread, LuaValue::Nil)?;
                            outcome
                        }
                    })
                    .buffer_unordered(concurrency);
                futures_util::pin_mut!(runs);
                let mut failures_seen = 0;
                while let Some(outcome) = runs.next().await {
                    let ok = match outcome {
                        Ok(done) => done,
                        Err(error) => {
                            // A worker that ran out of memory (or past another limit) ends the
                            // run. Raising that here would need memory the state no longer
                            // has, so the run is stopped the way the interrupt stops it: the
                            // flag is set and the script's future stays pending until the host
                            // drops it.
                            if matches!(error, mlua::Error::MemoryError(_))
                                || error.to_string().contains(LUA_MEMORY_ERROR)
                            {
                                monitor.set_stop(LimitExceeded::Memory);
                            }
                            if monitor.exceeded().is_some() {
                                std::future::pending::<()>().await;
                            }
                            return Err(error);
                        }
                    };
                    if !ok {
                        failures_seen += 1;
                    }
                }
                let failures = lua.create_table_with_capacity(failures_seen, 0)?;
                for index in 1..=count {
                    let failure: LuaValue = failed.raw_get(index)?;
                    if !failure.is_nil() {
                        failures.raw_push(failure)?;
                    }
                }
                Ok((true, LuaValue::Table(results), LuaValue::Table(failures)))
            }
        },
    )?;
    let globals = lua.globals();
    let coroutine: Table = globals.raw_get("coroutine")?;
    let wrapped: Function = lua.load(MAP).set_name("=parallel").into_function()?.call((
        map,
        host.clone(),
        coroutine.raw_get::<Function>("running")?,
        globals.raw_get::<Function>("error")?,
    ))?;
    let table = lua.create_table()?;
    table.raw_set("map", wrapped)?;
    table.set_readonly(true);
    Ok(table)
}

/// `options.concurrency`, checked.
fn concurrency(options: &LuaValue) -> Result<usize, String> {
    let options = match options {
        LuaValue::Nil => return Ok(DEFAULT_CONCURRENCY as usize),
        LuaValue::Table(options) => options,
        other => {
            return Err(format!(
                "parallel.map: the third argument must be a table of options, not {}",
                lua_type(other)
            ));
        }
    };
    for pair in options.pairs::<LuaValue, LuaValue>() {
        let (key, _) = pair.map_err(|e| e.to_string())?;
        let known = matches!(&key, LuaValue::String(s) if s.as_bytes().as_ref() == b"concurrency");
        if !known {
            return Err(format!(
                "parallel.map: unknown option {}; the only option is concurrency",
                super::render::scalar(&key)
            ));
        }
    }
    let value: LuaValue = options.raw_get("concurrency").map_err(|e| e.to_string())?;
    let n = match value {
        LuaValue::Nil => return Ok(DEFAULT_CONCURRENCY as usize),
        LuaValue::Integer(n) => n,
        LuaValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => n as i64,
        other => {
            return Err(format!(
                "parallel.map: concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {}",
                super::render::scalar(&other)
            ));
        }
    };
    if !(1..=MAX_CONCURRENCY).contains(&n) {
        return Err(format!(
            "parallel.map: concurrency must be from 1 to {MAX_CONCURRENCY}, not {n}"
        ));
    }
    Ok(n as usize)
}

/// The name Lua's `type()` gives a value (Luau has no separate integer type).
fn lua_type(value: &LuaValue) -> &'static str {
    match value {
        LuaValue::Integer(_) | LuaValue::Number(_) => "number",
        other => other.type_name(),
    }
}

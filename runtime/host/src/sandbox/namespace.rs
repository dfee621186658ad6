//! `app.integrations`: a read-only table per integration with its functions (the default
//! account), `.default`, and one table per named account.

use std::sync::Arc;

use kosmo_runtime::{Error, Integration, Output};
use mlua::{Function, Lua, Table, Value as LuaValue};

use super::render::scalar;
use crate::accounts::DEFAULT_ACCOUNT;
use crate::gate::{Failure, Gate};
use crate::lua::{
    FromJsonError, call_args_to_json, error_value, for_return, json_bytes_to_lua, json_to_lua,
};
use crate::paging::{ItemCursor, Pager};

/// One integration's accounts for a run, `default` first.
pub(crate) struct Namespace {
    pub(crate) integration: &'static Integration,
    pub(crate) accounts: Vec<Arc<Gate>>,
}

/// Lua source of the factory of a provider's functions. One Rust callback, `raw(index, args)`,
/// serves every function of the provider: a Rust callback costs far more to create than a Lua
/// closure, and a script run creates the namespace afresh (one callback per function made the
/// namespace most of a run's fixed cost). `raw` returns `ok, value, boxed`; the wrapper raises
/// `value` as the Lua error when `ok` is false, and opens the box of a top-level integer beyond
/// 2^53 (see [`for_return`]). (A Rust callback can only raise opaque userdata; raising from Lua
/// lets scripts read the error object's fields.)
const WRAPPER: &str = r#"
local raw = ...
return function(index)
    return function(args)
        local ok, value, boxed = raw(index, args)
        if ok then
            if boxed then
                return value[1]
            end
            return value
        end
        error(value, 0)
    end
end
"#;

/// Makes the function that wraps, in place, every function of a provider table so that it
/// runs only on the script's main thread (which the runner records in `host.main`), and
/// returns a copy of the table (for `.default`). Aliases keep sharing one wrapper.
const GUARD_ALL: &str = r#"
local host, running, error, pairs, type = ...
return function(t)
    local done = {}
    for k, f in pairs(t) do
        if type(f) == "function" then
            local g = done[f]
            if not g then
                g = function(args)
                    local co = running()
                    if co ~= host.main and not host.workers[co] then
                        error("Integration calls cannot run inside a coroutine; call them from the main script or a parallel.map function.", 2)
                    end
                    return f(args)
                end
                done[f] = g
            end
            t[k] = g
        end
    end
    local copy = {}
    for k, v in pairs(t) do
        copy[k] = v
    end
    return copy
end
"#;

/// `each.<function>(args)`: starts a walk (raising its error at the caller's line) and returns
/// the iterator a generic `for` calls, which raises a failed page's error object.
const EACH: &str = r#"
local start, next_item, host, running, error = ...
local function check()
    local co = running()
    if co ~= host.main and not host.workers[co] then
        error("Integration calls cannot run inside a coroutine; call them from the main script or a parallel.map function.", 3)
    end
end
return function(args)
    check()
    local ok, cursor = start(args)
    if not ok then
        error(cursor, 2)
    end
    return function()
        check()
        local fetched, value, boxed = next_item(cursor)
        if fetched then
            if boxed then
                return value[1]
            end
            return value
        end
        error(value, 0)
    end
end
"#;

/// Raises the error object an `__index` handler returns, at the caller's level.
const RAISE_UNKNOWN: &str =
    r#"local unknown, error = ... return function(t, k) error(unknown(t, k), 2) end"#;

/// Builds `app` with `app.integrations` and `app.mcp`; `host` is the table whose `main` field
/// the runner sets to the script's thread.
pub(crate) fn install(
    lua: &Lua,
    host: &Table,
    namespaces: &[Namespace],
    max_json_values: usize,
    mcp: Table,
) -> mlua::Result<()> {
    let globals = lua.globals();
    let coroutine: Table = globals.raw_get("coroutine")?;
    let only_on_main: Function = lua
        .load(GUARD_ALL)
        .set_name("=kosmo")
        .into_function()?
        .call((
            host.clone(),
            coroutine.raw_get::<Function>("running")?,
            globals.raw_get::<Function>("error")?,
            globals.raw_get::<Function>("pairs")?,
            globals.raw_get::<Function>("type")?,
        ))?;
    let integrations = lua.create_table()?;
    for namespace in namespaces {
        integrations.raw_set(
            namespace.integration.meta.name,
            provider_namespace(lua, host, namespace, &only_on_main, max_json_values)?,
        )?;
    }
    let available: Vec<&'static str> = namespaces.iter().map(|n| n.integration.meta.name).collect();
    let unknown_integration = lua.create_function(move |_, (_, key): (Table, LuaValue)| {
        Ok(format!(
            "Unknown integration: app.integrations.{}. Available: {}",
            scalar(&key),
            available.join(", ")
        ))
    })?;
    lock(lua, &integrations, unknown_integration)?;
    let app = lua.create_table()?;
    app.raw_set("integrations", integrations)?;
    app.raw_set("mcp", mcp)?;
    app.set_metatable(Some(locked_metatable(lua, None)?))?;
    app.set_readonly(true);
    globals.raw_set("app", app)
}

/// `app.integrations.<provider>`: the default account's functions, `.default`, and one table
/// per named account.
fn provider_namespace(
    lua: &Lua,
    host: &Table,
    namespace: &Namespace,
    only_on_main: &Function,
    max_json_values: usize,
) -> mlua::Result<Table> {
    let meta = namespace.integration.meta;
    let accounts = namespace
        .accounts
        .iter()
        .map(|gate| &*gate.account)
        .collect::<Vec<_>>()
        .join(", ");
    let unknown = |account: Option<String>| {
        let accounts = accounts.clone();
        lua.create_function(move |lua, (_, key): (Table, LuaValue)| {
            let name = scalar(&key);
            let error = match meta.unknown_function(&name) {
                Error::UnknownFunction {
                    namespace,
                    name,
                    suggestion,
                } => {
                    // On the provider table a name may also have meant an account.
                    let suggestion = match &account {
                        None if suggestion.is_empty() => format!(
                            " It is neither a function nor a configured account (accounts: {accounts})."
                        ),
                        _ => suggestion,
                    };
                    let namespace = match &account {
                        Some(account) => format!("{namespace}.{account}"),
                        None => namespace,
                    };
                    Error::UnknownFunction {
                        namespace,
                        name,
                        suggestion,
                    }
                }
                other => other,
            };
            error_value(lua, &error)
        })
    };
    let mut gates = namespace.accounts.iter();
    let Some(default_gate) = gates.next() else {
        return lua.create_table();
    };
    let table = function_table(lua, host, default_gate.clone(), max_json_values)?;
    let default: Table = only_on_main.call(&table)?;
    lock(lua, &default, unknown(Some(DEFAULT_ACCOUNT.to_string()))?)?;
    table.raw_set(DEFAULT_ACCOUNT, default)?;
    for gate in gates {
        let account_table = function_table(lua, host, gate.clone(), max_json_values)?;
        let _: Table = only_on_main.call(&account_table)?;
        lock(
            lua,
            &account_table,
            unknown(Some(gate.account.to_string()))?,
        )?;
        table.raw_set(&*gate.account, account_table)?;
    }
    lock(lua, &table, unknown(None)?)?;
    Ok(table)
}

/// The table of an account's functions, each reachable by its Lua name, full slug and aliases.
///
/// Every failure is raised as a Lua error whose value is an error object (see
/// [`error_value`]).
fn function_table(
    lua: &Lua,
    host: &Table,
    gate: Arc<Gate>,
    max_json_values: usize,
) -> mlua::Result<Table> {
    let meta = gate.integration.meta;
    let table = lua.create_table()?;
    let calls_gate = gate.clone();
    let raw = lua.create_async_function(move |lua, (index, args): (usize, LuaValue)| {
        let gate = calls_gate.clone();
        let call = meta.functions.get(index).copied().map(|function| {
            call_args_to_json(&lua, function, &args, max_json_values).map(|args| (function, args))
        });
        async move {
            // Only the factory below calls `raw`, with the index of a function it made.
            let Some(call) = call else {
                return Err(mlua::Error::runtime(format!(
                    "app.integrations.{} has no function number {index}",
                    meta.name
                )));
            };
            let outcome = match call {
                Ok((function, args)) => {
                    gate.call(function, args, |output| output_to_lua(&lua, output))
                        .await
                }
                Err(error) => Err(Failure::Call(error)),
            };
            match outcome {
                Ok(result) => {
                    let (result, boxed) = for_return(&lua, result)?;
                    Ok((true, result, boxed))
                }
                Err(Failure::Call(error)) => {
                    Ok((false, LuaValue::Table(error_value(&lua, &error)?), false))
                }
                Err(Failure::Lua(error)) => Err(error),
            }
        }
    })?;
    let make: Function = lua
        .load(WRAPPER)
        .set_name(format!("=app.integrations.{}", meta.name))
        .call(raw)?;
    for (index, function) in meta.functions.iter().copied().enumerate() {
        let callable: Function = make.call(index)?;
        for name in std::iter::once(function.name)
            .chain(std::iter::once(function.slug))
            .chain(function.aliases.iter().copied())
        {
            table.raw_set(name, callable.clone())?;
        }
    }
    table.raw_set(
        RESERVED_ITERATOR_TABLE,
        each_table(lua, host, &gate, max_json_values)?,
    )?;
    Ok(table)
}

/// The name of the table of iterators; no function may have it (the generator refuses one).
pub(crate) const RESERVED_ITERATOR_TABLE: &str = "each";

/// A walk in progress, held by the iterator a script loops over.
#[derive(Clone)]
struct CursorHandle(Arc<tokio::sync::Mutex<ItemCursor>>);

impl mlua::UserData for CursorHandle {}

/// `each.<function>` for every function that pages: an iterator over all its items, one page
/// in memory at a time.
fn each_table(
    lua: &Lua,
    host: &Table,
    gate: &Arc<Gate>,
    max_json_values: usize,
) -> mlua::Result<Table> {
    let meta = gate.integration.meta;
    let table = lua.create_table()?;
    let make: Function = lua
        .load(EACH)
        .set_name(format!("=app.integrations.{}.each", meta.name))
        .into_function()?;
    let globals = lua.globals();
    let coroutine: Table = globals.raw_get("coroutine")?;
    let running: Function = coroutine.raw_get("running")?;
    let error: Function = globals.raw_get("error")?;
    let next_item = lua.create_async_function(|lua, cursor: mlua::AnyUserData| async move {
        let handle = cursor.borrow::<CursorHandle>()?.clone();
        let mut cursor = handle.0.lock().await;
        match cursor.next_item().await {
            Ok(Some(item)) => {
                let (item, boxed) = for_return(&lua, json_to_lua(&lua, &item)?)?;
                Ok((true, item, boxed))
            }
            Ok(None) => Ok((true, LuaValue::Nil, false)),
            Err(Failure::Call(error)) => {
                Ok((false, LuaValue::Table(error_value(&lua, &error)?), false))
            }
            Err(Failure::Lua(error)) => Err(error),
        }
    })?;
    for function in meta.functions.iter().copied() {
        if function.pagination.is_none() {
            continue;
        }
        let gate = gate.clone();
        let start = lua.create_function(move |lua, args: LuaValue| {
            let pager = call_args_to_json(lua, function, &args, max_json_values)
                .and_then(|args| Pager::new(gate.clone(), function, args));
            match pager {
                Ok(pager) => {
                    let handle =
                        CursorHandle(Arc::new(tokio::sync::Mutex::new(ItemCursor::new(pager))));
                    Ok((true, LuaValue::UserData(lua.create_userdata(handle)?)))
                }
                Err(error) => Ok((false, LuaValue::Table(error_value(lua, &error)?))),
            }
        })?;
        let iterator: Function = make.call((
            start,
            next_item.clone(),
            host.clone(),
            running.clone(),
            error.clone(),
        ))?;
        for name in std::iter::once(function.name)
            .chain(std::iter::once(function.slug))
            .chain(function.aliases.iter().copied())
        {
            table.raw_set(name, iterator.clone())?;
        }
    }
    let unknown = lua.create_function(move |lua, (_, key): (Table, LuaValue)| {
        let name = scalar(&key);
        let paged: Vec<&str> = meta
            .functions
            .iter()
            .filter(|f| f.pagination.is_some())
            .map(|f| f.name)
            .collect();
        let error = match meta.function(&name) {
            Some(function) => Error::invalid(
                function.name,
                "function",
                format!(
                    "does not page, so `each` cannot walk it; functions that page: {}.",
                    paged.join(", ")
                ),
            ),
            None => Error::UnknownFunction {
                namespace: format!("app.integrations.{}.each", meta.name),
                name,
                suggestion: format!(" Functions that page: {}.", paged.join(", ")),
            },
        };
        error_value(lua, &error)
    })?;
    lock(lua, &table, unknown)?;
    Ok(table)
}

/// A call's answer as a Lua value: a provider's body straight from its JSON text.
fn output_to_lua(lua: &Lua, output: Output) -> Result<LuaValue, Failure> {
    match output {
        Output::Response(response) => {
            json_bytes_to_lua(lua, response.body()).map_err(|error| match error {
                FromJsonError::Json(reason) => Failure::Call(response.unreadable(reason)),
                FromJsonError::Lua(error) => Failure::Lua(error),
            })
        }
        Output::Value(value) => json_to_lua(lua, &value).map_err(Failure::Lua),
    }
}

/// `{__metatable = "locked", __index = raise(message(key))}` for a read-only namespace table.
fn locked_metatable(lua: &Lua, unknown: Option<Function>) -> mlua::Result<Table> {
    let metatable = lua.create_table()?;
    if let Some(unknown) = unknown {
        let index: Function = lua
            .load(RAISE_UNKNOWN)
            .set_name("=kosmo")
            .into_function()?
            .call((unknown, lua.globals().raw_get::<Function>("error")?))?;
        metatable.raw_set("__index", index)?;
    }
    metatable.raw_set("__metatable", "locked")?;
    Ok(metatable)
}

fn lock(lua: &Lua, table: &Table, unknown: Function) -> mlua::Result<()> {
    table.set_metatable(Some(locked_metatable(lua, Some(unknown))?))?;
    table.set_readonly(true);
    Ok(())
}

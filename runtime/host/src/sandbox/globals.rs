//! The globals a script sees besides `app`: `print`, `dump`, `json`, `regex`, `docs`, `parallel`, the safe
//! standard library with limit-aware `pcall`, `xpcall` and `coroutine.resume`, and the
//! environment table that keeps built-ins read-only.

use std::sync::Arc;

use kosmo_runtime::Integration;
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use serde_json::Value;

use super::limits::{LUA_MEMORY_ERROR, LimitExceeded, Monitor};
use super::render::{self, RenderError};
use crate::docs::DocsIndex;
use crate::lua::{for_return, json_to_lua, lua_to_json};

/// Globals removed from Luau's standard library: loading code, the filesystem, the OS,
/// debugging, the garbage collector's controls, and `print` (replaced).
const REMOVED: [&str; 16] = [
    "getfenv",
    "setfenv",
    "loadstring",
    "load",
    "require",
    "collectgarbage",
    "gcinfo",
    "newproxy",
    "dofile",
    "loadfile",
    "os",
    "io",
    "debug",
    "package",
    "print",
    "_G",
];

/// Wraps a Rust builtin that returns `(true, n, a, b)` or `(false, message)` so that failures
/// are raised as plain Lua errors with the caller's position (what `tostring(err)` shows), not
/// as mlua's wrapped errors.
const PROTECT: &str = r#"
local f = ...
return function(...)
    local ok, n, a, b = f(...)
    if not ok then
        error(n, 2)
    end
    if n == 0 then
        return
    elseif n == 1 then
        return a
    elseif n == -1 then
        return a[1]
    end
    return a, b
end
"#;

/// The count [`PROTECT`] reads as "one value, boxed": a top-level integer beyond 2^53 (see
/// [`for_return`]).
const BOXED: i64 = -1;

/// Wraps the protected-call builtins so that a limit, once reached, cannot be caught.
const GUARDS: &str = r#"
local pcall, xpcall, resume, check, error = ...
local function guard(ok, ...)
    local stop = check(ok, (...))
    if stop then
        error(stop, 0)
    end
    return ok, ...
end
return function(f, ...)
    return guard(pcall(f, ...))
end, function(f, handler, ...)
    return guard(xpcall(f, handler, ...))
end, function(co, ...)
    return guard(resume(co, ...))
end
"#;

/// `docs.read`: `mcp.…` and `app.mcp.…` pages go to the MCP reader, the rest to the
/// integrations' docs.
const DOCS_READ: &str = r#"
local read, read_mcp, match, type = ...
return function(page, ...)
    if type(page) == "string" then
        local trimmed = match(page, "^%s*(.-)%s*$")
        if match(trimmed, "^mcp%.") or match(trimmed, "^app%.mcp%.") then
            return read_mcp(trimmed)
        end
    end
    return read(page, ...)
end
"#;

/// Refuses, from the environment's `__newindex`, what the raw setter says is refused.
const NEWINDEX: &str = r#"local raw, error = ... return function(t, k, v) local refused = raw(t, k, v) if refused then error(refused, 2) end end"#;

/// What the runner needs besides the environment: builtins captured before scripts can shadow
/// them.
pub(crate) struct Environment {
    pub(crate) env: Table,
    pub(crate) pcall: Function,
    pub(crate) check: Function,
    pub(crate) error: Function,
    pub(crate) pack: Function,
    pub(crate) unpack: Function,
    pub(crate) running: Function,
}

/// Installs every global but `app` and returns the environment scripts run in.
pub(crate) fn install(
    lua: &Lua,
    monitor: &Arc<Monitor>,
    integrations: Arc<[&'static Integration]>,
    mcp: &super::mcp::McpGlobals,
    host: &Table,
) -> mlua::Result<Environment> {
    let globals = lua.globals();
    for name in REMOVED {
        globals.raw_set(name, LuaValue::Nil)?;
    }
    let protector: Function = lua.load(PROTECT).set_name("=kosmo").into_function()?;

    // Limits survive pcall, xpcall and coroutine.resume.
    let check = {
        let monitor = monitor.clone();
        lua.create_function(move |_, (ok, err): (bool, LuaValue)| {
            if !ok
                && let LuaValue::String(s) = &err
                && s.as_bytes().as_ref() == LUA_MEMORY_ERROR.as_bytes()
            {
                monitor.set_stop(LimitExceeded::Memory);
            }
            Ok(monitor.stop_message())
        })?
    };
    let coroutine: Table = globals.raw_get("coroutine")?;
    let (pcall, xpcall, resume): (Function, Function, Function) =
        lua.load(GUARDS).set_name("=kosmo").into_function()?.call((
            globals.raw_get::<Function>("pcall")?,
            globals.raw_get::<Function>("xpcall")?,
            coroutine.raw_get::<Function>("resume")?,
            check.clone(),
            globals.raw_get::<Function>("error")?,
        ))?;
    let original_pcall: Function = globals.raw_get("pcall")?;
    globals.raw_set(
        "parallel",
        super::parallel::create(lua, host, pcall.clone(), monitor.clone())?,
    )?;
    globals.raw_set("pcall", pcall)?;
    globals.raw_set("xpcall", xpcall)?;
    coroutine.raw_set("resume", resume)?;

    install_output(lua, &globals, &protector, monitor)?;
    install_json(lua, &globals, &protector, monitor)?;
    install_regex(lua, &globals, &protector, monitor)?;
    install_docs(lua, &globals, &protector, integrations, mcp)?;
    globals.raw_set("mcp", mcp.global.clone())?;

    let env = environment_table(lua, &globals)?;
    let table: Table = globals.raw_get("table")?;
    Ok(Environment {
        env,
        pcall: original_pcall,
        check,
        error: globals.raw_get("error")?,
        pack: table.raw_get("pack")?,
        unpack: table.raw_get("unpack")?,
        running: coroutine.raw_get("running")?,
    })
}

/// `print` and `dump`: each call is one line of output, rendered within the output left.
fn install_output(
    lua: &Lua,
    globals: &Table,
    protector: &Function,
    monitor: &Arc<Monitor>,
) -> mlua::Result<()> {
    {
        let monitor = monitor.clone();
        globals.raw_set(
            "print",
            protect(lua, protector, move |_, args| {
                let mut line = String::new();
                for (i, value) in args.iter().enumerate() {
                    if i > 0 {
                        line.push('\t');
                    }
                    let budget = monitor.output_left().saturating_sub(line.len());
                    line.push_str(&rendered(&monitor, render::print_value(value, budget))?);
                }
                monitor.emit(line)?;
                none()
            })?,
        )?;
    }
    let monitor = monitor.clone();
    globals.raw_set(
        "dump",
        protect(lua, protector, move |_, args| {
            let value = arg(&args, 0);
            let text = rendered(&monitor, render::dump_value(&value, monitor.output_left()))?;
            monitor.emit(text)?;
            one(value)
        })?,
    )
}

/// A rendering, or the error that stops the run (output) or the call (a failing metamethod).
fn rendered(monitor: &Monitor, text: Result<String, RenderError>) -> Result<String, String> {
    match text {
        Ok(text) => Ok(text),
        Err(RenderError::TooLong) => Err(monitor.output_exceeded()),
        Err(RenderError::Lua(error)) => Err(error_message(&error)),
    }
}

fn install_json(
    lua: &Lua,
    globals: &Table,
    protector: &Function,
    monitor: &Arc<Monitor>,
) -> mlua::Result<()> {
    let json_table = lua.create_table()?;
    let limits = monitor.limits;
    json_table.raw_set(
        "encode",
        protect(lua, protector, move |lua, args| {
            let value = lua_to_json(&arg(&args, 0), limits.max_json_values())
                .map_err(|reason| format!("json.encode: the value must not {reason}"))?;
            let text =
                serde_json::to_string_pretty(&value).map_err(|e| format!("json.encode: {e}"))?;
            one(to_lua_string(lua, &text)?)
        })?,
    )?;
    json_table.raw_set(
        "decode",
        protect(lua, protector, |lua, args| {
            let text = string_arg(&args, 0, "json.decode")?;
            let value: Value =
                serde_json::from_str(&text).map_err(|e| format!("json.decode: {e}"))?;
            let value = json_to_lua(lua, &value)
                .map_err(|e| format!("json.decode: {}", error_message(&e)))?;
            one(value)
        })?,
    )?;
    json_table.raw_set("null", LuaValue::NULL)?;
    json_table.set_readonly(true);
    globals.raw_set("json", json_table)
}

fn install_regex(
    lua: &Lua,
    globals: &Table,
    protector: &Function,
    monitor: &Arc<Monitor>,
) -> mlua::Result<()> {
    let regex_raw = super::regex::create(lua, monitor.limits.memory)?;
    let regex_table = lua.create_table()?;
    for name in ["match", "match_all", "gsub"] {
        let f: Function = regex_raw.raw_get(name)?;
        regex_table.raw_set(
            name,
            protect(lua, protector, move |_, args| {
                let values: MultiValue = f.call(args).map_err(|e| error_message(&e))?;
                Ok(Returns(values.into_iter().take(2).collect()))
            })?,
        )?;
    }
    regex_table.set_readonly(true);
    globals.raw_set("regex", regex_table)
}

fn install_docs(
    lua: &Lua,
    globals: &Table,
    protector: &Function,
    integrations: Arc<[&'static Integration]>,
    mcp: &super::mcp::McpGlobals,
) -> mlua::Result<()> {
    let docs_table = lua.create_table()?;
    {
        let integrations = integrations.clone();
        let mcp_pages = mcp.pages.clone();
        docs_table.raw_set(
            "list",
            protect(lua, protector, move |lua, args| {
                let pages = match arg(&args, 0) {
                    LuaValue::Nil => {
                        let mut pages = DocsIndex::new(&integrations).list();
                        pages.extend(mcp_pages.iter().cloned());
                        pages
                    }
                    _ => {
                        let scope = string_arg(&args, 0, "docs.list")?;
                        list_under(&integrations, &mcp_pages, &scope)?
                    }
                };
                let list = lua
                    .create_sequence_from(pages)
                    .map_err(|e| error_message(&e))?;
                one(LuaValue::Table(list))
            })?,
        )?;
    }
    {
        let integrations = integrations.clone();
        docs_table.raw_set(
            "search",
            protect(lua, protector, move |lua, args| {
                let query = string_arg(&args, 0, "docs.search")?;
                let lines = DocsIndex::new(&integrations).search(&query, 20);
                let text = if lines.is_empty() {
                    format!("No functions match \"{query}\".")
                } else {
                    lines.join("\n")
                };
                one(to_lua_string(lua, &text)?)
            })?,
        )?;
    }
    let read = protect(lua, protector, move |lua, args| {
        let page = string_arg(&args, 0, "docs.read")?;
        let text = DocsIndex::new(&integrations).read(&page)?;
        one(to_lua_string(lua, &text)?)
    })?;
    // `mcp.…` pages are built from a live tool list, so they are read asynchronously.
    let read: Function = lua
        .load(DOCS_READ)
        .set_name("=docs")
        .into_function()?
        .call((
            read,
            mcp.read_docs.clone(),
            globals
                .raw_get::<Table>("string")?
                .raw_get::<Function>("match")?,
            globals.raw_get::<Function>("type")?,
        ))?;
    docs_table.raw_set("read", read)?;
    docs_table.set_readonly(true);
    globals.raw_set("docs", docs_table)
}

/// `docs.list(scope)`: the pages of a provider or a family page's (see
/// [`DocsIndex::list_under`]), or the MCP pages named `scope` or under it (`mcp`, `mcp.demo`).
fn list_under(
    integrations: &[&'static Integration],
    mcp_pages: &[String],
    scope: &str,
) -> Result<Vec<String>, String> {
    let scope = scope.trim();
    if let Some(pages) = DocsIndex::new(integrations).list_under(scope) {
        return Ok(pages);
    }
    let mcp: Vec<String> = mcp_pages
        .iter()
        .filter(|p| *p == scope || p.starts_with(&format!("{scope}.")))
        .cloned()
        .collect();
    if !mcp.is_empty() {
        return Ok(mcp);
    }
    let providers: Vec<&str> = integrations.iter().map(|i| i.meta.name).collect();
    Err(format!(
        "docs.list: no pages under `{scope}`; give a provider ({}), a family page (`<provider>.family.<family>`) or nothing for every page",
        if providers.is_empty() {
            "none here".to_string()
        } else {
            providers.join(", ")
        }
    ))
}

/// The environment scripts run in: reads fall through to the read-only globals, new globals
/// are allowed, replacing a built-in or assigning a `__` name is refused.
fn environment_table(lua: &Lua, globals: &Table) -> mlua::Result<Table> {
    let env = lua.create_table()?;
    let env_meta = lua.create_table()?;
    env_meta.raw_set("__index", globals.clone())?;
    let error_fn: Function = globals.raw_get("error")?;
    let newindex: Function = {
        let globals = globals.clone();
        let raw = lua.create_function(move |_, (env, key, value): (Table, LuaValue, LuaValue)| {
            if let LuaValue::String(name) = &key {
                let name = name.to_string_lossy();
                if name.starts_with("__") {
                    return Ok(Some(format!(
                        "Assigning the global `{name}` is not allowed: names starting with `__` are reserved."
                    )));
                }
                if !matches!(globals.raw_get::<LuaValue>(name.as_str())?, LuaValue::Nil) {
                    return Ok(Some(format!(
                        "`{name}` is a built-in global and is read-only; use a local variable instead."
                    )));
                }
            }
            env.raw_set(key, value)?;
            Ok(None)
        })?;
        lua.load(NEWINDEX)
            .set_name("=kosmo")
            .into_function()?
            .call((raw, error_fn))?
    };
    env_meta.raw_set("__newindex", newindex)?;
    env_meta.raw_set("__metatable", "locked")?;
    env.set_metatable(Some(env_meta))?;
    env.raw_set("_G", env.clone())?;
    Ok(env)
}

/// The text of an mlua error, without mlua's own prefixes and tracebacks.
pub(crate) fn error_message(error: &mlua::Error) -> String {
    match error {
        // mlua appends the coroutine's traceback; the message is what scripts raised.
        mlua::Error::RuntimeError(message) => match message.find("\nstack traceback:") {
            Some(at) => message[..at].to_string(),
            None => message.clone(),
        },
        mlua::Error::MemoryError(_) => LUA_MEMORY_ERROR.to_string(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::WithContext { cause, .. } => error_message(cause),
        mlua::Error::ExternalError(e) => e.to_string(),
        other => other.to_string(),
    }
}

fn protect<F>(lua: &Lua, protector: &Function, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> Result<Returns, String> + Send + 'static,
{
    let raw = lua.create_function(move |lua, args: MultiValue| {
        Ok(match f(lua, args) {
            Ok(Returns(values)) => {
                let mut n = values.len().min(2) as i64;
                let mut values = values.into_iter();
                let mut first = values.next().unwrap_or(LuaValue::Nil);
                if n == 1 {
                    let (value, boxed) = for_return(lua, first)?;
                    first = value;
                    if boxed {
                        n = BOXED;
                    }
                }
                (
                    true,
                    LuaValue::Integer(n),
                    first,
                    values.next().unwrap_or(LuaValue::Nil),
                )
            }
            Err(message) => (
                false,
                LuaValue::String(lua.create_string(&message)?),
                LuaValue::Nil,
                LuaValue::Nil,
            ),
        })
    })?;
    protector.call(raw)
}

/// What a protected builtin returns: at most two values.
struct Returns(Vec<LuaValue>);

fn none() -> Result<Returns, String> {
    Ok(Returns(Vec::new()))
}

fn one(value: LuaValue) -> Result<Returns, String> {
    Ok(Returns(vec![value]))
}

fn arg(args: &MultiValue, index: usize) -> LuaValue {
    args.get(index).cloned().unwrap_or(LuaValue::Nil)
}

fn string_arg(args: &MultiValue, index: usize, function: &str) -> Result<String, String> {
    match arg(args, index) {
        LuaValue::String(s) => Ok(s.to_string_lossy()),
        LuaValue::Integer(i) => Ok(i.to_string()),
        LuaValue::Number(n) => Ok(n.to_string()),
        other => Err(format!(
            "{function}: argument #{} must be a string, got {}",
            index + 1,
            other.type_name()
        )),
    }
}

fn to_lua_string(lua: &Lua, text: &str) -> Result<LuaValue, String> {
    lua.create_string(text)
        .map(LuaValue::String)
        .map_err(|e| error_message(&e))
}

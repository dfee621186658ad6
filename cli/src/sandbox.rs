//! The Lua sandbox of `integrations:lua`: a Luau state with only the safe standard library,
//! `app.integrations.*`, `print`, `dump`, `json`, `regex` and `docs`, and limits on memory, CPU
//! time and output.
//!
//! How the CPU limit holds even against `pcall`: Luau calls an interrupt at every function call
//! and loop back edge. Past the limit the interrupt sets a sticky stop flag and then alternately
//! yields the running coroutine (a yield cannot be caught by `pcall`; the host sees the pending
//! future, finds the flag and drops the script) and raises an error (for code that cannot yield,
//! such as a metamethod called from C). `pcall`, `xpcall` and `coroutine.resume` are wrapped so
//! that once the flag is set every protected call re-raises the limit error. A memory error is
//! made sticky the same way. A watchdog thread is the last resort for a single library call that
//! runs past the limit without reaching an interrupt: it reports and ends the process.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value as LuaValue, VmState};
use serde_json::{Value, json};

use crate::config::{DEFAULT_ACCOUNT, Settings};
use crate::dispatch::{CallOptions, CallRecord, Guarded, RunState};
use crate::providers::{PROVIDERS, Provider};
use crate::render;

pub const DEFAULT_MEMORY_LIMIT: usize = 32 * 1024 * 1024;
pub const DEFAULT_CPU_LIMIT: Duration = Duration::from_secs(30);
/// How long past the CPU limit the watchdog waits for the interrupt to stop the script.
const WATCHDOG_GRACE: Duration = Duration::from_secs(3);
/// Interrupts between two clock readings.
const TICKS_PER_CHECK: u32 = 128;

const STOP_NONE: u8 = 0;
const STOP_CPU: u8 = 1;
const STOP_MEMORY: u8 = 2;
const STOP_OUTPUT: u8 = 3;

/// Luau's message for a failed allocation.
const LUA_MEMORY_ERROR: &str = "not enough memory";

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub memory: usize,
    pub cpu: Duration,
    /// Bytes of `print`/`dump` output.
    pub output: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: DEFAULT_MEMORY_LIMIT,
            cpu: DEFAULT_CPU_LIMIT,
            output: DEFAULT_MEMORY_LIMIT,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunConfig {
    pub limits: Limits,
    pub options: CallOptions,
    /// Write output lines to stdout as they come (without `--json`) instead of collecting them.
    pub stream: bool,
}

/// What a run produced: the `--json` envelope's fields.
#[derive(Debug)]
pub struct Outcome {
    pub success: bool,
    pub output: String,
    pub error: Option<String>,
    pub result: Option<Vec<Value>>,
    pub execution_time_ms: f64,
    pub memory_usage: Option<usize>,
    pub calls: Vec<CallRecord>,
    pub permission_bypassed: bool,
    pub dry_run: bool,
}

/// The envelope of a run that could not start.
pub fn failed_envelope(message: &str) -> Value {
    Outcome {
        success: false,
        output: String::new(),
        error: Some(message.to_string()),
        result: None,
        execution_time_ms: 0.0,
        memory_usage: None,
        calls: Vec::new(),
        permission_bypassed: false,
        dry_run: false,
    }
    .envelope()
}

impl Outcome {
    pub fn envelope(&self) -> Value {
        json!({
            "success": self.success,
            "output": self.output,
            "error": self.error,
            "result": self.result,
            "execution_time_ms": (self.execution_time_ms * 1000.0).round() / 1000.0,
            "memory_usage": self.memory_usage,
            "integration_calls": self.calls.iter().map(CallRecord::to_json).collect::<Vec<_>>(),
            "meta": {
                "permission_bypassed": self.permission_bypassed,
                "dry_run": self.dry_run,
            },
        })
    }
}

/// Watches one run: time, the stop flag and the output.
struct Monitor {
    started: Instant,
    limits: Limits,
    state: Arc<RunState>,
    stop: AtomicU8,
    ticks: AtomicU32,
    toggle: AtomicBool,
    finished: AtomicBool,
    stream: bool,
    output: Mutex<OutputBuffer>,
}

#[derive(Default)]
struct OutputBuffer {
    lines: Vec<String>,
    bytes: usize,
}

impl Monitor {
    /// Time the script itself has run: wall time minus time spent waiting for integration
    /// calls (which have their own timeouts).
    fn script_time(&self) -> Duration {
        self.started
            .elapsed()
            .saturating_sub(self.state.call_time())
            .saturating_sub(self.state.in_flight())
    }

    fn stopped(&self) -> u8 {
        self.stop.load(Ordering::Relaxed)
    }

    fn set_stop(&self, reason: u8) {
        let _ = self
            .stop
            .compare_exchange(STOP_NONE, reason, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn stop_message(&self) -> Option<String> {
        match self.stopped() {
            STOP_CPU => Some(format!(
                "CPU time limit exceeded: the script ran longer than {} s (raise it with --cpu-limit).",
                seconds(self.limits.cpu)
            )),
            STOP_MEMORY => Some(format!(
                "Memory limit exceeded: the script needed more than {} bytes (raise it with --memory-limit).",
                self.limits.memory
            )),
            STOP_OUTPUT => Some(format!(
                "Output limit exceeded: the script printed more than {} bytes.",
                self.limits.output
            )),
            _ => None,
        }
    }

    fn interrupt(&self) -> mlua::Result<VmState> {
        if self.stopped() == STOP_NONE {
            let ticks = self.ticks.fetch_add(1, Ordering::Relaxed);
            if !ticks.is_multiple_of(TICKS_PER_CHECK) || self.script_time() <= self.limits.cpu {
                return Ok(VmState::Continue);
            }
            self.set_stop(STOP_CPU);
        }
        // Alternate: a yield ends the run when the code can yield; the error covers code that
        // cannot (the yield is then ignored and the next interrupt raises).
        if self.toggle.fetch_xor(true, Ordering::Relaxed) {
            Err(mlua::Error::runtime(
                self.stop_message().unwrap_or_default(),
            ))
        } else {
            Ok(VmState::Yield)
        }
    }

    /// Adds one line of output, or stops the run at the output limit.
    fn emit(&self, line: String) -> Result<(), String> {
        let Ok(mut buffer) = self.output.lock() else {
            return Err("output is unavailable".into());
        };
        let size = line.len() + 1;
        if buffer.bytes + size > self.limits.output {
            drop(buffer);
            self.set_stop(STOP_OUTPUT);
            return Err(self.stop_message().unwrap_or_default());
        }
        buffer.bytes += size;
        if self.stream {
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        } else {
            buffer.lines.push(line);
        }
        Ok(())
    }

    fn output(&self) -> String {
        self.output
            .lock()
            .map(|b| b.lines.join("\n"))
            .unwrap_or_default()
    }
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// The text of an mlua error, without mlua's own prefixes and tracebacks.
fn error_message(error: &mlua::Error) -> String {
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

/// Wraps a Rust builtin that returns `(true, a, b)` or `(false, message)` so that failures are
/// raised as plain Lua errors with the caller's position (what `tostring(err)` shows), not
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
    end
    return a, b
end
"#;

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
                    if running() ~= host.main then
                        error("Integration calls cannot run inside a coroutine; call them from the main script.", 2)
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

fn protect<F>(lua: &Lua, protector: &Function, f: F) -> mlua::Result<Function>
where
    F: Fn(&Lua, MultiValue) -> Result<Returns, String> + Send + 'static,
{
    let raw = lua.create_function(move |lua, args: MultiValue| {
        Ok(match f(lua, args) {
            Ok(Returns(values)) => {
                let n = values.len().min(2);
                let mut values = values.into_iter();
                (
                    true,
                    LuaValue::Integer(n as i64),
                    values.next().unwrap_or(LuaValue::Nil),
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

/// Refuses code that assigns a global whose name starts with `__`, before it runs.
pub fn reserved_assignment(code: &str) -> Option<String> {
    let stripped = strip_strings_and_comments(code);
    let bytes = stripped.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i + 1 < bytes.len() {
        let at_word_start = i == 0 || !is_word(bytes[i - 1]);
        if !(at_word_start && bytes[i] == b'_' && bytes[i + 1] == b'_') {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < bytes.len() && is_word(bytes[end]) {
            end += 1;
        }
        let name = &stripped[start..end];
        i = end;
        // Skip field and method names (`t.__index = ...`) and table constructor fields
        // (`{ __index = ... }`); the run-time guard covers what this misses.
        let before = stripped[..start].trim_end();
        if before.ends_with('.') && !before.ends_with("..") || before.ends_with(':') {
            continue;
        }
        let depth = before.matches('{').count() as i64 - before.matches('}').count() as i64;
        if depth > 0 {
            continue;
        }
        let previous_word = before
            .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if previous_word == "local" {
            continue;
        }
        if previous_word == "function" && before.ends_with("function") {
            return Some(name.to_string());
        }
        let after = stripped[end..].trim_start();
        let after = ["..=", "+=", "-=", "*=", "//=", "/=", "%=", "^="]
            .iter()
            .find_map(|op| after.strip_prefix(op).map(|rest| ("=", rest)))
            .map(|(_, rest)| format!("={rest}"))
            .unwrap_or_else(|| after.to_string());
        if after.starts_with('=') && !after.starts_with("==") {
            return Some(name.to_string());
        }
    }
    None
}

/// The code with string contents and comments blanked out, same length and line breaks.
fn strip_strings_and_comments(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    let long_bracket = |at: usize| -> Option<usize> {
        // `[`, zero or more `=`, `[`: returns the level.
        if chars.get(at) != Some(&'[') {
            return None;
        }
        let mut level = 0;
        while chars.get(at + 1 + level) == Some(&'=') {
            level += 1;
        }
        (chars.get(at + 1 + level) == Some(&'[')).then_some(level)
    };
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        if c == '-' && chars.get(i + 1) == Some(&'-') {
            if let Some(level) = long_bracket(i + 2) {
                let close: String = std::iter::once(']')
                    .chain(std::iter::repeat_n('=', level))
                    .chain(std::iter::once(']'))
                    .collect();
                let rest: String = chars[i..].iter().collect();
                let end = rest.find(&close).map_or(chars.len(), |p| {
                    i + rest[..p].chars().count() + close.chars().count()
                });
                out.extend(chars[i..end].iter().map(|&c| blank(c)));
                i = end;
            } else {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
        } else if let Some(level) = long_bracket(i) {
            let close: String = std::iter::once(']')
                .chain(std::iter::repeat_n('=', level))
                .chain(std::iter::once(']'))
                .collect();
            let rest: String = chars[i..].iter().collect();
            let end = rest.find(&close).map_or(chars.len(), |p| {
                i + rest[..p].chars().count() + close.chars().count()
            });
            out.push('"');
            out.extend(
                chars[i + 1..end.saturating_sub(1)]
                    .iter()
                    .map(|&c| blank(c)),
            );
            out.push('"');
            i = end.max(i + 2);
        } else if c == '"' || c == '\'' || c == '`' {
            out.push(c);
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    out.push(' ');
                    i += 1;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
            if i < chars.len() {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// What the runner needs besides the environment: builtins captured before scripts can
/// shadow them.
struct Environment {
    env: Table,
    host: Table,
    running: Function,
    pcall: Function,
    check: Function,
    error: Function,
    pack: Function,
    unpack: Function,
}

/// Builds the sandbox's globals and the environment table scripts run in.
fn build_environment(
    lua: &Lua,
    settings: &Settings,
    options: CallOptions,
    monitor: &Arc<Monitor>,
    state: &Arc<RunState>,
) -> mlua::Result<Environment> {
    let globals = lua.globals();
    for name in [
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
    ] {
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
                monitor.set_stop(STOP_MEMORY);
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
    globals.raw_set("pcall", pcall)?;
    globals.raw_set("xpcall", xpcall)?;
    coroutine.raw_set("resume", resume)?;

    // print and dump
    {
        let monitor = monitor.clone();
        globals.raw_set(
            "print",
            protect(lua, &protector, move |_, args| {
                let mut parts = Vec::with_capacity(args.len());
                for value in args.iter() {
                    parts.push(render::print_value(value).map_err(|e| error_message(&e))?);
                }
                monitor.emit(parts.join("\t"))?;
                none()
            })?,
        )?;
    }
    {
        let monitor = monitor.clone();
        globals.raw_set(
            "dump",
            protect(lua, &protector, move |_, args| {
                let value = arg(&args, 0);
                let text = render::dump_value(&value).map_err(|e| error_message(&e))?;
                monitor.emit(text)?;
                one(value)
            })?,
        )?;
    }

    // json
    let json_table = lua.create_table()?;
    json_table.raw_set(
        "encode",
        protect(lua, &protector, |lua, args| {
            let value = kosmo_runtime::lua::lua_to_json(&arg(&args, 0))
                .map_err(|reason| format!("json.encode: the value must not {reason}"))?;
            let text =
                serde_json::to_string_pretty(&value).map_err(|e| format!("json.encode: {e}"))?;
            one(to_lua_string(lua, &text)?)
        })?,
    )?;
    json_table.raw_set(
        "decode",
        protect(lua, &protector, |lua, args| {
            let text = string_arg(&args, 0, "json.decode")?;
            let value: Value =
                serde_json::from_str(&text).map_err(|e| format!("json.decode: {e}"))?;
            let value = kosmo_runtime::lua::json_to_lua(lua, &value)
                .map_err(|e| format!("json.decode: {}", error_message(&e)))?;
            one(value)
        })?,
    )?;
    json_table.raw_set("null", LuaValue::NULL)?;
    json_table.set_readonly(true);
    globals.raw_set("json", json_table)?;

    // regex
    let regex_raw = crate::regex_lib::create(lua)?;
    let regex_table = lua.create_table()?;
    for name in ["match", "match_all", "gsub"] {
        let f: Function = regex_raw.raw_get(name)?;
        regex_table.raw_set(
            name,
            protect(lua, &protector, move |_, args| {
                let values: MultiValue = f.call(args).map_err(|e| error_message(&e))?;
                Ok(Returns(values.into_iter().take(2).collect()))
            })?,
        )?;
    }
    regex_table.set_readonly(true);
    globals.raw_set("regex", regex_table)?;

    // docs
    let docs_table = lua.create_table()?;
    docs_table.raw_set(
        "list",
        protect(lua, &protector, |lua, _| {
            let list = lua
                .create_sequence_from(crate::docs::list())
                .map_err(|e| error_message(&e))?;
            one(LuaValue::Table(list))
        })?,
    )?;
    docs_table.raw_set(
        "search",
        protect(lua, &protector, |lua, args| {
            let query = string_arg(&args, 0, "docs.search")?;
            let lines = crate::docs::search(&query, 20);
            let text = if lines.is_empty() {
                format!("No functions match \"{query}\".")
            } else {
                lines.join("\n")
            };
            one(to_lua_string(lua, &text)?)
        })?,
    )?;
    docs_table.raw_set(
        "read",
        protect(lua, &protector, |lua, args| {
            let page = string_arg(&args, 0, "docs.read")?;
            let text = crate::docs::read(&page)?;
            one(to_lua_string(lua, &text)?)
        })?,
    )?;
    docs_table.set_readonly(true);
    globals.raw_set("docs", docs_table)?;

    // app.integrations: calls only from the script's own thread (an async call inside a
    // script coroutine would yield to the script instead of waiting for the answer).
    let host = lua.create_table()?;
    let running: Function = coroutine.raw_get("running")?;
    let only_on_main: Function = lua
        .load(GUARD_ALL)
        .set_name("=kosmo")
        .into_function()?
        .call((
            host.clone(),
            running,
            globals.raw_get::<Function>("error")?,
            globals.raw_get::<Function>("pairs")?,
            globals.raw_get::<Function>("type")?,
        ))?;
    let integrations = lua.create_table()?;
    for provider in PROVIDERS {
        integrations.raw_set(
            provider.meta.name,
            provider_namespace(lua, provider, settings, options, state, &only_on_main)?,
        )?;
    }
    let unknown_integration = lua.create_function(|_, (_, key): (Table, LuaValue)| {
        let available: Vec<&str> = PROVIDERS.iter().map(|p| p.meta.name).collect();
        Ok(format!(
            "Unknown integration: app.integrations.{}. Available: {}",
            render::print_value_plain(&key),
            available.join(", ")
        ))
    })?;
    lock(lua, &integrations, unknown_integration)?;
    let app = lua.create_table()?;
    app.raw_set("integrations", integrations)?;
    app.set_metatable(Some(locked_metatable(lua, None)?))?;
    app.set_readonly(true);
    globals.raw_set("app", app)?;

    lua.sandbox(true)?;

    // The environment scripts run in: reads fall through to the read-only globals, new
    // globals are allowed, replacing a built-in or assigning a `__` name is refused.
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
        lua.load(
            r#"local raw, error = ... return function(t, k, v) local refused = raw(t, k, v) if refused then error(refused, 2) end end"#,
        )
        .set_name("=kosmo")
        .into_function()?
        .call((raw, error_fn.clone()))?
    };
    env_meta.raw_set("__newindex", newindex)?;
    env_meta.raw_set("__metatable", "locked")?;
    env.set_metatable(Some(env_meta))?;
    env.raw_set("_G", env.clone())?;
    let table: Table = globals.raw_get("table")?;
    Ok(Environment {
        env,
        host,
        running: coroutine.raw_get("running")?,
        pcall: original_pcall,
        check,
        error: globals.raw_get("error")?,
        pack: table.raw_get("pack")?,
        unpack: table.raw_get("unpack")?,
    })
}

/// `{__metatable = "locked", __index = raise(message(key))}` for a read-only namespace table.
fn locked_metatable(lua: &Lua, unknown: Option<Function>) -> mlua::Result<Table> {
    let metatable = lua.create_table()?;
    if let Some(unknown) = unknown {
        let index: Function = lua
            .load(r#"local unknown, error = ... return function(t, k) error(unknown(t, k), 2) end"#)
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

/// `app.integrations.<provider>`: the default account's functions, `.default`, and one table
/// per named account.
fn provider_namespace(
    lua: &Lua,
    provider: &'static Provider,
    settings: &Settings,
    options: CallOptions,
    state: &Arc<RunState>,
    only_on_main: &Function,
) -> mlua::Result<Table> {
    let meta = provider.meta;
    let accounts = settings.accounts(meta.name).join(", ");
    let unknown = |account: Option<String>| {
        let accounts = accounts.clone();
        lua.create_function(move |lua, (_, key): (Table, LuaValue)| {
            let name = render::print_value_plain(&key);
            let error = match meta.unknown_function(&name) {
                kosmo_runtime::Error::UnknownFunction {
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
                    kosmo_runtime::Error::UnknownFunction {
                        namespace,
                        name,
                        suggestion,
                    }
                }
                other => other,
            };
            kosmo_runtime::lua::error_value(lua, &error)
        })
    };
    let default_dispatch = Arc::new(Guarded::new(
        provider,
        settings,
        DEFAULT_ACCOUNT,
        options,
        state.clone(),
    ));
    let table = kosmo_runtime::lua::provider_table(lua, meta, default_dispatch)?;
    let default: Table = only_on_main.call(&table)?;
    lock(lua, &default, unknown(Some(DEFAULT_ACCOUNT.to_string()))?)?;
    table.raw_set(DEFAULT_ACCOUNT, default)?;
    for account in settings.accounts(meta.name) {
        if account == DEFAULT_ACCOUNT {
            continue;
        }
        if meta.function(&account).is_some() {
            eprintln!(
                "warning: the {} account `{account}` has the name of a function; reach it with integrations:call --account {account}",
                meta.name
            );
            continue;
        }
        let dispatch = Arc::new(Guarded::new(
            provider,
            settings,
            &account,
            options,
            state.clone(),
        ));
        let account_table = kosmo_runtime::lua::provider_table(lua, meta, dispatch)?;
        let _: Table = only_on_main.call(&account_table)?;
        lock(lua, &account_table, unknown(Some(account.clone()))?)?;
        table.raw_set(account.as_str(), account_table)?;
    }
    lock(lua, &table, unknown(None)?)?;
    Ok(table)
}

/// Runs a script and reports what happened. Never panics on script input; the Lua state is
/// dropped at the end whatever the script did.
pub fn run(code: &[u8], chunk_name: &str, settings: &Settings, config: RunConfig) -> Outcome {
    let started = Instant::now();
    let state = Arc::new(RunState::default());
    let monitor = Arc::new(Monitor {
        started,
        limits: config.limits,
        state: state.clone(),
        stop: AtomicU8::new(STOP_NONE),
        ticks: AtomicU32::new(1),
        toggle: AtomicBool::new(false),
        finished: AtomicBool::new(false),
        stream: config.stream,
        output: Mutex::new(OutputBuffer::default()),
    });
    let fail = |error: String, monitor: &Monitor| Outcome {
        success: false,
        output: monitor.output(),
        error: Some(error),
        result: None,
        execution_time_ms: started.elapsed().as_secs_f64() * 1000.0,
        memory_usage: None,
        calls: state.calls(),
        permission_bypassed: state.permission_bypassed.load(Ordering::Relaxed),
        dry_run: config.options.dry_run,
    };
    if let Some(name) = reserved_assignment(&String::from_utf8_lossy(code)) {
        return fail(
            format!(
                "Refused before running: the script assigns the global `{name}`; names starting with `__` are reserved."
            ),
            &monitor,
        );
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(format!("cannot start the async runtime: {e}"), &monitor),
    };
    let lua = match Lua::new_with(
        StdLib::COROUTINE
            | StdLib::TABLE
            | StdLib::STRING
            | StdLib::UTF8
            | StdLib::BIT
            | StdLib::MATH
            | StdLib::BUFFER,
        LuaOptions::default(),
    ) {
        Ok(lua) => lua,
        Err(e) => return fail(format!("cannot create the Lua state: {e}"), &monitor),
    };
    let prepared = (|| -> mlua::Result<Result<Function, String>> {
        let environment = build_environment(&lua, settings, config.options, &monitor, &state)?;
        let chunk = match lua
            .load(code)
            .set_name(format!("={chunk_name}"))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_environment(environment.env)
            .into_function()
        {
            Ok(chunk) => chunk,
            Err(e) => return Ok(Err(error_message(&e))),
        };
        let text = lua.create_function(|lua, value: LuaValue| {
            Ok(kosmo_runtime::lua::error_text(lua, &value))
        })?;
        let runner: Function = lua.load(RUNNER).set_name("=kosmo").into_function()?.call((
            environment.pcall,
            chunk,
            environment.check,
            text,
            environment.pack,
            environment.unpack,
            environment.error,
            environment.host,
            environment.running,
        ))?;
        Ok(Ok(runner))
    })();
    let runner = match prepared {
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
    let memory_limit = lua.used_memory().saturating_add(config.limits.memory);
    if let Err(e) = lua.set_memory_limit(memory_limit) {
        return fail(format!("cannot set the memory limit: {e}"), &monitor);
    }
    {
        let monitor = monitor.clone();
        lua.set_interrupt(move |_| monitor.interrupt());
    }
    let watchdog = spawn_watchdog(monitor.clone(), config.stream);

    let outcome = runtime.block_on(Limited {
        inner: Box::pin(runner.call_async::<MultiValue>(())),
        monitor: monitor.clone(),
    });
    monitor.finished.store(true, Ordering::Relaxed);
    if let Some(handle) = watchdog {
        handle.thread().unpark();
    }
    // Converting the results must not fail for want of memory the script used up.
    let _ = lua.set_memory_limit(0);
    lua.remove_interrupt();

    match outcome {
        Ok(values) => {
            let result: Vec<Value> = values.iter().map(render::result_json).collect();
            if config.stream {
                for value in values.iter().filter(|v| !v.is_nil()) {
                    if let Ok(text) = render::print_value(value) {
                        let _ = monitor.emit(text);
                    }
                }
            }
            Outcome {
                success: true,
                output: monitor.output(),
                error: None,
                result: Some(result),
                execution_time_ms: started.elapsed().as_secs_f64() * 1000.0,
                memory_usage: Some(lua.used_memory()),
                calls: state.calls(),
                permission_bypassed: state.permission_bypassed.load(Ordering::Relaxed),
                dry_run: config.options.dry_run,
            }
        }
        Err(error) => {
            let mut message = error_message(&error);
            if message == LUA_MEMORY_ERROR {
                monitor.set_stop(STOP_MEMORY);
            }
            if let Some(limit) = monitor.stop_message() {
                message = limit;
            }
            fail(message, &monitor)
        }
    }
}

/// The script's future, cut short as soon as a limit stopped it (the interrupt yields, so the
/// future is pending with the flag set).
struct Limited<F> {
    inner: F,
    monitor: Arc<Monitor>,
}

impl<F> std::future::Future for Limited<F>
where
    F: std::future::Future<Output = mlua::Result<MultiValue>> + Unpin,
{
    type Output = mlua::Result<MultiValue>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match std::pin::Pin::new(&mut self.inner).poll(cx) {
            std::task::Poll::Ready(result) => std::task::Poll::Ready(result),
            std::task::Poll::Pending => match self.monitor.stop_message() {
                Some(message) => std::task::Poll::Ready(Err(mlua::Error::RuntimeError(message))),
                None => std::task::Poll::Pending,
            },
        }
    }
}

/// The last resort: a library call that runs far past the CPU limit without reaching an
/// interrupt (a pathological `string.find` pattern, say). Reports and ends the process.
fn spawn_watchdog(monitor: Arc<Monitor>, stream: bool) -> Option<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("kosmo-watchdog".into())
        .spawn(move || {
            loop {
                if monitor.finished.load(Ordering::Relaxed) {
                    return;
                }
                let used = monitor.script_time();
                let deadline = monitor.limits.cpu + WATCHDOG_GRACE;
                if used > deadline {
                    monitor.set_stop(STOP_CPU);
                    let message = format!(
                        "{} The process was stopped inside a library call.",
                        monitor.stop_message().unwrap_or_default()
                    );
                    if stream {
                        eprintln!("Error: {message}");
                    } else {
                        let outcome = Outcome {
                            success: false,
                            output: monitor.output(),
                            error: Some(message),
                            result: None,
                            execution_time_ms: monitor.started.elapsed().as_secs_f64() * 1000.0,
                            memory_usage: None,
                            calls: monitor.state.calls(),
                            permission_bypassed: monitor
                                .state
                                .permission_bypassed
                                .load(Ordering::Relaxed),
                            dry_run: false,
                        };
                        let text =
                            serde_json::to_string_pretty(&outcome.envelope()).unwrap_or_default();
                        println!("{text}");
                    }
                    std::process::exit(1);
                }
                let wait = (deadline - used).min(Duration::from_millis(250));
                std::thread::park_timeout(wait.max(Duration::from_millis(10)));
            }
        })
        .ok()
}

//! Glue between Lua values and the JSON the handlers speak, and the table of functions a provider
//! exposes under `app.integrations.<provider>`.

use std::collections::HashSet;
use std::sync::Arc;

use mlua::{Function, Lua, Table, Value as LuaValue};
use serde_json::{Map, Number, Value};

use crate::{Error, FunctionMeta, ProviderMeta, TransportFuture};

/// Deepest table nesting converted; deeper (or cyclic) input is refused, not followed forever.
const MAX_DEPTH: usize = 64;

/// Something that can run a provider's function by name: the generated dispatcher.
pub trait Dispatch: Send + Sync {
    fn call(&self, function: &'static FunctionMeta, args: Value) -> TransportFuture<'_>;
}

/// Name under which the shared metatable of error objects is kept in the Lua registry.
const ERROR_METATABLE: &str = "kosmo.error_metatable";

/// Lua source of the wrapper around each Rust callback: the callback returns `ok, value`, and
/// the wrapper raises `value` as the Lua error when `ok` is false. (A Rust callback can only
/// raise opaque userdata; raising from Lua lets scripts read the error object's fields.)
const WRAPPER: &str = r#"
local raw = ...
return function(args)
    local ok, value = raw(args)
    if ok then
        return value
    end
    error(value, 0)
end
"#;

/// Builds the table of a provider's functions, each reachable by its Lua name, full slug and aliases.
///
/// Every failure is raised as a Lua error whose value is an error object (see [`error_value`]):
/// `tostring(err)` is the message, and `err.status`, `err.code`, `err.message`,
/// `err.long_message`, `err.retry_after`, `err.trace_id` and `err.kind` are there for scripts
/// that branch on them.
pub fn provider_table(
    lua: &Lua,
    provider: &'static ProviderMeta,
    dispatch: Arc<dyn Dispatch>,
) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let wrap: Function = lua
        .load(WRAPPER)
        .set_name(format!("=app.integrations.{}", provider.name))
        .into_function()?;
    for function in provider.functions.iter().copied() {
        let dispatch = dispatch.clone();
        let raw = lua.create_async_function(move |lua, args: LuaValue| {
            let dispatch = dispatch.clone();
            async move {
                let outcome = match lua_to_json(&args) {
                    Ok(args) => dispatch.call(function, args).await,
                    Err(reason) => Err(Error::invalid(function.name, "arguments", reason)),
                };
                match outcome {
                    Ok(result) => Ok((true, json_to_lua(&lua, &result)?)),
                    Err(error) => Ok((false, LuaValue::Table(error_value(&lua, &error)?))),
                }
            }
        })?;
        let callable: Function = wrap.call(raw)?;
        for name in std::iter::once(function.name)
            .chain(std::iter::once(function.slug))
            .chain(function.aliases.iter().copied())
        {
            table.raw_set(name, callable.clone())?;
        }
    }
    Ok(table)
}

/// The Lua error object for `error`: a table whose `tostring` (and concatenation) is the full
/// message, with these fields:
///
/// - `text`: the full message, what `tostring` returns;
/// - `kind`: `api`, `invalid_argument`, `unknown_function`, `transport`, `timeout`,
///   `invalid_response` or `config`;
/// - `message`: the provider's own message for API errors, else the full message;
/// - `status`, `code`, `long_message`, `trace_id`, `retry_after`, `meta` for API errors;
/// - `function`, `parameter` for invalid arguments; `provider` when known.
pub fn error_value(lua: &Lua, error: &Error) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let text = error.to_string();
    table.raw_set("text", text.as_str())?;
    match error {
        Error::Api(api) => {
            table.raw_set("kind", "api")?;
            table.raw_set("provider", api.provider.as_str())?;
            table.raw_set("status", api.status)?;
            table.raw_set("message", api.message.as_str())?;
            table.raw_set("code", api.code.as_deref())?;
            table.raw_set("long_message", api.long_message.as_deref())?;
            table.raw_set("trace_id", api.trace_id.as_deref())?;
            table.raw_set("retry_after", api.retry_after)?;
            if let Some(meta) = &api.meta {
                table.raw_set("meta", json_to_lua(lua, meta)?)?;
            }
        }
        Error::InvalidArgument {
            function,
            parameter,
            ..
        } => {
            table.raw_set("kind", "invalid_argument")?;
            table.raw_set("message", text.as_str())?;
            table.raw_set("function", function.as_str())?;
            table.raw_set("parameter", parameter.as_str())?;
        }
        Error::UnknownFunction { name, .. } => {
            table.raw_set("kind", "unknown_function")?;
            table.raw_set("message", text.as_str())?;
            table.raw_set("function", name.as_str())?;
        }
        Error::Transport { provider, .. } => {
            table.raw_set("kind", "transport")?;
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
        }
        Error::Timeout { provider, .. } => {
            table.raw_set("kind", "timeout")?;
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
        }
        Error::InvalidResponse {
            provider, status, ..
        } => {
            table.raw_set("kind", "invalid_response")?;
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
            table.raw_set("status", *status)?;
        }
        Error::Config(_) => {
            table.raw_set("kind", "config")?;
            table.raw_set("message", text.as_str())?;
        }
    }
    table.set_metatable(Some(error_metatable(lua)?))?;
    Ok(table)
}

/// Whether `value` is an error object made by [`error_value`].
pub fn is_error_value(lua: &Lua, value: &LuaValue) -> bool {
    let LuaValue::Table(table) = value else {
        return false;
    };
    match (table.metatable(), error_metatable(lua)) {
        (Some(mt), Ok(expected)) => mt == expected,
        _ => false,
    }
}

/// The message of a Lua error value: the `text` of an error object, a string as is, anything
/// else through `tostring`-like formatting.
pub fn error_text(lua: &Lua, value: &LuaValue) -> String {
    if is_error_value(lua, value)
        && let LuaValue::Table(table) = value
        && let Ok(text) = table.raw_get::<String>("text")
    {
        return text;
    }
    match value {
        LuaValue::String(s) => s.to_string_lossy(),
        other => other
            .to_string()
            .unwrap_or_else(|_| format!("<{}>", other.type_name())),
    }
}

fn error_metatable(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(existing) = lua.named_registry_value::<Table>(ERROR_METATABLE) {
        return Ok(existing);
    }
    let metatable = lua.create_table()?;
    metatable.raw_set(
        "__tostring",
        lua.create_function(|_, this: Table| this.raw_get::<LuaValue>("text"))?,
    )?;
    metatable.raw_set(
        "__concat",
        lua.create_function(|lua, (a, b): (LuaValue, LuaValue)| {
            let mut text = error_text(lua, &a);
            text.push_str(&error_text(lua, &b));
            Ok(text)
        })?,
    )?;
    // Scripts can read the metatable's protection marker but not replace or change it.
    metatable.raw_set("__metatable", "kosmo.error")?;
    metatable.set_readonly(true);
    lua.set_named_registry_value(ERROR_METATABLE, &metatable)?;
    Ok(metatable)
}

/// Converts a Lua value into JSON. Tables with keys 1..n only become arrays; integral numbers
/// become integers (Luau has only doubles).
pub fn lua_to_json(value: &LuaValue) -> Result<Value, String> {
    let mut seen = HashSet::new();
    convert(value, 0, &mut seen)
}

fn convert(value: &LuaValue, depth: usize, seen: &mut HashSet<usize>) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("nest tables deeper than {MAX_DEPTH} levels."));
    }
    Ok(match value {
        LuaValue::Nil => Value::Null,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::from(*i),
        LuaValue::Number(n) => number(*n)?,
        LuaValue::String(s) => Value::String(
            s.to_str()
                .map_err(|_| "contain a string that is not UTF-8.".to_string())?
                .to_string(),
        ),
        LuaValue::LightUserData(ud) if ud.0.is_null() => Value::Null,
        LuaValue::Table(table) => {
            let id = table.to_pointer() as usize;
            if !seen.insert(id) {
                return Err("contain a table that refers to itself.".to_string());
            }
            let converted = convert_table(table, depth, seen)?;
            seen.remove(&id);
            converted
        }
        other => {
            return Err(format!(
                "contain a {}, which cannot be sent.",
                other.type_name()
            ));
        }
    })
}

fn number(n: f64) -> Result<Value, String> {
    if !n.is_finite() {
        return Err("contain a number that is not finite.".to_string());
    }
    // 2^53: beyond it doubles are not exact integers anyway.
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::from(n as i64));
    }
    Number::from_f64(n)
        .map(Value::Number)
        .ok_or_else(|| "contain a number that is not finite.".to_string())
}

fn convert_table(table: &Table, depth: usize, seen: &mut HashSet<usize>) -> Result<Value, String> {
    let len = table.raw_len();
    let mut entries = Vec::new();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let (key, value) = pair.map_err(|e| e.to_string())?;
        entries.push((key, value));
    }
    if len > 0 && entries.len() == len {
        let mut items = vec![Value::Null; len];
        for (key, value) in &entries {
            let index = match key {
                LuaValue::Integer(i) => *i as usize,
                LuaValue::Number(n) => *n as usize,
                _ => return Err("mix array items and named keys in one table.".to_string()),
            };
            if index == 0 || index > len {
                return Err("mix array items and named keys in one table.".to_string());
            }
            items[index - 1] = convert(value, depth + 1, seen)?;
        }
        return Ok(Value::Array(items));
    }
    if entries.is_empty() {
        // `{}` is ambiguous in Lua. A table that came from a JSON object (see
        // [`json_to_lua`]) stays an object; otherwise an empty array is what an empty list
        // parameter expects, and argument checking treats it as an empty table of named
        // parameters.
        if json_kind(table).as_deref() == Some("object") {
            return Ok(Value::Object(Map::new()));
        }
        return Ok(Value::Array(Vec::new()));
    }
    let mut map = Map::new();
    for (key, value) in &entries {
        let key = match key {
            LuaValue::String(s) => s
                .to_str()
                .map_err(|_| "use a key that is not UTF-8.".to_string())?
                .to_string(),
            LuaValue::Integer(i) => i.to_string(),
            LuaValue::Number(n) => number(*n)?.to_string(),
            _ => return Err("use a table key that is not a string or number.".to_string()),
        };
        map.insert(key, convert(value, depth + 1, seen)?);
    }
    // Lua's `pairs` order is unspecified; sorting keeps requests and output deterministic.
    map.sort_keys();
    Ok(Value::Object(map))
}

/// Converts JSON into Lua. `null` becomes Lua's `nil`-like null light userdata so arrays keep
/// their length; empty arrays and objects carry a marker metatable (see [`json_kind`]) so that
/// they convert back to what they were.
pub fn json_to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    let mut markers = Markers::default();
    // While a memory limit is set, mlua wraps every string and table write in a protected call
    // (so a failed allocation becomes an error, not a jump through Rust frames): for a typical
    // 1.5 KB API object that was half the cost of a whole integration call. When the result
    // surely fits under the limit, the limit is lifted while it is built; otherwise it is built
    // the protected way and fails cleanly at the limit.
    let limit = lua.set_memory_limit(0)?;
    let fits = limit == 0
        || lua
            .used_memory()
            .saturating_add(lua_size_estimate(value).saturating_mul(2))
            <= limit;
    if !fits {
        lua.set_memory_limit(limit)?;
        return to_lua(lua, value, &mut markers);
    }
    let converted = to_lua(lua, value, &mut markers);
    lua.set_memory_limit(limit)?;
    converted
}

/// A generous estimate of the bytes Luau allocates to hold `value` as tables and strings (table
/// headers, hash nodes rounded up to powers of two, string headers); twice it is the bound the
/// fast path of [`json_to_lua`] needs to stay under a memory limit.
fn lua_size_estimate(value: &Value) -> usize {
    const TABLE: usize = 128;
    const SLOT: usize = 96;
    const STRING: usize = 64;
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        Value::String(s) => STRING + s.len(),
        Value::Array(items) => {
            TABLE + items.len() * SLOT + items.iter().map(lua_size_estimate).sum::<usize>()
        }
        Value::Object(map) => {
            TABLE
                + map
                    .iter()
                    .map(|(k, v)| SLOT + STRING + k.len() + lua_size_estimate(v))
                    .sum::<usize>()
        }
    }
}

/// The marker metatables, looked up at most once per conversion.
#[derive(Default)]
struct Markers {
    array: Option<Table>,
    object: Option<Table>,
}

impl Markers {
    fn get(&mut self, lua: &Lua, kind: &str) -> mlua::Result<Table> {
        let slot = if kind == "array" {
            &mut self.array
        } else {
            &mut self.object
        };
        if let Some(table) = slot {
            return Ok(table.clone());
        }
        let table = json_marker(lua, kind)?;
        *slot = Some(table.clone());
        Ok(table)
    }
}

fn to_lua(lua: &Lua, value: &Value, markers: &mut Markers) -> mlua::Result<LuaValue> {
    Ok(match value {
        Value::Null => LuaValue::NULL,
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => LuaValue::Integer(i),
            None => LuaValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Array(items) => {
            let table = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                table.raw_set(i + 1, to_lua(lua, item, markers)?)?;
            }
            if items.is_empty() {
                table.set_metatable(Some(markers.get(lua, "array")?))?;
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                table.raw_set(key.as_str(), to_lua(lua, item, markers)?)?;
            }
            if map.is_empty() {
                table.set_metatable(Some(markers.get(lua, "object")?))?;
            }
            LuaValue::Table(table)
        }
    })
}

/// Field of the marker metatable that empty tables made from JSON carry, so that `{}` and `[]`
/// survive a round trip through Lua.
const JSON_KIND: &str = "__jsontype";

/// The shared, read-only marker metatable for empty JSON arrays (`kind` = `array`) or objects.
fn json_marker(lua: &Lua, kind: &str) -> mlua::Result<Table> {
    let key = format!("kosmo.json_{kind}");
    if let Ok(existing) = lua.named_registry_value::<Table>(&key) {
        return Ok(existing);
    }
    let metatable = lua.create_table()?;
    metatable.raw_set(JSON_KIND, kind)?;
    metatable.set_readonly(true);
    lua.set_named_registry_value(&key, &metatable)?;
    Ok(metatable)
}

/// `array` or `object` for a table marked by [`json_to_lua`].
pub fn json_kind(table: &Table) -> Option<String> {
    table
        .metatable()?
        .raw_get::<Option<String>>(JSON_KIND)
        .ok()?
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lua_tables_round_trip_through_json() {
        let lua = Lua::new();
        let value: LuaValue = lua
            .load(r#"return { limit = 20, query = "alex", ids = { "a", "b" }, ratio = 0.5, nested = { ok = true } }"#)
            .eval()
            .unwrap();
        let json = lua_to_json(&value).unwrap();
        assert_eq!(
            json,
            json!({"ids": ["a", "b"], "limit": 20, "nested": {"ok": true}, "query": "alex", "ratio": 0.5})
        );
        let back = json_to_lua(&lua, &json).unwrap();
        assert_eq!(lua_to_json(&back).unwrap(), json);
    }

    #[test]
    fn cycles_and_functions_are_refused() {
        let lua = Lua::new();
        let cyclic: LuaValue = lua.load("local t = {} t.self = t return t").eval().unwrap();
        assert!(
            lua_to_json(&cyclic)
                .unwrap_err()
                .contains("refers to itself")
        );
        let func: LuaValue = lua.load("return { f = function() end }").eval().unwrap();
        assert!(lua_to_json(&func).unwrap_err().contains("function"));
    }

    #[test]
    fn conversion_respects_the_memory_limit_and_restores_it() {
        let lua = Lua::new();
        let user = json!({"id": "user_1", "email_addresses": [{"email_address": "a@example.test"}], "public_metadata": {}});
        let limit = lua.used_memory() + 256 * 1024;
        lua.set_memory_limit(limit).unwrap();
        // Small results take the fast path and come back whole; the limit is in force again.
        let value = json_to_lua(&lua, &user).unwrap();
        assert_eq!(lua_to_json(&value).unwrap(), user);
        assert_eq!(lua.set_memory_limit(limit).unwrap(), limit);
        // A result that cannot fit fails with a memory error instead of overshooting the limit.
        let big = Value::Array(vec![user.clone(); 5_000]);
        match json_to_lua(&lua, &big) {
            Err(mlua::Error::MemoryError(_)) => {}
            other => panic!("expected a memory error, got {other:?}"),
        }
        // The half-built result is garbage.
        lua.gc_collect().unwrap();
        assert!(
            lua.used_memory() <= limit,
            "{} > {limit}",
            lua.used_memory()
        );
        assert_eq!(lua.set_memory_limit(limit).unwrap(), limit);
        // Without a limit anything converts.
        lua.set_memory_limit(0).unwrap();
        let value = json_to_lua(&lua, &big).unwrap();
        assert_eq!(lua_to_json(&value).unwrap(), big);
    }

    #[test]
    fn empty_json_arrays_and_objects_survive_lua() {
        let lua = Lua::new();
        let json = json!({"a": [], "b": {}, "c": [{}]});
        let value = json_to_lua(&lua, &json).unwrap();
        assert_eq!(lua_to_json(&value).unwrap(), json);
        // An empty table made by a script is an empty array, as before.
        let fresh: LuaValue = lua.load("return {}").eval().unwrap();
        assert_eq!(lua_to_json(&fresh).unwrap(), json!([]));
    }

    #[test]
    fn errors_are_raised_as_objects_with_fields() {
        struct Failing;
        impl Dispatch for Failing {
            fn call(&self, _: &'static FunctionMeta, _: Value) -> TransportFuture<'_> {
                Box::pin(async {
                    Err(Error::Api(Box::new(crate::ApiError {
                        provider: "Acme".into(),
                        status: 429,
                        code: Some("too_many_requests".into()),
                        message: "slow down".into(),
                        long_message: Some("Too many requests, retry later".into()),
                        meta: None,
                        trace_id: Some("trace_9".into()),
                        retry_after: Some(7),
                        body: String::new(),
                    })))
                })
            }
        }
        static FUNCTION: FunctionMeta = FunctionMeta {
            name: "ping",
            slug: "acme_ping",
            aliases: &[],
            title: "Ping",
            group: "misc",
            summary: "",
            description: "",
            operation: crate::Operation::Read,
            destructive: false,
            method: crate::Method::Get,
            path: "/ping",
            params: &[],
            input_schema: "{}",
        };
        static PROVIDER: ProviderMeta = ProviderMeta {
            name: "acme",
            label: "Acme",
            description: "",
            category: "",
            docs_url: "",
            base_url: "https://acme.test",
            version_header: None,
            bearer_credential: "key",
            credentials: &[],
            functions: &[&FUNCTION],
        };
        let lua = Lua::new();
        let table = provider_table(&lua, &PROVIDER, Arc::new(Failing)).unwrap();
        lua.globals().set("acme", table).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let fields: Vec<LuaValue> = runtime
            .block_on(
                lua.load(
                    r#"local ok, err = pcall(acme.acme_ping, {})
                       return tostring(err), err.kind, err.status, err.code, err.message,
                              err.long_message, err.trace_id, err.retry_after, "e: " .. err"#,
                )
                .eval_async::<mlua::MultiValue>(),
            )
            .unwrap()
            .into_iter()
            .collect();
        let text: Vec<String> = fields.iter().map(|v| v.to_string().unwrap()).collect();
        assert_eq!(
            text,
            [
                "Acme API error (429): slow down (Too many requests, retry later)",
                "api",
                "429",
                "too_many_requests",
                "slow down",
                "Too many requests, retry later",
                "trace_9",
                "7",
                "e: Acme API error (429): slow down (Too many requests, retry later)",
            ]
        );
    }
}

//! Glue between Lua values and the JSON the handlers speak, and the table of functions a provider
//! exposes under `app.integrations.<provider>`.

use std::collections::HashSet;
use std::sync::Arc;

use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Map, Number, Value};

use crate::{Error, FunctionMeta, ProviderMeta, TransportFuture};

/// Deepest table nesting converted; deeper (or cyclic) input is refused, not followed forever.
const MAX_DEPTH: usize = 64;

/// Something that can run a provider's function by name: the generated dispatcher.
pub trait Dispatch: Send + Sync {
    fn call(&self, function: &'static FunctionMeta, args: Value) -> TransportFuture<'_>;
}

/// Builds the table of a provider's functions, each reachable by its Lua name, full slug and aliases.
pub fn provider_table(
    lua: &Lua,
    provider: &'static ProviderMeta,
    dispatch: Arc<dyn Dispatch>,
) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    for function in provider.functions.iter().copied() {
        let dispatch = dispatch.clone();
        let callable = lua.create_async_function(move |lua, args: LuaValue| {
            let dispatch = dispatch.clone();
            async move {
                let args = lua_to_json(&args).map_err(|reason| {
                    mlua::Error::external(Error::invalid(function.name, "arguments", reason))
                })?;
                let result = dispatch
                    .call(function, args)
                    .await
                    .map_err(mlua::Error::external)?;
                json_to_lua(&lua, &result)
            }
        })?;
        for name in std::iter::once(function.name)
            .chain(std::iter::once(function.slug))
            .chain(function.aliases.iter().copied())
        {
            table.raw_set(name, callable.clone())?;
        }
    }
    Ok(table)
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
        // `{}` is ambiguous in Lua; an empty array is what an empty list parameter expects, and
        // argument checking treats it as an empty table of named parameters.
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
/// their length.
pub fn json_to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
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
                table.raw_set(i + 1, json_to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                table.raw_set(key.as_str(), json_to_lua(lua, item)?)?;
            }
            LuaValue::Table(table)
        }
    })
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
}

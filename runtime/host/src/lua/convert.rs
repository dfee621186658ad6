//! Lua values to JSON and back.
//!
//! Lua tables become JSON arrays when their keys are exactly `1..n`, else objects with sorted
//! keys; integral numbers become integers. JSON `null` becomes the null light userdata
//! (`json.null`), so arrays keep their length, and empty arrays and objects carry a marker
//! metatable so that `[]` and `{}` survive a round trip.
//!
//! Converting Lua to JSON runs in Rust, outside the VM's instruction count and memory limit,
//! so it is bounded by design: nesting by [`MAX_DEPTH`], and the number of values visited by a
//! caller's budget, which a table shared many times (`a = {a, a}` repeated) exhausts instead of
//! blowing up exponentially.

use std::collections::HashSet;

use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Map, Number, Value};

/// Deepest table nesting converted; deeper (or cyclic) input is refused, not followed forever.
pub const MAX_DEPTH: usize = 64;

/// Converts a Lua value into JSON, visiting at most `max_values` values. Errors complete the
/// sentence "the value must not …" (for example `contain a function, which cannot be sent.`).
pub fn lua_to_json(value: &LuaValue, max_values: usize) -> Result<Value, String> {
    let mut converter = ToJson {
        seen: HashSet::new(),
        remaining: max_values,
        max_values,
    };
    converter.convert(value, 0)
}

struct ToJson {
    seen: HashSet<usize>,
    remaining: usize,
    max_values: usize,
}

impl ToJson {
    fn convert(&mut self, value: &LuaValue, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nest tables deeper than {MAX_DEPTH} levels."));
        }
        if self.remaining == 0 {
            return Err(format!(
                "hold more than {} values (a table that appears many times counts each time).",
                self.max_values
            ));
        }
        self.remaining -= 1;
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
                if !self.seen.insert(id) {
                    return Err("contain a table that refers to itself.".to_string());
                }
                let converted = self.table(table, depth);
                self.seen.remove(&id);
                converted?
            }
            other => {
                return Err(format!(
                    "contain a {}, which cannot be sent.",
                    other.type_name()
                ));
            }
        })
    }

    fn table(&mut self, table: &Table, depth: usize) -> Result<Value, String> {
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
                items[index - 1] = self.convert(value, depth + 1)?;
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
            map.insert(key, self.convert(value, depth + 1)?);
        }
        // Lua's `pairs` order is unspecified; sorting keeps requests and output deterministic.
        map.sort_keys();
        Ok(Value::Object(map))
    }
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

/// Converts JSON into Lua. `null` becomes the null light userdata so arrays keep their length;
/// empty arrays and objects carry a marker metatable (see [`json_kind`]) so that they convert
/// back to what they were.
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const PLENTY: usize = 1_000_000;

    #[test]
    fn lua_tables_round_trip_through_json() {
        let lua = Lua::new();
        let value: LuaValue = lua
            .load(r#"return { limit = 20, query = "alex", ids = { "a", "b" }, ratio = 0.5, nested = { ok = true } }"#)
            .eval()
            .unwrap();
        let json = lua_to_json(&value, PLENTY).unwrap();
        assert_eq!(
            json,
            json!({"ids": ["a", "b"], "limit": 20, "nested": {"ok": true}, "query": "alex", "ratio": 0.5})
        );
        let back = json_to_lua(&lua, &json).unwrap();
        assert_eq!(lua_to_json(&back, PLENTY).unwrap(), json);
    }

    #[test]
    fn cycles_and_functions_are_refused() {
        let lua = Lua::new();
        let cyclic: LuaValue = lua.load("local t = {} t.self = t return t").eval().unwrap();
        assert!(
            lua_to_json(&cyclic, PLENTY)
                .unwrap_err()
                .contains("refers to itself")
        );
        let func: LuaValue = lua.load("return { f = function() end }").eval().unwrap();
        assert!(lua_to_json(&func, PLENTY).unwrap_err().contains("function"));
    }

    #[test]
    fn a_shared_table_cannot_expand_exponentially() {
        let lua = Lua::new();
        // 2^40 leaves if expanded: refused after the budget, quickly.
        let bomb: LuaValue = lua
            .load("local a = {1} for i = 1, 40 do a = {a, a} end return a")
            .eval()
            .unwrap();
        let error = lua_to_json(&bomb, 10_000).unwrap_err();
        assert!(error.contains("more than 10000 values"), "{error}");
        // The same shape, small enough, converts.
        let small: LuaValue = lua
            .load("local a = {1} for i = 1, 3 do a = {a, a} end return a")
            .eval()
            .unwrap();
        assert_eq!(
            lua_to_json(&small, 10_000).unwrap(),
            json!([[[[1], [1]], [[1], [1]]], [[[1], [1]], [[1], [1]]]])
        );
    }

    #[test]
    fn conversion_respects_the_memory_limit_and_restores_it() {
        let lua = Lua::new();
        let user = json!({"id": "user_1", "email_addresses": [{"email_address": "a@example.test"}], "public_metadata": {}});
        let limit = lua.used_memory() + 256 * 1024;
        lua.set_memory_limit(limit).unwrap();
        // Small results take the fast path and come back whole; the limit is in force again.
        let value = json_to_lua(&lua, &user).unwrap();
        assert_eq!(lua_to_json(&value, PLENTY).unwrap(), user);
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
        assert_eq!(lua_to_json(&value, PLENTY).unwrap(), big);
    }

    #[test]
    fn empty_json_arrays_and_objects_survive_lua() {
        let lua = Lua::new();
        let json = json!({"a": [], "b": {}, "c": [{}]});
        let value = json_to_lua(&lua, &json).unwrap();
        assert_eq!(lua_to_json(&value, PLENTY).unwrap(), json);
        // An empty table made by a script is an empty array, as before.
        let fresh: LuaValue = lua.load("return {}").eval().unwrap();
        assert_eq!(lua_to_json(&fresh, PLENTY).unwrap(), json!([]));
    }
}

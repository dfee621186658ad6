//! Lua values to JSON and back.
//!
//! Lua tables become JSON arrays when their keys are exactly `1..n`, else objects with sorted
//! keys; integral numbers become integers. JSON `null` becomes the null light userdata
//! (`json.null`), so arrays keep their length. An empty table is an array unless it carries the
//! object marker metatable, which every empty JSON object gets, so that `[]` and `{}` survive a
//! round trip. (Empty arrays need no marker: most empty values of an API object are arrays, and
//! each marker costs a metatable call.)
//!
//! Luau numbers are doubles, exact for integers up to ±2^53. A JSON integer beyond that (an ID,
//! say) becomes a Luau `integer`, a 64-bit value that `tostring`, `==`, table keys and the
//! `integer` library handle exactly, once [`keep_integers_exact`] has run on the state (the
//! sandbox runs it). mlua pushes every integer as a double, so such values are stored from Lua:
//! inside a table by a small Lua setter, and at the top level of a result through a one-item box
//! the Lua wrapper opens (see [`for_return`]). Integers beyond ±2^63 are read as the nearest
//! double, as JSON parsers without big numbers do.
//!
//! Converting Lua to JSON runs in Rust, outside the VM's instruction count and memory limit,
//! so it is bounded by design: nesting by [`MAX_DEPTH`], and the number of values visited by a
//! caller's budget, which a table shared many times (`a = {a, a}` repeated) exhausts instead of
//! blowing up exponentially.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use mlua::{Either, Function, LightUserData, Lua, Table, Value as LuaValue};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Deepest table nesting converted (a table in a table is two levels); deeper (or cyclic) input
/// is refused, not followed forever.
pub const MAX_DEPTH: usize = 64;

/// Converts a Lua value into JSON, visiting at most `max_values` values. Errors complete the
/// sentence "the value must not …" (for example `contain a function, which cannot be sent.`).
pub fn lua_to_json(value: &LuaValue, max_values: usize) -> Result<Value, String> {
    let mut converter = ToJson {
        path: Vec::new(),
        remaining: max_values,
        max_values,
    };
    converter.convert(value, 0)
}

struct ToJson {
    /// The tables from the root to the one being converted: a table met again on this path is a
    /// cycle. (A short list: nesting stops at [`MAX_DEPTH`].)
    path: Vec<usize>,
    remaining: usize,
    max_values: usize,
}

impl ToJson {
    fn convert(&mut self, value: &LuaValue, depth: usize) -> Result<Value, String> {
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
                // `depth` tables enclose this one: it is level `depth + 1`. (Counting values
                // instead let a 65th level through when it was empty.)
                if depth >= MAX_DEPTH {
                    return Err(format!("nest tables deeper than {MAX_DEPTH} levels."));
                }
                let id = table.to_pointer() as usize;
                if self.path.contains(&id) {
                    return Err("contain a table that refers to itself.".to_string());
                }
                self.path.push(id);
                let converted = self.table(table, depth);
                self.path.pop();
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

/// The largest magnitude up to which a double holds every integer exactly: 2^53.
const EXACT_IN_DOUBLE: u64 = 1 << 53;

/// Whether a double would not hold `i` exactly, so that it needs a Luau `integer`.
fn beyond_doubles(i: i64) -> bool {
    i.unsigned_abs() > EXACT_IN_DOUBLE
}

/// Registry name of the Lua function `(table, key, digits)` that stores a Luau `integer`.
const INTEGER_SETTER: &str = "kosmo.integer_setter";

/// Stores `integer.fromstring(digits)` from Lua: a Luau `integer` cannot cross mlua's API.
const SETTER: &str = r#"
local fromstring, rawset = ...
return function(t, k, digits)
    rawset(t, k, fromstring(digits))
end
"#;

/// Makes later conversions into `lua` keep JSON integers beyond ±2^53 exact, as Luau `integer`
/// values. Needs Luau's `integer` library (`mlua::StdLib::INTEGER`) in the globals; without
/// this call such integers become the nearest double.
pub fn keep_integers_exact(lua: &Lua) -> mlua::Result<()> {
    let globals = lua.globals();
    let integer: Table = globals.raw_get("integer").map_err(|_| {
        mlua::Error::runtime("exact integers need Luau's `integer` library (StdLib::INTEGER)")
    })?;
    let setter: Function = lua.load(SETTER).set_name("=kosmo").into_function()?.call((
        integer.raw_get::<Function>("fromstring")?,
        globals.raw_get::<Function>("rawset")?,
    ))?;
    lua.set_named_registry_value(INTEGER_SETTER, setter)
}

/// Prepares a value a Rust function hands back to Lua. A top-level integer beyond ±2^53 comes
/// back boxed, `(box, true)` with the Luau `integer` as `box[1]`, for the Lua wrapper to open;
/// anything else is `(value, false)`. (Values inside tables are exact already.)
pub fn for_return(lua: &Lua, value: LuaValue) -> mlua::Result<(LuaValue, bool)> {
    if let LuaValue::Integer(i) = value
        && beyond_doubles(i)
        && let Some(setter) = integer_setter(lua)
    {
        let boxed = lua.create_table_with_capacity(1, 0)?;
        setter.call::<()>((&boxed, 1, i.to_string()))?;
        return Ok((LuaValue::Table(boxed), true));
    }
    Ok((value, false))
}

fn integer_setter(lua: &Lua) -> Option<Function> {
    lua.named_registry_value::<Option<Function>>(INTEGER_SETTER)
        .ok()
        .flatten()
}

/// Converts JSON into Lua. `null` becomes the null light userdata so arrays keep their length;
/// empty objects carry the object marker (see [`json_kind`]) so that they convert back to
/// objects.
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

/// Why JSON text did not become a Lua value.
#[derive(Debug)]
pub enum FromJsonError {
    /// The text is not JSON.
    Json(serde_json::Error),
    /// Lua refused (usually: the memory limit).
    Lua(mlua::Error),
}

impl fmt::Display for FromJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FromJsonError::Json(e) => write!(f, "{e}"),
            FromJsonError::Lua(e) => write!(f, "{e}"),
        }
    }
}

/// Converts JSON text straight into Lua, as [`json_to_lua`] would convert its parsed value, but
/// without building a `serde_json::Value` first: for a page of API objects that is most of the
/// cost of a call. Empty text is an empty object.
pub fn json_bytes_to_lua(lua: &Lua, json: &[u8]) -> Result<LuaValue, FromJsonError> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return empty_object(lua).map_err(FromJsonError::Lua);
    }
    let limit = lua.set_memory_limit(0).map_err(FromJsonError::Lua)?;
    let fits = limit == 0
        || lua
            .used_memory()
            .saturating_add(text_size_estimate(json).saturating_mul(2))
            <= limit;
    if !fits {
        // Built the protected way, it fails cleanly at the limit.
        lua.set_memory_limit(limit).map_err(FromJsonError::Lua)?;
    }
    let converted = parse_into_lua(lua, json);
    if fits {
        lua.set_memory_limit(limit).map_err(FromJsonError::Lua)?;
    }
    converted
}

fn parse_into_lua(lua: &Lua, json: &[u8]) -> Result<LuaValue, FromJsonError> {
    let builder = Builder {
        lua,
        markers: RefCell::new(Markers::default()),
        failure: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let parsed = builder
        .deserialize(&mut deserializer)
        .and_then(|root| deserializer.end().map(|()| root));
    if let Some(failure) = builder.failure.into_inner() {
        return Err(FromJsonError::Lua(failure));
    }
    match parsed.map_err(FromJsonError::Json)? {
        Leaf::Str(text) => lua
            .create_string(text.as_ref())
            .map(LuaValue::String)
            .map_err(FromJsonError::Lua),
        Leaf::Int(i) => Ok(LuaValue::Integer(i)),
        Leaf::Number(n) => Ok(LuaValue::Number(n)),
        Leaf::Bool(b) => Ok(LuaValue::Boolean(b)),
        Leaf::Null => Ok(LuaValue::NULL),
        Leaf::Table(table) => Ok(LuaValue::Table(table)),
    }
}

/// A parsed value on its way into a table: scalars still borrow the text, containers are
/// finished tables.
enum Leaf<'de> {
    Str(Cow<'de, str>),
    Int(i64),
    Number(f64),
    Bool(bool),
    Null,
    Table(Table),
}

/// A [`Leaf`] as mlua pushes it: strings, numbers and booleans go straight onto the Lua stack,
/// without the registry reference a `mlua::Value` would need.
type Pushed<'a> =
    Either<&'a str, Either<i64, Either<f64, Either<bool, Either<&'a Table, LightUserData>>>>>;

impl Leaf<'_> {
    fn pushed(&self) -> Pushed<'_> {
        use Either::{Left, Right};
        match self {
            Leaf::Str(text) => Left(text.as_ref()),
            Leaf::Int(i) => Right(Left(*i)),
            Leaf::Number(n) => Right(Right(Left(*n))),
            Leaf::Bool(b) => Right(Right(Right(Left(*b)))),
            Leaf::Table(table) => Right(Right(Right(Right(Left(table))))),
            Leaf::Null => Right(Right(Right(Right(Right(LightUserData(
                std::ptr::null_mut(),
            )))))),
        }
    }
}

/// Builds one conversion. A container's entries are collected first, so that its table is made
/// at its final size in one call (one lock of the state, no rehashing). A Lua failure is kept
/// here, because serde can only carry a message: the caller must tell a memory error from bad
/// JSON.
struct Builder<'l> {
    lua: &'l Lua,
    markers: RefCell<Markers>,
    failure: RefCell<Option<mlua::Error>>,
}

impl Builder<'_> {
    fn lua_result<T, E: de::Error>(&self, result: mlua::Result<T>) -> Result<T, E> {
        result.map_err(|error| {
            let message = error.to_string();
            self.failure.borrow_mut().get_or_insert(error);
            E::custom(message)
        })
    }

    fn store_integer<E: de::Error>(
        &self,
        table: &Table,
        key: impl mlua::IntoLua,
        i: i64,
    ) -> Result<(), E> {
        let stored = self
            .markers
            .borrow_mut()
            .store_integer(self.lua, table, key, i);
        self.lua_result(stored)
    }

    /// The table made for a container; an empty object gets the object marker.
    fn finish<E: de::Error>(
        &self,
        table: mlua::Result<Table>,
        empty_object: bool,
    ) -> Result<Leaf<'static>, E> {
        let table = self.lua_result(table)?;
        if empty_object {
            let marker = self.markers.borrow_mut().object(self.lua);
            let marked = marker.and_then(|marker| table.set_metatable(Some(marker)));
            self.lua_result(marked)?;
        }
        Ok(Leaf::Table(table))
    }
}

impl<'de> DeserializeSeed<'de> for &Builder<'_> {
    type Value = Leaf<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Leaf<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Builder<'_> {
    type Value = Leaf<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Leaf<'de>, E> {
        Ok(i64::try_from(v).map_or(Leaf::Number(v as f64), Leaf::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Number(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Str(Cow::Owned(v.to_string())))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Leaf<'de>, E> {
        Ok(Leaf::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Leaf<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        let table = self
            .lua
            .create_sequence_from(items.iter().map(Leaf::pushed));
        let table = self.finish(table, false)?;
        for (index, item) in items.iter().enumerate() {
            if let (Leaf::Int(i), Leaf::Table(table)) = (item, &table)
                && beyond_doubles(*i)
            {
                self.store_integer(table, index + 1, *i)?;
            }
        }
        Ok(table)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Leaf<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(KeyText(key)) = map.next_key()? {
            let value = map.next_value_seed(self)?;
            entries.push((key, value));
        }
        let table = self.lua.create_table_from(
            entries
                .iter()
                .map(|(key, value)| (key.as_ref(), value.pushed())),
        );
        let table = self.finish(table, entries.is_empty())?;
        for (key, value) in &entries {
            if let (Leaf::Int(i), Leaf::Table(table)) = (value, &table)
                && beyond_doubles(*i)
            {
                self.store_integer(table, key.as_ref(), *i)?;
            }
        }
        Ok(table)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeyText<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A generous estimate of the bytes Luau allocates for the value JSON text spells: per table
/// (`{`, `[`), per string (two `"`) and per entry (`,`, `:`), plus the text itself.
fn text_size_estimate(json: &[u8]) -> usize {
    const TABLE: usize = 128 + 96;
    const STRING_QUOTE: usize = 64 / 2;
    const SEPARATOR: usize = 96;
    let (mut tables, mut quotes, mut separators) = (0usize, 0usize, 0usize);
    // Counters of a byte each over chunks of 255 bytes: the compiler vectorises this loop,
    // and a `match` per byte cost a tenth of the whole conversion.
    for chunk in json.chunks(255) {
        let (mut t, mut q, mut s) = (0u8, 0u8, 0u8);
        for &byte in chunk {
            t += u8::from(byte == b'{' || byte == b'[');
            q += u8::from(byte == b'"');
            s += u8::from(byte == b',' || byte == b':');
        }
        tables += usize::from(t);
        quotes += usize::from(q);
        separators += usize::from(s);
    }
    tables * TABLE + quotes * STRING_QUOTE + separators * SEPARATOR + json.len()
}

fn empty_object(lua: &Lua) -> mlua::Result<LuaValue> {
    let table = lua.create_table()?;
    table.set_metatable(Some(object_marker(lua)?))?;
    Ok(LuaValue::Table(table))
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

/// The object marker and the integer setter, looked up at most once per conversion.
#[derive(Default)]
struct Markers {
    object: Option<Table>,
    integer_setter: Option<Option<Function>>,
}

impl Markers {
    /// Replaces `table[key]`, which holds the nearest double, with `i` as a Luau `integer` when
    /// the state keeps integers exact (see [`keep_integers_exact`]).
    fn store_integer(
        &mut self,
        lua: &Lua,
        table: &Table,
        key: impl mlua::IntoLua,
        i: i64,
    ) -> mlua::Result<()> {
        let setter = self
            .integer_setter
            .get_or_insert_with(|| integer_setter(lua));
        match setter {
            Some(setter) => setter.call::<()>((table, key, i.to_string())),
            None => Ok(()),
        }
    }

    fn object(&mut self, lua: &Lua) -> mlua::Result<Table> {
        if let Some(table) = &self.object {
            return Ok(table.clone());
        }
        let table = object_marker(lua)?;
        self.object = Some(table.clone());
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
                let converted = to_lua(lua, item, markers)?;
                table.raw_set(i + 1, &converted)?;
                if let LuaValue::Integer(n) = converted
                    && beyond_doubles(n)
                {
                    markers.store_integer(lua, &table, i + 1, n)?;
                }
            }
            LuaValue::Table(table)
        }
        Value::Object(map) => {
            let table = lua.create_table_with_capacity(0, map.len())?;
            for (key, item) in map {
                let converted = to_lua(lua, item, markers)?;
                table.raw_set(key.as_str(), &converted)?;
                if let LuaValue::Integer(n) = converted
                    && beyond_doubles(n)
                {
                    markers.store_integer(lua, &table, key.as_str(), n)?;
                }
            }
            if map.is_empty() {
                table.set_metatable(Some(markers.object(lua)?))?;
            }
            LuaValue::Table(table)
        }
    })
}

/// Field of the marker metatable that empty objects made from JSON carry, so that `{}` survives
/// a round trip through Lua.
const JSON_KIND: &str = "__jsontype";

/// Registry name of the shared, read-only object marker.
const OBJECT_MARKER: &str = "kosmo.json_object";

fn object_marker(lua: &Lua) -> mlua::Result<Table> {
    if let Ok(existing) = lua.named_registry_value::<Table>(OBJECT_MARKER) {
        return Ok(existing);
    }
    let metatable = lua.create_table()?;
    metatable.raw_set(JSON_KIND, "object")?;
    metatable.set_readonly(true);
    lua.set_named_registry_value(OBJECT_MARKER, &metatable)?;
    Ok(metatable)
}

/// `object` for an empty table made from a JSON object by [`json_to_lua`] or
/// [`json_bytes_to_lua`].
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
    fn json_text_converts_like_its_parsed_value() {
        let lua = Lua::new();
        let text = r#"{"id":"user_1","n":[1,2.5,-3,18446744073709551615],"ok":true,"none":null,
            "esc\"aped":"line\nbreak \u00e9","empty":{},"list":[],"nested":[{"a":[]}]}"#;
        let value: Value = serde_json::from_str(text).unwrap();
        let direct = json_bytes_to_lua(&lua, text.as_bytes()).unwrap();
        let via_value = json_to_lua(&lua, &value).unwrap();
        assert_eq!(
            lua_to_json(&direct, PLENTY).unwrap(),
            lua_to_json(&via_value, PLENTY).unwrap()
        );
        assert_eq!(lua_to_json(&direct, PLENTY).unwrap()["empty"], json!({}));
        // Empty text is an empty object; bad text says it is not JSON.
        let empty = json_bytes_to_lua(&lua, b" ").unwrap();
        assert_eq!(lua_to_json(&empty, PLENTY).unwrap(), json!({}));
        for bad in [&b"{\"a\":"[..], b"<html>", b"[1,2] trailing"] {
            assert!(matches!(
                json_bytes_to_lua(&lua, bad),
                Err(FromJsonError::Json(_))
            ));
        }
    }

    #[test]
    fn json_text_respects_the_memory_limit() {
        let lua = Lua::new();
        let user =
            json!({"id": "user_1", "email_addresses": [{"email_address": "a@example.test"}]});
        let big = serde_json::to_vec(&Value::Array(vec![user; 5_000])).unwrap();
        let limit = lua.used_memory() + 256 * 1024;
        lua.set_memory_limit(limit).unwrap();
        match json_bytes_to_lua(&lua, &big) {
            Err(FromJsonError::Lua(mlua::Error::MemoryError(_))) => {}
            other => panic!("expected a memory error, got {other:?}"),
        }
        lua.gc_collect().unwrap();
        assert!(lua.used_memory() <= limit);
        assert_eq!(lua.set_memory_limit(limit).unwrap(), limit);
        let small = br#"{"id":"user_1"}"#;
        let value = json_bytes_to_lua(&lua, small).unwrap();
        assert_eq!(
            lua_to_json(&value, PLENTY).unwrap(),
            json!({"id": "user_1"})
        );
        assert_eq!(lua.set_memory_limit(limit).unwrap(), limit);
    }

    /// Found by `json_round_trips_through_lua` and its nesting sibling (tests/properties.rs):
    /// without serde_json's `float_roundtrip`, JSON text such as an API's answer was read one
    /// unit in the last place off.
    #[test]
    fn numbers_in_json_text_are_read_exactly() {
        let lua = Lua::new();
        for n in [
            1.2855784174243212e181,
            0.1 + 0.2,
            5e-324,
            1.7976931348623157e308,
        ] {
            let value =
                json_bytes_to_lua(&lua, serde_json::to_string(&n).unwrap().as_bytes()).unwrap();
            assert_eq!(lua_to_json(&value, PLENTY).unwrap(), json!(n));
        }
    }

    /// Found by `nesting_round_trips_up_to_the_limit_and_is_refused_past_it`
    /// (tests/properties.rs): 65 levels passed when the innermost table was empty.
    #[test]
    fn the_depth_limit_counts_tables_whatever_the_innermost_holds() {
        let lua = Lua::new();
        let nest =
            |levels: usize, inner: Value| (0..levels - 1).fold(inner, |v, _| Value::Array(vec![v]));
        for inner in [json!([]), json!({}), json!([1]), json!({"a": null})] {
            let fits = nest(MAX_DEPTH, inner.clone());
            let value = json_to_lua(&lua, &fits).unwrap();
            assert_eq!(lua_to_json(&value, PLENTY).unwrap(), fits);
            let too_deep = Value::Array(vec![fits]);
            let value = json_to_lua(&lua, &too_deep).unwrap();
            let error = lua_to_json(&value, PLENTY).unwrap_err();
            assert_eq!(error, "nest tables deeper than 64 levels.", "{inner}");
        }
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

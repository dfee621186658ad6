//! How Lua values are shown: `print`, `dump` (the reference's table format, not JSON) and the
//! values a chunk returns in the `--json` envelope.

use std::collections::HashSet;

use mlua::{Table, Value as LuaValue};
use serde_json::Value;

/// Deepest nesting `dump` descends into.
const MAX_DEPTH: usize = 100;

/// `print`'s rendering of one value: strings as they are, tables in the dump format, error
/// objects and tables with `__tostring` through it.
pub fn print_value(value: &LuaValue) -> mlua::Result<String> {
    match value {
        LuaValue::Table(table) => {
            if let Some(text) = tostring_metamethod(table)? {
                return Ok(text);
            }
            let mut out = String::new();
            dump_table(table, 0, &mut HashSet::new(), &mut out)?;
            Ok(out)
        }
        other => Ok(scalar(other)),
    }
}

/// `dump`'s rendering.
pub fn dump_value(value: &LuaValue) -> mlua::Result<String> {
    match value {
        LuaValue::Table(table) => {
            let mut out = String::new();
            dump_table(table, 0, &mut HashSet::new(), &mut out)?;
            Ok(out)
        }
        other => Ok(scalar(other)),
    }
}

fn tostring_metamethod(table: &Table) -> mlua::Result<Option<String>> {
    let Some(metatable) = table.metatable() else {
        return Ok(None);
    };
    match metatable.raw_get::<LuaValue>("__tostring")? {
        LuaValue::Function(f) => {
            let text: LuaValue = f.call(table.clone())?;
            Ok(Some(scalar(&text)))
        }
        _ => Ok(None),
    }
}

/// A key or scalar as text, without calling into Lua.
pub fn print_value_plain(value: &LuaValue) -> String {
    scalar(value)
}

fn scalar(value: &LuaValue) -> String {
    match value {
        LuaValue::Nil => "nil".to_string(),
        LuaValue::Boolean(b) => b.to_string(),
        LuaValue::Integer(i) => i.to_string(),
        LuaValue::Number(n) => number(*n),
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::LightUserData(ud) if ud.0.is_null() => "null".to_string(),
        other => format!("<{}>", other.type_name()),
    }
}

fn number(n: f64) -> String {
    if n.is_nan() {
        "nan".to_string()
    } else if n.is_infinite() {
        if n > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// Sort key: integer keys first in order, then everything else by its text.
fn key_order(key: &LuaValue) -> (u8, i64, String) {
    match key {
        LuaValue::Integer(i) => (0, *i, String::new()),
        LuaValue::Number(n) if n.fract() == 0.0 => (0, *n as i64, String::new()),
        other => (1, 0, scalar(other)),
    }
}

fn dump_table(
    table: &Table,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut String,
) -> mlua::Result<()> {
    let id = table.to_pointer() as usize;
    if !seen.insert(id) {
        out.push_str("<circular>");
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        out.push_str("<too deep>");
        seen.remove(&id);
        return Ok(());
    }
    let mut entries: Vec<(LuaValue, LuaValue)> = Vec::new();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        entries.push(pair?);
    }
    if entries.is_empty() {
        out.push_str("{}");
        seen.remove(&id);
        return Ok(());
    }
    let len = table.raw_len();
    let is_array = len == entries.len()
        && entries.iter().all(|(k, _)| {
            matches!(k, LuaValue::Integer(i) if *i >= 1 && (*i as usize) <= len)
                || matches!(k, LuaValue::Number(n) if n.fract() == 0.0 && *n >= 1.0 && (*n as usize) <= len)
        });
    entries.sort_by_key(|entry| key_order(&entry.0));
    let indent = "  ".repeat(depth + 1);
    out.push_str(if is_array { "[\n" } else { "{\n" });
    for (key, value) in &entries {
        out.push_str(&indent);
        if !is_array {
            out.push_str(&scalar(key));
            out.push_str(": ");
        }
        match value {
            LuaValue::Table(inner) => dump_table(inner, depth + 1, seen, out)?,
            other => out.push_str(&scalar(other)),
        }
        out.push('\n');
    }
    out.push_str(&"  ".repeat(depth));
    out.push_str(if is_array { "]" } else { "}" });
    seen.remove(&id);
    Ok(())
}

/// A returned value for the envelope: JSON when it converts, else its printed form.
pub fn result_json(value: &LuaValue) -> Value {
    match kosmo_runtime::lua::lua_to_json(value) {
        Ok(json) => json,
        Err(_) => Value::String(print_value(value).unwrap_or_else(|_| scalar(value))),
    }
}

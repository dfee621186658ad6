//! How Lua values are shown: `print`, `dump` (the reference's table format, not JSON) and the
//! values a chunk returns.
//!
//! Rendering runs in Rust, where no interrupt reaches, so it stops at a byte budget (the output
//! still allowed): a table shared many times over renders each time, and without the budget a
//! small state could print without end.

use std::collections::HashSet;

use mlua::{Table, Value as LuaValue};
use serde_json::Value;

use crate::lua::lua_to_json;

/// Deepest nesting `dump` descends into.
const MAX_DEPTH: usize = 100;

/// Why a value could not be shown.
#[derive(Debug)]
pub(crate) enum RenderError {
    /// It needs more than the budget.
    TooLong,
    /// A metamethod failed.
    Lua(mlua::Error),
}

impl From<mlua::Error> for RenderError {
    fn from(error: mlua::Error) -> Self {
        RenderError::Lua(error)
    }
}

type Rendered = Result<String, RenderError>;

/// `print`'s rendering of one value: strings as they are, tables in the dump format, error
/// objects and tables with `__tostring` through it.
pub(crate) fn print_value(value: &LuaValue, budget: usize) -> Rendered {
    match value {
        LuaValue::Table(table) => {
            if let Some(text) = tostring_metamethod(table)? {
                return within(text, budget);
            }
            dump_value(value, budget)
        }
        other => within(scalar(other), budget),
    }
}

/// `dump`'s rendering.
pub(crate) fn dump_value(value: &LuaValue, budget: usize) -> Rendered {
    match value {
        LuaValue::Table(table) => {
            let mut out = Writer {
                text: String::new(),
                budget,
            };
            dump_table(table, 0, &mut HashSet::new(), &mut out)?;
            Ok(out.text)
        }
        other => within(scalar(other), budget),
    }
}

fn within(text: String, budget: usize) -> Rendered {
    if text.len() > budget {
        Err(RenderError::TooLong)
    } else {
        Ok(text)
    }
}

/// A string that refuses to grow past its budget.
struct Writer {
    text: String,
    budget: usize,
}

impl Writer {
    fn push(&mut self, part: &str) -> Result<(), RenderError> {
        if self.text.len() + part.len() > self.budget {
            return Err(RenderError::TooLong);
        }
        self.text.push_str(part);
        Ok(())
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
pub(crate) fn scalar(value: &LuaValue) -> String {
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
    out: &mut Writer,
) -> Result<(), RenderError> {
    let id = table.to_pointer() as usize;
    if !seen.insert(id) {
        return out.push("<circular>");
    }
    let result = dump_entries(table, depth, seen, out);
    seen.remove(&id);
    result
}

fn dump_entries(
    table: &Table,
    depth: usize,
    seen: &mut HashSet<usize>,
    out: &mut Writer,
) -> Result<(), RenderError> {
    if depth >= MAX_DEPTH {
        return out.push("<too deep>");
    }
    let mut entries: Vec<(LuaValue, LuaValue)> = Vec::new();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        entries.push(pair?);
        // Each entry prints at least a line break: more entries than the budget cannot fit.
        if entries.len() > out.budget {
            return Err(RenderError::TooLong);
        }
    }
    if entries.is_empty() {
        return out.push("{}");
    }
    let len = table.raw_len();
    let is_array = len == entries.len()
        && entries.iter().all(|(k, _)| {
            matches!(k, LuaValue::Integer(i) if *i >= 1 && (*i as usize) <= len)
                || matches!(k, LuaValue::Number(n) if n.fract() == 0.0 && *n >= 1.0 && (*n as usize) <= len)
        });
    entries.sort_by_key(|entry| key_order(&entry.0));
    let indent = "  ".repeat(depth + 1);
    out.push(if is_array { "[\n" } else { "{\n" })?;
    for (key, value) in &entries {
        out.push(&indent)?;
        if !is_array {
            out.push(&scalar(key))?;
            out.push(": ")?;
        }
        match value {
            LuaValue::Table(inner) => dump_table(inner, depth + 1, seen, out)?,
            other => out.push(&scalar(other))?,
        }
        out.push("\n")?;
    }
    out.push(&"  ".repeat(depth))?;
    out.push(if is_array { "]" } else { "}" })
}

/// A returned value for the run's result: JSON when it converts, else its printed form, within
/// the same bounds as output.
pub(crate) fn result_json(value: &LuaValue, max_values: usize, budget: usize) -> Value {
    match lua_to_json(value, max_values) {
        Ok(json) => json,
        Err(_) => Value::String(match print_value(value, budget) {
            Ok(text) => text,
            Err(_) => format!("<{} too large to show>", value.type_name()),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dump_uses_the_reference_format() {
        let lua = mlua::Lua::new();
        let value: LuaValue = lua
            .load(r#"return { name = "x", list = { 1, 2 }, empty = {} }"#)
            .eval()
            .unwrap();
        assert_eq!(
            dump_value(&value, 1000).unwrap(),
            "{\n  empty: {}\n  list: [\n    1\n    2\n  ]\n  name: x\n}"
        );
    }

    #[test]
    fn a_shared_table_stops_at_the_budget() {
        let lua = mlua::Lua::new();
        let bomb: LuaValue = lua
            .load("local a = {1} for i = 1, 40 do a = {a, a} end return a")
            .eval()
            .unwrap();
        assert!(matches!(dump_value(&bomb, 4096), Err(RenderError::TooLong)));
        assert!(matches!(
            print_value(&bomb, 4096),
            Err(RenderError::TooLong)
        ));
        let text: LuaValue = lua.load("return string.rep('x', 100)").eval().unwrap();
        assert!(matches!(print_value(&text, 99), Err(RenderError::TooLong)));
        assert_eq!(print_value(&text, 100).unwrap().len(), 100);
    }
}

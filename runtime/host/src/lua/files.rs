//! A call's Lua arguments as JSON, with its `file` arguments' bytes kept whole.
//!
//! Lua strings are byte strings, and a file's `content` is usually binary (a PNG, a PDF): the
//! generic conversion ([`lua_to_json`]) refuses a string that is not UTF-8, and JSON text cannot
//! carry raw bytes anyway. So for each parameter of type `file`, a table's `content` is handed on
//! as `content_base64`, the form every other front-end (JSON arguments, MCP tools) uses, and the
//! runtime decodes it back to the same bytes before sending.

use kosmo_runtime::file::{FileError, check_size, encode_base64};
use kosmo_runtime::{Error, FunctionMeta, ParamMeta, ParamType};
use mlua::{Lua, Table, Value as LuaValue};
use serde_json::{Map, Value};

use super::convert::lua_to_json;

/// Converts a call's arguments to JSON (see the module docs). Generic conversion problems are
/// reported against `arguments`, a file's against its parameter.
pub fn call_args_to_json(
    lua: &Lua,
    function: &FunctionMeta,
    args: &LuaValue,
    max_values: usize,
) -> Result<Value, Error> {
    let generic = |value: &LuaValue| {
        lua_to_json(value, max_values)
            .map_err(|reason| Error::invalid(function.name, "arguments", reason))
    };
    let LuaValue::Table(table) = args else {
        return generic(args);
    };
    let files: Vec<&ParamMeta> = function
        .params
        .iter()
        .filter(|p| p.ty == ParamType::File)
        .collect();
    if files.is_empty() {
        return generic(args);
    }
    // The file arguments given, under whichever name or alias.
    let mut given = Vec::new();
    for param in files {
        for name in std::iter::once(param.name).chain(param.aliases.iter().copied()) {
            let value: LuaValue = table.raw_get(name).map_err(|e| {
                Error::invalid(function.name, "arguments", format!("cannot be read: {e}"))
            })?;
            if !value.is_nil() {
                given.push((name, param, value));
            }
        }
    }
    if given.is_empty() {
        return generic(args);
    }
    // The other arguments convert as usual, from a copy without the files.
    let rest = table
        .clone()
        .pairs::<LuaValue, LuaValue>()
        .filter_map(|pair| match pair {
            Ok((LuaValue::String(key), _))
                if given
                    .iter()
                    .any(|(name, _, _)| key.as_bytes() == name.as_bytes()) =>
            {
                None
            }
            other => Some(other),
        })
        .collect::<mlua::Result<Vec<_>>>()
        .map_err(|e| Error::invalid(function.name, "arguments", format!("cannot be read: {e}")))?;
    let mut map = match rest.is_empty() {
        true => Map::new(),
        false => {
            let copy = table_from(lua, rest)
                .map_err(|e| Error::invalid(function.name, "arguments", e.to_string()))?;
            match generic(&LuaValue::Table(copy))? {
                Value::Object(map) => map,
                // Array items beside named files: the runtime names the problem.
                other => return Ok(other),
            }
        }
    };
    for (name, param, value) in given {
        let json = file_to_json(param, &value, max_values)
            .map_err(|problem| Error::invalid(function.name, param.name, problem))?;
        map.insert(name.to_string(), json);
    }
    Ok(Value::Object(map))
}

/// A new table with `entries`.
fn table_from(lua: &Lua, entries: Vec<(LuaValue, LuaValue)>) -> mlua::Result<Table> {
    let table = lua.create_table_with_capacity(0, entries.len())?;
    for (key, value) in entries {
        table.raw_set(key, value)?;
    }
    Ok(table)
}

/// A file table as JSON: `content` (any Lua string) becomes `content_base64`; every other
/// field converts as usual, for the runtime to check. A value that is not a table converts
/// as it is, and the runtime says what a file should be.
fn file_to_json(param: &ParamMeta, value: &LuaValue, max_values: usize) -> Result<Value, String> {
    let LuaValue::Table(table) = value else {
        return lua_to_json(value, max_values).map_err(|reason| format!("must not {reason}"));
    };
    let mut map = Map::new();
    let mut bytes = None;
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let (key, item) = pair.map_err(|e| e.to_string())?;
        match (&key, &item) {
            (LuaValue::String(k), LuaValue::String(content)) if k.as_bytes() == b"content" => {
                bytes = Some(content.as_bytes().to_vec());
            }
            _ => {
                let key =
                    lua_to_json(&key, max_values).map_err(|reason| format!("must not {reason}"))?;
                let key = match key {
                    Value::String(key) => key,
                    other => other.to_string(),
                };
                let item = lua_to_json(&item, max_values)
                    .map_err(|reason| format!("must not {reason}"))?;
                map.insert(key, item);
            }
        }
    }
    if let Some(bytes) = bytes {
        if map.get("content_base64").is_some_and(|v| !v.is_null()) {
            return Err(FileError::BothContents.to_string());
        }
        // Refused before its base64 is made: it would be refused after anyway.
        check_size(param, bytes.len() as u64).map_err(|e| e.to_string())?;
        map.insert(
            "content_base64".into(),
            Value::String(encode_base64(&bytes)),
        );
    }
    map.sort_keys();
    Ok(Value::Object(map))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use kosmo_runtime::FileArg;
    use serde_json::json;

    static PARAMS: [ParamMeta; 2] = [
        ParamMeta::path("user_id", ParamType::String),
        ParamMeta::body("file", ParamType::File)
            .aliases(&["image"])
            .max_bytes(300),
    ];
    static UPLOAD: FunctionMeta = FunctionMeta {
        name: "upload",
        slug: "x_upload",
        params: &PARAMS,
        ..FunctionMeta::DEFAULT
    };

    fn convert(lua: &Lua, code: &str) -> Result<Value, String> {
        let args: LuaValue = lua.load(code).eval().unwrap();
        call_args_to_json(lua, &UPLOAD, &args, 10_000).map_err(|e| e.to_string())
    }

    #[test]
    fn every_byte_of_a_lua_string_survives() {
        let lua = Lua::new();
        let json = convert(
            &lua,
            r#"local bytes = {}
            for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
            return { user_id = "user_1", file = { content = table.concat(bytes), filename = "all.bin" } }"#,
        )
        .unwrap();
        assert_eq!(json["user_id"], "user_1");
        assert_eq!(json["file"]["filename"], "all.bin");
        let file = FileArg::from_json(&json["file"]).unwrap();
        assert_eq!(file.content.to_vec(), (0..=255).collect::<Vec<u8>>());
        // Under an alias too, and content_base64 passes through untouched.
        let json = convert(
            &lua,
            r#"return { user_id = "u", image = { content_base64 = "AAEC", content_type = "x/y" } }"#,
        )
        .unwrap();
        assert_eq!(
            json,
            json!({"user_id": "u", "image": {"content_base64": "AAEC", "content_type": "x/y"}})
        );
    }

    #[test]
    fn file_problems_are_named_before_anything_else_happens() {
        let lua = Lua::new();
        assert_eq!(
            convert(
                &lua,
                r#"return { file = { content = "x", content_base64 = "eA==" } }"#
            )
            .unwrap_err(),
            "upload: file has both `content` and `content_base64`; give only one."
        );
        assert_eq!(
            convert(
                &lua,
                r#"return { file = { content = string.rep("x", 301) } }"#
            )
            .unwrap_err(),
            "upload: file is 301 bytes; at most 300 bytes may be sent, so nothing was sent."
        );
        assert_eq!(
            convert(
                &lua,
                r#"return { file = { content = "x", filename = function() end } }"#
            )
            .unwrap_err(),
            "upload: file must not contain a function, which cannot be sent."
        );
        // Not a table: converted as it is, for the runtime to refuse.
        assert_eq!(
            convert(&lua, r#"return { file = "logo.png" }"#).unwrap(),
            json!({"file": "logo.png"})
        );
        // Without files, the generic conversion and its messages.
        assert_eq!(convert(&lua, "return {}").unwrap(), json!([]));
        assert_eq!(
            convert(&lua, r#"return { user_id = "\255" }"#).unwrap_err(),
            "upload: arguments contain a string that is not UTF-8."
        );
    }
}

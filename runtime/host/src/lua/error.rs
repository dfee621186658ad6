//! Errors as scripts see them: a table whose `tostring` is the message and whose fields let a
//! script branch on the kind, status or code.

use kosmo_runtime::Error;
use mlua::{Lua, Table, Value as LuaValue};

use super::convert::json_to_lua;

/// Name under which the shared metatable of error objects is kept in the Lua registry.
const ERROR_METATABLE: &str = "kosmo.error_metatable";

/// The Lua error object for `error`: a table whose `tostring` (and concatenation) is the full
/// message, with these fields:
///
/// - `text`: the full message, what `tostring` returns;
/// - `kind`: `api`, `invalid_argument`, `unknown_function`, `transport`, `timeout`,
///   `invalid_response` or `config`;
/// - `message`: the provider's own message for API errors, else the full message;
/// - `status`, `code`, `long_message`, `trace_id`, `retry_after`, `meta` for API errors, and
///   `earlier_attempt` when the answer came to a retry after an attempt that may have been
///   applied (`a 500 answer`);
/// - `function`, `parameter` for invalid arguments; `provider` when known.
///
/// [`Error::fields`] gives the same fields as JSON (the MCP gateway's); a test keeps the two
/// alike. This one sets the table directly, without building JSON first.
pub fn error_value(lua: &Lua, error: &Error) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    let text = error.to_string();
    table.raw_set("text", text.as_str())?;
    table.raw_set("kind", error.kind())?;
    match error {
        Error::Api(api) => {
            table.raw_set("provider", api.provider.as_str())?;
            table.raw_set("status", api.status)?;
            table.raw_set("message", api.message.as_str())?;
            table.raw_set("code", api.code.as_deref())?;
            table.raw_set("long_message", api.long_message.as_deref())?;
            table.raw_set("trace_id", api.trace_id.as_deref())?;
            table.raw_set("retry_after", api.retry_after)?;
            table.raw_set("earlier_attempt", api.earlier_attempt.as_deref())?;
            if let Some(meta) = &api.meta {
                table.raw_set("meta", json_to_lua(lua, meta)?)?;
            }
        }
        Error::InvalidArgument {
            function,
            parameter,
            ..
        } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("function", function.as_str())?;
            table.raw_set("parameter", parameter.as_str())?;
        }
        Error::UnknownFunction { name, .. } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("function", name.as_str())?;
        }
        Error::Transport { provider, .. } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
        }
        Error::Timeout { provider, .. } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
        }
        Error::InvalidResponse {
            provider, status, ..
        } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
            table.raw_set("status", *status)?;
        }
        Error::RateLimited {
            provider,
            limit,
            retry_after,
            ..
        } => {
            table.raw_set("message", text.as_str())?;
            table.raw_set("provider", provider.as_str())?;
            table.raw_set("limit", limit.as_str())?;
            table.raw_set("retry_after", *retry_after)?;
        }
        Error::Config(_) => {
            table.raw_set("message", text.as_str())?;
        }
    }
    table.set_metatable(Some(error_metatable(lua)?))?;
    Ok(table)
}

/// The Lua error object for an MCP failure: the same kind of table as [`error_value`] gives,
/// with the fields of [`kosmo_mcp::McpError::fields`]: `kind`, `text`, `message`, `server`,
/// and `tool` and `result` when the tool itself reported the error.
pub fn mcp_error_value(lua: &Lua, error: &kosmo_mcp::McpError) -> mlua::Result<Table> {
    let table = lua.create_table()?;
    for (key, value) in error.fields() {
        table.raw_set(key, json_to_lua(lua, &value)?)?;
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::lua::convert::lua_to_json;
    use kosmo_runtime::ApiError;
    use serde_json::{Value, json};

    fn api(meta: Option<Value>, code: Option<&str>) -> Error {
        Error::Api(Box::new(ApiError {
            provider: "Acme".into(),
            status: 404,
            code: code.map(str::to_string),
            message: "not found".into(),
            long_message: code.map(|_| "No widget was found".to_string()),
            meta,
            trace_id: code.map(|_| "trace-1".to_string()),
            retry_after: code.map(|_| 3),
            body: "{}".into(),
            earlier_attempt: code.map(|_| "a 500 answer".to_string()),
        }))
    }

    /// One error of every kind (API errors with every field and with none).
    fn every_kind() -> Vec<Error> {
        vec![
            api(
                Some(json!({"param": "id", "list": [1, 2]})),
                Some("resource_not_found"),
            ),
            api(None, None),
            Error::invalid("get_widget", "id", "is required."),
            Error::UnknownFunction {
                namespace: "app.integrations.acme".into(),
                name: "get_widgt".into(),
                suggestion: " Did you mean: get_widget".into(),
            },
            Error::Transport {
                provider: "Acme".into(),
                message: "connection refused".into(),
            },
            Error::Timeout {
                provider: "Acme".into(),
                seconds: 30.0,
            },
            Error::RateLimited {
                provider: "Acme".into(),
                limit: "widget updates: 10 requests per 10 s for each resource".into(),
                retry_after: 7,
                max_wait: 60.0,
            },
            Error::InvalidResponse {
                provider: "Acme".into(),
                status: 200,
                content_type: "text/html".into(),
                reason: "expected value".into(),
            },
            Error::Config("no secret key".into()),
        ]
    }

    #[test]
    fn scripts_and_the_gateway_see_the_same_error_fields() {
        let lua = Lua::new();
        for error in every_kind() {
            let table = error_value(&lua, &error).unwrap();
            let from_lua = lua_to_json(&LuaValue::Table(table), 1_000).unwrap();
            assert_eq!(from_lua, Value::Object(error.fields()), "{}", error.kind());
        }
    }
}

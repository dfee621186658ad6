//! `app.mcp.<server>.<tool>(args)`, the `mcp` global, and the `mcp.*` docs pages.
//!
//! Every server the run can reach (enabled and trusted) has a table under `app.mcp`; a tool is
//! looked up when it is first called, so a script that never touches a server never starts it.
//! Calls go through [`McpSession`], under the server's permissions, and fail with error objects
//! like integration calls do.

use std::sync::Arc;

use kosmo_mcp::docs::{server_page, split_page, tool_page};
use kosmo_mcp::{McpError, Server};
use mlua::{Function, Lua, MultiValue, Table, Value as LuaValue};
use serde_json::{Map, Value};

use crate::lua::{for_return, json_to_lua, lua_to_json, mcp_error_value};
use crate::mcp::McpSession;

/// Builds `app.mcp` from the usable servers' names, and the guard that makes a Rust callback
/// (which returns `ok, value`) raise `value` and run only on the script's main thread.
const BUILD: &str = r#"
local make, host, running, error, setmetatable, type, servers, unknown = ...
local function guarded(raw)
    return function(...)
        local co = running()
        if co ~= host.main and not host.workers[co] then
            error("MCP calls cannot run inside a coroutine; call them from the main script or a parallel.map function.", 2)
        end
        local ok, value, boxed = raw(...)
        if ok then
            if boxed then
                return value[1]
            end
            return value
        end
        error(value, 0)
    end
end
local function readonly()
    error("app.mcp is read-only", 2)
end
local app_mcp = {}
for _, name in servers do
    local cache = {}
    app_mcp[name] = setmetatable({}, {
        __index = function(_, tool)
            if type(tool) ~= "string" then
                return nil
            end
            local f = cache[tool]
            if not f then
                f = guarded(make(name, tool))
                cache[tool] = f
            end
            return f
        end,
        __newindex = readonly,
        __metatable = "locked",
    })
end
setmetatable(app_mcp, {
    __index = function(_, key)
        error(unknown(key), 2)
    end,
    __newindex = readonly,
    __metatable = "locked",
})
return app_mcp, guarded
"#;

/// What the sandbox installs for MCP.
pub(crate) struct McpGlobals {
    /// `app.mcp`.
    pub(crate) app_table: Table,
    /// The `mcp` global.
    pub(crate) global: Table,
    /// `docs.read` for `mcp.…` pages (raises on failure).
    pub(crate) read_docs: Function,
    /// The `mcp.<server>` pages `docs.list()` adds.
    pub(crate) pages: Vec<String>,
}

/// Builds `app.mcp`, `mcp` and the docs reader over `session`.
pub(crate) fn install(
    lua: &Lua,
    session: Arc<McpSession>,
    host: &Table,
    max_json_values: usize,
) -> mlua::Result<McpGlobals> {
    let globals = lua.globals();
    let coroutine: Table = globals.raw_get("coroutine")?;
    let usable: Vec<String> = session
        .servers()
        .iter()
        .filter(|s| s.usable())
        .map(|s| s.config.name.clone())
        .collect();
    let make = {
        let session = session.clone();
        lua.create_function(move |lua, (server, tool): (String, String)| {
            let session = session.clone();
            lua.create_async_function(move |lua, args: MultiValue| {
                let session = session.clone();
                let server = server.clone();
                let tool = tool.clone();
                async move {
                    let arguments =
                        match arguments(&session, &server, &tool, &args, max_json_values).await {
                            Ok(arguments) => arguments,
                            Err(error) => return failure(&lua, &error),
                        };
                    let report = session.call(&server, &tool, arguments).await;
                    answer(&lua, report.result)
                }
            })
        })?
    };
    let unknown = {
        let session = session.clone();
        lua.create_function(move |_, key: LuaValue| {
            let name = super::render::scalar(&key);
            Ok(match session.clients().usable(&name) {
                Ok(_) => format!("app.mcp.{name} is not available"),
                Err(error) => error.to_string(),
            })
        })?
    };
    let (app_table, guarded): (Table, Function) = lua
        .load(BUILD)
        .set_name("=app.mcp")
        .into_function()?
        .call((
            make,
            host.clone(),
            coroutine.raw_get::<Function>("running")?,
            globals.raw_get::<Function>("error")?,
            globals.raw_get::<Function>("setmetatable")?,
            globals.raw_get::<Function>("type")?,
            lua.create_sequence_from(usable.iter().map(String::as_str))?,
            unknown,
        ))?;
    let guard = |f: Function| -> mlua::Result<Function> { guarded.call(f) };

    let global = lua.create_table()?;
    {
        let session = session.clone();
        let servers = lua.create_function(move |lua, ()| {
            let rows: Vec<Value> = session.servers().iter().map(Server::to_json).collect();
            json_to_lua(lua, &Value::Array(rows))
        })?;
        global.raw_set("servers", servers)?;
    }
    {
        let session = session.clone();
        let tools = lua.create_async_function(move |lua, server: Option<String>| {
            let session = session.clone();
            async move {
                let names: Vec<String> = match server {
                    Some(server) => vec![server],
                    None => session
                        .servers()
                        .iter()
                        .filter(|s| s.usable())
                        .map(|s| s.config.name.clone())
                        .collect(),
                };
                let mut rows = Vec::new();
                for name in names {
                    match session.tools(&name).await {
                        Ok(tools) => rows.extend(tools.iter().map(|t| t.to_json())),
                        Err(error) => return failure(&lua, &error),
                    }
                }
                answer(&lua, Ok(Value::Array(rows)))
            }
        })?;
        global.raw_set("tools", guard(tools)?)?;
    }
    {
        let session = session.clone();
        let schema = lua.create_async_function(move |lua, function: String| {
            let session = session.clone();
            async move {
                let (server, tool) = match split_function(&session, &function) {
                    Ok(parts) => parts,
                    Err(error) => return failure(&lua, &error),
                };
                let result = session
                    .clients()
                    .tool(&server, &tool)
                    .await
                    .map(|t| t.to_json());
                answer(&lua, result)
            }
        })?;
        global.raw_set("schema", guard(schema)?)?;
    }
    {
        let session = session.clone();
        let call =
            lua.create_async_function(move |lua, (function, args): (String, LuaValue)| {
                let session = session.clone();
                async move {
                    let (server, tool) = match split_function(&session, &function) {
                        Ok(parts) => parts,
                        Err(error) => return failure(&lua, &error),
                    };
                    let arguments = match lua_to_json(&args, max_json_values) {
                        Ok(arguments) => arguments,
                        Err(reason) => {
                            return failure(
                                &lua,
                                &McpError::InvalidArguments {
                                    server,
                                    tool,
                                    message: format!("the arguments must not {reason}"),
                                },
                            );
                        }
                    };
                    let report = session.call(&server, &tool, arguments).await;
                    answer(&lua, report.result)
                }
            })?;
        global.raw_set("call", guard(call)?)?;
    }
    {
        let session = session.clone();
        let resources = lua.create_async_function(move |lua, server: String| {
            let session = session.clone();
            async move { answer(&lua, session.resources(&server).await) }
        })?;
        global.raw_set("resources", guard(resources)?)?;
    }
    {
        let session = session.clone();
        let read_resource =
            lua.create_async_function(move |lua, (server, uri): (String, String)| {
                let session = session.clone();
                async move { answer(&lua, session.read_resource(&server, &uri).await) }
            })?;
        global.raw_set("read_resource", guard(read_resource)?)?;
    }
    {
        let session = session.clone();
        let prompts = lua.create_async_function(move |lua, server: String| {
            let session = session.clone();
            async move { answer(&lua, session.prompts(&server).await) }
        })?;
        global.raw_set("prompts", guard(prompts)?)?;
    }
    {
        let session = session.clone();
        let get_prompt = lua.create_async_function(
            move |lua, (server, name, args): (String, String, LuaValue)| {
                let session = session.clone();
                async move {
                    let arguments = match lua_to_json(&args, max_json_values) {
                        Ok(Value::Object(map)) => map,
                        Ok(Value::Null) => Map::new(),
                        Ok(Value::Array(items)) if items.is_empty() => Map::new(),
                        Ok(_) | Err(_) => {
                            return failure(
                                &lua,
                                &McpError::InvalidArguments {
                                    server,
                                    tool: name,
                                    message:
                                        "the prompt's arguments must be a table of named strings"
                                            .into(),
                                },
                            );
                        }
                    };
                    answer(&lua, session.get_prompt(&server, &name, arguments).await)
                }
            },
        )?;
        global.raw_set("get_prompt", guard(get_prompt)?)?;
    }
    global.set_readonly(true);

    let read_docs = {
        let session = session.clone();
        lua.create_async_function(move |lua, page: String| {
            let session = session.clone();
            async move {
                let text = read_page(&session, &page).await;
                match text {
                    Ok(text) => Ok((true, LuaValue::String(lua.create_string(&text)?), false)),
                    Err(error) => failure(&lua, &error),
                }
            }
        })?
    };
    let pages = usable.iter().map(|name| format!("mcp.{name}")).collect();
    Ok(McpGlobals {
        app_table,
        global,
        read_docs: guard(read_docs)?,
        pages,
    })
}

/// `mcp.<server>` or `mcp.<server>.<tool>`, built from the live tool list.
async fn read_page(session: &McpSession, page: &str) -> Result<String, McpError> {
    let Some((server, tool)) = split_page(page, session.servers()) else {
        return Err(McpError::UnknownServer {
            name: page.to_string(),
            known: String::new(),
        });
    };
    let config = session.clients().usable(server)?.clone();
    match tool {
        None => {
            let tools = session.tools(server).await?;
            Ok(server_page(&config, &tools))
        }
        Some(tool) => Ok(tool_page(&session.clients().tool(server, tool).await?)),
    }
}

/// `server.tool` split at the longest configured server name.
fn split_function(session: &McpSession, function: &str) -> Result<(String, String), McpError> {
    match split_page(&format!("mcp.{function}"), session.servers()) {
        Some((server, Some(tool))) if !tool.is_empty() => {
            Ok((server.to_string(), tool.to_string()))
        }
        _ => Err(McpError::UnknownTool {
            server: function.split('.').next().unwrap_or_default().to_string(),
            name: function.to_string(),
            suggestion: " Name it as \"<server>.<tool>\".".into(),
        }),
    }
}

/// A tool's arguments from a call's Lua values: one table (or nothing) is the arguments;
/// several values fill the parameters in the schema's order.
async fn arguments(
    session: &McpSession,
    server: &str,
    tool: &str,
    args: &MultiValue,
    max_json_values: usize,
) -> Result<Value, McpError> {
    let invalid = |message: String| McpError::InvalidArguments {
        server: server.to_string(),
        tool: tool.to_string(),
        message,
    };
    let values: Vec<Value> = args
        .iter()
        .map(|value| lua_to_json(value, max_json_values))
        .collect::<Result<_, _>>()
        .map_err(|reason| invalid(format!("the arguments must not {reason}")))?;
    match values.as_slice() {
        [] | [Value::Null] => return Ok(Value::Object(Map::new())),
        [Value::Object(_)] => return Ok(values.into_iter().next().unwrap_or_default()),
        [Value::Array(items)] if items.is_empty() => return Ok(Value::Object(Map::new())),
        _ => {}
    }
    let info = session.clients().tool(server, tool).await?;
    let parameters = info.parameters();
    if values.len() > parameters.len() {
        return Err(invalid(format!(
            "{} positional values given, but the tool takes {} parameters ({}); pass a table of named values",
            values.len(),
            parameters.len(),
            parameters
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(Value::Object(
        parameters
            .into_iter()
            .zip(values)
            .filter(|(_, value)| !value.is_null())
            .map(|(p, value)| (p.name, value))
            .collect(),
    ))
}

/// `ok, value, boxed`, as the `guarded` wrapper expects (see [`for_return`]).
type Answer = (bool, LuaValue, bool);

fn answer(lua: &Lua, result: Result<Value, McpError>) -> mlua::Result<Answer> {
    match result {
        Ok(value) => {
            let (value, boxed) = for_return(lua, json_to_lua(lua, &value)?)?;
            Ok((true, value, boxed))
        }
        Err(error) => failure(lua, &error),
    }
}

fn failure(lua: &Lua, error: &McpError) -> mlua::Result<Answer> {
    Ok((false, LuaValue::Table(mcp_error_value(lua, error)?), false))
}
